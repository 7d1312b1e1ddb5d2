"""Retention: each partner keeps each kind of data a limited time, unless a hold keeps it.

Expired data is invisible at once (the access rule checks retention on every
read); :func:`purge` then deletes it for good, files and rows, and audits it.

On PostgreSQL the plate reads and sightings of a day past every partner's
retention go as whole day partitions (``DROP TABLE``: no row by row delete of
a day's million reads); a day a hold touches is kept whole and its expired,
unheld rows are deleted one by one, like the rows of partners with shorter
retention. Partitions found detached are named in the plan and left alone.

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

from sqlalchemy import ColumnElement, CursorResult, and_, delete, exists, select, text
from sqlalchemy.orm import Session

from workbench import faults
from workbench.access import audit, policy
from workbench.config import Settings
from workbench.footage import index_files
from workbench.store import Store, partitions
from workbench.store.models import Camera, FootageSegment, Hit, Hold, Partner, PlateRead, Retention, Sighting

_NEIGHBOUR = timedelta(days=1)


@dataclass
class PurgePlan:
    """What a purge removes (or, with ``dry_run``, would remove)."""

    dry_run: bool
    segments: list[dict[str, Any]] = field(default_factory=list)
    plate_reads: int = 0
    sightings: int = 0
    partitions: list[str] = field(default_factory=list)
    detached: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        size = sum(s["size_bytes"] for s in self.segments) / 1e9
        days = f" ({len(self.partitions)} whole day partitions dropped)" if self.partitions else ""
        loose = (f"; detached partitions left alone (reattach or drop them): {', '.join(self.detached)}"
                 if self.detached else "")
        return (f"{verb} {len(self.segments)} footage segments ({size:.1f} GB), "
                f"{self.plate_reads:,} plate reads, {self.sightings:,} sightings{days}{loose}")


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
                                   "sightings": plan.sightings, "partitions": plan.partitions},
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
    longest = max((d for (_, k), d in days.items() if k == "plates"), default=None)
    if longest is not None:
        _drop_expired_days(session, plan, now=now, dry_run=dry_run, horizon=now - timedelta(days=longest))
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
            reads: tuple[ColumnElement[bool], ...] = (PlateRead.camera_id.in_(cameras), PlateRead.time < horizon,
                     ~_held(PlateRead.camera_id, PlateRead.time, PlateRead.time))
            sightings: tuple[ColumnElement[bool], ...] = (Sighting.camera_id.in_(cameras), Sighting.last_time < horizon,
                         ~_held(Sighting.camera_id, Sighting.first_time, Sighting.last_time))
            if dry_run:   # the days planned to go whole are counted already
                planned = [partitions.partition_of(name) for name in plan.partitions]
                reads += tuple(~and_(PlateRead.time >= p.start, PlateRead.time < p.end)
                               for p in planned if p.table == "plate_read")
                sightings += tuple(~and_(Sighting.first_time >= p.start, Sighting.first_time < p.end)
                                   for p in planned if p.table == "sighting")
                plan.plate_reads += len(session.execute(select(PlateRead.id).where(*reads)).all())
                plan.sightings += len(session.execute(select(Sighting.id).where(*sightings)).all())
            else:
                plan.plate_reads += cast("CursorResult[Any]", session.execute(delete(PlateRead).where(*reads))).rowcount
                orphan = ~exists().where(PlateRead.sighting_id == Sighting.id)
                session.execute(delete(Hit).where(Hit.sighting_id.in_(select(Sighting.id).where(*sightings, orphan))))
                plan.sightings += cast("CursorResult[Any]",
                                       session.execute(delete(Sighting).where(*sightings, orphan))).rowcount


def _drop_expired_days(session: Session, plan: PurgePlan, *, now: datetime, dry_run: bool,
                       horizon: datetime) -> None:
    """PostgreSQL: drop the day partitions past every partner's plate retention, unless a hold keeps them.

    A day a hold touches (any camera, the day and its neighbours: a passage
    may cross midnight) is kept whole; its expired rows that no hold keeps go
    row by row like on SQLite. The hits of a dropped day's sightings go with it.
    """
    connection = session.connection()
    if not partitions.is_partitioned(connection, "plate_read"):
        return
    holds = session.execute(select(Hold.start, Hold.end)).all()
    for table in partitions.PARTITIONED:
        plan.detached += [f"{p.name} ({p.span})" for p in partitions.detached(connection, table)]
        for day in partitions.attached(connection, table):
            if day.end > horizon or any(s < day.end + _NEIGHBOUR and e > day.start - _NEIGHBOUR for s, e in holds):
                continue
            rows = int(connection.execute(text(f'SELECT count(*) FROM "{day.name}"')).scalar_one())
            if table == "plate_read":
                plan.plate_reads += rows
            else:
                plan.sightings += rows
            plan.partitions.append(day.name)
            if not dry_run:
                if table == "sighting":
                    connection.execute(text(f'DELETE FROM hit WHERE sighting_id IN (SELECT id FROM "{day.name}")'))
                partitions.drop(connection, day)


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
