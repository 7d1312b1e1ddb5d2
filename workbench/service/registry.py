"""Which facade methods the service serves, and the check of a call's arguments.

One table for both sides: the service dispatches a call only to a method named
here, after binding its arguments to the embedded method's own signature; the
client builds its thin proxies from the same table, so a method added here is
served and proxied with no other code.

    >>> check_call("case", "plate_reads", ("1-ABC-23?",), {"fuzzy": True})
    >>> check_call("case", "sightings", (), {"action": "anything"})
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidInput: sightings() does not take action= through the workbench service
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any

from workbench.access import UserSession
from workbench.access.admin import AdminSession
from workbench.errors import InvalidInput
from workbench.workspace import Case


@dataclass(frozen=True)
class Remote:
    """A served method; ``withheld`` parameters are never taken from a caller (the service decides them)."""

    withheld: frozenset[str] = frozenset()


# the user's session: cases, and for auditors and administrators the trail and the indicators; the audited
# kernel's cell record (``note_cell``, where the access layer has it: the one event a notebook writes itself)
SESSION: dict[str, Remote] = {name: Remote() for name in (
    "cases", "open_case", "create_case", "my_audit_trail", "audit_events", "indicators", "verify_audit",
    "note_cell", "training_results", "training_activity", "admin") if hasattr(UserSession, name)}
# an open case: every analysis of the facade (each reads through the case's audited access)
CASE: dict[str, Remote] = {name: Remote() for name in (
    "camera_access", "cameras", "plate_reads", "hits", "audit_trail", "place_hold", "footage", "frame",
    "frames_at", "frame_search", "trajectory", "convoy", "stakeout", "common_plates", "locate", "cloned_plates",
    "verify_evidence", "results_file", "check_training", "triage_hit")}
CASE["sightings"] = Remote(frozenset({"action", "query", "within"}))   # the audit's words are the facade's
CASE["export_clip"] = Remote(frozenset({"folder"}))                    # the service keeps the evidence store
CASE["plate_crops"] = Remote()                                         # crops of plates read on footage
SESSION["open_bookmark"] = Remote()                                     # a colleague's link, the case rule applied
CASE.update({name: Remote() for name in ("playback", "report", "audit_summary", "bookmark", "save_search",
                                         "bookmarks")})                 # playback, the PDF report, bookmarks
# administration (administrators only: the service opens ``UserSession.admin()`` for each call, audited)
ADMIN: dict[str, Remote] = {name: Remote() for name in (
    "partners", "users", "agreements", "add_partner", "set_user", "add_agreement", "revoke_agreement",
    "set_hit_policy")}
TARGETS: dict[str, tuple[type, dict[str, Remote]]] = {"session": (UserSession, SESSION), "case": (Case, CASE),
                                                      "admin": (AdminSession, ADMIN)}


@functools.cache
def _signature(cls: type, method: str) -> inspect.Signature:
    """The embedded method's signature (read once per method: the service checks every call against it)."""
    return inspect.signature(getattr(cls, method))


def check_call(target: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse (InvalidInput) a call to anything not served, or with arguments the method does not take."""
    if target not in TARGETS:
        raise InvalidInput(f"the workbench service serves sessions, cases and administration, not {target!r}")
    cls, methods = TARGETS[target]
    if not isinstance(method, str) or method not in methods:
        raise InvalidInput(f"{method!r} is not a method the workbench service serves "
                           f"(served: {', '.join(sorted(methods))})")
    if not isinstance(args, tuple) or not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise InvalidInput("a call's arguments are a tuple and a mapping of names")
    refused = sorted(set(kwargs) & methods[method].withheld)
    if refused:
        raise InvalidInput(f"{method}() does not take {', '.join(f'{n}=' for n in refused)} through the "
                           "workbench service")
    signature = _signature(cls, method)
    try:
        signature.bind(None, *args, **kwargs)
    except TypeError as exc:
        raise InvalidInput(f"{method}(): {exc}") from None
    positional = set(list(signature.parameters)[1:len(args) + 1])
    if positional & methods[method].withheld:
        raise InvalidInput(f"{method}() does not take {', '.join(sorted(positional & methods[method].withheld))} "
                           "through the workbench service")
