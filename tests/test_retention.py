"""Retention: expired data is invisible at once and purged for good unless a hold keeps it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

import workbench
from workbench.access import audit
from workbench.access.retention import purge
from workbench.store import Store
from workbench.store.models import FootageSegment, PlateRead, Sighting

from conftest import NOW, fixed_clock
from worlds import CASE, World, write_world

PURPOSE = "judicial-investigation"


def _world() -> World:
    return World(partners=["OWN"], cameras={"CAM-A": "OWN", "CAM-B": "OWN"},
                 users={"u.inv": ("OWN", "investigator")},
                 retention={("OWN", "plates"): 30, ("OWN", "footage"): 14},
                 holds=[("CAM-B", NOW - timedelta(days=60), NOW - timedelta(days=40))],
                 reads=[("CAM-A", NOW - timedelta(days=1), "1ABC234"),     # inside
                        ("CAM-A", NOW - timedelta(days=45), "1ABC234"),    # expired
                        ("CAM-B", NOW - timedelta(days=45), "1ABC234"),    # expired but held
                        ("CAM-B", NOW - timedelta(days=70), "1ABC234")])   # expired, before the hold


def _segment(camera: str, start, path: str) -> FootageSegment:
    return FootageSegment(camera_id=camera, start=start, end=start + timedelta(minutes=10), fps=25, codec="h264",
                          container="mp4", width=640, height=360, frame_count=15000, path=path,
                          sha256=path.ljust(64, "0")[:64], size_bytes=1000, keyframes=[0.0], ingested_at=start)


def test_expired_reads_are_invisible_then_purged_unless_held(settings):
    store = Store(settings)
    write_world(store, _world(), opened=NOW - timedelta(days=100))
    for rel, camera, age in [("a/old.mp4", "CAM-A", 20), ("a/new.mp4", "CAM-A", 2), ("b/held.mp4", "CAM-B", 50)]:
        path = settings.footage_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 1000)
        with store.session() as s:
            s.add(_segment(camera, NOW - timedelta(days=age), rel))
    ws = workbench.open(settings.home, db_url=settings.db_url, clock=fixed_clock())
    case = ws.login("u.inv").open_case(CASE, purpose=PURPOSE)

    visible = case.sightings(["1ABC234"])
    assert sorted(visible["time"].dt.day.tolist()) == sorted([(NOW - timedelta(days=d)).day for d in (1, 45)])
    assert set(visible["camera_id"]) == {"CAM-A", "CAM-B"}

    plan = purge(store, settings, now=NOW, actor=audit.Actor("system:test"), dry_run=True)
    assert (len(plan.segments), plan.plate_reads) == (1, 2) and "would purge" in plan.summary()
    with store.session() as s:
        assert s.execute(select(func.count()).select_from(PlateRead)).scalar_one() == 4

    plan = purge(store, settings, now=NOW, actor=audit.Actor("system:test"))
    assert [s["path"] for s in plan.segments] == ["a/old.mp4"] and plan.plate_reads == 2 and plan.sightings == 2
    assert not (settings.footage_dir / "a/old.mp4").exists()
    assert (settings.footage_dir / "a/new.mp4").exists() and (settings.footage_dir / "b/held.mp4").exists()
    with store.session() as s:
        assert s.execute(select(func.count()).select_from(PlateRead)).scalar_one() == 2
        assert s.execute(select(func.count()).select_from(Sighting)).scalar_one() == 2
    assert len(case.sightings(["1ABC234"])) == 2
    events = audit.events_frame(store)
    assert events["action"].tolist().count("retention-purge") == 1
    assert audit.verify(store).ok


def test_retention_is_per_partner_and_kind(settings):
    store = Store(settings)
    write_world(store, _world(), opened=NOW - timedelta(days=100))
    ws = workbench.open(settings.home, db_url=settings.db_url, clock=fixed_clock())
    case = ws.login("u.inv").open_case(CASE, purpose=PURPOSE)
    since = NOW - timedelta(days=20)
    with case.access("plates", cameras=["CAM-A"], since=since, until=NOW, action="read-sightings") as plates:
        plates.count = 0
    assert plates.windows["CAM-A"] == ((since, NOW),)  # 30-day plates retention
    with case.access("footage", cameras=["CAM-A"], since=since, until=NOW, action="list-footage") as footage:
        footage.count = 0
    assert footage.windows["CAM-A"] == ((NOW - timedelta(days=14), NOW),)  # 14-day footage retention
