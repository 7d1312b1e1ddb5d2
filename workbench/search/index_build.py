"""Build the frame index: one decoding pass per segment, segments in parallel.

Each segment gets one file ``segment-<id>.npz`` in the index folder holding
its motion grid (two 64-bit words per ``BIN_S`` seconds) and its object
events (time span, box track, direction, size, colour, kind, descriptor).

    workbench index build                  # every segment not indexed yet, with a progress bar
    >>> summary = build_index(store, workers=2)        # doctest: +SKIP

Work is spread over a Dask LocalCluster (or a given ``dask.distributed``
client, for an archive that outgrows one machine); one worker process per
core decodes one segment at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import av
import numpy as np
from sqlalchemy import select, update

from workbench import faults
from workbench.errors import FootageError
from workbench.footage.decoding import VideoFile
from workbench.search.footage_plates import store_plate_reads
from workbench.search.frame_analysis import DESCRIPTOR_BINS, DIRECTIONS, KINDS, PALETTE, FrameAnalyser
from workbench.search.object_tracks import ObjectEvent, ObjectTracker
from workbench.search.person_detection import PersonDetector
from workbench.search.plate_reading import shared_reader
from workbench.store import Store
from workbench.store.models import FootageSegment

INDEX_VERSION = 1
BIN_S = 1.0           # time resolution of the stored motion grid (seconds)
ANALYSIS_HZ = 6.0     # frames analysed per second of video (every frame is decoded)


def index_path(index_dir: Path, segment_id: int) -> Path:
    """Where the index of a segment lives (retention removes ``segment-<id>.*`` with the footage)."""
    return Path(index_dir) / f"segment-{segment_id}.npz"


def _colour_view(frame: av.VideoFrame, analyser: FrameAnalyser,
                 full: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The frame in colour at the analyser's size, its foreground mask and, with ``full``, the frame at full
    size for the plate reader (asked only when a better view of an object is kept)."""
    w, h = analyser.size
    return (frame.reformat(width=w, height=h, format="bgr24").to_ndarray(), analyser.foreground(),
            frame.to_ndarray(format="bgr24") if full else None)


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


def decode_only(path: Path) -> int:
    """Decode every frame and touch its luma plane, nothing else: the physical limit of indexing."""
    frames = 0
    for _, frame, _ in _decoded_frames(Path(path)):
        _luma(frame)
        frames += 1
    return frames


@dataclass
class SegmentIndex:
    """The index of one segment, in memory."""

    motion: np.ndarray                      # (bins, 2) uint64
    events: list[ObjectEvent] = field(default_factory=list)
    frames: int = 0
    missing: list[str] = field(default_factory=list)   # analyses that could not run, with the reason

    def save(self, path: Path) -> None:
        """Write atomically (a half-written index is never read)."""
        ev = self.events
        offsets = np.cumsum([0] + [len(e.track) for e in ev]).astype(np.int64)
        tmp = path.with_name(path.name + ".partial.npz")
        np.savez(tmp, version=INDEX_VERSION, bin_s=BIN_S, motion=self.motion,
                 ev_start=np.array([e.start for e in ev], np.float32),
                 ev_end=np.array([e.end for e in ev], np.float32),
                 ev_best=np.array([e.best_time for e in ev], np.float32),
                 ev_direction=np.array([DIRECTIONS.index(e.direction) for e in ev], np.uint8),
                 ev_colour=np.array([PALETTE.index(e.colour) for e in ev], np.uint8),
                 ev_kind=np.array([KINDS.index(e.kind) for e in ev], np.uint8),
                 ev_size=np.array([e.size for e in ev], np.float32),
                 ev_descriptor=np.array([e.descriptor for e in ev], np.float16).reshape(len(ev), -1) if ev
                 else np.zeros((0, int(np.prod(DESCRIPTOR_BINS))), np.float16),   # a segment where nothing moves
                 ev_track_offsets=offsets,
                 track=np.concatenate([e.track for e in ev]) if ev else np.zeros((0, 5), np.float32))
        os.replace(tmp, path)


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
            tracker.update(t, blobs, partial(_colour_view, frame, analyser, True))
    if analyser is None or tracker is None:
        raise FootageError(f"{path.name}: no frame could be decoded")
    return SegmentIndex(np.array(bins, dtype=np.uint64).reshape(-1, 2), tracker.finish(), frames,
                        [f"plate reading: {why}"] if why else [])


def _index_one(segment_id: int, video: str, target: str, read_plates: bool = True) -> dict[str, Any]:
    """Worker task: index one segment file and write its index; returns a summary or the error."""
    try:
        index = index_video(Path(video), read_plates=read_plates)
        index.save(Path(target))
        return {"segment_id": segment_id, "frames": index.frames, "events": len(index.events), "error": None,
                "plates": [p for e in index.events for p in e.plates], "missing": index.missing}
    except FootageError as exc:
        return {"segment_id": segment_id, "frames": 0, "events": 0, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one segment's failure is reported, the build goes on
        return {"segment_id": segment_id, "frames": 0, "events": 0,
                "error": f"internal error while indexing ({type(exc).__name__}: {str(exc)[:120]})"}


def map_segments(task: Callable[..., Any], jobs: list[tuple], *, workers: int | None = None, client: Any = None,
                 progress: bool = False, unit: str = "segment") -> Iterator[Any]:
    """Run ``task(*job)`` for every job on a Dask cluster (a LocalCluster of ``workers`` processes if no client).

    With one worker and no client the jobs run here, one after the other.
    Results are yielded as they complete.
    """
    from tqdm.auto import tqdm

    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(jobs), unit=unit, disable=not progress, desc="indexing footage")
    if client is None and (workers == 1 or len(jobs) <= 1):
        for job in jobs:
            yield task(*job)
            bar.update()
        bar.close()
        return
    from dask.distributed import Client, LocalCluster, as_completed

    own = client is None
    if own:
        cluster = LocalCluster(n_workers=min(workers, len(jobs)), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    try:
        futures = [client.submit(task, *job, pure=False) for job in jobs]
        for future in as_completed(futures):
            yield future.result()
            bar.update()
    finally:
        bar.close()
        if own:
            client.close()
            cluster.close()


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
                workers: int | None = None, client: Any = None, progress: bool = False,
                now: datetime | None = None, read_plates: bool = True) -> IndexSummary:
    """Index the segments not indexed yet (or the given ones; all again with ``rebuild``); with ``read_plates``
    the plates read on vehicles become ``FOOTAGE-OCR`` sightings."""
    query = select(FootageSegment.id, FootageSegment.path)
    if segment_ids is not None:
        query = query.where(FootageSegment.id.in_(list(segment_ids)))
    elif not rebuild:
        query = query.where(FootageSegment.indexed_at.is_(None))
    with store.snapshot() as session:
        rows = session.execute(query.order_by(FootageSegment.id)).all()
    settings = store.settings
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(sid, str(settings.footage_dir / rel), str(index_path(settings.index_dir, sid)), read_plates)
            for sid, rel in rows]
    summary = IndexSummary()
    for result in map_segments(_index_one, jobs, workers=workers, client=client, progress=progress):
        if result["error"]:
            summary.failed.append((result["segment_id"], result["error"]))
            continue
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
