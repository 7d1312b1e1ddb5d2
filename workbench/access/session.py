"""Case-scoped, authorised, audited sessions: the only way to the data.

    >>> ws = Workspace(settings)
    >>> me = ws.login("inspector.dupont")
    >>> case = me.open_case("PV-BR-2026-001234", purpose="judicial-investigation")
    >>> access = case.camera_access()   # every camera, granted or not, and why
    >>> with case.access("plates", cameras=["ANPR-PZ5342-006"], action="read-sightings") as grant:
    ...     rows = load_sightings(ws.store, grant, None, False)   # only inside the authorised windows
    ...     grant.count = len(rows)                                # written to the audit trail on exit

Every method that returns data or changes state appends an audit event, and
every refusal raises :class:`~workbench.errors.AccessDenied` after auditing it.
Results leave as plain data (DataFrames, dataclasses), never ORM objects.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import bindparam, exists, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from workbench.access import audit, audit_actions, bookmarks, indicators, policy
from workbench.access.admin import AdminSession
from workbench.access.bookmarks import Bookmark
from workbench.access.policy import AgreementFacts, CameraFacts, CaseFacts, Decision, Verdict, Window, decide
from workbench.access.reads import distinct_plates, load_hits, load_sightings, sightings_version
from workbench.access.rule_facts import FactReader, RuleFacts
from workbench.config import Settings
from workbench.errors import AccessDenied, InvalidInput, NotFound
from workbench.plates.hotlist import HitPolicy, own_list_plates
from workbench.plates.plate_search import PlateIndex
from workbench.store import Store
from workbench.store.models import PURPOSES, Agreement, Camera, Case, CaseMember, Hold, Partner, Retention, User
from workbench.timeutil import as_utc

Clock = Callable[[], datetime]
TRAINING_CHECK_ACTION = audit_actions.TRAINING_CHECK_ACTION   # a training exercise's result, written by its check
TRIAGE_ACTIONS = {"acknowledge": "hit-acknowledge", "dismiss": "hit-dismiss"}   # a hit's triage, audited
_EARLIEST = timedelta(days=3650)
# the facts of the rule, read at every access: statements built once
_CAMERA_FIELDS = ("camera_id", "name", "partner", "kind", "lon", "lat", "heading", "fov_deg", "range_m")
_CAMERAS = select(Camera.id, Camera.name, Partner.code, Camera.kind, Camera.lon, Camera.lat, Camera.heading,
                  Camera.fov_deg, Camera.range_m).join(Partner, Camera.partner_id == Partner.id)
_OWNER, _RECIPIENT = aliased(Partner), aliased(Partner)
_AGREEMENTS_TO = (select(_OWNER.code.label("owner"), _RECIPIENT.code.label("recipient"), Agreement.data_kinds,
                         Agreement.purposes, Agreement.camera_scope, Agreement.valid_from, Agreement.valid_until,
                         Agreement.revoked_at, Agreement.authorisation_ref)
                  .join(_OWNER, _OWNER.id == Agreement.owner_id)
                  .join(_RECIPIENT, _RECIPIENT.id == Agreement.recipient_id)
                  .where(_RECIPIENT.code == bindparam("partner")))
_RETENTIONS = (select(Partner.code, Retention.data_kind, Retention.days)
               .join(Partner, Partner.id == Retention.partner_id))
_CASE_STATUS = select(Case.status).where(Case.reference == bindparam("reference"))
_CASE_AND_MEMBERSHIP = (
    select(Case.reference, Case.title, Case.purpose, Case.legal_basis, Case.status, Case.is_training, Case.opened_at,
           exists().where(CaseMember.case_id == Case.id, CaseMember.user_id == User.id,
                          User.name == bindparam("user")).label("member"))
    .where(Case.reference == bindparam("reference")))
_HOLDS_OF = (select(Hold.camera_id, Hold.start, Hold.end).join(Case, Case.id == Hold.case_id)
             .where(Case.reference == bindparam("reference")))


# loaders of the rule's facts (``RuleFacts`` keeps what they return; ``.all()``: rows fetched at once)
def _all_cameras(conn: Connection) -> dict[str, dict[str, Any]]:
    return {r[0]: dict(zip(_CAMERA_FIELDS, r)) for r in conn.execute(_CAMERAS).all()}


def _agreements_to(partner: str) -> Callable[[Connection], list[AgreementFacts]]:
    def load(conn: Connection) -> list[AgreementFacts]:
        return [AgreementFacts(r.owner, r.recipient, frozenset(r.data_kinds), frozenset(r.purposes),
                               None if r.camera_scope is None else frozenset(r.camera_scope),
                               r.valid_from, r.valid_until, r.revoked_at, r.authorisation_ref)
                for r in conn.execute(_AGREEMENTS_TO, {"partner": partner}).all()]
    return load


def _retention(conn: Connection) -> dict[tuple[str, str], int]:
    return {(code, kind): days for code, kind, days in conn.execute(_RETENTIONS).all()}


def _holds_of(reference: str) -> Callable[[Connection], dict[str, list[Window]]]:
    def load(conn: Connection) -> dict[str, list[Window]]:
        holds: dict[str, list[Window]] = {}
        for camera_id, start, end in conn.execute(_HOLDS_OF, {"reference": reference}).all():
            holds.setdefault(camera_id, []).append((start, end))
        return holds
    return load


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class UserInfo:
    """The logged-in user, as plain data."""

    name: str
    full_name: str
    role: str
    partner: str
    partner_name: str


@dataclass(frozen=True)
class CaseInfo:
    """A case, as plain data."""

    reference: str
    title: str
    purpose: str
    legal_basis: str
    status: str
    is_training: bool
    opened_at: datetime


@dataclass
class Grant:
    """What one audited access may read: per camera, the authorised time windows.

    Set ``count`` to the number of results before the ``with`` block ends; it
    is written into the audit event.
    """

    kind: str
    since: datetime
    until: datetime
    windows: dict[str, tuple[Window, ...]]
    refused: dict[str, str] = field(default_factory=dict)
    count: int | None = None
    custody: dict[str, Any] | None = None   # set by an evidence export: the custody record's fields

    @property
    def cameras(self) -> list[str]:
        """The cameras with at least one authorised window, sorted."""
        return sorted(self.windows)

    def covers(self, camera_id: str, at: datetime) -> bool:
        """Whether the reading of ``camera_id`` at ``at`` is authorised."""
        return any(s <= at < e for s, e in self.windows.get(camera_id, ()))

    def narrowed(self, windows: Iterable[tuple[str, datetime, datetime]]) -> Grant:
        """A view of this grant restricted to (camera, start, end) windows (never wider)."""
        wanted: dict[str, list[Window]] = {}
        for camera_id, start, end in windows:
            for s, e in self.windows.get(camera_id, ()):
                lo, hi = max(s, as_utc(start)), min(e, as_utc(end))
                if lo < hi:
                    wanted.setdefault(camera_id, []).append((lo, hi))
        return Grant(self.kind, self.since, self.until, {c: tuple(sorted(w)) for c, w in wanted.items()},
                     self.refused)

    def mask(self, camera_ids: pd.Series, times: pd.Series) -> np.ndarray:
        """Vectorised :meth:`covers` for a column of cameras and a column of UTC times."""
        keep = np.zeros(len(camera_ids), dtype=bool)
        cams = camera_ids.to_numpy()
        ts = pd.to_datetime(pd.Series(times), utc=True).dt.tz_localize(None).to_numpy("datetime64[ns]")
        for camera_id in pd.unique(cams):   # the cameras present, not every camera of the grant
            windows = self.windows.get(camera_id, ())
            on_camera = cams == camera_id
            for s, e in windows:
                keep |= on_camera & (ts >= np.datetime64(s.replace(tzinfo=None), "ns")) \
                    & (ts < np.datetime64(e.replace(tzinfo=None), "ns"))
        return keep


class Workspace:
    """The catalogue plus the rules: log a user in to get a :class:`UserSession`.

    ``clock`` returns the current time (UTC); tests and trainers pass a fixed
    one. ``case_class`` is the class :meth:`UserSession.open_case` returns; the
    facade (``workbench.open``) passes one that adds the analysis cores.
    """

    def __init__(self, settings: Settings, *, clock: Clock = _utcnow,
                 case_class: type[CaseScope] | None = None) -> None:
        self.settings = settings
        self.store = Store(settings)
        self.clock = clock
        self.case_class = case_class or CaseScope
        self.rule_facts = RuleFacts(self.store)   # the rule's facts, kept while the rules' counter stays
        self._plate_index: tuple[int, PlateIndex] | None = None
        self._plate_lock = threading.Lock()
        if not self.store.is_migrated():
            self.store.migrate()

    def now(self) -> datetime:
        """The workspace's current time, timezone-aware UTC."""
        return as_utc(self.clock())

    def plate_index(self) -> PlateIndex:
        """The search index of distinct sighted plates, grown with the plates of new sightings.

        It holds plates only, no time or place: what a user may see is decided
        when the sightings of the matching plates are read. Plates purged since
        it was built only cost a lookup that finds no sighting. Built once per
        process (the service's: one for every user), then only the plates of
        sightings newer than the last look are added.
        """
        with self._plate_lock:   # the service's threads share it
            version = sightings_version(self.store)
            if self._plate_index is None:
                self._plate_index = (version, PlateIndex(distinct_plates(self.store)))
            elif self._plate_index[0] != version:
                index = self._plate_index[1]
                index.add(distinct_plates(self.store, after=self._plate_index[0]))
                self._plate_index = (version, index)
            return self._plate_index[1]

    def login(self, name: str | None = None) -> UserSession:
        """Start a session for an active user (default: the JupyterHub or WORKBENCH_USER identity)."""
        name = name or self.settings.user
        if not name:
            raise AccessDenied("no user given: pass a name or set WORKBENCH_USER (JupyterHub sets "
                               "JUPYTERHUB_USER)")
        with self.store.snapshot() as session:
            row = session.execute(select(User, Partner).join(Partner, User.partner_id == Partner.id)
                                  .where(User.name == name)).one_or_none()
            info = None if row is None or not row[0].active else \
                UserInfo(row[0].name, row[0].full_name, row[0].role, row[1].code, row[1].name)
        if info is None:
            audit.record(self.store, audit.Actor(str(name)[:100]), "login", time=self.now(),
                         outcome="denied", reason="unknown or inactive user")
            raise AccessDenied(f"no active workbench account named {name!r}")
        audit.record(self.store, audit.Actor(info.name, info.partner), "login", time=self.now())
        self._anchor_if_due()
        return UserSession(self, info)

    def _anchor_if_due(self) -> None:
        """Sign the audit chain's head into ``WORKBENCH_ANCHOR_DIR`` when the last anchor is a day old."""
        if self.settings.anchor_dir is not None:
            from workbench.access.anchors import anchor_if_due  # cryptography loads only where anchoring is on

            anchor_if_due(self.store, self.settings.anchor_dir, now=self.now(), actor=audit.Actor("system:anchor"))


class UserSession:
    """A logged-in user: list and open their cases; auditors read the audit trail."""

    def __init__(self, workspace: Workspace, user: UserInfo) -> None:
        self.workspace = workspace
        self.user = user

    def __repr__(self) -> str:
        return f"<UserSession {self.user.name} ({self.user.role}, {self.user.partner})>"

    @property
    def _actor(self) -> audit.Actor:
        return audit.Actor(self.user.name, self.user.partner)

    def _deny(self, action: str, reason: str, resource: dict[str, Any] | None = None,
              actor: audit.Actor | None = None) -> AccessDenied:
        audit.record(self.workspace.store, actor or self._actor, action, time=self.workspace.now(),
                     outcome="denied", reason=reason, resource=resource)
        return audit.mark_audited(AccessDenied(reason))

    def _apply(self, verdict: Verdict, action: str, resource: dict[str, Any] | None = None,
               actor: audit.Actor | None = None) -> None:
        """Go on when the rule allows; otherwise audit the refusal and raise it."""
        if not verdict.allowed:
            raise self._deny(action, verdict.reason, resource, actor)

    def note_cell(self, sha256: str, length: int, count: int | None, status: str,
                  case: CaseInfo | None = None) -> int:
        """Record a cell run in the audited kernel: its SHA-256, length, execution count and status.

        The only audit event a notebook writes itself; ``case`` (the case last
        opened in the kernel) must be one of this user's cases, opened for its own purpose.

        >>> me.note_cell(hashlib.sha256(code.encode()).hexdigest(), len(code), 3, "ok")  # doctest: +SKIP
        """
        actor = self._actor
        if case is not None:
            with self.workspace.store.snapshot() as session:
                purpose = session.execute(
                    select(Case.purpose).join(CaseMember, CaseMember.case_id == Case.id)
                    .join(User, User.id == CaseMember.user_id)
                    .where(Case.reference == case.reference, User.name == self.user.name)).scalar()
            if purpose is None or purpose != case.purpose:
                raise InvalidInput(f"{case.reference!r} is not a case of {self.user.name} opened for "
                                   f"{case.purpose!r}")
            actor = audit.Actor(self.user.name, self.user.partner, case.reference, case.purpose)
        return audit.append_cell(self.workspace.store, actor, time=self.workspace.now(), sha256=sha256,
                                 length=length, count=count, status=status)

    def admin(self) -> AdminSession:
        """Administration of partners, users and roles, agreements and hit policies (administrators only)."""
        self._apply(policy.may_administer(self.user.role), "admin-session")
        audit.record(self.workspace.store, self._actor, "admin-session", time=self.workspace.now())
        return AdminSession(self.workspace.store, self.user, self.workspace.now)

    def cases(self) -> pd.DataFrame:
        """The cases this user is a member of (reference, title, purpose, status, training, may_open).

        ``may_open`` says whether the rule lets this user open the case now, for its purpose.
        """
        with self.workspace.store.snapshot() as session:
            rows = session.execute(
                select(Case).join(CaseMember, CaseMember.case_id == Case.id).join(User, User.id == CaseMember.user_id)
                .where(User.name == self.user.name).order_by(Case.reference)).scalars().all()
            data = [{"reference": c.reference, "title": c.title, "purpose": c.purpose, "status": c.status,
                     "training": c.is_training,
                     "may_open": policy.may_open_case(
                         self.user.role, self.user.name,
                         CaseFacts(c.reference, c.status, c.purpose, c.is_training, member=True),
                         c.reference, c.purpose).allowed} for c in rows]
        audit.record(self.workspace.store, self._actor, "list-cases", time=self.workspace.now(),
                     result_count=len(data))
        return pd.DataFrame(data, columns=["reference", "title", "purpose", "status", "training", "may_open"])

    def open_case(self, reference: str, *, purpose: str, legal_basis: str | None = None) -> CaseScope:
        """Open a case for a stated purpose; refused unless the user is a member and it is open.

        >>> me.open_case("PV-BR-2026-001234", purpose="judicial-investigation")
        <Case PV-BR-2026-001234 (judicial-investigation) opened by inspector.dupont>
        """
        case = self.reopen_case(reference, purpose=purpose, legal_basis=legal_basis)
        audit.record(self.workspace.store, case.actor, "open-case", time=self.workspace.now(),
                     resource={"reference": reference, "purpose": purpose, "legal_basis": legal_basis})
        return case

    def reopen_case(self, reference: str, *, purpose: str, legal_basis: str | None = None) -> CaseScope:
        """A case this user opened, opened again for one more call: the checks of :meth:`open_case`, refusals
        audited, and no second ``open-case`` event (the workbench service does this for every call it serves)."""
        resource = {"reference": reference, "purpose": purpose, "legal_basis": legal_basis}
        actor = audit.Actor(self.user.name, self.user.partner, reference, purpose)
        with self.workspace.rule_facts.reading() as read:   # the service runs it for every call
            row = read("case-and-membership", lambda conn: conn.execute(
                _CASE_AND_MEMBERSHIP, {"reference": reference, "user": self.user.name}).first(),
                reference, self.user.name)
        info = None if row is None else CaseInfo(*row[:-1])
        facts = None if info is None else CaseFacts(info.reference, info.status, info.purpose, info.is_training,
                                                    row is not None and row.member)
        self._apply(policy.may_open_case(self.user.role, self.user.name, facts, reference, purpose), "open-case",
                    resource, actor)
        assert info is not None   # the rule refuses a case that does not exist
        return self.workspace.case_class(self, info)

    def open_bookmark(self, bookmark_id: str) -> Bookmark:
        """A bookmark or saved search from its link, for a colleague on the same case (audited; anyone else is
        refused, with the same words whether it exists or not). Open its case with
        ``open_case(mark.case_reference, purpose=mark.purpose)``."""
        resource = {"bookmark": str(bookmark_id)[:40]}
        with audit.refusals_audited(self.workspace.store, self._actor, "open-bookmark", resource, self.workspace.now):
            found = bookmarks.find(self.workspace.store, str(bookmark_id))
        facts = None
        if found is not None:
            with self.workspace.store.snapshot() as session:
                case = session.execute(select(Case).where(Case.id == found[1])).scalar_one()
                member = session.execute(
                    select(CaseMember).join(User, User.id == CaseMember.user_id)
                    .where(CaseMember.case_id == case.id, User.name == self.user.name)).first() is not None
                facts = CaseFacts(case.reference, case.status, case.purpose, case.is_training, member)
        self._apply(policy.may_open_bookmark(self.user.role, self.user.name, facts, resource["bookmark"]),
                    "open-bookmark", resource)
        assert found is not None   # the rule refuses a bookmark that does not exist
        mark = found[0]
        audit.record(self.workspace.store, audit.Actor(self.user.name, self.user.partner, mark.case_reference,
                                                       mark.purpose),
                     "open-bookmark", time=self.workspace.now(), resource={**resource, "kind": mark.kind},
                     result_count=1)
        return mark

    def create_case(self, reference: str, *, title: str, purpose: str, legal_basis: str,
                    members: Iterable[str] = (), training: bool = False) -> CaseInfo:
        """Open a new case (investigators); the creator is always a member."""
        resource = {"reference": reference, "purpose": purpose, "members": sorted(set(members))}
        actor = audit.Actor(self.user.name, self.user.partner, reference, purpose)
        with audit.refusals_audited(self.workspace.store, actor, "create-case", resource, self.workspace.now):
            return self._create_case(reference, title, purpose, legal_basis, members, training, actor, resource)

    def _create_case(self, reference: str, title: str, purpose: str, legal_basis: str, members: Iterable[str],
                     training: bool, actor: audit.Actor, resource: dict[str, Any]) -> CaseInfo:
        self._apply(policy.may_create_case(self.user.role, training=training), "create-case", resource, actor)
        if purpose not in PURPOSES:
            raise InvalidInput(f"unknown purpose {purpose!r}; one of: {', '.join(PURPOSES)}")
        now = self.workspace.now()
        with self.workspace.store.session() as session:
            if session.execute(select(Case.id).where(Case.reference == reference)).first():
                raise InvalidInput(f"a case {reference!r} exists already")
            names = sorted(set(members) | {self.user.name})
            users = session.execute(select(User).where(User.name.in_(names))).scalars().all()
            missing = set(names) - {u.name for u in users}
            if missing:
                raise NotFound(f"unknown users: {', '.join(sorted(missing))}")
            case = Case(reference=reference, title=title, purpose=purpose, legal_basis=legal_basis,
                        status="open", is_training=training, opened_at=now)
            case.members = [CaseMember(user_id=u.id) for u in users]
            session.add(case)
            audit.append(session, actor, "create-case", time=now, resource=resource)
        return CaseInfo(reference, title, purpose, legal_basis, "open", training, now)

    def my_audit_trail(self, limit: int = 200) -> pd.DataFrame:
        """This user's own most recent audit events (every user may read their own)."""
        frame = audit.events_frame(self.workspace.store, user_name=self.user.name, limit=limit)
        audit.record(self.workspace.store, self._actor, "read-own-audit", time=self.workspace.now(),
                     result_count=len(frame))
        return frame

    def audit_events(self, *, case_reference: str | None = None, user_name: str | None = None,
                     since: datetime | str | None = None, until: datetime | str | None = None) -> pd.DataFrame:
        """The whole audit trail, filtered (auditors only)."""
        resource = {"case": case_reference, "user": user_name, "since": since, "until": until}
        self._apply(policy.may_read_audit(self.user.role), "read-audit", resource)
        with audit.refusals_audited(self.workspace.store, self._actor, "read-audit", resource, self.workspace.now):
            start, end = as_utc(since) if since else None, as_utc(until) if until else None
        frame = audit.events_frame(self.workspace.store, case_reference=case_reference, user_name=user_name,
                                   since=start, until=end)
        audit.record(self.workspace.store, self._actor, "read-audit", time=self.workspace.now(),
                     resource=resource, result_count=len(frame))
        return frame

    def _training_events(self, view: str) -> pd.DataFrame:
        """The audit events of the training cases this user may follow (trainers: theirs; auditors: all)."""
        self._apply(policy.may_read_training_results(self.user.role), "read-training-results", {"view": view})
        with self.workspace.store.snapshot() as session:
            query = select(Case.reference).where(Case.is_training.is_(True))
            if self.user.role == "trainer":
                query = (query.join(CaseMember, CaseMember.case_id == Case.id)
                         .join(User, User.id == CaseMember.user_id).where(User.name == self.user.name))
            references = sorted(session.execute(query).scalars())
        frames = [audit.events_frame(self.workspace.store, case_reference=r) for r in references]
        events = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["time", "user_name", "case_reference", "action", "resource"])
        audit.record(self.workspace.store, self._actor, "read-training-results", time=self.workspace.now(),
                     resource={"view": view, "cases": references}, result_count=len(events))
        return events

    def training_results(self) -> pd.DataFrame:
        """The results of the training checks in the training cases this trainer belongs to.

        Trainers see training cases only (those they are a member of),
        auditors every training case. One row per check: time, user_name,
        case_reference, module, question, answered, correct, answer.

        >>> ws.login("trainer.claes").training_results()      # doctest: +SKIP
        """
        events = self._training_events("checks")
        checks = events[events["action"] == TRAINING_CHECK_ACTION]
        columns = ["time", "user_name", "case_reference", "module", "question", "answered", "correct", "answer"]
        frame = pd.DataFrame([{"time": e.time, "user_name": e.user_name, "case_reference": e.case_reference,
                               **{k: e.resource.get(k) for k in columns[3:]}} for e in checks.itertuples()],
                             columns=columns)
        frame[["answered", "correct"]] = frame[["answered", "correct"]].astype(bool)
        return frame

    def training_activity(self) -> pd.DataFrame:
        """Per trainee and training case: notebook cells run, cells that failed, checks, refusals, last activity.

        Same readers as :meth:`training_results`; from the audit trail (the
        audited kernel records every cell with its status, never its text).
        """
        events = self._training_events("activity")
        columns = ["user_name", "case_reference", "cells", "failed_cells", "checks", "refusals", "last_activity"]
        if events.empty:
            return pd.DataFrame(columns=columns)
        cells = events["action"] == audit_actions.CELL_ACTION
        failed = events["resource"].map(lambda r: isinstance(r, dict) and r.get("status") == "error")
        frame = events.assign(cell=cells, failed=cells & failed, check=events["action"] == TRAINING_CHECK_ACTION,
                              refused=events["outcome"] == "denied")
        return (frame.groupby(["user_name", "case_reference"], sort=True)
                .agg(cells=("cell", "sum"), failed_cells=("failed", "sum"), checks=("check", "sum"),
                     refusals=("refused", "sum"), last_activity=("time", "max"))
                .reset_index()[columns])

    def indicators(self, *, since: datetime | str | None = None,
                   until: datetime | str | None = None) -> indicators.Indicators:
        """Counts the council asks for: hits by priority and zone, footage requests, accesses per partner.

        Auditors and administrators only; counts, never plates or images.

        >>> auditor.indicators(since="2026-11-01").summary()["hits"] > 0
        True
        """
        resource = {"since": since, "until": until}
        self._apply(policy.may_read_indicators(self.user.role), "read-indicators", resource)
        with audit.refusals_audited(self.workspace.store, self._actor, "read-indicators", resource,
                                    self.workspace.now):
            start, end = as_utc(since) if since else None, as_utc(until) if until else None
        figures = indicators.compute(self.workspace.store, start, end)
        audit.record(self.workspace.store, self._actor, "read-indicators", time=self.workspace.now(),
                     resource=resource, result_count=int(figures.summary()["accesses"]))
        return figures

    def verify_audit(self) -> audit.ChainCheck:
        """Check the hash chain of the whole audit trail (auditors only)."""
        self._apply(policy.may_read_audit(self.user.role), "verify-audit")
        check = audit.verify(self.workspace.store)
        audit.record(self.workspace.store, self._actor, "verify-audit", time=self.workspace.now(),
                     outcome="ok" if check.ok else "error", reason=None if check.ok else str(check),
                     result_count=check.events)
        return check


class OpenCase:
    """What an open case is, embedded or served by the workbench service: its info and the settings it runs with."""

    info: CaseInfo
    workspace: Any

    @property
    def reference(self) -> str:
        return self.info.reference

    @property
    def purpose(self) -> str:
        return self.info.purpose

    @property
    def settings(self) -> Settings:
        settings: Settings = self.workspace.settings   # a Workspace, or the service client's
        return settings


class CaseScope(OpenCase):
    """An open case: every read of footage or plate reads goes through :meth:`access`.

    Analysis cores take the :class:`Grant` it yields and never decide access
    themselves.
    """

    _opened = itertools.count()

    def __init__(self, user_session: UserSession, case: CaseInfo) -> None:
        self.order = next(CaseScope._opened)  # which case was opened last (the audited kernel asks)
        self._user_session = user_session
        self.workspace = user_session.workspace
        self.user = user_session.user
        self.info = case

    def __repr__(self) -> str:
        return f"<Case {self.info.reference} ({self.info.purpose}) opened by {self.user.name}>"

    @property
    def actor(self) -> audit.Actor:
        """Who is acting: this user, partner, case and purpose, as written to the audit trail."""
        return audit.Actor(self.user.name, self.user.partner, self.info.reference, self.info.purpose)

    def now(self) -> datetime:
        now: datetime = self.workspace.now()
        return now

    def _audit(self, action: str, *, resource: dict[str, Any] | None = None, result_count: int | None = None,
               outcome: str = "ok", reason: str | None = None) -> int:
        return audit.record(self.workspace.store, self.actor, action, time=self.now(), outcome=outcome,
                            reason=reason, resource=resource, result_count=result_count)

    def _deny(self, action: str, reason: str, resource: dict[str, Any]) -> AccessDenied:
        self._audit(action, resource=resource, outcome="denied", reason=reason)
        return audit.mark_audited(AccessDenied(reason))

    def _refusals(self, action: str, resource: dict[str, Any]) -> AbstractContextManager[None]:
        """Audit any exception leaving the block, once (:func:`~workbench.access.audit.refusals_audited`)."""
        return audit.refusals_audited(self.workspace.store, self.actor, action, resource, self.now)

    def _training_only(self, resource: dict[str, Any]) -> None:
        """Refuse (audited as ``training-check``) an exercise's check in a case that is not a training case."""
        if not self.info.is_training:
            raise self._deny(TRAINING_CHECK_ACTION, f"case {self.reference} is not a training case", resource)

    def _record_training_check(self, module: int, question: str, *, answered: bool, correct: bool,
                               answer: str | None) -> int:
        """Write a training exercise's result to the audit trail (``training-check``; training cases only).

        Written by the facade's ``check_training`` once it has judged the
        answer against the case's own key (never served: a result sent by a
        client is not a judgement). The trainer's view
        (:meth:`UserSession.training_results`) reads these.
        """
        resource = {"module": int(module), "question": str(question), "answered": bool(answered),
                    "correct": bool(correct), "answer": None if answer is None else str(answer)[:120]}
        self._training_only(resource)
        return self._audit(TRAINING_CHECK_ACTION, resource=resource)

    # -- the rule, applied ------------------------------------------------------------------------
    def _load_decisions(self, kind: str | None, cameras: list[str] | None, since: datetime,
                        until: datetime, read: FactReader | None = None
                        ) -> tuple[dict[str, Decision], dict[str, dict[str, Any]]]:
        """Gather the facts of every requested camera and decide each; returns decisions and camera rows.

        The facts come from ``read`` (or a new reading): rows kept while the rules' counter stays the same
        (``rule_facts``); the rule is applied here, at every access, against the current time."""
        now = self.now()
        with self._facts(read) as read:
            all_cameras: dict[str, dict[str, Any]] = read("cameras", _all_cameras)
            agreements: list[AgreementFacts] = read("agreements-to", _agreements_to(self.user.partner),
                                                    self.user.partner)
            retention: dict[tuple[str, str], int] = read("retention", _retention)
            holds: dict[str, list[Window]] = read("holds-of", _holds_of(self.reference), self.reference)
        cam_rows = all_cameras if cameras is None else {c: all_cameras[c] for c in cameras if c in all_cameras}
        decisions = {}
        for cid, row in cam_rows.items():
            data_kind = kind or policy.data_kind(row["kind"])
            decisions[cid] = decide(
                CameraFacts(cid, row["partner"], row["kind"]), data_kind, user_partner=self.user.partner,
                purpose=self.purpose, agreements=agreements,
                retention_days=policy.retention_days(retention, row["partner"], data_kind),
                holds=holds.get(cid, []), now=now, since=since, until=until)
        return decisions, cam_rows

    def _facts(self, read: FactReader | None) -> AbstractContextManager[FactReader]:
        """``read`` itself, or a new reading of the rule's facts (one reading of the rules' counter)."""
        return nullcontext(read) if read is not None else self.workspace.rule_facts.reading()

    def _check_reading(self, action: str, resource: dict[str, Any], *, export: bool = False,
                       read: FactReader | None = None) -> None:
        """Apply the rule to the case as it is now (it may have been closed since it was opened)."""
        with self._facts(read) as read:
            status = read("case-status", lambda conn: conn.execute(
                _CASE_STATUS, {"reference": self.reference}).scalar_one(), self.reference)
        facts = CaseFacts(self.reference, status, self.purpose, self.info.is_training, member=True)
        self._apply(policy.may_read(self.user.role, facts, export=export), action, resource)

    def _apply(self, verdict: Verdict, action: str, resource: dict[str, Any]) -> None:
        if not verdict.allowed:
            raise self._deny(action, verdict.reason, resource)

    def _window(self, since: datetime | str | None, until: datetime | str | None) -> tuple[datetime, datetime]:
        now = self.now()
        start = as_utc(since) if since is not None else now - _EARLIEST
        end = as_utc(until) if until is not None else now
        if end <= start:
            raise InvalidInput(f"the time window is empty: it ends ({end:%Y-%m-%d %H:%M}) before it starts "
                               f"({start:%Y-%m-%d %H:%M})")
        return start, end

    @contextmanager
    def access(self, kind: str, *, cameras: Iterable[str] | None = None, since: datetime | str | None = None,
               until: datetime | str | None = None, action: str, query: dict[str, Any] | None = None,
               export: bool = False) -> Iterator[Grant]:
        """Authorise a read of ``kind`` data and audit it; yields the :class:`Grant`.

        Explicitly named cameras that are refused raise AccessDenied (audited);
        with ``cameras=None`` the grant holds every camera the user may see.
        Any exception, before or inside the block, is audited (``denied`` or
        ``error`` with its reason) and re-raised. An export sets
        ``grant.custody``: the custody record is then appended in the same
        transaction, right after the access event.
        """
        audit_actions.check(action)   # an access that could not be audited reads nothing
        resource: dict[str, Any] = {"kind": kind, "since": since, "until": until, "query": query or {},
                                    "cameras": None if cameras is None else "(not checked)"}
        with self._refusals(action, resource):
            grant = self._authorise(kind, cameras, since, until, action, resource, export)
            yield grant
            resource["granted_cameras"] = len(grant.windows)
            if not (export and grant.custody is not None):
                audit.record(self.workspace.store, self.actor, action, time=self.now(), resource=resource,
                             result_count=grant.count)
                return
            with self.workspace.store.session() as session:   # the access and its custody record, together
                audit.append(session, self.actor, action, time=self.now(), resource=resource,
                             result_count=grant.count)
                audit.append_custody(session, self.actor, time=self.now(), **grant.custody)

    def _authorise(self, kind: str, cameras: Iterable[str] | None, since: datetime | str | None,
                   until: datetime | str | None, action: str, resource: dict[str, Any], export: bool) -> Grant:
        """Apply the rule for :meth:`access`; fills ``resource`` in and raises (audited) refusals."""
        if kind not in policy.DATA_KINDS:
            raise InvalidInput(f"unknown kind of data {kind!r}: 'footage' or 'plates'")
        start, end = self._window(since, until)
        wanted = None if cameras is None else sorted({str(c) for c in cameras})
        resource.update({"since": start, "until": end,
                         "cameras": wanted if wanted is None or len(wanted) <= 100
                         else wanted[:100] + [f"... {len(wanted) - 100} more"]})
        with self.workspace.rule_facts.reading() as read:   # one reading of the rules' counter for both
            self._check_reading(action, resource, export=export, read=read)
            decisions, _ = self._load_decisions(kind, wanted, start, end, read)
        if wanted is not None:
            unknown = sorted(set(wanted) - set(decisions))
            if unknown:
                raise NotFound(f"no camera with id {', '.join(map(repr, unknown))}")
            refused = {c: d.reason for c, d in decisions.items() if not d.granted}
            if refused:
                raise self._deny(action, "; ".join(f"{c}: {r}" for c, r in sorted(refused.items())), resource)
        return Grant(kind, start, end, {c: d.windows for c, d in decisions.items() if d.granted},
                     {c: d.reason for c, d in decisions.items() if not d.granted})

    # -- what the case exposes ----------------------------------------------------------------------
    def camera_access(self) -> pd.DataFrame:
        """Every camera of the platform, whether this case may see it, and why (in words).

        ANPR cameras are judged for plate reads, the others for footage.
        """
        now = self.now()
        resource = {"query": "camera-access"}
        self._check_reading("camera-access", resource)
        decisions, rows = self._load_decisions(None, None, now - timedelta(days=1), now)
        data = [{**rows[c], "data": policy.data_kind(rows[c]["kind"]),
                 "granted": d.granted, "reason": d.reason} for c, d in sorted(decisions.items())]
        self._audit("camera-access", resource=resource, result_count=len(data))
        return pd.DataFrame(data, columns=["camera_id", "name", "partner", "kind", "lon", "lat", "heading",
                                           "fov_deg", "range_m", "data", "granted", "reason"])

    def cameras(self, kind: str | None = None) -> gpd.GeoDataFrame:
        """The cameras this case may see, as a GeoDataFrame (EPSG:4326); ``kind`` filters (e.g. "anpr")."""
        table = self.camera_access()
        table = table[table["granted"] & table["lon"].notna()]
        if kind is not None:
            table = table[table["kind"] == kind]
        return cameras_frame(table.drop(columns=["granted"]).reset_index(drop=True))

    def sightings(self, plates: Iterable[str] | None = None, *, since: datetime | str | None = None,
                  until: datetime | str | None = None, cameras: Iterable[str] | None = None,
                  action: str = "read-sightings", query: dict[str, Any] | None = None,
                  with_sources: bool = True,
                  within: list[tuple[str, datetime, datetime]] | None = None) -> gpd.GeoDataFrame:
        """Plate sightings (reads of one passage merged) visible to this case, time-ordered.

        ``plates`` are normalised plates (exact); the plate search of
        :mod:`workbench.plates` turns patterns and fuzzy queries into them.
        Columns: sighting_id, camera_id, time, last_time, plate, country,
        confidence, direction, n_reads, source_ids (None unless ``with_sources``),
        lon, lat, geometry. ``within`` narrows the read to (camera, start,
        end) windows, e.g. a minute around each sighting of a target.
        """
        plate_list = None if plates is None else sorted(set(plates))
        with self.access("plates", cameras=cameras, since=since, until=until, action=action,
                         query={**(query or {}), "plates": plate_list if plate_list is None or len(plate_list) <= 50
                                else plate_list[:50] + [f"... {len(plate_list) - 50} more"]}) as grant:
            scope = grant if within is None else grant.narrowed(within)
            frame = load_sightings(self.workspace.store, scope, plate_list, with_sources)
            grant.count = len(frame)
        return frame

    def plate_reads(self, query: str, *, since: datetime | str | None = None, until: datetime | str | None = None,
                    cameras: Iterable[str] | None = None, fuzzy: bool = False,
                    max_distance: float = 1.0) -> gpd.GeoDataFrame:
        """Sightings of a plate: exact (``1-ABC-234``), wildcard (``1-AB?-2*``) or fuzzy (OCR-aware).

        One row per passage at a camera (double and re-delivered reads merged,
        their source ids kept), time-ordered, with the match ``distance``
        (0 for exact; a look-alike confusion such as B/8 counts 0.2).

        >>> case.plate_reads("6-GGM-83?")["plate"].unique().tolist()
        ['6GGM833']
        >>> case.plate_reads("6G6M833", fuzzy=True)[["plate", "distance"]].drop_duplicates().values.tolist()
        [['6GGM833', 0.2], ['6GGMB33', 0.4]]
        """
        with self._refusals("plate-reads", {"query": {"plate_query": str(query)[:200], "fuzzy": fuzzy}}):
            matches = dict(self.workspace.plate_index().search(query, fuzzy=fuzzy, max_distance=max_distance))
        frame = self.sightings(list(matches), since=since, until=until, cameras=cameras, action="plate-reads",
                               query={"plate_query": query, "fuzzy": fuzzy, "max_distance": max_distance})
        frame.insert(5, "distance", np.array([matches.get(p, np.nan) for p in frame["plate"]], dtype=float))
        return frame

    def hits(self, *, since: datetime | str | None = None, until: datetime | str | None = None,
             include_ignored: bool = False) -> pd.DataFrame:
        """Hotlist hits visible to this case, with what the user's zone policy says to do.

        ``decision`` is ``act`` or ``ignore`` under the zone's policy (default:
        act on priorities 0 and 1, ignore 3 and 4, keep 2 only when the plate
        is also on the zone's own list); ignored hits are left out unless asked.
        """
        with self.access("plates", since=since, until=until, action="hits",
                         query={"include_ignored": include_ignored}) as grant:
            frame = load_hits(self.workspace.store, grant)
            with self.workspace.store.snapshot() as session:
                own = own_list_plates(session, self.user.partner)
                stored = session.execute(select(Partner.hit_policy).where(Partner.code == self.user.partner)).scalar()
            policy = HitPolicy(**{k: frozenset(v) for k, v in (stored or {}).items()})
            frame["decision"] = [policy.decide(priority=int(p), on_own_list=pl in own)
                                 for p, pl in zip(frame["priority"], frame["plate"])]
            if not include_ignored:
                frame = frame[frame["decision"] == "act"].reset_index(drop=True)
            frame = frame.join(self._triage(), on="hit_id")
            frame["triage"] = frame["triage"].fillna("").astype("str")
            grant.count = len(frame)
        return frame

    def _triage(self) -> pd.DataFrame:
        """The case's latest triage decision on each hit (triage, triage_reason, triage_by, triage_at), by hit_id.

        The decisions live in the audit trail itself (``hit-acknowledge`` and
        ``hit-dismiss`` of this case): one record, shared by the case's members.
        """
        events = audit.events_frame(self.workspace.store, case_reference=self.reference,
                                    actions=TRIAGE_ACTIONS.values())
        events = events[events["outcome"] == "ok"]
        rows = {int(e.resource["query"]["hit_id"]): {
            "triage": next(k for k, a in TRIAGE_ACTIONS.items() if a == e.action),
            "triage_reason": e.resource["query"]["reason"], "triage_by": e.user_name, "triage_at": e.time}
            for e in events.itertuples()}     # oldest first: the latest decision wins
        frame = pd.DataFrame.from_dict(rows, orient="index",
                                       columns=["triage", "triage_reason", "triage_by", "triage_at"])
        # typed even when empty, so the columns read the same embedded and served
        return frame.astype({"triage": "str", "triage_reason": "str", "triage_by": "str",
                             "triage_at": events["time"].dtype})

    def triage_hit(self, hit_id: int, decision: str, reason: str) -> None:
        """Acknowledge or dismiss (``decision``) a hit this case may see, with the reason, for the case's members.

        Audited as ``hit-acknowledge`` or ``hit-dismiss``; :meth:`hits` then
        shows it in its ``triage`` column.
        """
        action = TRIAGE_ACTIONS.get(str(decision), "hit-acknowledge")
        query: dict[str, Any] = {"hit_id": hit_id, "reason": str(reason)[:500]}
        with self._refusals(action, {"query": query}):
            if str(decision) not in TRIAGE_ACTIONS:
                raise InvalidInput(f"a hit's triage is {' or '.join(map(repr, TRIAGE_ACTIONS))}, not {decision!r}")
            if isinstance(hit_id, bool) or not isinstance(hit_id, int | np.integer):
                raise InvalidInput(f"a hit is named by its number (hit_id), not {hit_id!r}")
            if not str(reason).strip():
                raise InvalidInput("say why: a triage decision needs a reason")
        query["hit_id"] = int(hit_id)
        with self.access("plates", action=action, query=query) as grant:
            if int(hit_id) not in set(load_hits(self.workspace.store, grant)["hit_id"]):
                raise NotFound(f"hit {int(hit_id)} is not one this case may see")
            grant.count = 1

    def audit_trail(self, limit: int = 200) -> pd.DataFrame:
        """This user's own audit events for this case, newest last."""
        frame = audit.events_frame(self.workspace.store, user_name=self.user.name,
                                   case_reference=self.reference, limit=limit)
        self._audit("read-own-audit", result_count=len(frame))
        return frame

    def bookmark(self, kind: str, *, camera: str | None = None, at: datetime | str | None = None,
                 plate: str | None = None, note: str | None = None, title: str | None = None,
                 app: str | None = None, query: dict[str, Any] | None = None) -> Bookmark:
        """Bookmark a ``frame`` (camera, at), a ``sighting`` (camera, at, plate) or a ``note`` on this case, or
        save a ``search`` (app, query), for the case's members (audited); ``mark.link()`` reopens it.

        >>> case.bookmark("note", note="the red car stops twice at Flagey").kind
        'note'
        """
        resource: dict[str, Any] = {"kind": str(kind)[:20], "camera": camera, "at": at, "plate": plate,
                                    "app": app, "title": None if title is None else str(title)[:200]}
        with self._refusals("save-bookmark", resource):
            fields = bookmarks.new_bookmark(kind, title=title, app=app, camera=camera, at=at, plate=plate,
                                            note=note, query=query)
            self._check_reading("save-bookmark", resource)
            now = self.now()
            resource.update(at=fields["at"], app=fields["app"])
            mark_id = bookmarks.add(
                self.workspace.store, self.reference, self.user.name, fields, now,
                lambda session, mark: audit.append(session, self.actor, "save-bookmark", time=now,
                                                   resource={**resource, "id": mark}, result_count=1))
        found = bookmarks.find(self.workspace.store, mark_id)
        assert found is not None   # written just above
        return found[0]

    def save_search(self, app: str, query: dict[str, Any], *, title: str | None = None) -> Bookmark:
        """Save an app's search (its parameters) on this case for its members; ``mark.link()`` runs it again."""
        return self.bookmark("search", app=app, query=query, title=title)

    def bookmarks(self) -> pd.DataFrame:
        """The bookmarks and saved searches of this case, by every member, oldest first (audited)."""
        resource: dict[str, Any] = {"reference": self.reference}
        with self._refusals("list-bookmarks", resource):
            self._check_reading("list-bookmarks", resource)
            marks = bookmarks.of_case(self.workspace.store, self.reference)
        self._audit("list-bookmarks", resource=resource, result_count=len(marks))
        return bookmarks.frame(marks)

    def audit_summary(self) -> pd.DataFrame:
        """How many events this case's audit trail holds, per action and outcome (members of the open case;
        counts only, not the events: those are the auditors')."""
        resource: dict[str, Any] = {"reference": self.reference}
        with self._refusals("case-audit-summary", resource):
            self._check_reading("case-audit-summary", resource)
            frame = audit.case_counts(self.workspace.store, self.reference)
        self._audit("case-audit-summary", resource=resource, result_count=int(frame["events"].sum()))
        return frame

    def place_hold(self, camera_id: str, start: datetime | str, end: datetime | str, reason: str) -> None:
        """Seize a camera's data in a window for this case, beyond retention (investigators)."""
        resource: dict[str, Any] = {"camera": camera_id, "since": start, "until": end, "reason": reason}
        with self._refusals("place-hold", resource):
            s, e = self._window(start, end)
            resource.update(since=s, until=e)
            self._place_hold(camera_id, s, e, reason, resource)

    def _place_hold(self, camera_id: str, s: datetime, e: datetime, reason: str, resource: dict[str, Any]) -> None:
        self._apply(policy.may_place_hold(self.user.role), "place-hold", resource)
        self._check_reading("place-hold", resource)
        now = self.now()
        decisions, _ = self._load_decisions(None, [camera_id], now - timedelta(days=1), now)
        if camera_id not in decisions:
            raise NotFound(f"no camera with id {camera_id!r}")
        if not decisions[camera_id].granted:
            raise self._deny("place-hold", f"{camera_id}: {decisions[camera_id].reason}", resource)
        with self.workspace.store.session() as session:
            case_id = session.execute(select(Case.id).where(Case.reference == self.reference)).scalar_one()
            session.add(Hold(case_id=case_id, camera_id=camera_id, start=s, end=e, reason=reason,
                             created_at=self.now()))
            audit.append(session, self.actor, "place-hold", time=self.now(), resource=resource)


def cameras_frame(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """A camera table with ``lon``/``lat`` as a GeoDataFrame in EPSG:4326."""
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326")
