"""Put video files into the archive: probe, hash, copy, catalogue.

* Idempotent on the file's SHA-256: the same file twice is one segment.
* One file, one transaction: the copy is written under a temporary name and
  renamed only once its catalogue row is committed; a failure leaves neither.
* A truncated, corrupt or undecodable file, a wrong start time or a segment
  that overlaps one already archived for the camera is reported by name with
  the reason, and the other files go on.

    >>> reports = ingest_footage(store, [Path("cam12-0800.mp4")], camera_id="CCTV-PZ5339-101",
    ...                          start="2026-11-20T08:00:00+01:00", now=now)   # doctest: +SKIP
    >>> print(reports[0])                                                     # doctest: +SKIP
    cam12-0800.mp4: archived as segment 7 (H.264 1280x720, 25 fps, 10:00)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from workbench.errors import FootageError, IngestError, WorkbenchError
from workbench.footage.probe import VideoFacts, probe, sha256_of
from workbench.store import Store
from workbench.store.models import Camera, FootageSegment
from workbench.timeutil import as_utc

EARLIEST_RECORDING = datetime(2000, 1, 1, tzinfo=timezone.utc)
CLOCK_TOLERANCE = timedelta(minutes=5)


@dataclass
class FootageReport:
    """What happened to one file: ``segment_id`` when archived, ``duplicate_of`` or ``error`` otherwise."""

    path: str
    segment_id: int | None = None
    duplicate_of: int | None = None
    error: str | None = None
    facts: VideoFacts | None = None

    def __str__(self) -> str:
        name = Path(self.path).name
        if self.error:
            return f"{name}: SKIPPED, {self.error}"
        if self.duplicate_of is not None:
            return f"{name}: already in the archive as segment {self.duplicate_of} (nothing written)"
        f = self.facts
        assert f is not None
        minutes, seconds = divmod(round(f.duration), 60)
        return (f"{name}: archived as segment {self.segment_id} ({f.codec_label} {f.width}x{f.height}, "
                f"{f.fps:g} fps, {minutes}:{seconds:02d})")


def ingest_footage(store: Store, paths: Iterable[Path | str], *, camera_id: str, now: datetime,
                   start: datetime | str | None = None,
                   on_file: Callable[[FootageReport], None] | None = None) -> list[FootageReport]:
    """Archive each file for ``camera_id``; ``start`` is when the first file begins (else its metadata).

    With several files and an explicit ``start``, the files are taken to follow
    each other in the order given, each starting where the previous one ends.
    """
    reports = []
    next_start = as_utc(start) if start is not None else None
    for path in map(Path, paths):
        report = FootageReport(str(path))
        try:
            report.segment_id, report.duplicate_of, report.facts = _ingest_one(store, path, camera_id, next_start, now)
            if next_start is not None and report.facts is not None:
                next_start += timedelta(seconds=report.facts.duration)
        except WorkbenchError as exc:
            report.error = str(exc).removeprefix(f"{path.name}: ")
        reports.append(report)
        if on_file:
            on_file(report)
    return reports


def _ingest_one(store: Store, path: Path, camera_id: str, start: datetime | None,
                now: datetime) -> tuple[int | None, int | None, VideoFacts | None]:
    if not path.is_file():
        raise FootageError(f"{path.name}: no such file")
    digest = sha256_of(path)
    with store.session() as session:
        camera = session.get(Camera, camera_id)
        if camera is None:
            raise IngestError(f"no camera with id {camera_id!r}")
        if camera.kind == "anpr":
            raise IngestError(f"{camera_id} is an ANPR camera: it delivers plate reads, not footage")
        known = session.execute(select(FootageSegment.id).where(FootageSegment.sha256 == digest)).scalar()
    if known is not None:
        return None, known, None
    facts = probe(path)
    begin = start or facts.recorded_at
    if begin is None:
        raise IngestError("the file does not say when it was recorded: give the start time (--start)")
    end = begin + timedelta(seconds=facts.duration)
    if begin < EARLIEST_RECORDING or end > now + CLOCK_TOLERANCE:
        raise IngestError(f"start time {begin:%Y-%m-%d %H:%M:%S} UTC is not plausible (the recording would end "
                          f"{end:%Y-%m-%d %H:%M:%S} UTC, now is {now:%Y-%m-%d %H:%M:%S} UTC): check --start")
    relative = Path(camera_id) / f"{begin:%Y-%m-%d}" / f"{begin:%H%M%S}-{digest[:12]}.{facts.container}"
    target = store.settings.footage_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(path, partial)
    try:
        with store.session() as session:
            overlap = session.execute(
                select(FootageSegment).where(FootageSegment.camera_id == camera_id, FootageSegment.start < end,
                                             FootageSegment.end > begin)).scalars().first()
            if overlap is not None:
                raise IngestError(f"overlaps segment {overlap.id} of {camera_id} ({overlap.start:%Y-%m-%d %H:%M:%S}"
                                  f" - {overlap.end:%H:%M:%S} UTC): a wrong start time or a file already "
                                  "archived under another name")
            segment = FootageSegment(camera_id=camera_id, start=begin, end=end, fps=facts.fps, codec=facts.codec,
                                     container=facts.container, width=facts.width, height=facts.height,
                                     frame_count=facts.frame_count, path=relative.as_posix(), sha256=digest,
                                     size_bytes=path.stat().st_size, keyframes=facts.keyframes, ingested_at=now)
            session.add(segment)
            session.flush()
            segment_id = segment.id
    except IntegrityError:   # the same file, archived meanwhile by another ingest
        partial.unlink(missing_ok=True)
        return _ingest_one(store, path, camera_id, start, now)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:
        os.replace(partial, target)
    except OSError as exc:
        with store.session() as session:   # undo the row: a segment never points to a missing file
            session.execute(delete(FootageSegment).where(FootageSegment.id == segment_id))
        partial.unlink(missing_ok=True)
        raise FootageError(f"{path.name}: could not be stored in the archive ({exc.strerror})") from None
    return segment_id, None, facts
