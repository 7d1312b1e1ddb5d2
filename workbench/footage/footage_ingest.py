"""Put video files into the archive: probe, hash, copy, catalogue.

* Idempotent on the file's SHA-256: the same file twice is one segment.
* File first, then its row: the copy is written under a temporary name,
  flushed to disk and renamed into the archive before its catalogue row and
  its audit event commit (one transaction). A crash in between leaves a file
  without a row, which the re-run of the same file adopts; a row whose file
  went missing is healed by the re-run (the source is copied again, its hash
  being the segment's); stray files of the camera older than ``ORPHAN_AGE``
  are removed.
* A truncated, corrupt or undecodable file, a wrong start time or a segment
  that overlaps one already archived for the camera is reported by name with
  the reason, and the other files go on.

    >>> reports = ingest_footage(store, [Path("cam12-0800.mp4")], camera_id="CCTV-PZ5339-101",
    ...                          start="2026-11-20T08:00:00+01:00", now=now)   # doctest: +SKIP
    >>> print(reports[0])                                                     # doctest: +SKIP
    cam12-0800.mp4: archived as segment 7 (H.264 1280x720, 25 fps, 10:00)
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workbench import faults
from workbench.errors import FootageError, IngestError, StoreError, WorkbenchError
from workbench.footage.probe import VideoFacts, probe, sha256_of
from workbench.store import AuditWriter, Store
from workbench.store.models import Camera, FootageSegment
from workbench.timeutil import as_utc

EARLIEST_RECORDING = datetime(2000, 1, 1, tzinfo=timezone.utc)
CLOCK_TOLERANCE = timedelta(minutes=5)
ORPHAN_AGE = timedelta(minutes=15)
ACTION = "footage-ingest"
_log = logging.getLogger(__name__)


@dataclass
class FootageReport:
    """What happened to one file: ``segment_id`` when archived, ``duplicate_of`` or ``error`` otherwise."""

    path: str
    segment_id: int | None = None
    duplicate_of: int | None = None
    error: str | None = None
    facts: VideoFacts | None = None
    healed: bool = False

    def __str__(self) -> str:
        name = Path(self.path).name
        if self.error:
            return f"{name}: SKIPPED, {self.error}"
        if self.duplicate_of is not None:
            if self.healed:
                return (f"{name}: already in the archive as segment {self.duplicate_of}, whose file was missing: "
                        "copied again from this file (same SHA-256)")
            return f"{name}: already in the archive as segment {self.duplicate_of} (nothing written)"
        f = self.facts
        assert f is not None
        minutes, seconds = divmod(round(f.duration), 60)
        return (f"{name}: archived as segment {self.segment_id} ({f.codec_label} {f.width}x{f.height}, "
                f"{f.fps:g} fps, {minutes}:{seconds:02d})")


def ingest_footage(store: Store, paths: Iterable[Path | str], *, camera_id: str, now: datetime,
                   audit: AuditWriter, start: datetime | str | None = None,
                   on_file: Callable[[FootageReport], None] | None = None) -> list[FootageReport]:
    """Archive each file for ``camera_id``; ``start`` is when the first file begins (else its metadata).

    With several files and an explicit ``start``, the files are taken to follow
    each other in the order given, each starting where the previous one ends.
    Each archived file commits with its audit event; a refused file is audited
    as an error.
    """
    reports = []
    next_start = as_utc(start) if start is not None else None
    sweep_orphans(store, camera_id)
    for path in map(Path, paths):
        report = FootageReport(str(path))
        try:
            seconds = _ingest_one(store, report, path, camera_id, next_start, now, audit)
            if next_start is not None:
                next_start += timedelta(seconds=seconds)
        except StoreError:
            raise
        except Exception as exc:  # a refusal in words, or a bug: reported, audited, and the next file goes on
            if isinstance(exc, WorkbenchError):
                report.error = str(exc).removeprefix(f"{path.name}: ")
            else:
                _log.exception("unexpected error while archiving %s", path)
                report.error = f"internal error ({type(exc).__name__}), see the log"
            with store.session() as session:
                audit(session, ACTION, outcome="error", reason=report.error,
                      resource={"camera": camera_id, "file": str(path)}, result_count=0)
        reports.append(report)
        if on_file:
            on_file(report)
    return reports


def _ingest_one(store: Store, report: FootageReport, path: Path, camera_id: str, start: datetime | None,
                now: datetime, audit: AuditWriter) -> float:
    """Archive one file (or heal its segment, or find it already there); returns its duration in seconds."""
    if not path.is_file():
        raise FootageError(f"{path.name}: no such file")
    digest = sha256_of(path)
    with store.snapshot() as session:
        camera = session.get(Camera, camera_id)
        if camera is None:
            raise IngestError(f"no camera with id {camera_id!r}")
        if camera.kind == "anpr":
            raise IngestError(f"{camera_id} is an ANPR camera: it delivers plate reads, not footage")
        known = session.execute(select(FootageSegment.id, FootageSegment.path, FootageSegment.start,
                                       FootageSegment.end).where(FootageSegment.sha256 == digest)).first()
    if known is not None:   # a re-run: the files after it still start where it ends
        report.duplicate_of = known.id
        report.healed = _heal(store, path, known.path)
        return float((known.end - known.start).total_seconds())
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
    _place(path, target)
    faults.point("footage.file-in-place")
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
            audit(session, ACTION, resource={"camera": camera_id, "file": str(path), "segment": segment.id,
                                             "sha256": digest}, result_count=1)
            faults.point("footage.before-commit")
            report.segment_id, report.facts = segment.id, facts
    except IntegrityError:   # the same file, archived meanwhile by another ingest (under the same path or not)
        _drop_unless_catalogued(store, relative)
        return _ingest_one(store, report, path, camera_id, start, now, audit)
    except BaseException:
        _drop_unless_catalogued(store, relative)
        raise
    return facts.duration


def _place(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` durably: a temporary name, fsync, rename, fsync of the folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with open(source, "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(partial, target)
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise FootageError(f"{source.name}: could not be stored in the archive ({exc.strerror or exc})") from None


def _heal(store: Store, source: Path, relative: str) -> bool:
    """Put back a catalogued segment's missing (or cut short) file from a source with the same hash."""
    target = store.settings.footage_dir / relative
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return False
    _place(source, target)
    return True


def _drop_unless_catalogued(store: Store, relative: Path) -> None:
    """Remove a file placed for a row that did not commit, unless another ingest's row uses it."""
    try:
        with store.snapshot() as session:
            used = session.execute(select(FootageSegment.id)
                                   .where(FootageSegment.path == relative.as_posix())).first() is not None
    except StoreError:
        return   # the database is gone: leave the file, the next run adopts or sweeps it
    if not used:
        (store.settings.footage_dir / relative).unlink(missing_ok=True)


def sweep_orphans(store: Store, camera_id: str) -> list[Path]:
    """Remove the camera's archive files that no segment names, once older than ``ORPHAN_AGE``.

    They are what a crash between a file's rename and its row's commit leaves
    (a younger one may belong to an ingest still running). Returns the removed paths.
    """
    folder = store.settings.footage_dir / camera_id
    if not folder.is_dir():
        return []
    with store.snapshot() as session:
        known = set(session.execute(select(FootageSegment.path)
                                    .where(FootageSegment.camera_id == camera_id)).scalars())
    limit = time.time() - ORPHAN_AGE.total_seconds()
    removed = []
    for file in folder.rglob("*"):
        relative = file.relative_to(store.settings.footage_dir).as_posix()
        if file.is_file() and relative not in known and file.stat().st_mtime < limit:
            file.unlink(missing_ok=True)
            removed.append(file)
    return removed
