"""Reconstruct a vehicle's movements from its plate sightings on the road network.

:func:`reconstruct` orders the sightings, merges OCR misreads that fit the
journey (keeping them as evidence), checks every hop against the free-flow
travel time between the two cameras (a hop faster than physically possible is
flagged: a misread or a cloned plate), splits trips at long gaps and infers the
route along the streets.

    >>> trip = reconstruct(sightings, network, plate="1ABC234")   # doctest: +SKIP
    >>> trip.hops[["from_camera", "to_camera", "speed_kmh", "plausible"]]   # doctest: +SKIP
    >>> trip.position_at("2026-11-20T08:40+01:00")                # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from workbench.errors import InvalidInput
from workbench.timeutil import as_utc
from workbench.trajectories.camera_network import CameraNetwork

TRIP_GAP = timedelta(minutes=30)
MAX_SPEEDUP = 1.6       # a hop may be at most this much faster than free flow
MIN_HOP_SECONDS = 20.0  # below this, two cameras are "the same place" for speed checks
REQUIRED = ["sighting_id", "camera_id", "time", "plate"]


@dataclass
class Trajectory:
    """A reconstructed journey: sightings, hops with plausibility, trips, the route."""

    plate: str
    sightings: gpd.GeoDataFrame
    hops: pd.DataFrame
    network: CameraNetwork = field(repr=False)
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    _route: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        missing = [c for c in REQUIRED if c not in self.sightings.columns]
        if missing:
            raise InvalidInput(f"a trajectory needs sightings with columns {missing}")
        if not self.sightings["time"].is_monotonic_increasing:
            raise InvalidInput("a trajectory's sightings must be in time order")

    def __len__(self) -> int:
        return len(self.sightings)

    @property
    def trips(self) -> list[gpd.GeoDataFrame]:
        """The sightings split into trips at gaps longer than TRIP_GAP."""
        return [g for _, g in self.sightings.groupby("trip", sort=True)]

    @property
    def flags(self) -> pd.DataFrame:
        """The implausible hops: where the plate cannot have been the same vehicle."""
        return self.hops[~self.hops["plausible"]]

    @property
    def route(self) -> gpd.GeoDataFrame:
        """The inferred route of every plausible hop (EPSG:4326), with alternatives flagged."""
        if self._route is None:
            self._route = self._build_route()
        return self._route

    def _line(self, nodes: list[int]) -> LineString | None:
        g = self.network.graph
        return LineString(np.column_stack([g.lon[nodes], g.lat[nodes]])) if len(nodes) >= 2 else None

    def _build_route(self) -> gpd.GeoDataFrame:
        rows = []
        for hop in self.hops[self.hops["plausible"] & ~self.hops["trip_break"]].itertuples():
            for kind, nodes in (("main", self.network.route_nodes(hop.from_camera, hop.to_camera)),
                                ("alternative", self.network.alternative_nodes(hop.from_camera, hop.to_camera))):
                line = self._line(nodes or [])
                if line is not None:
                    rows.append({"hop": hop.Index, "kind": kind, "from_camera": hop.from_camera,
                                 "to_camera": hop.to_camera, "start": hop.start, "end": hop.end,
                                 "length_m": self.network.graph.path_length(nodes or []), "geometry": line})
        return gpd.GeoDataFrame(rows, columns=["hop", "kind", "from_camera", "to_camera", "start", "end",
                                               "length_m", "geometry"], geometry="geometry", crs="EPSG:4326")

    def position_at(self, at: datetime | str) -> tuple[Point, float]:
        """Where the vehicle most likely was at ``at``, and the uncertainty radius in metres."""
        t = pd.Timestamp(as_utc(at))
        times = self.sightings["time"]
        if self.sightings.empty or t < times.iloc[0] or t > times.iloc[-1]:
            raise InvalidInput(f"{t:%Y-%m-%d %H:%M} is outside the sightings of {self.plate}")
        exact = self.sightings[times == t]
        if len(exact):
            return exact.geometry.iloc[0], 30.0
        hop = self.hops[(self.hops["start"] <= t) & (self.hops["end"] > t)].iloc[0]
        route = self.route[(self.route["hop"] == hop.name) & (self.route["kind"] == "main")]
        fraction = (t - hop["start"]) / (hop["end"] - hop["start"])
        if route.empty:  # an implausible hop or a trip break: between the two cameras, very uncertain
            a, b = (self.sightings.geometry[self.sightings["sighting_id"] == hop[k]].iloc[0]
                    for k in ("from_sighting", "to_sighting"))
            return Point(a.x + (b.x - a.x) * fraction, a.y + (b.y - a.y) * fraction), \
                max(hop["length_m"], 500.0) / 2
        line = gpd.GeoSeries([route.geometry.iloc[0]], crs="EPSG:4326").to_crs("EPSG:31370").iloc[0]
        point = gpd.GeoSeries([line.interpolate(fraction, normalized=True)], crs="EPSG:31370").to_crs("EPSG:4326")
        slack = max(0.0, hop["dt_s"] - hop["free_flow_s"])
        radius = 30.0 + min(line.length / 2, slack * (line.length / max(hop["dt_s"], 1.0)) / 2)
        return point.iloc[0], float(radius)

    def cctv_windows(self, cameras: pd.DataFrame, *, buffer_m: float = 40.0) -> pd.DataFrame:
        """When each camera near the route could have seen the vehicle (camera_id, start, end, hop)."""
        if self.route.empty or cameras.empty:
            return pd.DataFrame(columns=["camera_id", "start", "end", "hop", "distance_m"])
        cams = gpd.GeoDataFrame(cameras, geometry=gpd.points_from_xy(cameras["lon"], cameras["lat"]),
                                crs="EPSG:4326").to_crs("EPSG:31370")
        reach = cams["range_m"].fillna(60.0) if "range_m" in cams else pd.Series(60.0, index=cams.index)
        rows = []
        for r in self.route[self.route["kind"] == "main"].to_crs("EPSG:31370").itertuples():
            dist = cams.distance(r.geometry)
            near = cams[dist <= reach + buffer_m]
            span = (r.end - r.start).total_seconds()
            hop = self.hops.loc[r.hop]
            slack = max(60.0, (hop["dt_s"] - hop["free_flow_s"]) / 2)
            for c in near.itertuples():
                f = r.geometry.project(c.geometry, normalized=True)
                expected = r.start + pd.Timedelta(seconds=span * f)
                rows.append({"camera_id": c.camera_id, "start": max(r.start, expected - pd.Timedelta(seconds=slack)),
                             "end": min(r.end, expected + pd.Timedelta(seconds=slack)), "hop": r.hop,
                             "distance_m": float(dist[c.Index])})
        return pd.DataFrame(rows, columns=["camera_id", "start", "end", "hop", "distance_m"]) \
            .sort_values("start", ignore_index=True)

    def to_geojson(self, path: Path | str) -> Path:
        """Write sightings and route into one GeoJSON file."""
        path = Path(path)
        self._layers().to_file(path, driver="GeoJSON")
        return path

    def to_geopackage(self, path: Path | str) -> Path:
        """Write the sightings, hops and route as layers of a GeoPackage."""
        path = Path(path)
        _plain(self.sightings).to_file(path, layer="sightings", driver="GPKG")
        if not self.route.empty:
            _plain(self.route).to_file(path, layer="route", driver="GPKG")
        return path

    def to_movingpandas(self):  # type: ignore[no-untyped-def]
        """The sightings as a MovingPandas Trajectory (time index, EPSG:4326)."""
        import movingpandas as mpd

        frame = self.sightings.set_index(self.sightings["time"].dt.tz_convert(None).rename("t"))
        return mpd.Trajectory(frame[["camera_id", "plate", "geometry"]], traj_id=self.plate)

    def _layers(self) -> gpd.GeoDataFrame:
        points = _plain(self.sightings).assign(layer="sighting")
        lines = _plain(self.route).assign(layer="route") if not self.route.empty else None
        return pd.concat([points, lines], ignore_index=True) if lines is not None else points


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns a GIS file can hold: lists joined, times as ISO text."""
    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif out[col].map(lambda v: isinstance(v, (list, tuple))).any():
            out[col] = out[col].map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    return out


def day_hops(sightings: pd.DataFrame, network: CameraNetwork) -> pd.DataFrame:
    """Every plate's consecutive sightings as hops, vectorised over a whole day of sightings.

    Columns: plate, from/to sighting and camera, start, end, dt_s, length_m,
    free_flow_s, speed_kmh, plausible, reason, trip_break. Sightings must
    carry camera_id, time, plate and sighting_id.
    """
    s = sightings[sightings["camera_id"].isin(network.index)].sort_values(["plate", "time"], kind="stable")
    s = s.reset_index(drop=True)
    a, b = s.iloc[:-1].reset_index(drop=True), s.iloc[1:].reset_index(drop=True)
    same = (a["plate"].to_numpy() == b["plate"].to_numpy())
    a, b = a[same].reset_index(drop=True), b[same].reset_index(drop=True)
    ia = a["camera_id"].map(network.index).to_numpy(dtype=np.int64)
    ib = b["camera_id"].map(network.index).to_numpy(dtype=np.int64)
    dt = (b["time"] - a["time"]).dt.total_seconds().to_numpy()
    free = network.times[ia, ib]
    length = network.lengths[ia, ib]
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(dt > 0, length / dt * 3.6, np.where(length > 0, np.inf, 0.0))
    too_fast = (dt * MAX_SPEEDUP < free) & (free > MIN_HOP_SECONDS)
    reason = np.full(len(dt), "", dtype=object)
    reason[~np.isfinite(free)] = "no road route between the two cameras"
    reason[too_fast] = [f"{m / 1000:.1f} km in {d / 60:.1f} min ({v:.0f} km/h) is impossible: a misread or a "
                        "cloned plate" for m, d, v in zip(length[too_fast], dt[too_fast], speed[too_fast])]
    return pd.DataFrame({
        "plate": a["plate"], "from_sighting": a["sighting_id"], "to_sighting": b["sighting_id"],
        "from_camera": a["camera_id"], "to_camera": b["camera_id"], "start": a["time"], "end": b["time"],
        "dt_s": dt, "length_m": length, "free_flow_s": free, "speed_kmh": speed, "plausible": reason == "",
        "reason": reason,
        "trip_break": dt > TRIP_GAP.total_seconds() + MAX_SPEEDUP * np.nan_to_num(free, posinf=0.0)})


def _hop_table(sightings: pd.DataFrame, network: CameraNetwork) -> pd.DataFrame:
    """The hops of one vehicle's time-ordered sightings (all taken as one plate)."""
    return day_hops(sightings.assign(plate="_"), network).drop(columns=["plate"])


def reconstruct(sightings: gpd.GeoDataFrame, network: CameraNetwork, *, plate: str) -> Trajectory:
    """Build the trajectory of ``plate`` from authorised sightings (its own and near misreads).

    Sightings of other plates (fuzzy matches, with a ``distance`` column) are
    merged only where they fit the journey: the hops on both sides stay
    plausible. Those that do not fit are returned in ``rejected``.
    """
    frame = sightings[sightings["camera_id"].isin(network.index)].sort_values("time", kind="stable")
    frame = frame.reset_index(drop=True)
    if "distance" not in frame:
        frame["distance"] = np.where(frame["plate"] == plate, 0.0, np.nan)
    own = frame[frame["plate"] == plate]
    variants = frame[frame["plate"] != plate]
    kept = own
    rejected = []
    for v in variants.itertuples():
        trial = pd.concat([kept, frame.loc[[v.Index]]]).sort_values("time", kind="stable").reset_index(drop=True)
        pos = int(np.flatnonzero(trial["sighting_id"].to_numpy() == v.sighting_id)[0])
        hops = _hop_table(trial.iloc[max(pos - 1, 0):pos + 2], network) if len(trial) > 1 else pd.DataFrame()
        if len(kept) and (hops.empty or not hops["plausible"].all()):
            rejected.append({**frame.loc[v.Index].to_dict(), "reason": "does not fit the journey in time and place"})
        else:
            kept = trial
    kept = kept.sort_values("time", kind="stable").reset_index(drop=True)
    kept["plate_as_read"] = kept["plate"]
    kept["merged_misread"] = kept["plate"] != plate
    kept["plate"] = plate
    hops = _hop_table(kept, network) if len(kept) > 1 else _hop_table(kept.iloc[:0], network)
    trip = np.concatenate([[0], np.cumsum(hops["trip_break"].to_numpy())]) if len(kept) else np.zeros(0, int)
    kept["trip"] = trip.astype(int)
    geo = gpd.GeoDataFrame(kept, geometry=gpd.points_from_xy(kept["lon"], kept["lat"]), crs="EPSG:4326")
    return Trajectory(plate, geo, hops, network, pd.DataFrame(rejected))
