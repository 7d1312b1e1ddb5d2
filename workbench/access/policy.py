"""The access rule, as one pure function over plain values.

A user sees data of camera C, owned by partner P, of kind K (footage or
plates), at time t, only if

1. the user is a member of the open case and their role may read case data;
2. P is the user's own partner, or an agreement P -> user's partner is active
   now, covers K, covers C and covers the case's purpose; and
3. t is within P's retention for K, unless a hold of this case covers C and t.

:func:`decide` answers for one camera and a time window: granted or not, the
reason in words, and the authorised sub-windows.

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

from dataclasses import dataclass, field
from datetime import datetime, timedelta

Window = tuple[datetime, datetime]

DEFAULT_RETENTION_DAYS = {"footage": 30, "plates": 365}
READ_ROLES = frozenset({"investigator", "analyst", "dispatcher", "trainer"})
EXPORT_ROLES = frozenset({"investigator"})
AUDIT_ROLES = frozenset({"auditor"})


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
