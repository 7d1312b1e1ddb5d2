"""The whole access rule, as pure functions over plain values (no database, no clock).

A user sees data of camera C, owned by partner P, of kind K (footage or
plates), at time t, only if

1. the user's role reads case data (investigators, analysts, dispatchers,
   trainers), the user is a member of the case, the case is open and was
   opened for the purpose stated (:func:`may_open_case`, :func:`may_read`);
   trainers work on training cases only, and the other roles see a training
   case only as its trainees, that is as members;
2. P is the user's own partner, or an agreement P -> user's partner is active
   now, covers K, covers C and covers the case's purpose; and
3. t is within P's retention for K (:func:`retention_days`, defaults written
   once here), unless a hold of this case covers C and t.

Exporting evidence and placing holds need the investigator role
(:func:`may_export`, :func:`may_place_hold`); auditors read the audit trail
and nothing else (:func:`may_read_audit`); the indicators are for auditors
and administrators (:func:`may_read_indicators`).
:func:`decide` answers for one camera and a time window: granted or not, the
reason in words, and the authorised sub-windows. ``access/session.py``
gathers the facts from the catalogue and applies these answers.

    >>> from datetime import datetime, timedelta, timezone
    >>> now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    >>> cam = CameraFacts("ANPR-1", owner="PZ5339", kind="anpr")
    >>> d = decide(cam, "plates", user_partner="PZ5339", purpose="judicial-investigation",
    ...            agreements=[], retention_days=365, holds=[], now=now,
    ...            since=now - timedelta(days=2), until=now)
    >>> d.granted, d.reason
    (True, 'own camera of PZ5339')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

Window = tuple[datetime, datetime]
Owner = TypeVar("Owner", str, int)

DEFAULT_RETENTION_DAYS = {"footage": 30, "plates": 365}
DATA_KINDS = tuple(DEFAULT_RETENTION_DAYS)
READ_ROLES = frozenset({"investigator", "analyst", "dispatcher", "trainer"})
EXPORT_ROLES = frozenset({"investigator"})
AUDIT_ROLES = frozenset({"auditor"})
INDICATOR_ROLES = AUDIT_ROLES | {"admin"}
TRAINING_READERS = AUDIT_ROLES | {"trainer"}
_DATA_KIND_OF_CAMERA = {"anpr": "plates"}  # every other kind of camera records footage


@dataclass(frozen=True)
class Verdict:
    """A yes or no of the rule, with the reason in words when it is no."""

    allowed: bool
    reason: str = ""


ALLOWED = Verdict(True)


@dataclass(frozen=True)
class CaseFacts:
    """What the rule needs to know of a case, and of the user's place in it."""

    reference: str
    status: str
    purpose: str
    is_training: bool
    member: bool


def data_kind(camera_kind: str) -> str:
    """The kind of data a camera records: ``plates`` for ANPR cameras, ``footage`` for the others."""
    return _DATA_KIND_OF_CAMERA.get(camera_kind, "footage")


def retention_days(retention: Mapping[tuple[Owner, str], int], owner: Owner, kind: str) -> int:
    """How long ``owner`` (a partner's code or id) keeps ``kind`` data: its own setting, else the default."""
    return retention.get((owner, kind), DEFAULT_RETENTION_DAYS[kind])


def _reads_case_data(role: str, what: str = "read case data") -> Verdict:
    if role in READ_ROLES:
        return ALLOWED
    return Verdict(False, f"the {role} role does not {what}"
                   + (": auditors read the audit trail and nothing else" if role in AUDIT_ROLES else ""))


def may_open_case(role: str, user: str, case: CaseFacts | None, reference: str, purpose: str) -> Verdict:
    """Whether ``user`` (of ``role``) may open the case ``reference`` for ``purpose``.

    ``case`` is None when no such case exists; the refusal then reads the
    same as for a case the user is not a member of.

    >>> case = CaseFacts("PV-1", status="open", purpose="judicial-investigation", is_training=False, member=True)
    >>> may_open_case("investigator", "inspector.dupont", case, "PV-1", "administrative-police").reason
    "case PV-1 is open for the purpose 'judicial-investigation', not 'administrative-police' (purpose limitation)"
    """
    by_role = _reads_case_data(role, "open cases")
    if not by_role.allowed:
        return by_role
    if case is None or not case.member:
        return Verdict(False, f"case {reference!r} does not exist or {user} is not a member of it")
    if case.status != "open":
        return Verdict(False, f"case {reference} is {case.status}")
    if purpose != case.purpose:
        return Verdict(False, f"case {reference} is open for the purpose {case.purpose!r}, not {purpose!r} "
                       "(purpose limitation)")
    if role == "trainer" and not case.is_training:
        return Verdict(False, "trainers work on sample training cases only")
    return ALLOWED


def may_open_bookmark(role: str, user: str, case: CaseFacts | None, bookmark: str) -> Verdict:
    """Whether ``user`` may open the bookmark (or saved search) ``bookmark`` of ``case`` from its link.

    Colleagues on the same case open it, for the case's own purpose, under the rule of :func:`may_open_case`;
    everyone else is refused with the same words whether the bookmark exists or not (a link reveals nothing).

    >>> case = CaseFacts("PV-1", status="open", purpose="judicial-investigation", is_training=False, member=False)
    >>> may_open_bookmark("investigator", "agent.peeters", case, "b1").reason
    'bookmark b1 does not exist or is on a case agent.peeters is not a member of'
    """
    if case is None or not case.member:
        return Verdict(False, f"bookmark {bookmark} does not exist or is on a case {user} is not a member of")
    return may_open_case(role, user, case, case.reference, case.purpose)


def may_read(role: str, case: CaseFacts, *, export: bool = False) -> Verdict:
    """Whether a user of ``role``, in the case opened earlier, may read its data now (or export it)."""
    by_role = _reads_case_data(role)
    if not by_role.allowed:
        return by_role
    if export and not may_export(role).allowed:
        return may_export(role)
    if case.status != "open":
        return Verdict(False, f"case {case.reference} is {case.status}: no more data may be read for it")
    return ALLOWED


def may_export(role: str) -> Verdict:
    """Evidence is exported by investigators (and a custody record is only theirs)."""
    return ALLOWED if role in EXPORT_ROLES else Verdict(False, "exporting evidence needs the investigator role")


def may_place_hold(role: str) -> Verdict:
    """Legal holds are placed by investigators."""
    return ALLOWED if role in EXPORT_ROLES else Verdict(False, "only an investigator places a legal hold")


def may_create_case(role: str, *, training: bool) -> Verdict:
    """Investigators create investigation cases, trainers training cases."""
    wanted = "trainer" if training else "investigator"
    if role == wanted:
        return ALLOWED
    return Verdict(False, f"only an {wanted} creates " + ("training" if training else "investigation") + " cases")


def may_administer(role: str) -> Verdict:
    """Partners, users, agreements and hit policies are administered by administrators."""
    if role == "admin":
        return ALLOWED
    return Verdict(False, f"the {role} role does not administer the platform (administrators do)")


def may_read_audit(role: str) -> Verdict:
    """The whole audit trail is for auditors (every user reads their own events)."""
    return ALLOWED if role in AUDIT_ROLES else Verdict(False, "only auditors read the audit trail of others")


def may_read_training_results(role: str) -> Verdict:
    """Training results (checks and activity of trainees) are for trainers (their own classes) and auditors."""
    if role in TRAINING_READERS:
        return ALLOWED
    return Verdict(False, f"the {role} role does not read training results (trainers and auditors do)")


def may_read_indicators(role: str) -> Verdict:
    """The platform's indicators (counts only) are for auditors and administrators."""
    if role in INDICATOR_ROLES:
        return ALLOWED
    return Verdict(False, f"the {role} role does not read the platform's indicators (auditors and "
                   "administrators do)")


@dataclass(frozen=True)
class CameraFacts:
    """What the rule needs to know of a camera."""

    camera_id: str
    owner: str
    kind: str


@dataclass(frozen=True)
class AgreementFacts:
    """What the rule needs to know of a sharing agreement (owner -> recipient)."""

    owner: str
    recipient: str
    data_kinds: frozenset[str]
    purposes: frozenset[str]
    camera_scope: frozenset[str] | None
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    reference: str

    def state(self, now: datetime) -> str:
        """``active``, ``revoked``, ``expired`` or ``not-yet-valid`` at ``now``."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if self.valid_until is not None and self.valid_until <= now:
            return "expired"
        if self.valid_from > now:
            return "not-yet-valid"
        return "active"


@dataclass(frozen=True)
class Decision:
    """The rule's answer for one camera: granted or not, why, and the visible windows."""

    camera_id: str
    granted: bool
    reason: str
    windows: tuple[Window, ...] = field(default=())


def _agreement_verdict(camera: CameraFacts, kind: str, user_partner: str, purpose: str,
                       agreements: list[AgreementFacts], now: datetime) -> tuple[bool, str]:
    if camera.owner == user_partner:
        return True, f"own camera of {user_partner}"
    candidates = [a for a in agreements if a.owner == camera.owner and a.recipient == user_partner]
    if not candidates:
        return False, f"no sharing agreement from {camera.owner} to {user_partner}"
    refusals = []
    for a in candidates:
        state = a.state(now)
        if state != "active":
            refusals.append(f"agreement {a.reference} is {state}")
        elif kind not in a.data_kinds:
            refusals.append(f"agreement {a.reference} does not cover {kind}")
        elif purpose not in a.purposes:
            refusals.append(f"agreement {a.reference} does not cover the purpose {purpose}")
        elif a.camera_scope is not None and camera.camera_id not in a.camera_scope:
            refusals.append(f"agreement {a.reference} does not cover camera {camera.camera_id}")
        else:
            return True, f"agreement {a.reference} ({camera.owner} -> {user_partner})"
    return False, "; ".join(refusals)


def visible_windows(since: datetime, until: datetime, *, retention_days: int, holds: list[Window],
                    now: datetime) -> tuple[Window, ...]:
    """The parts of [since, until) inside retention or inside one of the holds, merged and sorted."""
    if until <= since:
        return ()
    horizon = now - timedelta(days=retention_days)
    pieces = [(max(since, horizon), until)] + [(max(since, s), min(until, e)) for s, e in holds]
    pieces = sorted((s, e) for s, e in pieces if s < e)
    merged: list[Window] = []
    for s, e in pieces:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return tuple(merged)


def decide(camera: CameraFacts, kind: str, *, user_partner: str, purpose: str,
           agreements: list[AgreementFacts], retention_days: int, holds: list[Window], now: datetime,
           since: datetime, until: datetime) -> Decision:
    """Apply the access rule to one camera for the window [since, until)."""
    allowed, reason = _agreement_verdict(camera, kind, user_partner, purpose, agreements, now)
    if not allowed:
        return Decision(camera.camera_id, False, reason)
    windows = visible_windows(since, until, retention_days=retention_days, holds=holds, now=now)
    if not windows:
        return Decision(camera.camera_id, False,
                        f"{reason}, but the window is outside {camera.owner}'s {retention_days}-day "
                        f"retention for {kind} and no hold of this case covers it")
    return Decision(camera.camera_id, True, reason, windows)
