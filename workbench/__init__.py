"""Investigation workbench of the Brussels-Capital Region video-protection platform.

    >>> import workbench as wb
    >>> ws = wb.open()                # WORKBENCH_HOME (the examples here use the sample world)  # doctest: +SKIP
    >>> me = ws.login("inspector.dupont")
    >>> case = me.open_case("PV-BR-2026-001234", purpose="judicial-investigation")
    >>> case.camera_access().query("not granted")["reason"].iloc[0]     # every camera, and why
    'agreement AGR-2024-5340-5339 is expired'
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from workbench import errors
from workbench.config import Settings

try:
    __version__ = version("workbench")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["Settings", "__version__", "errors", "open"]


def open(home: str | Path | None = None, *, db_url: str | None = None, clock=None,  # type: ignore[no-untyped-def]
         sample: bool = False):
    """Open the workbench: the embedded default (SQLite and files under ``WORKBENCH_HOME``).

    ``home`` and ``db_url`` override the environment; ``clock`` (a function
    returning an aware datetime) fixes "now" for training and tests;
    ``sample=True`` builds the sample world first when the catalogue is empty.
    """
    from workbench.workspace import open_workspace

    return open_workspace(Settings.from_env(home=home, db_url=db_url), clock=clock, sample=sample)
