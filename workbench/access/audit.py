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
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeGuard, TypeVar

import pandas as pd
from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from workbench.access import audit_actions
from workbench.access.audit_actions import CELL_ACTION, CUSTODY_ACTION
from workbench.errors import AccessDenied, InvalidInput, WorkbenchError
from workbench.store import AuditWriter, Store
from workbench.store.models import AuditEvent, AuditHead

GENESIS = "0" * 64
_HASHED_FIELDS = ("seq", "time", "user_name", "partner_code", "case_reference", "purpose", "action",
                  "outcome", "reason", "resource", "result_count", "prev_hash")

Raised = TypeVar("Raised", bound=BaseException)


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
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)[:200]   # anything else (bad input included) as its short text


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps({k: _jsonable(fields[k]) for k in _HASHED_FIELDS}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an event's hashed fields (prev_hash included)."""
    return hashlib.sha256(_canonical(fields).encode("utf-8")).hexdigest()


def row_hash(row: AuditEvent) -> str:
    """The hash a stored event row must carry, recomputed from its fields."""
    return event_hash({k: getattr(row, k) for k in _HASHED_FIELDS})


@dataclass(frozen=True)
class Actor:
    """Who acts, for which case and purpose (None outside a case)."""

    user_name: str | None
    partner_code: str | None = None
    case_reference: str | None = None
    purpose: str | None = None


_RESERVED = frozenset({CUSTODY_ACTION, CELL_ACTION})   # written only by their dedicated functions below
_SHA256 = frozenset("0123456789abcdef")


def _append(session: Session | Connection, actor: Actor, action: str, *, time: datetime, outcome: str = "ok",
            reason: str | None = None, resource: dict[str, Any] | None = None,
            result_count: int | None = None) -> int:
    audit_actions.check(action, outcome)
    if isinstance(session, Session):
        session.flush()   # the caller's pending rows go first: the event is the transaction's last statement
    connection = session.connection() if isinstance(session, Session) else session
    fields: dict[str, Any] = {
        "time": time.astimezone(timezone.utc), "user_name": actor.user_name, "partner_code": actor.partner_code,
        "case_reference": actor.case_reference, "purpose": actor.purpose, "action": action,
        "outcome": outcome, "reason": reason, "resource": _jsonable(resource or {}),
        "result_count": result_count,
    }
    if connection.dialect.name == "postgresql":
        seq = _append_in_one_statement(connection, fields)
        if seq is not None:
            return seq
    # plain statements on the tables, not the ORM's unit of work: the head stays locked from the SELECT to the commit
    head = connection.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()).first()
    fields["seq"], fields["prev_hash"] = (head.seq + 1, head.hash) if head is not None else (1, GENESIS)
    fields["hash"] = event_hash(fields)
    connection.execute(_INSERT_EVENT, fields)
    connection.execute(_INSERT_HEAD if head is None else _UPDATE_HEAD, {"seq": fields["seq"], "hash": fields["hash"]})
    return int(fields["seq"])


_EVENTS, _HEAD = Table("audit_event", AuditEvent.metadata), Table("audit_head", AuditHead.metadata)   # the tables
_INSERT_EVENT = insert(_EVENTS)
_INSERT_HEAD = insert(_HEAD).values(id=1)
_UPDATE_HEAD = update(_HEAD).where(_HEAD.c.id == 1)
_MARK = {"prev_hash": "\x00prev_hash\x00", "seq": "\x00seq\x00"}   # where the head's values go in the canonical text
_EVENT_COLUMNS = ("time", "user_name", "partner_code", "case_reference", "purpose", "action", "outcome", "reason",
                  "resource", "result_count")
_APPEND_IN_POSTGRES = text(f"""
WITH head AS (
    SELECT seq + 1 AS seq, hash AS prev_hash,
           encode(sha256(convert_to(:text_before_prev || hash || :text_before_seq || (seq + 1)::text
                                    || :text_after_seq, 'UTF8')), 'hex') AS hash
    FROM audit_head WHERE id = 1 FOR UPDATE),
event AS (
    INSERT INTO audit_event (seq, {", ".join(_EVENT_COLUMNS)}, prev_hash, hash)
    SELECT seq, {", ".join(f":{c}" for c in _EVENT_COLUMNS)}, prev_hash, hash FROM head
    RETURNING seq, hash)
UPDATE audit_head SET seq = event.seq, hash = event.hash FROM event WHERE audit_head.id = 1
RETURNING audit_head.seq""").bindparams(*(bindparam(c, type_=AuditEvent.__table__.c[c].type) for c in _EVENT_COLUMNS))


def _append_in_one_statement(connection: Connection, fields: dict[str, Any]) -> int | None:
    """PostgreSQL: lock the head, chain the event and move the head in one statement (None: no head yet).

    The canonical text of the event is written here with marks where the
    head's hash and the next sequence number go; the database puts them in
    and hashes it (``sha256``), so the head is locked for the statement only,
    not for round trips between it and this process. The hash is the one
    :func:`event_hash` computes, which :func:`verify` checks.
    """
    canonical = _canonical({**fields, **_MARK})
    marks = [json.dumps(_MARK[k], ensure_ascii=False) for k in ("prev_hash", "seq")]
    before_prev, rest = canonical.split(marks[0]) if canonical.count(marks[0]) == 1 else (None, "")
    if before_prev is None or rest.count(marks[1]) != 1:
        return None   # a value of the event that reads like a mark: the head is read first instead
    before_seq, after_seq = rest.split(marks[1])
    seq = connection.execute(_APPEND_IN_POSTGRES, {
        **{c: fields[c] for c in _EVENT_COLUMNS}, "text_before_prev": before_prev + '"',
        "text_before_seq": '"' + before_seq, "text_after_seq": after_seq}).scalar()
    return None if seq is None else int(seq)


def append(session: Session | Connection, actor: Actor, action: str, *, time: datetime, outcome: str = "ok",
           reason: str | None = None, resource: dict[str, Any] | None = None,
           result_count: int | None = None) -> int:
    """Append one event in ``session``'s transaction and return its sequence number.

    ``action`` must belong to :data:`workbench.access.audit_actions.ACTIONS`;
    custody records and notebook cells have their own narrow functions
    (:func:`append_custody`, :func:`append_cell`) and are refused here.
    """
    if action in _RESERVED:
        raise InvalidInput(f"{action!r} events are written only by the evidence export and the audited kernel")
    return _append(session, actor, action, time=time, outcome=outcome, reason=reason, resource=resource,
                   result_count=result_count)


def record(store: Store, actor: Actor, action: str, *, time: datetime, **details: Any) -> int:
    """Append one event in a transaction of its own (reads, refusals, errors).

    On PostgreSQL the event is one statement committed by itself, so the
    chain's head is locked only while that statement runs.
    """
    if store.dialect == "postgresql":
        with store.statements() as connection:
            return append(connection, actor, action, time=time, **details)
    with store.session() as session:
        return append(session, actor, action, time=time, **details)


def writer(actor: Actor, *, time: datetime) -> AuditWriter:
    """An :data:`~workbench.store.AuditWriter` for ``actor``: data and its event in one transaction.

    The ingest, purge and export functions call it inside the transaction that
    writes their rows, as its last statement, so that the chain's head stays
    locked for a moment only and a crash leaves both the rows and the event, or
    neither.

        >>> ingest_files(store, paths, now=now, audit=writer(Actor("system:ops"), time=now))  # doctest: +SKIP
    """

    def write(session: Session, action: str, **details: Any) -> int:
        return append(session, actor, action, time=time, **details)

    return write


def is_sha256(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a lower-case hexadecimal SHA-256 digest."""
    return isinstance(value, str) and len(value) == 64 and set(value) <= _SHA256


def append_custody(session: Session, actor: Actor, *, time: datetime, manifest_sha256: str,
                   clips: list[str], details: dict[str, Any]) -> int:
    """The chain-of-custody record of an evidence package, in the export's own transaction.

    Called by :meth:`CaseScope.access` right after the export's access event,
    so the record follows it in the chain; ``clips`` are the SHA-256 of the
    package's clips, bound to the manifest's hash.
    """
    if not actor.case_reference or not is_sha256(manifest_sha256) or not all(map(is_sha256, clips)):
        raise InvalidInput("a custody record needs a case and SHA-256 digests of the manifest and clips")
    return _append(session, actor, CUSTODY_ACTION, time=time,
                   resource={**details, "manifest_sha256": manifest_sha256, "clips": list(clips)})


CELL_STATUSES = frozenset({"ok", "error", "aborted"})


def append_cell(store: Store, actor: Actor, *, time: datetime, sha256: str, length: int,
                count: int | None, status: str) -> int:
    """A notebook cell run in the audited kernel: its hash, length, execution count and status only."""
    if not is_sha256(sha256):
        raise InvalidInput("a notebook cell is recorded by its SHA-256 (64 hexadecimal digits)")
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise InvalidInput("a notebook cell's length is a count of characters")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise InvalidInput("a notebook cell's execution count is a whole number")
    if status not in CELL_STATUSES:
        raise InvalidInput(f"a notebook cell's status is one of {', '.join(sorted(CELL_STATUSES))}")
    with store.session() as session:
        return _append(session, actor, CELL_ACTION, time=time,
                       resource={"sha256": sha256, "chars": length, "execution_count": count, "status": status})


_AUDITED = "_workbench_audited"
_TICKS = itertools.count(1)   # orders block entries and audit marks (next() is atomic under the GIL)


def mark_audited(exc: Raised) -> Raised:
    """Mark ``exc`` as written to the audit trail now, so the blocks around it do not write it twice.

    The mark is a tick, not a flag: a block audits every exception not marked
    since the block began, so an old, already audited exception raised again
    inside a new access is audited again.
    """
    try:
        setattr(exc, _AUDITED, next(_TICKS))
    except AttributeError:   # an exception type without a __dict__: audited again at worst
        pass
    return exc


@contextmanager
def refusals_audited(store: Store, actor: Actor, action: str, resource: dict[str, Any],
                     now: Callable[[], datetime]) -> Iterator[None]:
    """Audit any exception leaving the block that is not audited yet (denied or error), then re-raise it.

    Bad input, unknown cameras, a failing reader or an interrupt inside an
    access all leave an event with the reason; nothing fails untraced.
    """
    began = next(_TICKS)
    try:
        yield
    except BaseException as exc:
        if getattr(exc, _AUDITED, 0) < began:
            record(store, actor, action, time=now(), resource=resource, reason=_reason(exc),
                   outcome="denied" if isinstance(exc, AccessDenied) else "error")
            mark_audited(exc)
        raise


def _reason(exc: BaseException) -> str:
    """The audited reason of an exception: its message, with its type when it is not a workbench error."""
    text = str(exc) if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"
    return text[:1000]


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
    with store.snapshot() as session:
        last_seq = 0
        while True:
            rows = session.execute(select(AuditEvent).where(AuditEvent.seq > last_seq)
                                   .order_by(AuditEvent.seq).limit(batch)).scalars().all()
            if not rows:
                break
            for row in rows:
                if row.seq != expected_seq:
                    return ChainCheck(False, count, expected_seq,
                                      f"event {expected_seq} is missing (next event found is {row.seq})")
                if row.prev_hash != prev_hash:
                    return ChainCheck(False, count, row.seq,
                                      "its link to the previous event does not match: an event was "
                                      "removed, inserted or moved before it")
                if row_hash(row) != row.hash:
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
                 limit: int | None = None, actions: Iterable[str] | None = None) -> pd.DataFrame:
    """Audit events as a DataFrame, newest last (filters are optional)."""
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if actions is not None:
        query = query.where(AuditEvent.action.in_(list(actions)))
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
    with store.snapshot() as session:
        rows = session.execute(query).scalars().all()
        data = [{c: getattr(r, c) for c in columns} for r in rows]
    frame = pd.DataFrame(data, columns=columns).sort_values("seq", ignore_index=True)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def case_counts(store: Store, case_reference: str) -> pd.DataFrame:
    """How many events a case's trail holds per action and outcome (counts only), with the first and last time."""
    query = (select(AuditEvent.action, AuditEvent.outcome, func.count(), func.min(AuditEvent.time),
                    func.max(AuditEvent.time))
             .where(AuditEvent.case_reference == case_reference)
             .group_by(AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.action, AuditEvent.outcome))
    with store.snapshot() as session:
        rows = session.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["action", "outcome", "events", "first", "last"])
    for column in ("first", "last"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
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
