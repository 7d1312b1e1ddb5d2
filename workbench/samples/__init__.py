"""Sample cases that ship with the workbench, for demos, training and tests.

    workbench sample build            # the command line
    >>> from workbench.samples import build_sample
    >>> build_sample(Settings.from_env())        # doctest: +SKIP

The world is deterministic for a given day; the ground truth of its simulated
traffic stays in :mod:`workbench.samples` and is never read by the workbench.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from sqlalchemy import select, text

from workbench.access import audit
from workbench.config import Settings
from workbench.plates.hotlist import load_hotlist
from workbench.plates.read_ingest import ingest_files
from workbench.samples.sample_footage import add_sample_footage, footage_cameras
from workbench.samples.simulated_traffic import Traffic, anpr_positions, simulate_day
from workbench.samples.world import (
    SAMPLE_CASE,
    TRAINING_CASE,
    base_cameras,
    build_world,
    midnight,
    owner_zone,
    sample_day_default,
    with_anpr_network,
)
from workbench.store import Store
from workbench.store.models import Base, Partner
from workbench.trajectories.road_graph import RoadGraph

__all__ = ["SAMPLE_CASE", "TRAINING_CASE", "build_sample", "ground_truth_dir", "is_built"]

SAMPLE_ANPR_CAMERAS = 60


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


def _simulate(day: date, cameras: pd.DataFrame, graph: RoadGraph, vehicles: int) -> Traffic:
    cams = cameras.assign(node=graph.snap(cameras["lon"].to_numpy(), cameras["lat"].to_numpy()))
    return simulate_day(graph, cams, day=day, vehicles=vehicles, seed=7)


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
                 vehicles: int = 3000) -> str:
    """Build the sample world into the catalogue of ``settings``; returns a one-line summary.

    With ``traffic`` it adds a simulated day of traffic on the real road
    network (reads ingested as a feed would be, hotlists loaded). Does nothing
    (and says so) when a world is already there, unless ``rebuild``.
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
            simulated = _simulate(day, cameras, graph, vehicles)
            street = footage_cameras(graph, simulated.truth, owner_zone)
            cameras = pd.concat([cameras, street[cameras.columns]], ignore_index=True)
        build_world(store, day, cameras)
        if traffic:
            extra = _load_traffic(store, settings, day, simulated) + "; " + add_sample_footage(
                store, graph, simulated.truth, street, work_dir=settings.home / "sample" / "footage",
                truth_dir=ground_truth_dir(settings), now=datetime.now(timezone.utc))
        audit.record(store, audit.Actor("system:sample-build"), "sample-build",
                     time=datetime.now(timezone.utc), resource={"day": day.isoformat(), "traffic": traffic})
        return f"sample world of {day.isoformat()} built in {store.safe_url}; case {SAMPLE_CASE}; {extra}"
    finally:
        store.dispose()
