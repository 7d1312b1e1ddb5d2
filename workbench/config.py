"""One validated options object, read once from the environment.

The workbench reads no environment variable anywhere else: every layer takes a
:class:`Settings` (or the paths it carries) as an argument.

    >>> from workbench.config import Settings
    >>> s = Settings.from_env({"WORKBENCH_HOME": "/tmp/wb-demo"})
    >>> s.db_url
    'sqlite:////tmp/wb-demo/workbench.db'
    >>> s.footage_dir.name
    'footage'

Variables:

``WORKBENCH_HOME``
    data directory (catalogue, footage, frame index, caches). Default: the
    per-user data directory (``~/.local/share/workbench`` on Linux).
``WORKBENCH_DB_URL``
    SQLAlchemy URL of the catalogue; default SQLite in ``WORKBENCH_HOME``.
    ``postgresql+psycopg://user@host/db`` for a shared deployment.
``WORKBENCH_USER``
    identity used by the audited kernel and the apps when JupyterHub's
    ``JUPYTERHUB_USER`` is not set.
``WORKBENCH_TILES``
    base map: ``urbis`` (default), ``osm``, ``none`` (vector layers only) or a
    tile URL template for a closed network (``https://tiles.local/{z}/{x}/{y}.png``).
``WORKBENCH_LANG``
    language of the widgets and apps (``fr``, ``nl``, ``en``); an app's
    address (``?lang=nl``, which Voila hands over as ``QUERY_STRING``) wins.
``WORKBENCH_MAP_ASSETS``
    set by ``workbench apps`` for its kernels: the address (relative to an app's
    page) of the Leaflet and street layer files it publishes, which maps then
    link instead of carrying them inline (``workbench.maps.map_assets``).
``WORKBENCH_ANCHOR_DIR``
    directory of the signed anchors of the audit chain (``anchors.jsonl`` and
    its Ed25519 key), kept apart from the database; unset: no anchoring.
``WORKBENCH_URBIS_WMS`` / ``WORKBENCH_URBIS_WMTS``
    UrbIS service endpoints, for a mirror inside a closed network.
``WORKBENCH_SERVICE_URL``
    in a deployment, the address of the workbench service: ``workbench.open()``
    then returns a client of it and the token (``JUPYTERHUB_API_TOKEN``, or
    ``WORKBENCH_API_TOKEN``) says who the user is.
``WORKBENCH_SERVICE_TOKENS``
    for the service without a hub (tests, demos): a file owned by the service
    mapping token SHA-256 to user (see ``workbench.service.identity``).
``WORKBENCH_DASK_SCHEDULER``
    address of a Dask scheduler (``tcp://host:8786``) that ``workbench index build``
    spreads its work over; default: a LocalCluster on this machine.
``WORKBENCH_WORKER_TOKEN`` / ``WORKBENCH_WORKER_TOKENS``
    the credential that index workers on a cluster present to the service to fetch
    footage (the builder's side), and the service's table of accepted worker tokens.
``JUPYTERHUB_API_URL`` / ``JUPYTERHUB_SERVICE_NAME``
    set by JupyterHub for the service: where to check a user's token, and the
    service's name in the hub (its access scope).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from workbench.errors import ConfigurationError

URBIS_WMS = "https://geoservices-urbis.irisnet.be/geoserver/BaseMaps/ows"
URBIS_ORTHO_WMS = "https://geoservices-urbis.irisnet.be/geoserver/urbisgrid/ows"
URBIS_WMTS = "https://geoservices-urbis.irisnet.be/geowebcache/service/wmts"


def _default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("workbench", appauthor=False))


LANGUAGES = ("fr", "nl", "en")


def _language(env: Mapping[str, str]) -> str:
    asked = parse_qs(env.get("QUERY_STRING", "")).get("lang", [env.get("WORKBENCH_LANG", "fr")])[0].lower()
    return asked if asked in LANGUAGES else "fr"


@dataclass(frozen=True)
class Settings:
    """Where the workbench keeps its data and which services it talks to."""

    home: Path
    db_url: str
    user: str | None = None
    tiles: str = "urbis"
    urbis_wms: str = URBIS_WMS
    urbis_ortho_wms: str = URBIS_ORTHO_WMS
    urbis_wmts: str = URBIS_WMTS
    lang: str = "fr"
    extra: Mapping[str, str] = field(default_factory=dict)
    service_url: str | None = None
    api_token: str | None = field(default=None, repr=False)
    service_tokens: Path | None = None
    hub_api_url: str | None = None
    service_name: str = "workbench"
    anchor_dir: Path | None = None
    dask_scheduler: str | None = None
    worker_token: str | None = field(default=None, repr=False)
    worker_tokens: Path | None = None
    bookmark: str | None = None   # an app's address may name a bookmark to reopen (``?bookmark=...``)
    map_assets: str | None = None   # maps link Leaflet and the street layer here instead of inlining them

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, home: Path | str | None = None,
                 db_url: str | None = None) -> Settings:
        """Build the settings from ``env`` (default ``os.environ``); arguments win."""
        env = os.environ if env is None else env
        home_path = Path(home or env.get("WORKBENCH_HOME") or _default_home()).expanduser()
        url = db_url or env.get("WORKBENCH_DB_URL") or f"sqlite:///{home_path / 'workbench.db'}"
        if "://" not in url:
            raise ConfigurationError(
                f"WORKBENCH_DB_URL {url!r} is not a database URL; expected e.g. "
                "'sqlite:///path/workbench.db' or 'postgresql+psycopg://user@host/db'")
        tiles = env.get("WORKBENCH_TILES", "urbis").strip() or "urbis"
        if tiles not in {"urbis", "osm", "none"} and not ("{z}" in tiles and "{x}" in tiles):
            raise ConfigurationError(
                f"WORKBENCH_TILES {tiles!r} is neither 'urbis', 'osm', 'none' nor a tile URL "
                "template with {z}, {x} and {y}")
        return cls(
            home=home_path,
            db_url=url,
            user=env.get("JUPYTERHUB_USER") or env.get("WORKBENCH_USER") or None,
            tiles=tiles,
            urbis_wms=env.get("WORKBENCH_URBIS_WMS", URBIS_WMS),
            urbis_ortho_wms=env.get("WORKBENCH_URBIS_ORTHO_WMS", URBIS_ORTHO_WMS),
            urbis_wmts=env.get("WORKBENCH_URBIS_WMTS", URBIS_WMTS),
            lang=_language(env),
            service_url=env.get("WORKBENCH_SERVICE_URL") or None,
            api_token=env.get("JUPYTERHUB_API_TOKEN") or env.get("WORKBENCH_API_TOKEN") or None,
            service_tokens=Path(env["WORKBENCH_SERVICE_TOKENS"]) if env.get("WORKBENCH_SERVICE_TOKENS") else None,
            hub_api_url=env.get("JUPYTERHUB_API_URL") or None,
            service_name=env.get("JUPYTERHUB_SERVICE_NAME") or "workbench",
            anchor_dir=Path(env["WORKBENCH_ANCHOR_DIR"]).expanduser() if env.get("WORKBENCH_ANCHOR_DIR") else None,
            dask_scheduler=env.get("WORKBENCH_DASK_SCHEDULER") or None,
            worker_token=env.get("WORKBENCH_WORKER_TOKEN") or None,
            worker_tokens=Path(env["WORKBENCH_WORKER_TOKENS"]) if env.get("WORKBENCH_WORKER_TOKENS") else None,
            bookmark=parse_qs(env.get("QUERY_STRING", "")).get("bookmark", [None])[0],
            map_assets=env.get("WORKBENCH_MAP_ASSETS") or None,
        )

    @property
    def footage_dir(self) -> Path:
        """Ingested footage files, one folder per camera."""
        return self.home / "footage"

    @property
    def index_dir(self) -> Path:
        """Frame index files (motion grids, object events, descriptors)."""
        return self.home / "index"

    @property
    def cache_dir(self) -> Path:
        """Derived caches that can be rebuilt (road graph, distance matrices)."""
        return self.home / "cache"

    @property
    def evidence_dir(self) -> Path:
        """Exported evidence packages."""
        return self.home / "evidence"
