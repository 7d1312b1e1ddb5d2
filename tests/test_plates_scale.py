"""Plate reads at a year's size: day partitions (PostgreSQL), merges across midnight, retention by whole days,
a detached partition and a full disk refused in words, streamed feeds, synthetic feeds' ground truth."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import event, func, select, text
from test_plates import _feed, _read

import workbench
from workbench.access import audit
from workbench.access.reads import sightings_version
from workbench.access.retention import purge
from workbench.config import Settings
from workbench.errors import PartitionError, StorageFull
from workbench.plates import read_ingest
from workbench.plates.anpr_feed import iter_feed
from workbench.plates.read_ingest import ingest_batch, ingest_files
from workbench.samples import SAMPLE_CASE
from workbench.samples.synthetic_reads import write_feed
from workbench.store import Store, counters, partitions
from workbench.store.models import AuditEvent, PlateRead, Sighting

from conftest import NOW, OPS, PG_URL, fixed_clock, new_database
from worlds import CASE, World, write_world

PURPOSE = "judicial-investigation"
MIDNIGHT = datetime(2026, 11, 21, tzinfo=timezone.utc)


def _at(seconds: float, i: int, **kw) -> dict:
    """A read ``seconds`` after midnight of the 21st (negative: the evening before)."""
    return _read(i, seconds=(MIDNIGHT - (NOW - timedelta(hours=3))).total_seconds() + seconds, **kw)


def _count(store: Store, model) -> int:  # type: ignore[no-untyped-def]
    with store.snapshot() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_late_and_double_reads_merge_across_midnight_into_one_sighting(sample_ws, tmp_path):
    store = sample_ws.store
    first = ingest_files(store, [_feed(tmp_path, [_at(10, 1), _at(60, 2)], "a.csv")], now=NOW, audit=OPS)[0]
    assert (first.loaded, first.sightings) == (2, 1)
    # a late read 50 s before the passage's first read, the evening before (another day, another partition),
    # a re-delivery, and a double read of the first passage under another id
    late = [_at(-40, 3), _at(60, 2), _at(12, 4)]
    second = ingest_files(store, [_feed(tmp_path, late, "b.csv")], now=NOW, audit=OPS)[0]
    assert (second.loaded, second.duplicates, second.merged, second.sightings) == (2, 1, 2, 0)
    with store.snapshot() as s:
        only = s.execute(select(Sighting)).scalars().one()
        assert (only.n_reads, only.first_time, only.last_time) == (4, MIDNIGHT - timedelta(seconds=40),
                                                                   MIDNIGHT + timedelta(seconds=60))
        if store.dialect == "postgresql":   # the late read moved the passage into the day before's partition
            where = s.execute(text("SELECT tableoid::regclass::text FROM sighting")).scalar_one()
            assert where == "sighting_p20261120"
            # the b-trees ingest writes per read and per sighting: only those a query or the merge reads
            indexes = set(s.execute(text("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid IN "
                                         "('plate_read'::regclass, 'sighting'::regclass)")).scalars())
            assert indexes == {"uq_plate_read_source", "ix_plate_read_sighting", "sighting_pkey",
                               "ix_sighting_plate_time", "ix_sighting_camera_time"}
            # identifiers compare bytewise in those b-trees, whatever the database's locale (migration 0005)
            collations = dict(s.execute(text(
                "SELECT c.relname || '.' || a.attname, l.collname FROM pg_attribute a JOIN pg_class c "
                "ON c.oid = a.attrelid JOIN pg_collation l ON l.oid = a.attcollation "
                "WHERE c.relname IN ('plate_read', 'sighting') AND a.attcollation <> 0")).all())
            assert {k for k, v in collations.items() if v == "C"} == {
                "plate_read.source", "plate_read.source_read_id", "plate_read.camera_id", "plate_read.plate",
                "sighting.camera_id", "sighting.plate"}
    reads = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE).plate_reads("1ABC234")
    assert reads["source_ids"].tolist() == [["BM-ANPR:r1", "BM-ANPR:r2", "BM-ANPR:r3", "BM-ANPR:r4"]]


def test_ingest_raises_the_sightings_counter_and_the_plate_index_follows_it(sample_ws, tmp_path):
    store = sample_ws.store
    index = sample_ws.plate_index()
    assert "9NEW001" not in set(index.plates)
    ingest_files(store, [_feed(tmp_path, [_read(1, plate="9-NEW-001")], "a.csv")], now=NOW, audit=OPS)
    with store.snapshot() as s:
        newest = s.execute(select(func.max(Sighting.id))).scalar_one()
    assert sightings_version(store) == newest
    assert "9NEW001" in set(sample_ws.plate_index().plates)   # grown from the sightings newer than its version
    # a batch that fails rolls its counter back with its sightings: the version never names a missing sighting
    with pytest.raises(RuntimeError), store.session() as s:
        counters.raise_to(s, counters.SIGHTINGS, newest + 1000)
        raise RuntimeError("the batch fails")
    assert sightings_version(store) == newest
    ingest_files(store, [_feed(tmp_path, [_read(2, plate="9-NEW-002", seconds=900)], "b.csv")], now=NOW, audit=OPS)
    assert sightings_version(store) == newest + 1 and "9NEW002" in set(sample_ws.plate_index().plates)


def test_a_feed_streams_in_chunks_and_matches_its_ground_truth(sample_ws, tmp_path, monkeypatch):
    with sample_ws.store.snapshot() as s:
        cameras = list(s.execute(text("SELECT id FROM camera WHERE kind = 'anpr'")).scalars())
    truth = write_feed(tmp_path / "synthetic.csv", reads=6_000, days=3, end=NOW - timedelta(hours=1),
                       cameras=cameras, part_reads=2_500)
    chunks = list(iter_feed(tmp_path / "synthetic.csv", now=NOW, chunk_bytes=64_000))
    assert len(chunks) > 5 and sum(len(c.reads) for c in chunks) == truth.reads
    assert [c.reads["line"].min() for c in chunks] == sorted(c.reads["line"].min() for c in chunks)
    # the ingest itself takes the feed a chunk at a time (never the whole file at once), whatever the backend
    monkeypatch.setattr(read_ingest, "CHUNK_BYTES", 64_000)
    monkeypatch.setattr(read_ingest, "PG_CHUNK_BYTES", 64_000)
    taken: list[int] = []
    monkeypatch.setattr(read_ingest, "ingest_batch", lambda store, chunk, **kw: taken.append(len(chunk.reads))
                        or ingest_batch(store, chunk, **kw))
    report = ingest_files(sample_ws.store, [tmp_path / "synthetic.csv"], now=NOW, audit=OPS)[0]
    assert taken == [len(c.reads) for c in chunks]
    assert (report.loaded, report.rejected) == (truth.reads, [])
    assert _count(sample_ws.store, Sighting) == truth.sightings


@pytest.mark.parametrize("reads", [1, 3])
def test_a_feed_without_a_final_line_feed_is_one_chunk(tmp_path, reads):
    """The last line, unended, joins its chunk: no chunk of the header alone (an empty batch audited as loaded)
    and no chunk of the last read alone."""
    feed = _feed(tmp_path, [_read(i, seconds=60 * i) for i in range(1, reads + 1)], "unended.csv")
    feed.write_bytes(feed.read_bytes().rstrip(b"\n"))
    chunks = list(iter_feed(feed, now=NOW))
    assert [len(c.reads) for c in chunks] == [reads]


def _anpr_world(store: Store, world: World) -> None:
    """``world`` written, its cameras made ANPR cameras (feeds name them)."""
    write_world(store, world, opened=NOW - timedelta(days=120))
    with store.session() as s:
        s.execute(text("UPDATE camera SET kind = 'anpr'"))


def _retention_world() -> World:
    return World(partners=["OWN"], cameras={"CAM-A": "OWN", "CAM-B": "OWN"},
                 users={"u.inv": ("OWN", "investigator")}, retention={("OWN", "plates"): 30},
                 holds=[("CAM-B", NOW - timedelta(days=60), NOW - timedelta(days=40))],
                 reads=[("CAM-A", NOW - timedelta(days=1), "1ABC234"),     # inside
                        ("CAM-A", NOW - timedelta(days=45), "1ABC234"),    # expired, on a held day: row by row
                        ("CAM-B", NOW - timedelta(days=45), "1ABC234"),    # expired but held
                        ("CAM-B", NOW - timedelta(days=70), "1ABC234"),    # expired: its whole day goes
                        ("CAM-A", NOW - timedelta(days=100), "2XYZ987")])  # expired: its whole day goes


def test_retention_drops_whole_days_keeps_held_days_and_audits(settings):
    store = Store(settings)
    write_world(store, _retention_world(), opened=NOW - timedelta(days=120))
    ws = workbench.open(settings.home, db_url=settings.db_url, clock=fixed_clock())
    dry = purge(store, settings, now=NOW, actor=audit.Actor("system:test"), dry_run=True)
    plan = purge(store, settings, now=NOW, actor=audit.Actor("system:test"))
    assert (dry.plate_reads, dry.sightings) == (plan.plate_reads, plan.sightings) == (3, 3)
    assert (_count(store, PlateRead), _count(store, Sighting)) == (2, 2)
    case = ws.login("u.inv").open_case(CASE, purpose=PURPOSE)
    assert sorted(case.sightings(["1ABC234"])["camera_id"]) == ["CAM-A", "CAM-B"]
    if store.dialect == "postgresql":
        gone = {f"{t}_p{NOW - timedelta(days=d):%Y%m%d}" for t in ("plate_read", "sighting") for d in (70, 100)}
        held = {f"{t}_p{NOW - timedelta(days=d):%Y%m%d}" for t in ("plate_read", "sighting") for d in (41, 45, 59)}
        assert gone <= set(plan.partitions) and not held & set(plan.partitions)
        assert max(name[-8:] for name in plan.partitions) < f"{NOW - timedelta(days=30):%Y%m%d}"
        with store.snapshot() as s:
            left = set(s.execute(text("SELECT relname FROM pg_class WHERE relname LIKE '%\\_p2%' "
                                      "AND relkind = 'r'")).scalars())
        assert held <= left and not gone & left
    events = audit.events_frame(store)
    event = events[events["action"] == "retention-purge"].iloc[-1]
    assert event["resource"]["partitions"] == plan.partitions
    assert audit.verify(store).ok


def test_a_detached_partition_is_refused_in_words_naming_its_day(tmp_path, monkeypatch):
    with new_database("postgresql", tmp_path) as url:
        settings = Settings.from_env({}, home=tmp_path / "home", db_url=url)
        store = Store(settings)
        _anpr_world(store, _retention_world())
        day = NOW - timedelta(days=1)
        with store.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE plate_read DETACH PARTITION plate_read_p{day:%Y%m%d}"))
        feed = _feed(tmp_path, [_read(1, camera="CAM-A", seconds=-21 * 3600)])
        with pytest.raises(PartitionError) as refused:
            ingest_files(store, [feed], now=NOW, audit=OPS)
        assert f"{day:%Y-%m-%d} 00:00 to" in str(refused.value) and "detached" in str(refused.value)
        plan = purge(store, settings, now=NOW, actor=audit.Actor("system:test"), dry_run=True)
        assert "detached partitions left alone" in plan.summary() and f"plate_read_p{day:%Y%m%d}" in plan.summary()
        # a partition gone between its check and the load (detached or dropped meanwhile): refused in words,
        # the batch rolled back with its audit event
        events_before, reads_before = _count(store, AuditEvent), _count(store, PlateRead)
        gone = NOW - timedelta(days=3)
        with store.engine.begin() as conn:
            partitions.ensure(conn, gone, gone)
            for table in partitions.PARTITIONED:
                conn.execute(text(f"DROP TABLE {partitions.partition_name(table, gone.date())}"))
        monkeypatch.setattr(read_ingest.partitions, "ensure", lambda *_: [])   # dropped after the check
        feed = _feed(tmp_path, [_read(2, camera="CAM-A", seconds=-69 * 3600)], "gone.csv")
        feed.write_text(feed.read_text() + "\n")   # one chunk: its header and read (no empty chunk first)
        with pytest.raises(PartitionError, match="no partition of the plate reads holds.*rolled back"):
            ingest_files(store, [feed], now=NOW, audit=OPS)
        with store.engine.connect() as conn:   # the load made none either
            assert f"plate_read_p{gone:%Y%m%d}" not in {p.name for p in partitions.attached(conn, "plate_read")}
        assert (_count(store, AuditEvent), _count(store, PlateRead)) == (events_before, reads_before)
        store.dispose()


def _big_feed(tmp_path: Path, cameras: list[str]) -> Path:
    write_feed(tmp_path / "big.csv", reads=15_000, days=1, end=NOW - timedelta(hours=1), cameras=cameras)
    return tmp_path / "big.csv"


def _assert_nothing_half_loaded(store: Store, events_before: int) -> None:
    assert (_count(store, PlateRead), _count(store, Sighting)) == (0, 0)
    with store.snapshot() as s:
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == events_before


def test_sqlite_disk_full_during_ingest_rolls_back_and_says_so(tmp_path):
    settings = Settings.from_env({}, home=tmp_path / "home", db_url=f"sqlite:///{tmp_path / 'small.db'}")
    store = Store(settings)
    _anpr_world(store, World(partners=["OWN"], cameras={"CAM-A": "OWN", "CAM-B": "OWN"},
                             users={"u.inv": ("OWN", "investigator")}))
    with store.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()

    @event.listens_for(store.engine, "connect")
    def _cap(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 40}")   # the file may grow by 160 kB

    store.dispose()   # every connection from now on has the cap

    events_before = _count(store, AuditEvent)
    with pytest.raises(StorageFull) as full:
        ingest_files(store, [_big_feed(tmp_path, ["CAM-A", "CAM-B"])], now=NOW, audit=OPS, batch_reads=15_000)
    assert "full" in str(full.value) and "rolled back" in str(full.value)
    _assert_nothing_half_loaded(store, events_before)


def test_postgresql_disk_full_during_ingest_rolls_back_and_says_so(tmp_path):
    """A tablespace on a 3 MB tmpfs takes the day partitions; the load fills it."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("WORKBENCH_TEST_PG_URL is not set: CI must run the store tests on PostgreSQL")
        pytest.skip("PostgreSQL variant: set WORKBENCH_TEST_PG_URL (.ci/run starts a server)")
    if os.geteuid() != 0 or shutil.which("mount") is None or urlparse(PG_URL.replace("+psycopg", "")).hostname \
            not in {"127.0.0.1", "localhost"}:
        pytest.fail("this test mounts a small tmpfs for a tablespace of the local PostgreSQL server: run it as "
                    "root on the server's machine (bash .ci/run does)", pytrace=False)
    folder = Path(tempfile.mkdtemp(prefix="wb-small-disk-"))
    space = f"wb_small_{folder.name[-8:].lower()}"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], check=True)
    admin = Store(Settings.from_env({}, home=tmp_path / "admin", db_url=PG_URL))
    try:
        shutil.chown(folder, "postgres")
        with new_database("postgresql", tmp_path) as url:
            store = Store(Settings.from_env({}, home=tmp_path / "home", db_url=url))
            try:
                _anpr_world(store, World(partners=["OWN"], cameras={"CAM-A": "OWN", "CAM-B": "OWN"},
                                         users={"u.inv": ("OWN", "investigator")}))
                with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text(f"CREATE TABLESPACE {space} LOCATION '{folder}'"))
                    conn.execute(text(f"ALTER TABLE plate_read SET TABLESPACE {space}"))   # the partitions to come
                    conn.execute(text(f"ALTER TABLE sighting SET TABLESPACE {space}"))
                events_before = _count(store, AuditEvent)
                with pytest.raises(StorageFull) as full:
                    ingest_files(store, [_big_feed(tmp_path, ["CAM-A", "CAM-B"])], now=NOW, audit=OPS)
                assert "No space left on device" in str(full.value) and "rolled back" in str(full.value)
                _assert_nothing_half_loaded(store, events_before)
            finally:
                store.dispose()
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP TABLESPACE IF EXISTS {space}"))
        admin.dispose()
        subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


def test_sqlite_warns_in_words_past_its_ceiling(tmp_path, monkeypatch):
    settings = Settings.from_env({}, home=tmp_path / "home", db_url=f"sqlite:///{tmp_path / 'wb.db'}")
    store = Store(settings)
    _anpr_world(store, World(partners=["OWN"], cameras={"CAM-A": "OWN"}, users={"u.inv": ("OWN", "investigator")}))
    monkeypatch.setattr(read_ingest, "SQLITE_CEILING_READS", 2)
    feed = _feed(tmp_path, [_read(i, camera="CAM-A", seconds=200 * i) for i in range(3)])
    with pytest.warns(read_ingest.CapacityWarning, match="more than the 2 it is meant for.*PostgreSQL"):
        ingest_files(store, [feed], now=NOW, audit=OPS)
    store.dispose()


def _sightings_and_reads(store: Store) -> tuple[list[tuple], list[tuple]]:
    """Every sighting (camera, plate, first, last, reads) and every read with its sighting's (camera, plate,
    first): what the merge made, whatever the ids."""
    with store.snapshot() as s:
        sightings = sorted(s.execute(text("SELECT camera_id, plate, first_time, last_time, n_reads FROM sighting")))
        reads = sorted(s.execute(text(
            "SELECT r.source_read_id, s.camera_id, s.plate, s.first_time FROM plate_read r JOIN sighting s "
            "ON s.id = r.sighting_id")))
    return sightings, reads


def test_loading_on_two_connections_merges_exactly_as_one_connection(tmp_path, monkeypatch):
    """Late and double reads split across batches and shards: two connections give the sequential result."""
    import pandas as pd

    from workbench.samples import build_sample

    monkeypatch.setattr(read_ingest, "PG_SHARD_MIN_READS", 1_000)
    feed = tmp_path / "synthetic.csv"
    results = []
    for connections in (1, 2):
        with new_database("postgresql", tmp_path) as url:
            settings = Settings.from_env({}, home=tmp_path / f"home{connections}", db_url=url)
            build_sample(settings, traffic=False)
            store = Store(settings)
            if connections == 1:
                with store.snapshot() as s:
                    cameras = list(s.execute(text("SELECT id FROM camera WHERE kind = 'anpr'")).scalars())
                truth = write_feed(feed, reads=12_000, days=1, end=NOW - timedelta(hours=1), cameras=cameras,
                                   distinct_plates=300)
                lines = pd.read_csv(feed, dtype=str)   # shuffled: late reads come batches after their passage
                lines.sample(frac=1, random_state=3).to_csv(feed, index=False)
                again = lines.sample(frac=0.1, random_state=4)   # re-delivered
                again.to_csv(tmp_path / "again.csv", index=False)
            reports = ingest_files(store, [feed, tmp_path / "again.csv"], now=NOW, audit=OPS, batch_reads=3_000,
                                   connections=connections)
            assert [(r.loaded, r.duplicates, r.error) for r in reports] == [(truth.reads, 0, None),
                                                                             (0, len(again), None)]
            assert reports[0].merged > 0
            results.append(_sightings_and_reads(store))
            with store.snapshot() as s:
                newest = s.execute(select(func.max(Sighting.id))).scalar_one()
                shards = [e.resource.get("shard") for e in s.execute(select(AuditEvent).where(
                    AuditEvent.action == "plates-ingest")).scalars()
                          if e.resource["file"].startswith(str(tmp_path))]
                distinct = s.execute(text("SELECT count(DISTINCT id) = count(*) FROM sighting")).scalar_one()
            assert distinct   # the shards' ranges of sighting ids never overlap
            assert sightings_version(store) == newest   # the counter names the newest sighting of every shard
            # one transaction per shard, each with its event (the last few reads: too few to split)
            assert set(shards) == ({None} if connections == 1 else {"1/2", "2/2", None})
            store.dispose()
    assert len(results[0][1]) == truth.reads and results[1] == results[0]


def test_a_load_analyses_only_partitions_without_statistics_or_far_behind(tmp_path):
    """A feed every few minutes must not sample its day's partitions each time; a fresh or much grown one is."""
    with new_database("postgresql", tmp_path) as url:
        store = Store(Settings.from_env({}, home=tmp_path / "home", db_url=url))
        store.migrate()
        day = (NOW - timedelta(hours=1)).date()
        with store.engine.begin() as conn:
            partitions.ensure(conn, partitions.day_start(day), partitions.day_start(day))
            at = f"'{day} 08:00+00'"
            conn.execute(text(f"INSERT INTO sighting (camera_id, plate, first_time, last_time, n_reads) SELECT 'C', "
                              f"'P' || n, {at}, {at}, 1 FROM generate_series(1, 1000) n"))
            conn.execute(text(f"INSERT INTO plate_read (source, source_read_id, camera_id, time, plate_raw, plate, "
                              f"sighting_id, ingested_at) SELECT 'S', n, 'C', {at}, 'P', 'P', n, {at} "
                              "FROM generate_series(1, 2000) n"))
            names = [partitions.partition_name(t, day) for t in ("plate_read", "sighting")]
            assert partitions.analyse(conn, {day: 10}) == names   # never analysed: no statistics at all
            bounds = conn.execute(text("SELECT cardinality(histogram_bounds::text::text[]) FROM pg_stats WHERE "
                                       "tablename = :t AND attname = 'source_read_id'"), {"t": names[0]}).scalar()
            assert bounds == partitions.SAMPLE_TARGET["plate_read"] + 1   # the reads sampled at their own target
            assert partitions.analyse(conn, {day: 10}) == []   # 10 rows more than 1,000 counted: still good
            assert partitions.analyse(conn, {day: 300}) == [names[1]]   # 30 % more sightings: refreshed
            assert partitions.analyse(conn, {day + timedelta(days=1): 10}) == []   # no partition: nothing
        store.dispose()
