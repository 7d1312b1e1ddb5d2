"""Verify a package against the workbench that exported it: archive and audit trail.

A custody record vouches for a package only if the export wrote it: an intact
audit event, by an active investigator member of the case, for the case's
purpose, right after that export's own access event (same user, same case).
A record written any other way (by hand into the store, by another role, for
another case) is named and refused.

    >>> report = verify_with_store(store, Path("PV-BR-2026-001234_..."))     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.access import policy
from workbench.access.audit import is_sha256, row_hash
from workbench.access.audit_actions import CUSTODY_ACTION
from workbench.evidence.package import CustodyRecord, Verification, verify_package
from workbench.store import Store
from workbench.store.models import AuditEvent, Case, CaseMember, FootageSegment, Partner, User

EXPORT_ACTION = "export-clip"   # the access event a custody record must follow


def verify_with_store(store: Store, folder: Path, *, case_reference: str | None = None) -> Verification:
    """:func:`verify_package` plus: source segments still archived, a custody record the export wrote.

    With ``case_reference`` only that case's custody records are consulted
    (a case's member verifying a package learns nothing about other cases).
    """
    custody_events = select(AuditEvent).where(AuditEvent.action == CUSTODY_ACTION)
    if case_reference is not None:
        custody_events = custody_events.where(AuditEvent.case_reference == case_reference)
    with store.snapshot() as session:
        sources = {sha: sid for sid, sha in session.execute(select(FootageSegment.id, FootageSegment.sha256))}
        custody: dict[str, CustodyRecord] = {}
        for event in session.execute(custody_events.order_by(AuditEvent.seq)).scalars():
            resource = event.resource if isinstance(event.resource, dict) else {}
            sha = resource.get("manifest_sha256")
            if not is_sha256(sha):
                continue
            clips = resource.get("clips")
            record = CustodyRecord(event.seq, event.user_name, event.case_reference,
                                   tuple(map(str, clips)) if isinstance(clips, list) else (),
                                   custody_problem(session, event), resource.get("camera"))
            if sha not in custody or custody[sha].problem:   # a record that vouches wins over one that does not
                custody[sha] = record
    return verify_package(folder, known_sources=sources, custody=custody)


def custody_problem(session: Session, event: AuditEvent) -> str | None:
    """Why ``event`` is not a custody record written by an export (None when it is)."""
    if row_hash(event) != event.hash or event.outcome != "ok":
        return "its audit event was altered after it was written"
    row = session.execute(select(User, Partner.code).join(Partner, Partner.id == User.partner_id)
                          .where(User.name == event.user_name)).one_or_none()
    if row is None:
        return f"it names {event.user_name!r}, who has no workbench account"
    user, partner = row
    if not policy.may_export(user.role).allowed:
        return f"it was written by {user.name} (role {user.role}): only an investigator's export writes custody"
    if partner != event.partner_code:
        return f"it names partner {event.partner_code}, but {user.name} works for {partner}"
    case = session.execute(select(Case).where(Case.reference == event.case_reference)).scalar_one_or_none()
    member = case is not None and session.execute(select(CaseMember).where(
        CaseMember.case_id == case.id, CaseMember.user_id == user.id)).first() is not None
    if case is None or not member:
        return f"{user.name} is not a member of case {event.case_reference}"
    if event.purpose != case.purpose:
        return f"it names the purpose {event.purpose!r}, the case is open for {case.purpose!r}"
    before = session.get(AuditEvent, event.seq - 1)
    if before is None or before.hash != event.prev_hash or before.action != EXPORT_ACTION \
            or before.outcome != "ok" or (before.user_name, before.case_reference) != \
            (event.user_name, event.case_reference):
        return "it does not follow an export of footage by the same user in the same case"
    read = before.resource.get("cameras") if isinstance(before.resource, dict) else None
    if read != [event.resource.get("camera")]:
        return f"the export before it read {read}, not the package's camera {event.resource.get('camera')}"
    return None
