"""Sample cases that ship with the workbench, for demos, training and tests.

    workbench sample build            # the command line
    >>> from workbench.samples import build_sample
    >>> build_sample(Settings.from_env())        # doctest: +SKIP

The world is deterministic for a given day and seed; the ground truth of its
simulated traffic stays in :mod:`workbench.samples` and is never read by the
workbench. A training world (``workbench sample build --training --seed N``)
tells the same story with other plates, times and suspect per seed, has
trainee users with a training case each, and shorter footage so that it
builds in seconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select, text

from workbench.access import audit
from workbench.config import Settings
from workbench.plates.hotlist import load_hotlist
from workbench.plates.read_ingest import ingest_files
from workbench.samples.sample_footage import AFTER, BEFORE, add_sample_footage, footage_cameras
from workbench.samples.simulated_traffic import Traffic, anpr_positions, simulate_day
from workbench.samples.world import (
    SAMPLE_CASE,
    TRAINING_CASE,
    base_cameras,
    build_world,
    midnight,
    owner_zone,
    sample_day_default,
    trainee_case,
    trainee_name,
    with_anpr_network,
)
from workbench.store import Store
from workbench.store.models import Base, Partner
from workbench.trajectories.road_graph import RoadGraph

__all__ = ["SAMPLE_CASE", "TRAINING_CASE", "build_sample", "ground_truth_dir", "is_built", "trainee_case",
           "trainee_name"]

SAMPLE_ANPR_CAMERAS = 60
SAMPLE_SEED = 7
TRAINING_TRAINEES = 12
TRAINING_FOOTAGE = (timedelta(seconds=20), timedelta(seconds=30))   # before and after the suspect's passage


def is_built(store: Store) -> bool:
    """Whether the catalogue already holds a world (partners exist)."""
    if not store.is_migrated():
        return False
    with store.snapshot() as session:
        return session.execute(select(Partner.id).limit(1)).first() is not None


def reset(store: Store) -> None:
    """Drop every table and file of the workbench home (sample worlds only!)."""
    import shutil

    Base.metadata.drop_all(store.engine)
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    for folder in (store.settings.footage_dir, store.settings.index_dir, store.settings.evidence_dir):
        shutil.rmtree(folder, ignore_errors=True)


def ground_truth_dir(settings: Settings) -> Path:
    """Where the sample traffic's ground truth is kept (trainers' solutions and tests read it)."""
    return settings.home / "sample" / "ground-truth"


def story_start(seed: int) -> float:
    """When a training variant's suspect sets off: between 7:00 and 10:00 UTC, to the minute, by seed."""
    return 7 * 3600 + 60 * float(np.random.default_rng([seed, 8]).integers(0, 180))


def _simulate(day: date, cameras: pd.DataFrame, graph: RoadGraph, vehicles: int, seed: int,
              training: bool) -> Traffic:
    cams = cameras.assign(node=graph.snap(cameras["lon"].to_numpy(), cameras["lat"].to_numpy()))
    if training:
        return simulate_day(graph, cams, day=day, vehicles=vehicles, seed=seed, suspect_start_s=story_start(seed))
    return simulate_day(graph, cams, day=day, vehicles=vehicles, seed=seed)


def _load_traffic(store: Store, settings: Settings, day: date, traffic: Traffic) -> str:
    """Ingest the simulated reads through the real feed path, load the hotlists."""
    now = datetime.now(timezone.utc)
    feed = settings.home / "sample" / f"anpr-reads-{day.isoformat()}.csv"
    feed.parent.mkdir(parents=True, exist_ok=True)
    traffic.reads.to_csv(feed, index=False)
    ops = audit.writer(audit.Actor("system:sample-build"), time=now)
    report = ingest_files(store, [feed], now=now, audit=ops)[0]
    truth = traffic.truth
    truth.save(ground_truth_dir(settings))
    start = midnight(day) - timedelta(days=30)
    others = truth.vehicles.loc[truth.vehicles["role"] == "traffic", "plate"].head(12).tolist()
    national = pd.DataFrame({"plate": [truth.scenario["stolen"]] + others,
                             "priority": [1] + [0, 2, 2, 3, 4, 4, 2, 3, 1, 4, 3, 2][:len(others)],
                             "reason": ["Véhicule volé (exemple)"] + ["Signalement (exemple)"] * len(others)})
    load_hotlist(store, national, name="Liste nationale ANPR (exemple)", owner="FEDPOL", scope="national",
                 now=now, valid_from=start, audit=ops)
    zone = pd.DataFrame({"plate": [others[2], str(truth.scenario["suspect"])], "priority": [2, 2],
                         "reason": ["Intérêt de la zone (exemple)", "Suspect du dossier (exemple)"]})
    load_hotlist(store, zone, name="Liste zone 5339 (exemple)", owner="PZ5339", scope="zone", now=now,
                 valid_from=start, audit=ops)
    return f"{report.loaded:,} plate reads"


def build_sample(settings: Settings, *, day: date | None = None, rebuild: bool = False, traffic: bool = True,
                 vehicles: int = 3000, seed: int = SAMPLE_SEED, training: bool = False,
                 trainees: int = TRAINING_TRAINEES) -> str:
    """Build the sample world into the catalogue of ``settings``; returns a one-line summary.

    With ``traffic`` it adds a simulated day of traffic on the real road
    network (reads ingested as a feed would be, hotlists loaded); ``seed``
    draws it. With ``training`` the suspect's day starts at a time drawn from
    the seed too, ``trainees`` trainee users get a training case each and the
    footage is shorter. Does nothing (and says so) when a world is already
    there, unless ``rebuild``.
    """
    store = Store(settings)
    try:
        if rebuild:
            reset(store)
        store.migrate()
        if is_built(store):
            return f"the sample world is already built in {store.safe_url} (use --rebuild to start again)"
        day = day or sample_day_default()
        cameras, extra = base_cameras(), "no traffic"
        if traffic:
            graph = RoadGraph.load(settings.cache_dir)
            cameras = with_anpr_network(cameras, anpr_positions(graph, SAMPLE_ANPR_CAMERAS, seed=1))
            simulated = _simulate(day, cameras, graph, vehicles, seed, training)
            street = footage_cameras(graph, simulated.truth, owner_zone)
            cameras = pd.concat([cameras, street[cameras.columns]], ignore_index=True)
        build_world(store, day, cameras, trainees=trainees if training else 0)
        if traffic:
            before, after = TRAINING_FOOTAGE if training else (BEFORE, AFTER)
            extra = _load_traffic(store, settings, day, simulated) + "; " + add_sample_footage(
                store, graph, simulated.truth, street, work_dir=settings.home / "sample" / "footage",
                truth_dir=ground_truth_dir(settings), now=datetime.now(timezone.utc), before=before, after=after)
        audit.record(store, audit.Actor("system:sample-build"), "sample-build",
                     time=datetime.now(timezone.utc), resource={"day": day.isoformat(), "traffic": traffic,
                                                                "seed": seed, "training": training})
        cases = (f"training cases {trainee_case(1)} to {trainee_case(trainees)} for {trainee_name(1)} to "
                 f"{trainee_name(trainees)} (seed {seed})" if training and trainees else f"case {SAMPLE_CASE}")
        return f"sample world of {day.isoformat()} built in {store.safe_url}; {cases}; {extra}"
    finally:
        store.dispose()
