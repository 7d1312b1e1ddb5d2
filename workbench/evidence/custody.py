"""Verify a package against the workbench that exported it: archive and audit trail.

    >>> report = verify_with_store(store, Path("PV-BR-2026-001234_..."))     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from workbench.access.indicators import EVIDENCE_ACTION
from workbench.evidence.package import Verification, verify_package
from workbench.store import Store
from workbench.store.models import AuditEvent, FootageSegment

CUSTODY_ACTION = EVIDENCE_ACTION   # the audit action of a custody record


def verify_with_store(store: Store, folder: Path) -> Verification:
    """:func:`verify_package` plus: source segments still archived, manifest hash in the audit trail."""
    with store.snapshot() as session:
        sources = {sha: sid for sid, sha in session.execute(select(FootageSegment.id, FootageSegment.sha256))}
        custody = {str(r.get("manifest_sha256")) for r in session.execute(
            select(AuditEvent.resource).where(AuditEvent.action == CUSTODY_ACTION)).scalars() if isinstance(r, dict)}
    return verify_package(folder, known_sources=sources, custody=custody)
