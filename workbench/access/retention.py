"""Retention: each partner keeps each kind of data a limited time, unless a hold keeps it.

Expired data is invisible at once (the access rule checks retention on every
read); :func:`purge` then deletes it for good, files and rows, and audits it.

Crash safety: the expired segments' files are first moved into the archive's
``.purging/`` folder, then their rows and the audit event commit together, then
that folder is emptied. A purge that dies before its commit leaves rows whose
files are in ``.purging/``: the next purge puts back the files whose row still
exists and deletes the others. The segments to purge are noted in the frame
index folder before the commit; their index rows are dropped after it, or by
the next purge for those whose rows are gone (``footage.index_files``).

    >>> plan = purge(store, settings, now=now, actor=Actor("system"), dry_run=True)  # doctest: +SKIP
    >>> plan.summary()                                                            # doctest: +SKIP
    'would purge 12 footage segments (3.1 GB), 40,211 plate reads, 18,004 sightings'
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, delete, exists, select
from sqlalchemy.orm import Session

from workbench import faults
from workbench.access import audit, policy
from workbench.config import Settings
from workbench.footage import index_files
from workbench.store import Store
from workbench.store.models import Camera, FootageSegment, Hold, Partner, PlateRead, Retention, Sighting


@dataclass
class PurgePlan:
    """What a purge removes (or, with ``dry_run``, would remove)."""

    dry_run: bool
    segments: list[dict[str, Any]] = field(default_factory=list)
    plate_reads: int = 0
    sightings: int = 0

    def summary(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        size = sum(s["size_bytes"] for s in self.segments) / 1e9
        return (f"{verb} {len(self.segments)} footage segments ({size:.1f} GB), "
                f"{self.plate_reads:,} plate reads, {self.sightings:,} sightings")


def retention_days(session: Session) -> dict[tuple[int, str], int]:
    """Retention in days per (partner id, data kind), defaults filled in."""
    stored = {(r.partner_id, r.data_kind): r.days for r in session.execute(select(Retention)).scalars()}
    return {(pid, kind): policy.retention_days(stored, pid, kind)
            for pid in session.execute(select(Partner.id)).scalars() for kind in policy.DATA_KINDS}


def _held(camera_col: Any, start_col: Any, end_col: Any) -> ColumnElement[bool]:
    """SQL: some hold on the same camera overlaps [start, end]."""
    return exists().where(and_(Hold.camera_id == camera_col, Hold.start <= end_col, Hold.end > start_col))


def purge(store: Store, settings: Settings, *, now: datetime, actor: audit.Actor, dry_run: bool = False) -> PurgePlan:
    """Delete (or list) expired footage segments, plate reads and sightings not kept by a hold."""
    plan = PurgePlan(dry_run)
    if not dry_run:
        finish_earlier_purges(store, settings)
    trash = _trash(settings)
    moved: list[str] = []
    try:
        with store.session() as session:
            _purge_rows(session, plan, now=now, dry_run=dry_run, settings=settings, moved=moved)
            if not dry_run and plan.segments:
                index_files.note_pending_drops(settings.index_dir, plan.segments)
            audit.append(session, actor, "retention-purge" + ("-dry-run" if dry_run else ""), time=now,
                         resource={"segments": [s["id"] for s in plan.segments], "plate_reads": plan.plate_reads,
                                   "sightings": plan.sightings},
                         result_count=len(plan.segments) + plan.plate_reads + plan.sightings)
            faults.point("purge.before-commit")
    except BaseException:
        for relative in moved:   # the rows stay: so do their files
            os.replace(trash / relative, settings.footage_dir / relative)
        raise
    faults.point("purge.after-commit")
    if not dry_run:
        shutil.rmtree(trash, ignore_errors=True)
        finish_index_drops(store, settings)
    return plan


def _trash(settings: Settings) -> Path:
    return Path(settings.footage_dir) / ".purging"


def _purge_rows(session: Session, plan: PurgePlan, *, now: datetime, dry_run: bool, settings: Settings,
                moved: list[str]) -> None:
    """Delete (or count) the expired rows; the segments' files go to the trash first (listed in ``moved``)."""
    days = retention_days(session)
    for (partner_id, kind), n_days in sorted(days.items()):
        horizon = now - timedelta(days=n_days)
        cameras = select(Camera.id).where(Camera.partner_id == partner_id)
        if kind == "footage":
            rows = session.execute(
                select(FootageSegment).where(FootageSegment.camera_id.in_(cameras), FootageSegment.end < horizon,
                                             ~_held(FootageSegment.camera_id, FootageSegment.start,
                                                    FootageSegment.end))).scalars().all()
            plan.segments += [{"id": r.id, "camera_id": r.camera_id, "path": r.path, "start": r.start,
                               "end": r.end, "size_bytes": r.size_bytes} for r in rows]
            if not dry_run and rows:
                moved += [r.path for r in rows if _to_trash(settings, r.path)]
                session.execute(delete(FootageSegment).where(FootageSegment.id.in_([r.id for r in rows])))
        else:
            reads = (PlateRead.camera_id.in_(cameras), PlateRead.time < horizon,
                     ~_held(PlateRead.camera_id, PlateRead.time, PlateRead.time))
            sightings = (Sighting.camera_id.in_(cameras), Sighting.last_time < horizon,
                         ~_held(Sighting.camera_id, Sighting.first_time, Sighting.last_time))
            if dry_run:
                plan.plate_reads += len(session.execute(select(PlateRead.id).where(*reads)).all())
                plan.sightings += len(session.execute(select(Sighting.id).where(*sightings)).all())
            else:
                plan.plate_reads += cast("CursorResult[Any]", session.execute(delete(PlateRead).where(*reads))).rowcount
                orphan = ~exists().where(PlateRead.sighting_id == Sighting.id)
                plan.sightings += cast("CursorResult[Any]",
                                       session.execute(delete(Sighting).where(*sightings, orphan))).rowcount


def _to_trash(settings: Settings, relative: str) -> bool:
    """Move a segment's file into the trash; False when it was already missing."""
    source, target = Path(settings.footage_dir) / relative, _trash(settings) / relative
    if not source.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    return True


def finish_index_drops(store: Store, settings: Settings) -> None:
    """Drop the frame index rows of the segments a purge noted and that are gone from the catalogue."""
    with store.snapshot() as session:
        alive = set(session.execute(select(FootageSegment.id)).scalars())
    index_files.settle_pending_drops(settings.index_dir, alive)


def finish_earlier_purges(store: Store, settings: Settings) -> None:
    """Complete a purge that died: files whose row still exists go back, the rest and stale index rows go."""
    trash = _trash(settings)
    with store.snapshot() as session:
        paths = set(session.execute(select(FootageSegment.path)).scalars())
    if trash.is_dir():
        for file in sorted(p for p in trash.rglob("*") if p.is_file()):
            relative = file.relative_to(trash).as_posix()
            if relative in paths:
                os.replace(file, Path(settings.footage_dir) / relative)
        shutil.rmtree(trash, ignore_errors=True)
    finish_index_drops(store, settings)
