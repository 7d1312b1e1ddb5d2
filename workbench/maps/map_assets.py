"""What every map page needs besides its own layers: Leaflet, jQuery, Leaflet's CSS and the street layer.

Two ways to carry them:

* inline (the default): data URIs and the street layer's JSON in the page,
  so a map drawn in a notebook or saved to a file is self-contained and needs
  no server;
* linked: ``<script src>`` to files a server publishes (``workbench apps``
  writes them with :func:`publish` into its page template's static folder,
  served with a long cache lifetime). Each map of an app then weighs a few
  kilobytes instead of a megabyte, and the browser fetches the shared parts
  once, not with every search.

    >>> from workbench.maps.map_assets import asset_urls
    >>> urls = asset_urls("../static", "{}")
    >>> urls.streets.startswith("../static/streets.js?v=")
    True

The linked files carry their content's digest in the address (``?v=``), so
a new Leaflet or a new street extract is fetched again.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

_STATIC = files("workbench") / "maps" / "static"
STREETS_GLOBAL = "wbStreetLayer"
"""The name of the global the linked street layer file defines."""

# the layer-control button, drawn here so that it shows with no image file to fetch
_LAYERS_ICON = ("<svg xmlns='http://www.w3.org/2000/svg' width='26' height='26' viewBox='0 0 26 26'>"
                "<path d='M13 4 23 9 13 14 3 9Z' fill='#5c8fd6' stroke='#1d4f80'/>"
                "<path d='M3 13 13 18 23 13M3 17 13 22 23 17' fill='none' stroke='#1d4f80' stroke-width='2'/></svg>")


def data_uri(data: bytes, mime: str) -> str:
    """``data`` as a ``data:`` URI."""
    return f"data:{mime};base64," + base64.b64encode(data).decode()


@lru_cache(maxsize=1)
def _files() -> dict[str, bytes]:
    """The shared files by published name (Leaflet's CSS with its layer icon drawn inline)."""
    icon = f"url({data_uri(_LAYERS_ICON.encode(), 'image/svg+xml')})"
    css = (_STATIC / "leaflet.css").read_text(encoding="utf-8")
    css = css.replace("url(images/layers.png)", icon).replace("url(images/layers-2x.png)", icon)
    return {name: (_STATIC / name).read_bytes() for name in ("leaflet.js", "jquery.min.js")} | \
        {"leaflet.css": css.encode()}


def _streets_file(street_json: str) -> bytes:
    return f"window.{STREETS_GLOBAL} = {street_json};\n".encode()


def _version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True)
class AssetUrls:
    """Where a map page finds its shared parts: data URIs (inline) or addresses (linked)."""

    js: list[tuple[str, str]]
    css: list[tuple[str, str]]
    streets: str | None   # the street layer file's address; None: the layer's JSON goes in the page


@lru_cache(maxsize=1)
def inline_assets() -> AssetUrls:
    """Leaflet, jQuery and the CSS as data URIs; the street layer in the page."""
    shared = _files()
    return AssetUrls([("leaflet", data_uri(shared["leaflet.js"], "text/javascript")),
                      ("jquery", data_uri(shared["jquery.min.js"], "text/javascript"))],
                     [("leaflet_css", data_uri(shared["leaflet.css"], "text/css"))], None)


@lru_cache(maxsize=4)
def asset_urls(prefix: str, street_json: str) -> AssetUrls:
    """The addresses under ``prefix`` of the files :func:`publish` wrote (each with its version)."""
    shared = _files()

    def url(name: str, data: bytes) -> str:
        return f"{prefix.rstrip('/')}/{name}?v={_version(data)}"
    return AssetUrls([("leaflet", url("leaflet.js", shared["leaflet.js"])),
                      ("jquery", url("jquery.min.js", shared["jquery.min.js"]))],
                     [("leaflet_css", url("leaflet.css", shared["leaflet.css"]))],
                     url("streets.js", _streets_file(street_json)))


def publish(folder: Path, street_json: str) -> Path:
    """Write the shared files into ``folder`` (a server's static folder); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in {**_files(), "streets.js": _streets_file(street_json)}.items():
        target = folder / name
        if not target.exists() or target.read_bytes() != data:
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
    return folder
