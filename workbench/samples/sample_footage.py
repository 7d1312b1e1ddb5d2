"""Footage for the sample case: street cameras along the suspect's route, rendered from the simulation.

The simulated day says who passed where and when; this module places a few
street cameras of the police zones on the suspect's route, works out every
vehicle that passed them (from the simulated trips), renders two minutes of
footage around the suspect's passage at each, and archives it through the
real ingest and index path. Ground truth (who is in which clip, when) goes
next to the other ground truth, never into the catalogue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from workbench.access import audit
from workbench.footage.footage_ingest import ingest_footage
from workbench.samples.simulated_traffic import GroundTruth
from workbench.samples.street_render import Passage, render_clip
from workbench.search.index_build import build_index
from workbench.store import Store
from workbench.trajectories.road_graph import RoadGraph

ROUTE_SHARES = ((0, 0.3), (0, 0.7), (1, 0.35), (1, 0.75))   # (suspect trip, share of its path)
BEFORE, AFTER = timedelta(seconds=45), timedelta(seconds=75)
FPS = Fraction(25, 2)


def _trip_paths(graph: RoadGraph, trips: pd.DataFrame) -> dict[tuple[int, int], tuple[list[int], np.ndarray]]:
    """Node path and free-flow seconds to each node, for every origin-destination pair of the trips."""
    out = {}
    origins = trips["origin_node"].astype(int).unique()
    times, pred = graph.shortest(origins)
    for i, o in enumerate(origins):
        for d in trips.loc[trips["origin_node"] == o, "destination_node"].astype(int).unique():
            path = graph.path(pred[i], int(d))
            out[(int(o), int(d))] = (path, times[i, path])
    return out


def _bearing_side(graph: RoadGraph, a: int, b: int) -> str:
    """Which way a vehicle crosses the picture: cameras look north, so eastbound traffic goes right."""
    return "right" if graph.x[b] >= graph.x[a] else "left"


def footage_cameras(graph: RoadGraph, truth: GroundTruth, owner_of) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Street cameras on the suspect's route (id, owner, kind, name, lon, lat, node...), one per share."""
    suspect = truth.vehicles.loc[truth.vehicles["role"] == "suspect", "vehicle"].iloc[0]
    trips = truth.trips[truth.trips["vehicle"] == suspect].sort_values("trip")
    paths = _trip_paths(graph, trips)
    rows = []
    for trip_no, share in ROUTE_SHARES:
        if trip_no >= len(trips):
            continue
        trip = trips.iloc[trip_no]
        path, _ = paths[(int(trip["origin_node"]), int(trip["destination_node"]))]
        node = path[int(share * (len(path) - 1))]
        rows.append({"node": node, "lon": float(graph.lon[node]), "lat": float(graph.lat[node])})
    cams = pd.DataFrame(rows).drop_duplicates("node")
    points = gpd.GeoDataFrame(cams, geometry=gpd.points_from_xy(cams["lon"], cams["lat"]), crs="EPSG:4326")
    cams["owner"] = owner_of(points).to_numpy()
    cams = cams[cams["owner"].notna()].reset_index(drop=True)
    cams["camera_id"] = [f"CCTV-{o}-{101 + n}" for n, o in enumerate(cams["owner"])]
    cams["name"] = [f"Caméra de voirie {101 + n} (exemple)" for n in range(len(cams))]
    cams["kind"], cams["heading"], cams["fov_deg"], cams["range_m"] = "fixed", 0.0, 70.0, 60.0
    return cams


def passages_at(graph: RoadGraph, truth: GroundTruth, cameras: pd.DataFrame) -> pd.DataFrame:
    """Every simulated vehicle passing each camera's node: camera_id, time, plate, colour, kind, direction."""
    paths = _trip_paths(graph, truth.trips)
    where = {int(n): c for n, c in zip(cameras["node"], cameras["camera_id"])}
    veh = truth.vehicles.set_index("vehicle")
    rows = []
    for trip in truth.trips.itertuples():
        path, seconds = paths[(int(trip.origin_node), int(trip.destination_node))]
        total = float(seconds[-1]) if len(seconds) else 0.0
        for k, node in enumerate(path):
            if node in where and total > 0:
                t = trip.start + (trip.end - trip.start) * (float(seconds[k]) / total)
                a, b = path[max(k - 1, 0)], path[min(k + 1, len(path) - 1)]
                v = veh.loc[trip.vehicle]
                rows.append({"camera_id": where[node], "time": t, "vehicle": trip.vehicle, "plate": v["plate"],
                             "colour": v["colour"], "kind": v["kind"], "role": v["role"],
                             "direction": _bearing_side(graph, a, b)})
    return pd.DataFrame(rows).sort_values(["camera_id", "time"], ignore_index=True)


def add_sample_footage(store: Store, graph: RoadGraph, truth: GroundTruth, cameras: pd.DataFrame, *,
                       work_dir: Path, truth_dir: Path, now: datetime, before: timedelta = BEFORE,
                       after: timedelta = AFTER) -> str:
    """Render, archive and index footage per camera around the suspect's passage (two minutes by default)."""
    passages = passages_at(graph, truth, cameras)
    suspect = passages[passages["role"] == "suspect"]
    rng = np.random.default_rng(11)
    work_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    for n, cam in enumerate(cameras.itertuples()):
        seen = suspect[suspect["camera_id"] == cam.camera_id]
        if seen.empty:
            continue
        start = (seen["time"].iloc[0] - before).floor("s").to_pydatetime()
        end = start + before + after
        inside = passages[(passages["camera_id"] == cam.camera_id) & (passages["time"] >= start - timedelta(seconds=5))
                          & (passages["time"] < end + timedelta(seconds=5))]
        shown = [Passage((r.time - start).total_seconds(), r.colour, r.kind, r.direction, r.plate)
                 for r in inside.itertuples()]
        walkers = [Passage(float(rng.uniform(0, (end - start).total_seconds())),
                           str(rng.choice(["black", "blue", "grey", "red", "white"])), "person",
                           str(rng.choice(["left", "right"]))) for _ in range(3)]
        path = render_clip(work_dir / f"{cam.camera_id}.mp4", shown + walkers,
                           duration=(end - start).total_seconds(), start=start, fps=FPS, seed=100 + n, crf=30)
        report = ingest_footage(store, [path], camera_id=cam.camera_id, now=now,
                                audit=audit.writer(audit.Actor("system:sample-build"), time=now))[0]
        if report.error:
            raise RuntimeError(f"sample footage could not be archived: {report}")
        path.unlink()
        clips.append(inside.assign(clip_start=start))
    # the sample world's sightings are its ANPR reads (its ground truth, the course and the examples count them)
    summary = build_index(store, workers=1, now=now, read_plates=False)
    truth_dir.mkdir(parents=True, exist_ok=True)
    if clips:
        pd.concat(clips, ignore_index=True).to_csv(truth_dir / "footage-passages.csv", index=False)
    return f"{len(clips)} street cameras with footage ({summary.events} moving objects indexed)"
