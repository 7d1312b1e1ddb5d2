"""The audit trail: an append-only, SHA-256 hash-chained log of every access.

Each event's hash covers its own fields and the hash of the event before, so
editing, deleting, inserting or reordering a row breaks the chain at that row.
The last event is also kept in a one-row head table, so that cutting events
off the end of the trail is detected too.

    >>> from workbench.access.audit import verify            # doctest: +SKIP
    >>> verify(store)                                        # doctest: +SKIP
    ChainCheck(ok=True, events=1234, first_bad_seq=None, reason='')

Appending locks the head row (``SELECT ... FOR UPDATE`` on PostgreSQL, the
``BEGIN IMMEDIATE`` write lock on SQLite), so concurrent users extend one chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.store import Store
from workbench.store.models import AuditEvent, AuditHead

GENESIS = "0" * 64
_HASHED_FIELDS = ("seq", "time", "user_name", "partner_code", "case_reference", "purpose", "action",
                  "outcome", "reason", "resource", "result_count", "prev_hash")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an event's hashed fields (prev_hash included)."""
    canonical = json.dumps({k: _jsonable(fields[k]) for k in _HASHED_FIELDS}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who acts, for which case and purpose (None outside a case)."""

    user_name: str | None
    partner_code: str | None = None
    case_reference: str | None = None
    purpose: str | None = None


def append(session: Session, actor: Actor, action: str, *, time: datetime, outcome: str = "ok",
           reason: str | None = None, resource: dict[str, Any] | None = None,
           result_count: int | None = None) -> int:
    """Append one event in ``session``'s transaction and return its sequence number."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    fields: dict[str, Any] = {
        "seq": head.seq + 1, "time": time.astimezone(timezone.utc), "user_name": actor.user_name,
        "partner_code": actor.partner_code,
        "case_reference": actor.case_reference, "purpose": actor.purpose, "action": action,
        "outcome": outcome, "reason": reason, "resource": _jsonable(resource or {}),
        "result_count": result_count, "prev_hash": head.hash,
    }
    fields["hash"] = event_hash(fields)
    session.add(AuditEvent(**fields))
    head.seq, head.hash = fields["seq"], fields["hash"]
    session.flush()
    return int(fields["seq"])


def record(store: Store, actor: Actor, action: str, *, time: datetime, **details: Any) -> int:
    """Append one event in a transaction of its own (used for refusals and errors)."""
    with store.session() as session:
        return append(session, actor, action, time=time, **details)


@dataclass(frozen=True)
class ChainCheck:
    """Outcome of :func:`verify`: ``first_bad_seq`` names the first event that does not verify."""

    ok: bool
    events: int
    first_bad_seq: int | None
    reason: str

    def __str__(self) -> str:
        if self.ok:
            return f"audit trail intact: {self.events} events verified"
        return f"audit trail BROKEN at event {self.first_bad_seq}: {self.reason}"


def verify(store: Store, batch: int = 5000) -> ChainCheck:
    """Check the whole chain and name the first event that was changed, removed, added or moved."""
    expected_seq, prev_hash, count = 1, GENESIS, 0
    with store.session() as session:
        last_seq = 0
        while True:
            rows = session.execute(select(AuditEvent).where(AuditEvent.seq > last_seq)
                                   .order_by(AuditEvent.seq).limit(batch)).scalars().all()
            if not rows:
                break
            for row in rows:
                fields = {k: getattr(row, k) for k in _HASHED_FIELDS}
                if row.seq != expected_seq:
                    return ChainCheck(False, count, expected_seq,
                                      f"event {expected_seq} is missing (next event found is {row.seq})")
                if row.prev_hash != prev_hash:
                    return ChainCheck(False, count, row.seq,
                                      "its link to the previous event does not match: an event was "
                                      "removed, inserted or moved before it")
                if event_hash(fields) != row.hash:
                    return ChainCheck(False, count, row.seq, "its content was changed after it was written")
                prev_hash, expected_seq, last_seq, count = row.hash, row.seq + 1, row.seq, count + 1
        head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != count or head_hash != prev_hash:
        return ChainCheck(False, count, count + 1,
                          f"the trail ends at event {count} but its head records event {head_seq}: "
                          "events were removed from the end")
    return ChainCheck(True, count, None, "")


def events_frame(store: Store, *, user_name: str | None = None, case_reference: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 limit: int | None = None) -> pd.DataFrame:
    """Audit events as a DataFrame, newest last (filters are optional)."""
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if user_name is not None:
        query = query.where(AuditEvent.user_name == user_name)
    if case_reference is not None:
        query = query.where(AuditEvent.case_reference == case_reference)
    if since is not None:
        query = query.where(AuditEvent.time >= since)
    if until is not None:
        query = query.where(AuditEvent.time < until)
    if limit is not None:
        query = query.order_by(None).order_by(AuditEvent.seq.desc()).limit(limit)
    columns = ["seq", "time", "user_name", "partner_code", "case_reference", "purpose", "action", "outcome",
               "reason", "resource", "result_count", "hash"]
    with store.session() as session:
        rows = session.execute(query).scalars().all()
        data = [{c: getattr(r, c) for c in columns} for r in rows]
    frame = pd.DataFrame(data, columns=columns).sort_values("seq", ignore_index=True)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def report(events: pd.DataFrame) -> pd.DataFrame:
    """Accesses per day, partner, purpose, user and action, with refusals counted apart.

    This is the table internal control and the control commission ask for.
    """
    if events.empty:
        return pd.DataFrame(columns=["day", "partner_code", "purpose", "user_name", "action", "events",
                                     "denied", "results"])
    frame = events.assign(day=events["time"].dt.strftime("%Y-%m-%d"),
                          denied=(events["outcome"] == "denied").astype(int),
                          results=events["result_count"].fillna(0).astype(int))
    keys = ["day", "partner_code", "purpose", "user_name", "action"]
    frame[keys] = frame[keys].fillna("-")
    return (frame.groupby(keys, sort=True)
            .agg(events=("seq", "size"), denied=("denied", "sum"), results=("results", "sum"))
            .reset_index())


def write_report(summary: pd.DataFrame, directory: Path, *, check: ChainCheck) -> tuple[Path, Path]:
    """Write the summary as ``audit-report.csv`` and ``audit-report.html``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = directory / "audit-report.csv", directory / "audit-report.html"
    summary.to_csv(csv_path, index=False)
    body = summary.to_html(index=False, border=0, classes="audit")
    html_path.write_text(
        "<!doctype html><html lang='fr'><meta charset='utf-8'><title>Audit report</title>"
        "<style>body{font-family:sans-serif}table.audit{border-collapse:collapse}"
        "table.audit td,table.audit th{padding:2px 8px;border-bottom:1px solid #ccc}</style>"
        f"<h1>Workbench audit report</h1><p>Chain check: {check}</p>{body}</html>", encoding="utf-8")
    return csv_path, html_path
