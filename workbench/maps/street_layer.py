"""A street base map that needs no tile server: drawn from the shipped OpenStreetMap extract.

Streets by class (motorway, primary, secondary, tertiary, residential), rail,
water and parks are read once from ``workbench/data/roads/*.osm.pbf``
(pyosmium), simplified, delta-encoded in whole 1e-5 degrees (about a metre)
and cached as one compact JSON file under the cache directory. Each map
carries it inline and draws it on a canvas below the tile layers, so named
tiles (UrbIS, a closed-network URL) cover it when they load and the streets
show when they do not::

    >>> layer = street_layer(settings.cache_dir)          # doctest: +SKIP
    >>> sorted(layer["lines"])                            # doctest: +SKIP
    ['motorway', 'primary', 'rail', 'residential', 'secondary', 'tertiary', 'water']

Data: © OpenStreetMap contributors, ODbL.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from branca.element import MacroElement
from jinja2 import Template
from shapely.geometry import LineString, Polygon

from workbench.maps.map_assets import STREETS_GLOBAL
from workbench.trajectories.road_graph import PBF

ATTRIBUTION = "© OpenStreetMap contributors"
_CACHE_VERSION = "1"
# OSM highway tag -> drawn class (the drawn classes, most important first)
STREET_CLASSES = {
    "motorway": "motorway", "motorway_link": "motorway", "trunk": "motorway", "trunk_link": "motorway",
    "primary": "primary", "primary_link": "primary", "secondary": "secondary", "secondary_link": "secondary",
    "tertiary": "tertiary", "tertiary_link": "tertiary", "unclassified": "residential",
    "residential": "residential", "living_street": "residential", "pedestrian": "residential",
}
_RAIL = {"rail", "light_rail", "narrow_gauge"}
_WATERWAYS = {"river", "canal"}
_WATER_AREAS = {("natural", "water"), ("waterway", "riverbank"), ("landuse", "reservoir"), ("landuse", "basin")}
_PARK_AREAS = {("leisure", "park"), ("leisure", "garden"), ("landuse", "grass"), ("landuse", "forest"),
               ("natural", "wood"), ("landuse", "recreation_ground"), ("landuse", "cemetery")}
_LABELLED = {"motorway", "primary", "secondary"}
_TOLERANCE = 2e-5          # simplification, degrees (about 2 m)
_MIN_AREA_M2 = 2500.0      # smaller parks and ponds are left out
_LABEL_CELL = 0.006        # one label per street name per cell of about 600 m


def _encode(coords: list[tuple[float, float]]) -> list[int]:
    """(lon, lat) pairs as a flat list: first lat, lon in 1e-5 degrees, then differences."""
    out: list[int] = []
    plat = plon = 0
    for lon, lat in coords:
        ilat, ilon = round(lat * 1e5), round(lon * 1e5)
        out += [ilat - plat, ilon - plon]
        plat, plon = ilat, ilon
    return out


def _area_kind(tags) -> str | None:  # type: ignore[no-untyped-def]
    for key, value in ((k, tags.get(k)) for k in ("natural", "waterway", "landuse", "leisure")):
        if (key, value) in _WATER_AREAS:
            return "water"
        if (key, value) in _PARK_AREAS:
            return "park"
    return None


def build_street_layer(pbf: Path) -> dict:
    """Read ``pbf`` and return the drawn layer: encoded lines per class, areas, and street labels."""
    import osmium

    lines: dict[str, list[list[int]]] = defaultdict(list)
    areas: dict[str, list[list[int]]] = defaultdict(list)
    labels: dict[tuple[str, int, int], tuple[float, float, float, str]] = {}

    class Handler(osmium.SimpleHandler):
        def way(self, w) -> None:  # type: ignore[no-untyped-def]
            tags = w.tags
            kind = STREET_CLASSES.get(tags.get("highway", ""))
            if kind is None and tags.get("railway") in _RAIL and tags.get("tunnel") != "yes" \
                    and not tags.get("service"):
                kind = "rail"
            if kind is None and tags.get("waterway") in _WATERWAYS and tags.get("tunnel") != "yes":
                kind = "water"
            if kind is None or tags.get("area") == "yes":
                return
            coords = [(n.lon, n.lat) for n in w.nodes if n.location.valid()]
            if len(coords) < 2:
                return
            line = LineString(coords)
            lines[kind].append(_encode(list(line.simplify(_TOLERANCE).coords)))
            name = tags.get("name", "")
            if kind in _LABELLED and name:
                length = line.length
                mid = line.interpolate(0.5, normalized=True)
                cell = (name, int(mid.x / _LABEL_CELL), int(mid.y / _LABEL_CELL))
                a, b = coords[len(coords) // 2 - 1], coords[len(coords) // 2]
                angle = -math.degrees(math.atan2(b[1] - a[1], (b[0] - a[0]) * math.cos(math.radians(a[1]))))
                angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
                if length > labels.get(cell, (0.0,))[0]:
                    labels[cell] = (length, mid.y, mid.x, f"{angle:.0f}")

        def area(self, a) -> None:  # type: ignore[no-untyped-def]
            kind = _area_kind(a.tags)
            if kind is None:
                return
            for ring in a.outer_rings():
                coords = [(n.lon, n.lat) for n in ring if n.location.valid()]
                if len(coords) < 4:
                    continue
                polygon = Polygon(coords)
                m2 = polygon.area * 111_320.0 ** 2 * math.cos(math.radians(coords[0][1]))
                if m2 >= _MIN_AREA_M2:
                    areas[kind].append(_encode(list(polygon.exterior.simplify(_TOLERANCE).coords)))

    Handler().apply_file(str(pbf), locations=True)
    label_rows = sorted(((html.escape(name), round(lat, 5), round(lon, 5), int(angle))
                         for (name, _i, _j), (_length, lat, lon, angle) in labels.items()), key=lambda r: r[0])
    return {"lines": dict(lines), "areas": dict(areas), "labels": label_rows, "attribution": ATTRIBUTION}


@lru_cache(maxsize=4)
def _cached_text(cache: Path) -> str:
    return cache.read_text(encoding="utf-8")


def street_layer_json(cache_dir: Path, pbf: Path | None = None) -> str:
    """The layer of ``pbf`` (default: the shipped extract) as JSON text, built on first use and cached."""
    pbf_path = Path(str(pbf or PBF))
    digest = hashlib.sha256(pbf_path.read_bytes()).hexdigest()[:16]
    cache = Path(cache_dir) / f"street-layer-{_CACHE_VERSION}-{digest}.json"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")   # two processes building at once each write their own
        tmp.write_text(json.dumps(build_street_layer(pbf_path), separators=(",", ":")), encoding="utf-8")
        tmp.replace(cache)
    return _cached_text(cache)


def street_layer(cache_dir: Path, pbf: Path | None = None) -> dict:
    """The layer as a dict (``lines`` per class, ``areas``, ``labels``, ``attribution``)."""
    return json.loads(street_layer_json(cache_dir, pbf))


# classes drawn, bottom to top: (kind, colour, weight, smallest zoom shown)
LINE_STYLES = [
    ("water", "#8cc4dc", 3, 0), ("rail", "#6d6d6d", 1.5, 12), ("residential", "#ffffff", 2, 14),
    ("tertiary", "#fffbe6", 3, 13), ("secondary", "#f7e07c", 3.5, 0), ("primary", "#f4b942", 4, 0),
    ("motorway", "#e8823a", 5, 0),
]
AREA_STYLES = [("park", "#c8e6c0"), ("water", "#aad3df")]
LABEL_ZOOM = 15


class StreetBaseLayer(MacroElement):
    """The street layer drawn on a canvas in panes below the tile pane (tiles, when they load, cover it).

    ``src``: the address of the layer's file (see :mod:`workbench.maps.map_assets`) instead of its JSON in
    the page.
    """

    _template = Template("""
{% macro header(this, kwargs) %}
{% if this.src %}<script src="{{ this.src }}"></script>{% endif %}
<style>.leaflet-container{background:#efebe3}
.wb-street-label{font:11px sans-serif;color:#333;white-space:nowrap;text-shadow:0 0 2px #fff,0 0 2px #fff;
pointer-events:none}</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, data = {{ this.data }};
  if (!data) return;   // the linked street layer did not load: the other layers still draw
  function decode(flat) {
    var out = [], lat = 0, lon = 0;
    for (var i = 0; i < flat.length; i += 2) { lat += flat[i]; lon += flat[i + 1]; out.push([lat / 1e5, lon / 1e5]); }
    return out;
  }
  [["wb-areas", 140], ["wb-streets", 150], ["wb-labels", 160]].forEach(function (p) {
    map.createPane(p[0]).style.zIndex = p[1];
  });
  var areaRenderer = L.canvas({pane: "wb-areas"}), lineRenderer = L.canvas({pane: "wb-streets", padding: 0.3});
  {{ this.area_styles | tojson }}.forEach(function (s) {
    var rings = (data.areas[s[0]] || []).map(decode);
    if (rings.length) L.polygon(rings, {renderer: areaRenderer, pane: "wb-areas", stroke: false, fillColor: s[1],
      fillOpacity: 1, interactive: false, className: "wb-area-" + s[0]}).addTo(map);
  });
  var byZoom = [];
  {{ this.line_styles | tojson }}.forEach(function (s) {
    var lines = (data.lines[s[0]] || []).map(decode);
    if (!lines.length) return;
    var layer = L.polyline(lines, {renderer: lineRenderer, pane: "wb-streets", color: s[1], weight: s[2],
      opacity: 1, dashArray: s[0] === "rail" ? "6 4" : null, interactive: false, smoothFactor: 1.5});
    byZoom.push([layer, s[3]]);
  });
  var labels = L.layerGroup(data.labels.map(function (l) {
    return L.marker([l[1], l[2]], {pane: "wb-labels", interactive: false, keyboard: false, icon: L.divIcon({
      className: "", iconSize: null, html: '<div class="wb-street-label" style="transform:translate(-50%,-50%) rotate('
        + l[3] + 'deg)">' + l[0] + "</div>"})});   // names are HTML-escaped when the layer is built
  }));
  function follow() {
    var z = map.getZoom();
    byZoom.forEach(function (e) { if (z >= e[1]) { if (!map.hasLayer(e[0])) e[0].addTo(map); }
                                  else if (map.hasLayer(e[0])) map.removeLayer(e[0]); });
    if (z >= {{ this.label_zoom }}) { if (!map.hasLayer(labels)) labels.addTo(map); }
    else if (map.hasLayer(labels)) map.removeLayer(labels);
  }
  map.on("zoomend", follow);
  follow();
  map.attributionControl.addAttribution({{ this.attribution | tojson }});
})();
{% endmacro %}
""")

    def __init__(self, data_json: str, attribution: str, *, src: str | None = None) -> None:
        super().__init__()
        self._name = "StreetBaseLayer"
        self.src = src
        self.data = f"window.{STREETS_GLOBAL}" if src else data_json.replace("</", "<\\/")
        self.attribution = attribution
        self.line_styles, self.area_styles, self.label_zoom = LINE_STYLES, AREA_STYLES, LABEL_ZOOM
