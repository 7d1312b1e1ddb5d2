"""Hotlists, hits and each zone's policy for acting on them.

A hotlist belongs to a partner (the national list of the federal police, or a
zone's own list) and holds wanted plates with a priority from 0 (act at once)
to 4. A sighting whose plate is on an active entry is a *hit*. Zones act on
priorities 0 and 1, ignore 3 and 4, and keep 2 only when the plate is also on
their own list; each zone can change that (:class:`HitPolicy`). A priority a
zone left out of its policy is acted on: a hit is shown rather than missed.

    >>> policy = HitPolicy()
    >>> policy.decide(priority=2, on_own_list=False), policy.decide(priority=1, on_own_list=False)
    ('ignore', 'act')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, exists, insert, literal, or_, select
from sqlalchemy.orm import Session

from workbench.errors import IngestError, InvalidInput, NotFound
from workbench.plates.csv_lines import csv_rows, text_lines
from workbench.plates.plate_format import normalise
from workbench.store import AuditWriter, Store
from workbench.store.models import Hit, Hotlist, HotlistEntry, Partner, Sighting, UTCDateTime
from workbench.timeutil import as_utc


@dataclass(frozen=True)
class HitPolicy:
    """Which priorities a zone acts on, ignores, or keeps only when also on its own list."""

    act_on: frozenset[int] = frozenset({0, 1})
    ignore: frozenset[int] = frozenset({3, 4})
    own_list_only: frozenset[int] = frozenset({2})

    def decide(self, *, priority: int, on_own_list: bool) -> str:
        """``act`` or ``ignore`` for one hit."""
        if priority in self.act_on:
            return "act"
        if priority in self.own_list_only:
            return "act" if on_own_list else "ignore"
        return "ignore" if priority in self.ignore else "act"


def match_hits(session: Session, sighting_ids: list[int], *, now: datetime,
               within: tuple[datetime, datetime] | None = None) -> int:
    """Record the new hits of the given sightings against the entries active at their time; returns how many.

    ``within`` (first and last ``first_time`` of those sightings, when the caller knows them) lets PostgreSQL
    look only in their days' partitions, not in every day's index.
    """
    count = 0
    days = () if within is None else (Sighting.first_time.between(*within),)
    for i in range(0, len(sighting_ids), 900):
        chunk = sighting_ids[i:i + 900]
        count += _record_hits(session, now, _HIT_COLUMNS
            .join(HotlistEntry, HotlistEntry.plate == Sighting.plate)
            .join(Hotlist, Hotlist.id == HotlistEntry.hotlist_id)
            .where(Sighting.id.in_(chunk), *days, HotlistEntry.valid_from <= Sighting.first_time,
                   or_(HotlistEntry.valid_until.is_(None), HotlistEntry.valid_until > Sighting.first_time),
                   Hotlist.valid_from <= Sighting.first_time,
                   ~exists().where(Hit.sighting_id == Sighting.id, Hit.entry_id == HotlistEntry.id),
                   or_(Hotlist.valid_until.is_(None), Hotlist.valid_until > Sighting.first_time)))
    return count


def _match_new_list(session: Session, hotlist: Hotlist, plates: list[str], *, now: datetime) -> int:
    """Record the hits of a new list's entries among the stored sightings; returns how many.

    Only its entries can make new hits (the sightings already stored met the
    older lists as they were loaded), so the sightings are looked up by the
    list's plates from its start, joined with its entries in the same
    statement: each day's plate index is probed once per plate, instead of
    each day's primary key once per sighting id found (at a year of days,
    hundreds of probes per sighting).
    """
    count = 0
    for i in range(0, len(plates), 900):
        chunk = plates[i:i + 900]
        count += _record_hits(session, now, _HIT_COLUMNS
            .join(HotlistEntry, HotlistEntry.plate == Sighting.plate)
            .where(HotlistEntry.hotlist_id == hotlist.id, Sighting.plate.in_(chunk),
                   Sighting.first_time >= hotlist.valid_from, HotlistEntry.valid_from <= Sighting.first_time,
                   or_(HotlistEntry.valid_until.is_(None), HotlistEntry.valid_until > Sighting.first_time)))
    return count


_HIT_COLUMNS = select(Sighting.id, HotlistEntry.id, HotlistEntry.priority)
"""What a hit is made of: the sighting, the entry and its priority (the matching queries start from it)."""


def _record_hits(session: Session, now: datetime, matches: Select[int, int, int]) -> int:
    """Insert as hits, stamped ``now``, the (sighting id, entry id, priority) rows ``matches`` selects, in one
    statement on the server (no row goes through the client); returns how many."""
    stamped = matches.add_columns(literal(now, UTCDateTime()))
    return session.connection().execute(
        insert(Hit).from_select(["sighting_id", "entry_id", "priority", "created_at"], stamped),
        execution_options={"preserve_rowcount": True}).rowcount


MAX_REASON = 500
MAX_LINE = 4096


def _read_hotlist(path: Path) -> pd.DataFrame:
    """A hotlist CSV as a table of strings; IngestError naming the first bad line (the list loads whole or not)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path.name}: not UTF-8 text (byte {exc.start})") from None
    try:
        rows, refused, columns = csv_rows(text_lines(text), max_line=MAX_LINE, max_fields=16)
    except InvalidInput as exc:
        raise IngestError(f"{path.name}: not a CSV hotlist: {exc}") from None
    if refused:
        raise IngestError(f"{path.name} line {refused[0][0]}: {refused[0][1]}")
    return pd.DataFrame(rows, columns=columns + ["line"]).drop(columns="line").fillna("")


def load_hotlist(store: Store, entries: pd.DataFrame | Path, *, name: str, owner: str, scope: str,
                 now: datetime, audit: AuditWriter, valid_from: datetime | None = None) -> tuple[int, int]:
    """Create a hotlist from a table (plate, priority, reason[, valid_from, valid_until]).

    Existing sightings since each entry's start become hits too: an entry
    starts at its own ``valid_from`` (a column of the table), else at the
    ``valid_from`` argument, else ``now``; the list starts at the argument or,
    without it, at its earliest entry. Returns (entries, hits). The whole list
    loads with its audit event in one transaction, or not at all.
    """
    if scope not in {"national", "zone"}:
        raise InvalidInput("a hotlist's scope is 'national' or 'zone'")
    source = str(entries) if isinstance(entries, Path) else None
    if isinstance(entries, Path):
        entries = _read_hotlist(entries)
    missing = {"plate", "priority", "reason"} - set(entries.columns)
    if missing:
        raise IngestError(f"hotlist {name!r}: missing column(s) {', '.join(sorted(missing))}")
    entry_start = valid_from or now
    rows: list[dict[str, Any]] = []
    for n, r in enumerate(entries.to_dict("records"), 2):
        try:
            priority = int(r["priority"])
        except (TypeError, ValueError):
            raise IngestError(f"hotlist {name!r} line {n}: priority {r['priority']!r} is not 0-4") from None
        if not 0 <= priority <= 4:
            raise IngestError(f"hotlist {name!r} line {n}: priority {priority} is not 0-4")
        try:
            plate = normalise(r["plate"])
            entry_from = as_utc(r["valid_from"]) if r.get("valid_from") else entry_start
            entry_until = as_utc(r["valid_until"]) if r.get("valid_until") else None
        except InvalidInput as exc:
            raise IngestError(f"hotlist {name!r} line {n}: {exc}") from None
        if len(str(r["reason"])) > MAX_REASON:
            raise IngestError(f"hotlist {name!r} line {n}: the reason is longer than {MAX_REASON} characters")
        rows.append({"plate": plate, "priority": priority, "reason": str(r["reason"]),
                     "valid_from": entry_from, "valid_until": entry_until})
    start = valid_from or min((r["valid_from"] for r in rows), default=now)
    with store.session() as session:
        partner = session.execute(select(Partner).where(Partner.code == owner)).scalar_one_or_none()
        if partner is None:
            raise NotFound(f"no partner with code {owner!r}")
        hotlist = Hotlist(name=name, owner_id=partner.id, scope=scope, valid_from=start, valid_until=None)
        session.add(hotlist)
        session.flush()
        session.execute(insert(HotlistEntry), [{**r, "hotlist_id": hotlist.id} for r in rows])
        hits = _match_new_list(session, hotlist, sorted({r["plate"] for r in rows}), now=now)
        audit(session, "hotlist-load", resource={"hotlist": name, "file": source, "owner": owner,
                                                 "scope": scope, "hits": hits}, result_count=len(rows))
    return len(rows), hits


def own_list_plates(session: Session, partner_code: str) -> set[str]:
    """Plates on the active zone lists owned by ``partner_code``."""
    return set(session.execute(
        select(HotlistEntry.plate).join(Hotlist, Hotlist.id == HotlistEntry.hotlist_id)
        .join(Partner, Partner.id == Hotlist.owner_id)
        .where(and_(Partner.code == partner_code, Hotlist.scope == "zone"))).scalars())
