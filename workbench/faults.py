"""Named fault points for the reliability tests: inert unless ``WORKBENCH_FAULT`` names one.

The code calls :func:`point` where a crash matters (just before a commit, just
after a file lands in the archive...). A test sets ``WORKBENCH_FAULT`` to
``NAME`` or ``NAME:N`` in a subprocess's environment; the N-th time (default:
the first) that process reaches ``NAME``, it kills itself with SIGKILL, as a
power cut or ``kill -9`` would, with no cleanup and no flush.

    >>> point("plates.before-commit")      # nothing happens unless a test asked for it

This is the one module besides :mod:`workbench.config` that reads the
environment: the variable is a test hook, not a setting.
"""

from __future__ import annotations

import os
import signal

_ENV = "WORKBENCH_FAULT"
_seen: dict[str, int] = {}


def point(name: str) -> None:
    """Kill this process here if ``WORKBENCH_FAULT`` asks for ``name`` (and this is the N-th visit)."""
    wanted = os.environ.get(_ENV)
    if not wanted:
        return
    target, _, nth = wanted.partition(":")
    if target != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
