"""Build the frame index: one decoding pass per segment, segments in parallel on a Dask cluster.

A worker task fetches a segment's footage from its source (the archive on
this machine, or the workbench service over HTTP with the worker credential:
``footage.footage_source``), decodes it once and returns the segment's index
as Arrow tables: its motion grid (two 64-bit words per ``BIN_S`` seconds with
motion) and its object events (time span, box track, direction, size, colour,
kind, descriptor). The builder alone writes them, per camera and day
(``footage.index_files.write_segment``: the segment's rows replaced, files
renamed into place), then marks the segment indexed: a task rerun after its
worker died writes the same rows once.

    workbench index build                               # LocalCluster, one worker process per core
    workbench index build --scheduler tcp://host:8786   # a cluster (or WORKBENCH_DASK_SCHEDULER)
    >>> summary = build_index(store, workers=2)        # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache, partial
from pathlib import Path
from typing import Any

import av
import numpy as np
import pyarrow as pa
from sqlalchemy import select, update

from workbench import faults
from workbench.errors import FootageError, WorkbenchError
from workbench.footage.decoding import VideoFile
from workbench.footage.footage_source import ArchiveFootage, FootageSource
from workbench.footage.index_files import (
    EVENTS,
    INDEX_VERSION,
    MOTION,
    SEGMENTS,
    binary_column,
    remove_stale_partials,
    write_segment,
)
from workbench.search.footage_plates import store_plate_reads
from workbench.search.frame_analysis import DESCRIPTOR_BINS, DIRECTIONS, KINDS, PALETTE, FrameAnalyser
from workbench.search.object_tracks import ObjectEvent, ObjectTracker
from workbench.search.person_detection import PersonDetector
from workbench.search.plate_reading import shared_reader
from workbench.store import Store
from workbench.store.models import FootageSegment

BIN_S = 1.0           # time resolution of the stored motion grid (seconds)
ANALYSIS_HZ = 6.0     # frames analysed per second of video (every frame is decoded)


def _colour_pictures(frame: av.VideoFrame, size: tuple[int, int],
                     full: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """The frame in colour at the analyser's ``size`` and, with ``full``, at full size for the plate reader and
    the person detector (asked once the track whose best view it holds has ended)."""
    w, h = size
    return frame.reformat(width=w, height=h, format="bgr24").to_ndarray(), \
        frame.to_ndarray(format="bgr24") if full else None


def _luma(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane of a decoded frame as a NumPy view (no conversion for YUV formats)."""
    if frame.format.name.startswith(("yuv", "yuvj", "nv12", "gray")):
        plane = frame.planes[0]
        luma = np.frombuffer(plane, np.uint8)  # type: ignore[call-overload]  # a plane is a buffer
        return luma.reshape(frame.height, plane.line_size)[:, :frame.width]
    return frame.to_ndarray(format="gray")


def _decoded_frames(path: Path) -> Iterator[tuple[float, av.VideoFrame, float]]:
    """(time of the picture, frame, frame rate) for every picture of the file, decoded on every core."""
    with VideoFile(path, threads="AUTO") as video:
        for t, frame in video.pictures():
            yield t, frame, video.fps


def warm_worker() -> None:
    """Load in this process what indexing a segment loads on first use (the plate reader's models), so that a
    standing cluster's workers pay it once, before the work (``client.run(warm_worker)``)."""
    shared_reader()


def decode_only(path: Path) -> int:
    """Decode every frame and touch its luma plane, nothing else: the physical limit of indexing."""
    frames = 0
    for _, frame, _ in _decoded_frames(Path(path)):
        _luma(frame)
        frames += 1
    return frames


@dataclass
class SegmentIndex:
    """The index of one segment, in memory, times from the segment's start."""

    motion: np.ndarray                      # (bins, 2) uint64
    events: list[ObjectEvent] = field(default_factory=list)
    frames: int = 0
    missing: list[str] = field(default_factory=list)   # analyses that could not run, with the reason

    def tables(self, segment_id: int, start: float, end: float) -> dict[str, pa.Table]:
        """The segment's rows for the index files (``start`` and ``end`` in epoch seconds)."""
        ev = self.events
        columns = {"start": [e.start for e in ev], "end": [e.end for e in ev], "best": [e.best_time for e in ev],
                   "direction_code": [DIRECTIONS.index(e.direction) for e in ev],
                   "colour_code": [PALETTE.index(e.colour) for e in ev], "kind_code": [KINDS.index(e.kind) for e in ev],
                   "size": [e.size for e in ev]}
        descriptors = np.array([e.descriptor for e in ev], np.float16).reshape(len(ev), int(np.prod(DESCRIPTOR_BINS)))
        track = np.concatenate([e.track for e in ev]) if ev else np.zeros((0, 5), np.float32)
        offsets = np.cumsum([0] + [len(e.track) for e in ev]).astype(np.int64)
        return segment_tables(segment_id, start, end, self.frames, self.motion, columns, descriptors, track, offsets)


def segment_tables(segment_id: int, start: float, end: float, frames: int, motion: np.ndarray,
                   events: dict[str, Any], descriptors: np.ndarray, track: np.ndarray,
                   offsets: np.ndarray) -> dict[str, pa.Table]:
    """A segment's rows for the index files from its arrays (times from the segment's start).

    ``motion`` is (bins, 2) words per ``BIN_S``; ``events`` the columns of the
    object events; ``track`` (points, 5) their box tracks one after the other,
    event ``i`` at rows ``offsets[i]:offsets[i + 1]``.
    """
    n = len(descriptors)
    active = np.flatnonzero(motion.any(axis=1)) if len(motion) else np.zeros(0, np.int64)
    motion_rows = pa.table({"segment_id": np.full(len(active), segment_id, np.int64), "time": start + active * BIN_S,
                            "w0": motion[active, 0] if len(active) else np.zeros(0, np.uint64),
                            "w1": motion[active, 1] if len(active) else np.zeros(0, np.uint64)}, schema=MOTION)
    ev = {k: np.asarray(v) for k, v in events.items()}
    lengths = np.diff(offsets)
    relative = np.asarray(track, np.float32).copy()
    relative[:, 0] -= np.repeat(ev["start"].astype(np.float32), lengths)
    nonempty = n > 0 and len(track) > 0
    box = [fn.reduceat(track[:, k], offsets[:-1]).astype(np.float32) if nonempty else np.zeros(n, np.float32)
           for fn, k in ((np.minimum, 1), (np.minimum, 2), (np.maximum, 3), (np.maximum, 4))]
    event_rows = pa.table({
        "segment_id": np.full(n, segment_id, np.int64), "event_no": np.arange(n, dtype=np.int32),
        **{k: start + ev[k].astype(np.float64) for k in ("start", "end", "best")},
        **{k: ev[k].astype(np.uint8) for k in ("direction_code", "colour_code", "kind_code")},
        "size": ev["size"].astype(np.float32), "x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3],
        "descriptor": binary_column(np.asarray(descriptors, np.float16), np.arange(n + 1)),
        "track": binary_column(relative, offsets)}, schema=EVENTS)
    segments = pa.table({"segment_id": [segment_id], "start": [start], "end": [end], "frames": [frames],
                         "events": [n], "version": [INDEX_VERSION]}, schema=SEGMENTS)
    return {"segments": segments, "motion": motion_rows, "events": event_rows}


def convert_npz_index(store: Store) -> int:
    """Move an index of the previous layout (``segment-<id>.npz``) into the partitions, no decoding; returns
    how many segments were converted (the files of segments no longer catalogued are removed)."""
    index_dir = store.settings.index_dir
    files = sorted(Path(index_dir).glob("segment-*.npz")) if Path(index_dir).is_dir() else []
    if not files:
        return 0
    ids = {int(f.name.split(".")[0].removeprefix("segment-")): f for f in files}
    with store.snapshot() as session:
        rows = session.execute(select(FootageSegment.id, FootageSegment.camera_id, FootageSegment.start,
                                      FootageSegment.end, FootageSegment.frame_count)
                               .where(FootageSegment.id.in_(list(ids)))).all()
    for r in rows:
        with np.load(ids[r.id]) as z:
            columns = {"start": z["ev_start"], "end": z["ev_end"], "best": z["ev_best"],
                       "direction_code": z["ev_direction"], "colour_code": z["ev_colour"],
                       "kind_code": z["ev_kind"], "size": z["ev_size"]}
            tables = segment_tables(r.id, r.start.timestamp(), r.end.timestamp(), r.frame_count, z["motion"],
                                    columns, z["ev_descriptor"], z["track"], z["ev_track_offsets"])
        write_segment(index_dir, r.camera_id, tables["segments"], tables["motion"], tables["events"])
    for f in files:
        f.unlink()
    return len(rows)


def index_video(path: Path, *, analysis_hz: float = ANALYSIS_HZ, read_plates: bool = True) -> SegmentIndex:
    """Decode ``path`` once and analyse about ``analysis_hz`` frames per second of it (vehicles' plates read
    with ``read_plates``; a plate reader that cannot start is reported in ``missing``, the index still builds)."""
    path = Path(path)
    reader, why = shared_reader() if read_plates else (None, None)
    bins: list[np.ndarray] = []
    analyser: FrameAnalyser | None = None
    tracker: ObjectTracker | None = None
    step, frames = 1, 0
    for t, frame, fps in _decoded_frames(path):
        frames += 1
        if analyser is None:
            analyser = FrameAnalyser(frame.width, frame.height)
            tracker = ObjectTracker(analyser.size, plates=None if reader is None else reader.read,
                                    persons=PersonDetector())
            step = max(1, round(fps / analysis_hz))
        if (frames - 1) % step:
            continue
        words, blobs = analyser.analyse(_luma(frame))
        b = int(t / BIN_S)
        while len(bins) <= b:
            bins.append(np.zeros(2, dtype=np.uint64))
        bins[b] |= words
        assert tracker is not None   # made with the analyser
        if blobs or tracker._live:  # noqa: SLF001 - a cheap check that spares the call
            tracker.update(t, blobs, analyser.foreground, cache(partial(_colour_pictures, frame, analyser.size, True)))
    if analyser is None or tracker is None:
        raise FootageError(f"{path.name}: no frame could be decoded")
    return SegmentIndex(np.array(bins, dtype=np.uint64).reshape(-1, 2), tracker.finish(), frames,
                        [f"plate reading: {why}"] if why else [])


def _index_one(source: FootageSource, segment_id: int, relative: str, sha256: str, start: float,
               end: float, read_plates: bool = True) -> dict[str, Any]:
    """Worker task: fetch one segment from ``source``, index it; returns its tables (and the plates read) or the
    error."""
    result: dict[str, Any] = {"segment_id": segment_id, "frames": 0, "events": 0, "error": None}
    try:
        with source.local_file(segment_id, relative, sha256) as path:
            index = index_video(path, read_plates=read_plates)
        result.update(frames=index.frames, events=len(index.events), tables=index.tables(segment_id, start, end),
                      plates=[p for e in index.events for p in e.plates], missing=index.missing)
    except WorkbenchError as exc:
        result["error"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - one segment's failure is reported, the build goes on
        result["error"] = f"internal error while indexing ({type(exc).__name__}: {str(exc)[:120]})"
    return result


def map_segments(task: Callable[..., Any], jobs: list[tuple], *, workers: int | None = None, client: Any = None,
                 progress: bool = False, unit: str = "segment") -> Iterator[Any]:
    """Run ``task(*job)`` for every job on a Dask cluster (a LocalCluster of ``workers`` processes if no client).

    With one worker and no client the jobs run here, one after the other.
    Results are yielded as they complete.
    """
    from tqdm.auto import tqdm

    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(jobs), unit=unit, disable=not progress, desc="indexing footage")
    try:
        if client is not None:
            yield from _completed(task, jobs, client, bar)
        elif workers == 1 or len(jobs) <= 1:
            for job in jobs:
                yield task(*job)
                bar.update()
        else:
            with local_client(min(workers, len(jobs))) as own:
                yield from _completed(task, jobs, own, bar)
    finally:
        bar.close()


def _completed(task: Callable[..., Any], jobs: list[tuple], client: Any, bar: Any) -> Iterator[Any]:
    """The results of ``task(*job)`` for every job, submitted to ``client``, as they complete."""
    from dask.distributed import as_completed

    for future in as_completed([client.submit(task, *job, pure=False) for job in jobs]):
        yield future.result()
        bar.update()


@contextmanager
def local_client(workers: int) -> Iterator[Any]:
    """A Dask client of a LocalCluster on this machine: ``workers`` processes of one thread each.

    >>> with local_client(2) as client:                                   # doctest: +SKIP
    ...     client.run(warm_worker)
    """
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        yield client


@dataclass
class IndexSummary:
    """What an index build did."""

    indexed: int = 0
    frames: int = 0
    events: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    plate_reads: int = 0
    missing: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        text = f"{self.indexed} segments indexed ({self.frames:,} frames, {self.events:,} moving objects, " \
               f"{self.plate_reads:,} plates read)"
        return text + "".join(f"\n  segment {s}: FAILED, {why}" for s, why in self.failed) + \
            "".join(f"\n  not analysed: {why}" for why in sorted(self.missing))


def build_index(store: Store, *, segment_ids: Iterable[int] | None = None, rebuild: bool = False,
                workers: int | None = None, client: Any = None, source: FootageSource | None = None,
                progress: bool = False, now: datetime | None = None, read_plates: bool = True) -> IndexSummary:
    """Index the segments not indexed yet (or the given ones; all again with ``rebuild``).

    ``source`` is where the workers read footage (default: this machine's
    archive; on a cluster, ``ServedFootage`` of the workbench service); with
    ``read_plates`` the plates read on vehicles become ``FOOTAGE-OCR`` sightings.
    """
    query = select(FootageSegment.id, FootageSegment.camera_id, FootageSegment.path, FootageSegment.sha256,
                   FootageSegment.start, FootageSegment.end)
    if segment_ids is not None:
        query = query.where(FootageSegment.id.in_(list(segment_ids)))
    elif not rebuild:
        query = query.where(FootageSegment.indexed_at.is_(None))
    with store.snapshot() as session:
        rows = session.execute(query.order_by(FootageSegment.id)).all()
    settings = store.settings
    convert_npz_index(store)   # an index of the previous layout, once
    remove_stale_partials(settings.index_dir)   # left by a build killed mid-write
    reader: FootageSource = source or ArchiveFootage(settings.footage_dir)
    cameras = {r.id: r.camera_id for r in rows}
    jobs = [(reader, r.id, r.path, r.sha256, r.start.timestamp(), r.end.timestamp(), read_plates)
            for r in rows]
    summary = IndexSummary()
    for result in map_segments(_index_one, jobs, workers=workers, client=client, progress=progress):
        if result["error"]:
            summary.failed.append((result["segment_id"], result["error"]))
            continue
        tables = result["tables"]
        write_segment(settings.index_dir, cameras[result["segment_id"]], tables["segments"], tables["motion"],
                      tables["events"])
        summary.plate_reads += store_plate_reads(store, result["segment_id"], result["plates"], now=now)
        summary.missing.update(result["missing"])
        faults.point("index.before-mark")
        with store.session() as session:
            session.execute(update(FootageSegment).where(FootageSegment.id == result["segment_id"])
                            .values(indexed_at=now or datetime.now(timezone.utc)))
        summary.indexed += 1
        summary.frames += result["frames"]
        summary.events += result["events"]
    return summary
