"""Voila's helper a preheated app kernel waits in for its visitor (:func:`wait_for_request`), imported once.

Importing it imports Jupyter Server, whose event schemas load jsonschema's
format checkers; the IRI checker (``rfc3987_syntax``) builds about forty
parsers when imported: 2-3 s of CPU, in every preheated kernel, for a format
nothing in a kernel checks. jsonschema goes without it. The apps' fork server
imports this module (``workbench apps``), so its kernels find it done.

    from workbench.widgets.voila_request import wait_for_request
    wait_for_request()      # outside a preheated kernel (a notebook, nbval): returns at once
"""

from __future__ import annotations

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

try:
    from voila.utils import wait_for_request as _wait
except ImportError:   # the workbench without its apps extra
    _wait = None


def wait_for_request() -> None:
    """In a preheated Voila kernel, wait for the visitor's request (Voila then puts it in the environment)."""
    if _wait is not None:
        _wait()
