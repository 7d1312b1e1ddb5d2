"""Administration through the access layer: partners, users and roles, agreements, revocation, hit policies.

Only an administrator gets an :class:`AdminSession` (``me.admin()``; refused
and audited for anyone else). Each change is written with its audit event in
one transaction, and the access rule reads the catalogue on every access, so a
revocation or a role change holds from the next call on.

    >>> admin = ws.login("admin.willems").admin()                                    # doctest: +SKIP
    >>> admin.add_agreement("STIB", "PZ5339", kinds=["footage"], purposes=["judicial-investigation"],
    ...                     valid_from="2026-01-01", authorisation_ref="COC-2026-0042")  # doctest: +SKIP
    >>> admin.revoke_agreement(7, reason="ended by the owner")                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.access import audit
from workbench.errors import InvalidInput, NotFound
from workbench.store import Store
from workbench.store.models import DATA_KINDS, PURPOSES, ROLES, Agreement, Partner, User
from workbench.timeutil import as_utc

if TYPE_CHECKING:
    from workbench.access.session import UserInfo

PRIORITIES = frozenset(range(5))


class AdminSession:
    """An administrator's audited changes to who may see what (obtained from ``UserSession.admin()``)."""

    def __init__(self, store: Store, user: "UserInfo", now: Callable[[], datetime]) -> None:
        self._store, self.user, self._now = store, user, now

    def __repr__(self) -> str:
        return f"<AdminSession {self.user.name} ({self.user.partner})>"

    @property
    def _actor(self) -> audit.Actor:
        return audit.Actor(self.user.name, self.user.partner)

    @contextmanager
    def _change(self, action: str, resource: dict[str, Any]) -> Iterator[Session]:
        """One transaction holding the change and its audit event; a refusal is audited on its own."""
        with audit.refusals_audited(self._store, self._actor, action, resource, self._now), \
                self._store.session() as session:
            yield session
            audit.append(session, self._actor, action, time=self._now(), resource=resource)

    # -- reading ------------------------------------------------------------------------------------
    def _listing(self, what: str, rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
        audit.record(self._store, self._actor, "admin-list", time=self._now(), resource={"list": what},
                     result_count=len(rows))
        return pd.DataFrame(rows, columns=columns)

    def partners(self) -> pd.DataFrame:
        """Every partner: code, name, kind, zone and hotlist hit policy."""
        with self._store.session() as session:
            rows = [{"code": p.code, "name": p.name, "kind": p.kind, "zone": p.zone_code, "hit_policy": p.hit_policy}
                    for p in session.execute(select(Partner).order_by(Partner.code)).scalars()]
        return self._listing("partners", rows, ["code", "name", "kind", "zone", "hit_policy"])

    def users(self) -> pd.DataFrame:
        """Every account: name, full name, partner, role, active."""
        with self._store.session() as session:
            rows = [{"name": u.name, "full_name": u.full_name, "partner": code, "role": u.role, "active": u.active}
                    for u, code in session.execute(select(User, Partner.code)
                                                   .join(Partner, Partner.id == User.partner_id).order_by(User.name))]
        return self._listing("users", rows, ["name", "full_name", "partner", "role", "active"])

    def agreements(self) -> pd.DataFrame:
        """Every sharing agreement with its authorisation reference and revocation."""
        with self._store.session() as session:
            codes = dict(session.execute(select(Partner.id, Partner.code)).all())
            rows = [{"id": a.id, "owner": codes[a.owner_id], "recipient": codes[a.recipient_id],
                     "kinds": list(a.data_kinds), "purposes": list(a.purposes), "cameras": a.camera_scope,
                     "valid_from": a.valid_from, "valid_until": a.valid_until,
                     "authorisation_ref": a.authorisation_ref, "revoked_at": a.revoked_at,
                     "revocation_reason": a.revocation_reason}
                    for a in session.execute(select(Agreement).order_by(Agreement.id)).scalars()]
        return self._listing("agreements", rows, ["id", "owner", "recipient", "kinds", "purposes", "cameras",
                                                  "valid_from", "valid_until", "authorisation_ref", "revoked_at",
                                                  "revocation_reason"])

    # -- changing -----------------------------------------------------------------------------------
    def add_partner(self, code: str, name: str, kind: str, zone: int | None = None) -> None:
        """Add a partner (a police zone, an operator...) that may own cameras or receive data."""
        resource = {"code": code, "name": name, "kind": kind, "zone": zone}
        with self._change("admin-partner", resource) as session:
            if not code or not name or not kind:
                raise InvalidInput("a partner needs a code, a name and a kind")
            if session.execute(select(Partner.id).where(Partner.code == code)).first():
                raise InvalidInput(f"a partner {code!r} exists already")
            session.add(Partner(code=code, name=name, kind=kind, zone_code=zone))

    def set_user(self, name: str, *, full_name: str | None = None, partner: str | None = None,
                 role: str | None = None, active: bool | None = None) -> None:
        """Create an account (full name, partner and role needed) or change its partner, role or activity."""
        resource = {"user": name, "full_name": full_name, "partner": partner, "role": role, "active": active}
        with self._change("admin-user", resource) as session:
            if role is not None and role not in ROLES:
                raise InvalidInput(f"unknown role {role!r}: one of {', '.join(ROLES)}")
            partner_id = None if partner is None else _partner_id(session, partner)
            user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
            if user is None:
                if not (name and full_name and partner_id and role):
                    raise InvalidInput(f"a new account {name!r} needs a full name, a partner and a role")
                session.add(User(name=name, full_name=full_name, partner_id=partner_id, role=role,
                                 active=True if active is None else active))
                return
            if name == self.user.name and (role not in (None, "admin") or active is False):
                raise InvalidInput("an administrator does not remove their own administration rights")
            for attribute, value in (("full_name", full_name), ("partner_id", partner_id), ("role", role),
                                     ("active", active)):
                if value is not None:
                    setattr(user, attribute, value)

    def add_agreement(self, owner: str, recipient: str, *, kinds: Iterable[str], purposes: Iterable[str],
                      valid_from: datetime | str, authorisation_ref: str, valid_until: datetime | str | None = None,
                      cameras: Iterable[str] | None = None) -> int:
        """Record a sharing agreement under its authorisation reference; returns its id."""
        kinds, purposes = sorted(set(kinds)), sorted(set(purposes))
        scope = None if cameras is None else sorted(set(cameras))
        resource = {"owner": owner, "recipient": recipient, "kinds": kinds, "purposes": purposes, "cameras": scope,
                    "valid_from": valid_from, "valid_until": valid_until, "authorisation_ref": authorisation_ref}
        with self._change("admin-agreement", resource) as session:
            if not kinds or set(kinds) - set(DATA_KINDS):
                raise InvalidInput(f"data kinds {kinds}: choose among {', '.join(DATA_KINDS)}")
            if not purposes or set(purposes) - set(PURPOSES):
                raise InvalidInput(f"purposes {purposes}: choose among {', '.join(PURPOSES)}")
            if not str(authorisation_ref or "").strip():
                raise InvalidInput("an agreement needs the reference of its authorisation (e.g. the COC decision)")
            start = as_utc(valid_from)
            end = None if valid_until is None else as_utc(valid_until)
            if end is not None and end <= start:
                raise InvalidInput("the agreement ends before it starts")
            agreement = Agreement(owner_id=_partner_id(session, owner), recipient_id=_partner_id(session, recipient),
                                  data_kinds=kinds, purposes=purposes, camera_scope=scope, valid_from=start,
                                  valid_until=end, authorisation_ref=authorisation_ref.strip())
            session.add(agreement)
            session.flush()
            resource["id"] = agreement.id
        return int(resource["id"])

    def revoke_agreement(self, agreement_id: int, *, reason: str) -> None:
        """Revoke an agreement now, with the reason; no access under it is granted from now on."""
        resource = {"id": agreement_id, "reason": reason}
        with self._change("admin-revoke", resource) as session:
            if not str(reason or "").strip():
                raise InvalidInput("a revocation needs its reason")
            agreement = session.get(Agreement, agreement_id)
            if agreement is None:
                raise NotFound(f"no agreement with id {agreement_id}")
            if agreement.revoked_at is not None:
                raise InvalidInput(f"agreement {agreement_id} was revoked already on {agreement.revoked_at:%Y-%m-%d}")
            agreement.revoked_at, agreement.revocation_reason = self._now(), reason.strip()

    def set_hit_policy(self, zone: str, *, act_on: Iterable[int], ignore: Iterable[int],
                       own_list_only: Iterable[int] = ()) -> None:
        """Set which hotlist priorities (0-4) a zone acts on, ignores, or keeps only when on its own list."""
        policy = {"act_on": sorted(set(act_on)), "ignore": sorted(set(ignore)),
                  "own_list_only": sorted(set(own_list_only))}
        with self._change("admin-hit-policy", {"zone": zone, **policy}) as session:
            given = [p for values in policy.values() for p in values]
            if not set(given) <= PRIORITIES or len(given) != len(set(given)):
                raise InvalidInput("priorities are 0 to 4, each in one list only (act on, ignore, own list only)")
            partner = session.execute(select(Partner).where(Partner.code == zone)).scalar_one_or_none()
            if partner is None:
                raise NotFound(f"no partner {zone!r}")
            partner.hit_policy = policy


def _partner_id(session: Session, code: str) -> int:
    found = session.execute(select(Partner.id).where(Partner.code == code)).scalar()
    if found is None:
        raise NotFound(f"no partner {code!r}")
    return int(found)
