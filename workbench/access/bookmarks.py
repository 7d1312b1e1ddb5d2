"""Bookmarks and saved searches of a case, kept in the catalogue and shared with its members by link.

A bookmark points at a frame (camera and time), a sighting (camera, time and plate) or holds a note; a
saved search holds an app's search parameters. Each has a random id that goes into a link
(``Bookmark.link``); :meth:`UserSession.open_bookmark` opens it again for a colleague on the same case and
refuses everyone else (``policy.may_open_bookmark``, audited). Writing and reading go through the open
case (``CaseScope.bookmark``, ``save_search``, ``bookmarks``), each audited.

    >>> mark = case.bookmark("frame", camera="CCTV-PZ5344-102", at="2026-11-20T08:29:26Z", note="red car")
    >>> mark.link()                                                                 # doctest: +SKIP
    '/voila/render/frame_search.ipynb?bookmark=...'
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from sqlalchemy import select

from workbench.errors import InvalidInput, NotFound
from workbench.plates.plate_format import normalise
from workbench.store import Store
from workbench.store.models import BOOKMARK_KINDS, Case, CaseBookmark, User
from workbench.timeutil import as_utc

APPS = ("frame_search", "sightings_map", "hit_triage")   # the apps that reopen a bookmark
_DEFAULT_APP = {"frame": "frame_search", "sighting": "sightings_map", "note": "sightings_map"}
_MAX_NOTE = 4000
_MAX_QUERY = 4000   # characters of a saved search's parameters as JSON


@dataclass(frozen=True)
class Bookmark:
    """A bookmark or saved search of a case, as plain data (``kind``: frame, sighting, note or search)."""

    id: str
    case_reference: str
    purpose: str
    kind: str
    title: str
    created_by: str
    created_at: datetime
    app: str | None = None
    camera_id: str | None = None
    at: datetime | None = None
    plate: str | None = None
    note: str | None = None
    query: dict[str, Any] = field(default_factory=dict)

    def link(self, prefix: str = "/", lang: str | None = None) -> str:
        """The address of the app that reopens it (``prefix``: where the apps are served, e.g. a hub's
        ``/hub/user-redirect/``, which sends each colleague to their own server)."""
        return link(self.app, self.id, prefix, lang)


def link(app: str | None, bookmark_id: str, prefix: str = "/", lang: str | None = None) -> str:
    """The address of ``app`` reopening the bookmark ``bookmark_id``."""
    params = {"bookmark": bookmark_id} | ({"lang": lang} if lang else {})
    return f"{prefix}voila/render/{app or 'sightings_map'}.ipynb?{urlencode(params)}"


def new_bookmark(kind: str, *, title: str | None, app: str | None, camera: str | None, at: datetime | str | None,
                 plate: str | None, note: str | None, query: dict[str, Any] | None) -> dict[str, Any]:
    """The validated fields of a new bookmark (InvalidInput in words for anything missing or malformed)."""
    if kind not in BOOKMARK_KINDS:
        raise InvalidInput(f"a bookmark is one of: {', '.join(BOOKMARK_KINDS)} (not {kind!r})")
    if kind in ("frame", "sighting") and (camera is None or at is None):
        raise InvalidInput(f"a {kind} bookmark needs camera= and at=")
    if kind == "sighting" and not plate:
        raise InvalidInput("a sighting bookmark needs plate=")
    if kind == "note" and not (note or "").strip():
        raise InvalidInput("a note bookmark needs the note's text")
    if kind == "search" and not query:
        raise InvalidInput("a saved search needs its parameters")
    app = app or _DEFAULT_APP.get(kind)
    if app not in APPS:
        raise InvalidInput(f"app {app!r}: one of {', '.join(APPS)}")
    if note is not None and len(note) > _MAX_NOTE:
        raise InvalidInput(f"a note is at most {_MAX_NOTE} characters")
    plain = json.loads(json.dumps(query or {}, default=str))   # plain JSON values only
    if len(json.dumps(plain)) > _MAX_QUERY:
        raise InvalidInput(f"a saved search's parameters are at most {_MAX_QUERY} characters")
    when = None if at is None else as_utc(at)
    plate_norm = normalise(plate) if plate else None
    default_title = {"frame": f"{camera} {when:%Y-%m-%d %H:%M:%S} UTC" if when else "",
                     "sighting": f"{plate_norm} {camera} {when:%H:%M:%S} UTC" if when else "",
                     "note": (note or "").strip()[:60], "search": ", ".join(f"{k}={v}" for k, v in plain.items())}
    return {"kind": kind, "title": (title or default_title[kind]).strip()[:200] or kind, "app": app,
            "camera_id": camera, "at": when, "plate": plate_norm, "note": note, "query": plain}


def add(store: Store, reference: str, user_name: str, fields: dict[str, Any], now: datetime,
        writer: Any) -> str:
    """Store a bookmark of case ``reference`` by ``user_name`` and call ``writer(session)`` (its audit event)
    in the same transaction; returns its id."""
    with store.session() as session:
        case_id = session.execute(select(Case.id).where(Case.reference == reference)).scalar_one()
        user_id = session.execute(select(User.id).where(User.name == user_name)).scalar_one()
        mark_id = secrets.token_urlsafe(12)
        session.add(CaseBookmark(id=mark_id, case_id=case_id, created_by=user_id, created_at=now, **fields))
        writer(session, mark_id)
    return mark_id


def _as_bookmark(row: CaseBookmark, reference: str, purpose: str, author: str) -> Bookmark:
    return Bookmark(row.id, reference, purpose, row.kind, row.title, author, row.created_at, row.app, row.camera_id,
                    row.at, row.plate, row.note, dict(row.query or {}))


def of_case(store: Store, reference: str) -> list[Bookmark]:
    """The bookmarks and saved searches of a case, oldest first."""
    with store.snapshot() as session:
        rows = session.execute(
            select(CaseBookmark, Case.reference, Case.purpose, User.name)
            .join(Case, Case.id == CaseBookmark.case_id).join(User, User.id == CaseBookmark.created_by)
            .where(Case.reference == reference).order_by(CaseBookmark.created_at, CaseBookmark.id)).all()
        return [_as_bookmark(*row) for row in rows]


def find(store: Store, mark_id: str) -> tuple[Bookmark, int] | None:
    """A bookmark by id and the id of its case, or None."""
    if not isinstance(mark_id, str) or not 0 < len(mark_id) <= 32:
        raise NotFound("no such bookmark")
    with store.snapshot() as session:
        row = session.execute(
            select(CaseBookmark, Case.reference, Case.purpose, User.name)
            .join(Case, Case.id == CaseBookmark.case_id).join(User, User.id == CaseBookmark.created_by)
            .where(CaseBookmark.id == mark_id)).first()
        return None if row is None else (_as_bookmark(*row), row[0].case_id)


def frame(marks: list[Bookmark]) -> pd.DataFrame:
    """Bookmarks as a table (one row each)."""
    columns = ["id", "kind", "title", "created_by", "created_at", "app", "camera_id", "at", "plate", "note", "query"]
    return pd.DataFrame([{c: getattr(m, c) for c in columns} for m in marks], columns=columns)
