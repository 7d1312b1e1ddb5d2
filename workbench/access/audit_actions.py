"""The closed vocabulary of the audit trail: every action an event may name, with what it means.

:func:`workbench.access.audit.append` refuses any other action, so a typo or a
made-up action cannot enter the trail, and an auditor reading the report knows
what each line stands for.

    >>> from workbench.access.audit_actions import ACTIONS, describe
    >>> describe("open-case")
    'a case opened for a stated purpose'
    >>> "delete-everything" in ACTIONS
    False

Outcomes are closed too: ``ok``, ``denied`` (a rule refused it) and ``error``
(bad input or a failure; the reason says which).
"""

from __future__ import annotations

from types import MappingProxyType

from workbench.errors import InvalidInput

CUSTODY_ACTION = "evidence-package"       # the chain-of-custody record of an exported package
CELL_ACTION = "notebook-cell"             # a cell run in the audited kernel (hash only)
TRAINING_CHECK_ACTION = "training-check"  # a training exercise's result, judged by Case.check_training

ACTIONS: MappingProxyType[str, str] = MappingProxyType({
    # identity and cases
    "login": "a user logged in (or was refused)",
    "list-cases": "the cases the user is a member of were listed",
    "open-case": "a case opened for a stated purpose",
    "create-case": "a new case created, with its members",
    "place-hold": "a legal hold placed on a camera's data for a case",
    # reads of case data (each one through CaseScope.access)
    "camera-access": "which cameras the case may see, and why",
    "read-sightings": "plate sightings read",
    "plate-reads": "sightings of a plate query (exact, wildcard or fuzzy)",
    "hits": "hotlist hits read with the zone's policy",
    "hit-acknowledge": "a hotlist hit acknowledged by a case member, with the reason (the case's triage)",
    "hit-dismiss": "a hotlist hit dismissed by a case member, with the reason (the case's triage)",
    "convoy": "sightings around a plate's passages, to find vehicles travelling with it",
    "stakeout": "every plate seen at some cameras in a window",
    "common-plates": "plates present in several places",
    "locate-statistics": "sightings read to estimate where a plate goes next",
    "cloned-plates": "sightings read to find plates in two places at once",
    "list-footage": "the archived footage segments of the case's cameras listed",
    "frame": "one video frame read",
    "frames-at": "frames of the cameras near a place at one moment",
    "frame-search": "the frame index searched for moving objects",
    "export-clip": "footage read to export an evidence clip",
    CUSTODY_ACTION: "chain-of-custody record of an exported evidence package (written by the export only)",
    "export-results": "sightings or a trajectory exported to a file (format, rows, the file's SHA-256)",
    "playback": "footage read to play clips in the browser (a camera and its neighbours over one window)",
    "export-report": "a case report written as PDF (what it covers, pages, the file's SHA-256)",
    "case-audit-summary": "the counts of a case's audit events (per action and outcome) read by a member",
    "save-bookmark": "a bookmark (frame, sighting, note) or a saved search added to a case",
    "list-bookmarks": "the bookmarks and saved searches of a case listed",
    "open-bookmark": "a bookmark or saved search opened from its link (refused to anyone not on its case)",
    "bench-day": "a benchmark read a day of sightings",
    "bench-accuracy": "a benchmark read sightings with their source reads",
    # audit trail and indicators
    "read-own-audit": "a user read their own audit events",
    "read-audit": "an auditor read the audit trail",
    "verify-audit": "the hash chain of the audit trail was verified",
    "audit-anchor": "a signed anchor of the chain head written outside the database",
    "read-indicators": "the platform's indicators read (counts only)",
    CELL_ACTION: "a cell ran in the audited kernel (its SHA-256, length, count and status; never its text)",
    # training
    TRAINING_CHECK_ACTION: "a trainee's answer to a training exercise checked against their training case",
    "read-training-results": "a trainer or auditor read the training checks and activity of training cases",
    # platform operations
    "sample-build": "the sample world built",
    "plates-ingest": "an ANPR feed file ingested",
    "hotlist-load": "a hotlist loaded",
    "footage-ingest": "video files archived",
    "index-build": "the frame index built",
    "index-footage-read": "an index worker fetched a footage segment from the service to index it",
    "evidence-verify": "an evidence package verified against the archive and the trail",
    "retention-purge": "expired data deleted",
    "retention-purge-dry-run": "expired data listed (nothing deleted)",
    # administration (AdminSession)
    "admin-session": "an administration session opened (or refused to a non-administrator)",
    "admin-list": "an administrator listed partners, users or agreements",
    "admin-partner": "a partner added or changed",
    "admin-user": "a user added or changed (role, partner, active)",
    "admin-agreement": "a sharing agreement added, with its authorisation reference",
    "admin-revoke": "a sharing agreement revoked, with the reason",
    "admin-hit-policy": "a zone's hotlist hit policy set",
    # the workbench service
    "service-request": "a request the workbench service refused before any facade method ran (token, size, "
                       "malformed call, a method not served, a login under another name, an evidence file), "
                       "a count of requests held back after refused tokens, or a call cut off at its time limit",
})

OUTCOMES = frozenset({"ok", "denied", "error"})


def describe(action: str) -> str:
    """What ``action`` means in the audit trail; InvalidInput for an action outside the vocabulary."""
    check(action)
    return ACTIONS[action]


def check(action: str, outcome: str = "ok") -> None:
    """Refuse an action or outcome outside the closed vocabulary."""
    if action not in ACTIONS:
        raise InvalidInput(f"{action!r} is not an audit action (see workbench.access.audit_actions)")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"{outcome!r} is not an audit outcome: one of {', '.join(sorted(OUTCOMES))}")
