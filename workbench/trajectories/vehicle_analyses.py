"""Analyses over authorised sightings: convoy, common plates, locate, stakeout, cloned plates.

Each takes DataFrames the access layer returned (columns sighting_id,
camera_id, time, plate...) and returns a ranked DataFrame; none reads data
itself.

    >>> convoy(target_sightings, around_sightings, window_s=60)     # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.plates.plate_search import skeleton
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


def _explained_by_misread(odd: pd.Series, sightings: pd.DataFrame, skeletons: pd.Series,
                          network: CameraNetwork) -> str | None:
    """A plate that differs from the odd sighting's only by look-alike characters, and whose journey
    the odd sighting fits: the odd sighting is that car misread, not a clone."""
    twins = skeletons.index[(skeletons == skeleton(odd["plate"])) & (skeletons.index != odd["plate"])]
    for twin in twins:
        journey = sightings[sightings["plate"] == twin]
        trial = pd.concat([journey, odd.to_frame().T]).sort_values("time", kind="stable").reset_index(drop=True)
        trial["time"] = pd.to_datetime(trial["time"], utc=True)
        pos = int(np.flatnonzero(trial["sighting_id"].to_numpy() == odd["sighting_id"])[0])
        around = day_hops(trial.iloc[max(pos - 1, 0):pos + 2].assign(plate="_"), network)
        if len(around) and around["plausible"].all():
            return twin
    return None


def cloned_plates(sightings: pd.DataFrame, network: CameraNetwork) -> pd.DataFrame:
    """Plates seen in two places no car could link in the time between: candidates for a cloned plate.

    A plate whose impossible hops all come from one odd sighting that fits the
    journey of a look-alike plate (B/8, O/0...) is a misread, not a clone, and is
    left out.
    """
    hops = day_hops(sightings, network)
    bad = hops[~hops["plausible"] & (hops["from_camera"] != hops["to_camera"])]
    columns = ["plate", "events", "longest_free_flow_s", "first_at"]
    if bad.empty:
        return pd.DataFrame(columns=columns)
    by_id = sightings.set_index("sighting_id", drop=False)
    skeletons = pd.Series({p: skeleton(p) for p in sightings["plate"].unique()})
    keep = []
    for plate, events in bad.groupby("plate"):
        shared = set(events["from_sighting"]).union(events["to_sighting"])
        for hop in events.itertuples():
            shared &= {hop.from_sighting, hop.to_sighting}
        if len(shared) == 1 and _explained_by_misread(by_id.loc[shared.pop()], sightings, skeletons, network):
            continue
        keep.append({"plate": plate, "events": len(events), "longest_free_flow_s": float(events["free_flow_s"].max()),
                     "first_at": events["start"].min()})
    return pd.DataFrame(keep, columns=columns).sort_values(["events", "longest_free_flow_s"], ascending=False,
                                                          ignore_index=True)
