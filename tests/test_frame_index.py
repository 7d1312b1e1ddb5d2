"""The frame index on disk (Parquet per camera and day) and its workers reading footage through the service."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import delete, func, insert, select

from workbench.bench.frame_scale import camera_day, query_scale
from workbench.errors import StoreError
from workbench.footage.footage_source import ServedFootage
from workbench.footage.index_files import (
    DAY_S,
    PartitionReader,
    day_number,
    drop_segments,
    indexed_segments,
    partition_dir,
    write_segment,
)
from workbench.samples import SAMPLE_CASE
from workbench.search import build_index
from workbench.service.identity import TokenTable, issue_token
from workbench.service.process import free_port
from workbench.store.models import AuditEvent, FootageSegment

from conftest import sample_workspace

MIDNIGHT = 20_000 * DAY_S   # a UTC midnight, as epoch seconds


def _segment(segment_id: int, start: float) -> dict[str, pa.Table]:
    """A one-hour segment's tables, generated like the benchmark's."""
    tables, _ = camera_day(np.random.default_rng(segment_id), np.array([segment_id]), np.array([start]))
    return tables


def test_a_segment_written_twice_is_indexed_once_and_split_at_midnight(tmp_path):
    start = MIDNIGHT + DAY_S - 1800          # 23:30 to 00:30: two partitions
    tables = _segment(7, start)
    for _ in range(2):                       # a rerun replaces the segment's rows
        write_segment(tmp_path, "CAM-1", tables["segments"], tables["motion"], tables["events"])
    reader = PartitionReader(tmp_path)
    day = day_number(start)
    motion = [reader.read("CAM-1", d, "motion") for d in (day, day + 1)]
    assert all(t is not None and t.num_rows for t in motion)
    assert sum(t.num_rows for t in motion) == tables["motion"].num_rows
    events = [reader.read("CAM-1", d, "events") for d in (day, day + 1)]
    assert sum(t.num_rows for t in events if t is not None) == tables["events"].num_rows
    assert indexed_segments(tmp_path, "CAM-1", day) == {7}
    other = _segment(8, start + 3600)        # a neighbour in the second day keeps its rows
    write_segment(tmp_path, "CAM-1", other["segments"], other["motion"], other["events"])
    drop_segments(tmp_path, [{"id": 7, "camera_id": "CAM-1", "start": datetime.fromtimestamp(start, timezone.utc),
                              "end": datetime.fromtimestamp(start + 3600, timezone.utc)}])
    left = reader.read("CAM-1", day + 1, "motion")
    assert left is not None and set(left["segment_id"].to_pylist()) == {8}
    assert reader.read("CAM-1", day, "motion") is None and indexed_segments(tmp_path, "CAM-1", day) == set()
    assert not list(tmp_path.rglob("*partial*"))
    (partition_dir(tmp_path, "CAM-1", day + 1) / "events.parquet").write_bytes(b"PAR1 cut short")
    with pytest.raises(StoreError, match=r"frame index of camera CAM-1 on .* is damaged .*workbench index build"):
        PartitionReader(tmp_path).read("CAM-1", day + 1, "events")


def test_a_partition_of_the_previous_encoding_is_read_and_rewritten_in_the_new_one(tmp_path):
    start = MIDNIGHT + 3600
    old = _segment(7, start)
    folder = partition_dir(tmp_path, "CAM-1", day_number(start))
    folder.mkdir(parents=True)
    for name in ("segments", "motion", "events"):   # as the previous version wrote them: zstd, default encodings
        pq.write_table(old[name], folder / f"{name}.parquet", compression="zstd")
    reader = PartitionReader(tmp_path, cache_bytes=0)
    assert reader.read("CAM-1", day_number(start), "motion").equals(old["motion"])
    new = _segment(8, start + 3600)
    write_segment(tmp_path, "CAM-1", new["segments"], new["motion"], new["events"])
    motion, events = (pq.ParquetFile(folder / f"{name}.parquet").metadata.row_group(0) for name in ("motion", "events"))
    time_chunk = motion.column(motion.num_columns - 3)   # segment_id, time, w0, w1
    assert time_chunk.path_in_schema == "time" and "BYTE_STREAM_SPLIT" in time_chunk.encodings
    assert time_chunk.compression == "LZ4"
    assert events.column(2).path_in_schema == "start" and events.column(2).compression == "ZSTD"
    both = reader.read("CAM-1", day_number(start), "events")
    assert sorted(set(both["segment_id"].to_pylist())) == [7, 8]
    assert both.num_rows == old["events"].num_rows + new["events"].num_rows


def test_the_segment_list_follows_the_catalogue_of_the_cameras_and_time_it_asks_for(world):
    case = world.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    first = case.footage().iloc[0]
    camera, since, until = first["camera_id"], first["start"] - timedelta(hours=1), first["end"] + timedelta(hours=1)
    before = case.footage(cameras=[camera], since=since, until=until)
    with world.store.session() as session:
        row = session.get(FootageSegment, int(first["segment_id"]))
        copy = {c.name: getattr(row, c.name) for c in FootageSegment.__table__.columns}
        new_id = int(session.execute(select(func.max(FootageSegment.id))).scalar_one()) + 1
        session.execute(insert(FootageSegment), [{**copy, "id": new_id, "sha256": f"{new_id:064x}",
                                                  "start": first["start"] + timedelta(minutes=1)}])
    try:   # a segment ingested inside the window is listed by the next call (the kept table is not reused)
        after = case.footage(cameras=[camera], since=since, until=until)
        assert len(after) == len(before) + 1 and new_id in set(after["segment_id"])
    finally:
        with world.store.session() as session:
            session.execute(delete(FootageSegment).where(FootageSegment.id == new_id))
    again = case.footage(cameras=[camera], since=since, until=until)   # and a purged one is gone
    assert list(again["segment_id"]) == list(before["segment_id"])


def test_a_synthetic_index_answers_its_ground_truth():
    result = query_scale(100, lambda _: None, queries=6)
    assert result["truth_checked"] == 2 and result["truth_wrong"] == []


@pytest.fixture(scope="module")
def world(sample_copy):
    with sample_workspace(sample_copy) as ws:
        yield ws


def test_a_search_reads_only_the_cameras_and_days_it_asks_for(world, monkeypatch):
    case = world.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    footage = case.footage()
    first = footage.iloc[0]
    read: list[tuple[str, int]] = []
    original = PartitionReader.read

    def spy(self, camera_id, day, name, columns=None):  # type: ignore[no-untyped-def]
        read.append((camera_id, day))
        return original(self, camera_id, day, name, columns)

    monkeypatch.setattr(PartitionReader, "read", spy)
    hits = case.frame_search(cameras=[first["camera_id"]], since=first["start"] - timedelta(days=2),
                             until=first["end"] + timedelta(days=1), roi=(0.0, 0.0, 1.0, 1.0), thumbnails=False)
    assert hits.total >= 1
    assert set(read) == {(first["camera_id"], day_number(first["start"].timestamp()))}   # 4 days asked, 1 indexed
    assert len(list(world.settings.index_dir.iterdir())) > 1   # other cameras were there to be read, and were not


@pytest.fixture
def served_worlds(world, tmp_path):
    """The service of the copied sample world, in this process, with a worker token table."""
    import uvicorn

    from workbench.service.app import create_app

    users, workers = tmp_path / "users.json", tmp_path / "workers.json"
    issue_token(users, "inspector.dupont")
    token = issue_token(workers, "indexer-1")
    app = create_app(replace(world.settings, worker_tokens=workers), identities=TokenTable(users))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the service did not start"
    yield f"http://127.0.0.1:{server.config.port}", token
    server.should_exit = True
    thread.join(10)


def test_workers_fetch_footage_from_the_service_with_their_credential(world, served_worlds):
    url, token = served_worlds
    store = world.store
    case = world.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    segment = case.footage().iloc[0]
    sid, camera, start = int(segment["segment_id"]), segment["camera_id"], segment["start"]
    before = indexed_segments(world.settings.index_dir, camera, day_number(start.timestamp()))
    summary = build_index(store, segment_ids=[sid], source=ServedFootage(url, token), workers=1)
    assert summary.indexed == 1 and summary.failed == [] and summary.frames > 0
    assert sid in before and sid in indexed_segments(world.settings.index_dir, camera, day_number(start.timestamp()))
    refused = build_index(store, segment_ids=[sid], source=ServedFootage(url, "x" * 43), workers=1)
    assert refused.indexed == 0 and "refused the index worker" in refused.failed[0][1]
    with store.snapshot() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.user_name, AuditEvent.outcome,
                                        AuditEvent.resource)
                                 .where(AuditEvent.action.in_(["index-footage-read", "service-request"]))).all()
    assert [(e.user_name, e.outcome, e.resource["segment"]) for e in events if e.action == "index-footage-read"] == \
        [("worker:indexer-1", "ok", sid)]
    assert any(e.outcome == "denied" and e.resource["path"] == f"/api/footage/{sid}" for e in events)
    assert case.frame_search(cameras=[camera], since=start, until=start + timedelta(minutes=5),
                             roi=(0.0, 0.0, 1.0, 1.0), thumbnails=False).total >= 1


def test_an_index_of_the_previous_layout_is_converted_without_decoding(world):
    from workbench.footage.index_files import binary_rows
    from workbench.search.index_build import convert_npz_index

    case = world.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    segment = case.footage().iloc[0]
    sid, camera, start = int(segment["segment_id"]), segment["camera_id"], segment["start"]
    index_dir, day = world.settings.index_dir, day_number(start.timestamp())
    reader = PartitionReader(index_dir, cache_bytes=0)
    motion, events = (reader.read(camera, day, name) for name in ("motion", "events"))
    motion = motion.filter(pa.compute.equal(motion["segment_id"], sid))
    events = events.filter(pa.compute.equal(events["segment_id"], sid))
    dense = np.zeros((int((segment["end"] - start).total_seconds()) + 1, 2), np.uint64)
    dense[(motion["time"].to_numpy() - start.timestamp()).astype(int)] = np.column_stack(
        [motion["w0"].to_numpy(), motion["w1"].to_numpy()])
    track, offsets = binary_rows(events["track"], np.float32, 5)
    track[:, 0] += np.repeat(events["start"].to_numpy() - start.timestamp(), np.diff(offsets)).astype(np.float32)
    descriptors, _ = binary_rows(events["descriptor"], np.float16, 128)
    relative = {k: (events[k].to_numpy() - start.timestamp()).astype(np.float32) for k in ("start", "end", "best")}
    np.savez(index_dir / f"segment-{sid}.npz", version=1, bin_s=1.0, motion=dense, ev_start=relative["start"],
             ev_end=relative["end"], ev_best=relative["best"], ev_direction=events["direction_code"].to_numpy(),
             ev_colour=events["colour_code"].to_numpy(), ev_kind=events["kind_code"].to_numpy(),
             ev_size=events["size"].to_numpy(), ev_descriptor=descriptors, ev_track_offsets=offsets, track=track)
    drop_segments(index_dir, [{"id": sid, "camera_id": camera, "start": start, "end": segment["end"]}])
    assert sid not in indexed_segments(index_dir, camera, day)
    assert convert_npz_index(world.store) == 1 and not list(index_dir.glob("*.npz"))
    again = reader.read(camera, day, "events")
    again = again.filter(pa.compute.equal(again["segment_id"], sid))
    assert again.num_rows == events.num_rows and sid in indexed_segments(index_dir, camera, day)
    assert np.allclose(again["x1"].to_numpy(), events["x1"].to_numpy())
    assert again["colour_code"].to_pylist() == events["colour_code"].to_pylist()


def test_a_cluster_build_without_the_service_or_a_scheduler_is_refused_in_words(tmp_path, monkeypatch):
    import dask
    from click.testing import CliRunner

    from workbench.cli import cli

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    for name in ("WORKBENCH_SERVICE_URL", "WORKBENCH_WORKER_TOKEN", "WORKBENCH_DASK_SCHEDULER"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["index", "build", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2 and "WORKBENCH_WORKER_TOKEN" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("WORKBENCH_SERVICE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("WORKBENCH_WORKER_TOKEN", "t" * 43)
    monkeypatch.setenv("WORKBENCH_DASK_SCHEDULER", f"tcp://127.0.0.1:{free_port()}")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = CliRunner().invoke(cli, ["index", "build"])
    assert result.exit_code == 2 and "no Dask scheduler answers at tcp://127.0.0.1:" in result.output
