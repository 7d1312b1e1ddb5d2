"""Analyses over authorised sightings: convoy, common plates, locate, stakeout, cloned plates.

Each takes DataFrames the access layer returned (columns sighting_id,
camera_id, time, plate...) and returns a ranked DataFrame; none reads data
itself.

    >>> convoy(target_sightings, around_sightings, window_s=60)     # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.trajectories.camera_network import CameraNetwork
from workbench.trajectories.trajectory import day_hops


def convoy(target: pd.DataFrame, around: pd.DataFrame, *, window_s: float = 60, min_cameras: int = 2) -> pd.DataFrame:
    """Plates seen at several of the target's cameras within ``window_s`` of it, most evidence first."""
    columns = ["plate", "cameras", "sightings", "mean_gap_s", "first_seen", "last_seen"]
    if target.empty or around.empty:
        return pd.DataFrame(columns=columns)
    plate = set(target["plate"])
    pairs = target[["camera_id", "time"]].merge(around[["camera_id", "time", "plate"]], on="camera_id",
                                                suffixes=("_target", ""))
    pairs["gap_s"] = (pairs["time"] - pairs["time_target"]).dt.total_seconds()
    pairs = pairs[(pairs["gap_s"].abs() <= window_s) & ~pairs["plate"].isin(plate)]
    ranked = pairs.groupby("plate").agg(cameras=("camera_id", "nunique"), sightings=("time", "size"),
                                        mean_gap_s=("gap_s", lambda g: float(np.abs(g).mean())),
                                        first_seen=("time", "min"), last_seen=("time", "max")).reset_index()
    ranked = ranked[ranked["cameras"] >= min_cameras]
    return ranked.sort_values(["cameras", "sightings", "mean_gap_s"], ascending=[False, False, True],
                              ignore_index=True)[columns]


def common_plates(places: list[pd.DataFrame], *, min_places: int = 2) -> pd.DataFrame:
    """Plates present in at least ``min_places`` of several place-and-time windows' sightings."""
    tagged = [p[["plate"]].drop_duplicates().assign(place=i) for i, p in enumerate(places)]
    if not tagged:
        return pd.DataFrame(columns=["plate", "places", "which"])
    every = pd.concat(tagged, ignore_index=True)
    ranked = every.groupby("plate")["place"].agg(places="nunique", which=lambda s: sorted(set(s))).reset_index()
    return ranked[ranked["places"] >= min_places].sort_values(["places", "plate"], ascending=[False, True],
                                                              ignore_index=True)


def stakeout(sightings: pd.DataFrame) -> pd.DataFrame:
    """Every plate in a camera/area window: passages, cameras, first and last time."""
    if sightings.empty:
        return pd.DataFrame(columns=["plate", "passages", "cameras", "first_seen", "last_seen"])
    return (sightings.groupby("plate").agg(passages=("time", "size"), cameras=("camera_id", "nunique"),
                                           first_seen=("time", "min"), last_seen=("time", "max"))
            .reset_index().sort_values(["passages", "first_seen"], ascending=[False, True], ignore_index=True))


def transitions(sightings: pd.DataFrame, *, max_gap_s: float = 1800) -> pd.DataFrame:
    """Camera-to-camera transition counts of all plates (consecutive sightings within ``max_gap_s``)."""
    s = sightings.sort_values(["plate", "time"])
    nxt = s.shift(-1)
    ok = (nxt["plate"] == s["plate"]) & ((nxt["time"] - s["time"]).dt.total_seconds() <= max_gap_s) \
        & (nxt["camera_id"] != s["camera_id"])
    pairs = pd.DataFrame({"from_camera": s.loc[ok, "camera_id"], "to_camera": nxt.loc[ok, "camera_id"],
                          "dt_s": (nxt.loc[ok, "time"] - s.loc[ok, "time"]).dt.total_seconds()})
    return pairs.groupby(["from_camera", "to_camera"]).agg(count=("dt_s", "size"), median_dt_s=("dt_s", "median")) \
        .reset_index()


def locate(target: pd.DataFrame, everyone: pd.DataFrame, *, top: int = 5) -> tuple[pd.Series, pd.DataFrame]:
    """The target's last sighting and the cameras it most likely reaches next, with probabilities."""
    if target.empty:
        raise ValueError("no sighting of this plate in the window")
    last = target.sort_values("time").iloc[-1]
    table = transitions(everyone)
    nxt = table[table["from_camera"] == last["camera_id"]].copy()
    nxt["probability"] = nxt["count"] / max(nxt["count"].sum(), 1)
    nxt["expected_at"] = last["time"] + pd.to_timedelta(nxt["median_dt_s"], unit="s")
    return last, nxt.sort_values("probability", ascending=False, ignore_index=True).head(top)


def cloned_plates(sightings: pd.DataFrame, network: CameraNetwork, *, min_events: int = 1) -> pd.DataFrame:
    """Plates with impossible-travel pairs across the region: candidates for a cloned plate."""
    hops = day_hops(sightings, network)
    events = hops[~hops["plausible"] & (hops["from_camera"] != hops["to_camera"])].rename(columns={"start": "at"})
    ranked = events.groupby("plate").agg(events=("at", "size"), longest_free_flow_s=(
        "free_flow_s", "max"), first_at=("at", "min")).reset_index()
    ranked = ranked[ranked["events"] >= min_events]
    return ranked.sort_values(["events", "longest_free_flow_s"], ascending=False, ignore_index=True)
