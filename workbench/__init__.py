"""Investigation workbench of the Brussels-Capital Region video-protection platform.

    >>> import workbench as wb
    >>> ws = wb.open()                                  # doctest: +SKIP
    >>> me = ws.login("inspector.dupont")               # doctest: +SKIP
    >>> case = me.open_case("PV-BR-2026-001234", purpose="judicial-investigation")  # doctest: +SKIP
    >>> case.camera_access()                            # doctest: +SKIP
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
         sample: bool = False, service: str | None = None, token: str | None = None):
    """Open the workbench: a client of the workbench service in a deployment, else the embedded default.

    With ``WORKBENCH_SERVICE_URL`` set (a JupyterHub deployment does) or
    ``service=URL``, it returns a client of the service: ``login()`` then takes
    no name, the hub token (``JUPYTERHUB_API_TOKEN``, or ``token=``) says who
    you are, and the rule is enforced by the service's process.

    Otherwise it opens the embedded workbench (SQLite and files under
    ``WORKBENCH_HOME``), for one person on one machine (training, demos): it
    enforces nothing against its own user, who can read the files directly.
    ``home`` and ``db_url`` override the environment; ``clock`` (a function
    returning an aware datetime) fixes "now" for training and tests;
    ``sample=True`` builds the sample world first when the catalogue is empty.
    """
    import dataclasses

    settings = Settings.from_env(home=home, db_url=db_url)
    if service or token:
        settings = dataclasses.replace(settings, service_url=service or settings.service_url,
                                       api_token=token or settings.api_token)
    if settings.service_url:
        from workbench.service.client import ClientWorkspace

        return ClientWorkspace(settings)
    from workbench.workspace import open_workspace

    return open_workspace(settings, clock=clock, sample=sample)
