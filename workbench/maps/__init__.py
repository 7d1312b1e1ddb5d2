"""Maps on UrbIS layers that still draw on a closed network.

Each function takes a folium map and returns it, so layers compose (the
geopandas ``explore(m=...)`` style)::

    >>> from workbench import maps
    >>> m = maps.base_map(settings)                    # UrbIS FR/NL + ortho, OSM, region, zones
    >>> m = maps.add_camera_access(m, case.camera_access())
    >>> m = maps.add_trajectory(m, case.trajectory("6-GGM-833"))

Leaflet is inlined into the page (no CDN). Under the tiles, every map draws
its own street map from the shipped OpenStreetMap extract
(:mod:`workbench.maps.street_layer`): with ``WORKBENCH_TILES=none`` or on a
closed network where the named tiles do not load, the streets, their names,
rail, water and parks still show, with the vector layers (region,
municipalities, police zones, cameras, sightings, routes), a legend
(:mod:`workbench.maps.legend`) and a scale.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from functools import lru_cache
from importlib.resources import files

import folium
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from workbench.config import Settings
from workbench.maps.layer_control import control_last as _control_last
from workbench.maps.legend import Legend
from workbench.maps.map_assets import asset_urls, data_uri, inline_assets
from workbench.maps.street_layer import ATTRIBUTION as STREETS_ATTRIBUTION, StreetBaseLayer, street_layer_json
from workbench.timeutil import format_local

URBIS_ATTRIBUTION = "Realized by means of Brussels UrbIS®© - Distribution & Copyright Paradigm (formerly CIRB)"
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
BRUSSELS = (50.8466, 4.3528)
_BOUNDARIES = files("workbench") / "data" / "boundaries" / "brussels_municipalities_policezones_region_osm2013.geojson"
_LAYER_STYLE = {
    "region": {"color": "#0d47a1", "weight": 3, "fill": False},
    "police_zone": {"color": "#6a1b9a", "weight": 2, "fillOpacity": 0.03, "dashArray": "6 4"},
    "municipality": {"color": "#78909c", "weight": 1, "fill": False},
}
_LAYER_NAMES = {"region": "Région / Gewest", "police_zone": "Zones de police / Politiezones",
                "municipality": "Communes / Gemeenten"}


@lru_cache(maxsize=1)
def _boundaries() -> dict:
    return json.loads(_BOUNDARIES.read_text(encoding="utf-8"))


def base_map(settings: Settings | None = None, *, location: tuple[float, float] = BRUSSELS,
             zoom: int = 12) -> folium.Map:
    """A map of the region: the offline street map, the tiles named by ``settings.tiles`` above it, the
    boundaries, a legend and a scale."""
    settings = settings or Settings.from_env()
    m = folium.Map(location=location, zoom_start=zoom, tiles=None, control_scale=True)
    streets = street_layer_json(settings.cache_dir)
    assets = asset_urls(settings.map_assets, streets) if settings.map_assets else inline_assets()
    m.default_js, m.default_css = assets.js, assets.css
    m.add_child(StreetBaseLayer(streets, STREETS_ATTRIBUTION, src=assets.streets))
    if settings.tiles == "urbis":
        for layer, name in (("UrbISFrenchLabeledColor", "UrbIS (FR)"), ("UrbISDutchLabeledColor", "UrbIS (NL)")):
            folium.WmsTileLayer(settings.urbis_wms, layers=layer, name=name, fmt="image/png", transparent=False,
                                attr=URBIS_ATTRIBUTION, overlay=False).add_to(m)
        folium.WmsTileLayer(settings.urbis_ortho_wms, layers="Ortho", name="UrbIS ortho", fmt="image/jpeg",
                            attr=URBIS_ATTRIBUTION, overlay=False).add_to(m)
    if settings.tiles in {"urbis", "osm"}:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", attr=OSM_ATTRIBUTION, overlay=False).add_to(m)
    elif settings.tiles != "none":
        folium.TileLayer(settings.tiles, name="Fond de plan local", attr=URBIS_ATTRIBUTION, overlay=False).add_to(m)
    features = _boundaries()["features"]
    for layer in ("municipality", "police_zone", "region"):
        subset = {"type": "FeatureCollection", "features": [f for f in features if f["properties"]["layer"] == layer]}
        folium.GeoJson(subset, name=_LAYER_NAMES[layer], style_function=lambda _f, s=_LAYER_STYLE[layer]: s,
                       tooltip=folium.GeoJsonTooltip(["name"], labels=False), attr=OSM_ATTRIBUTION).add_to(m)
    m.add_child(Legend(settings.lang))
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def add_camera_access(m: folium.Map, access: pd.DataFrame) -> folium.Map:
    """Cameras coloured by the access decision (green granted, red refused), reason in the popup."""
    group = folium.FeatureGroup(name="Caméras / Camera's").add_to(m)
    for cam in access.dropna(subset=["lon", "lat"]).itertuples():
        granted = bool(getattr(cam, "granted", True))
        folium.CircleMarker(
            [cam.lat, cam.lon], radius=6, fill=True, fill_opacity=0.85, color="#2e7d32" if granted else "#c62828",
            tooltip=f"{cam.camera_id} ({cam.partner}, {cam.kind})",
            popup=folium.Popup(str(getattr(cam, "reason", "")), max_width=320)).add_to(group)
    return _control_last(m)


def time_colour(share: float) -> str:
    """The colour of a moment ``share`` of the way from the first sighting (blue) to the last (red)."""
    return f"#{int(30 + 200 * share):02x}{int(90 * (1 - share)):02x}{int(220 * (1 - share)):02x}"


def add_trajectory(m: folium.Map, trip, crops: Mapping[int, bytes] | None = None) -> folium.Map:  # type: ignore[no-untyped-def]
    """A trajectory: inferred routes (alternatives dashed), sightings coloured from early to late.

    Sightings at a camera without a position are left off the map (the caller says so). ``crops`` (JPEG by
    sighting id, ``case.plate_crops(trip.sightings)``) are shown in the popups of plates read on footage.
    """
    routes = folium.FeatureGroup(name=f"Trajet {trip.plate}").add_to(m)
    for r in trip.route.itertuples():
        main = r.kind == "main"
        folium.PolyLine([(y, x) for x, y in r.geometry.coords], color="#c62828" if main else "#757575",
                        weight=5 if main else 3, dash_array=None if main else "6 6",
                        tooltip=f"{r.from_camera} → {r.to_camera}: {r.length_m / 1000:.1f} km"
                                + ("" if main else " (alternative)")).add_to(routes)
    s = trip.sightings.dropna(subset=["lon", "lat"])
    if len(s):
        span = max((s["time"].iloc[-1] - s["time"].iloc[0]).total_seconds(), 1.0)
        for row in s.itertuples():
            f = (row.time - s["time"].iloc[0]).total_seconds() / span
            colour = time_colour(f)
            label = f"{row.plate_as_read} — {format_local(row.time, with_utc=True)} — {row.camera_id}"
            crop = (crops or {}).get(getattr(row, "sighting_id", -1))
            popup = html.escape(label) + ("" if crop is None else
                                          f"<br><img alt='{html.escape(row.plate_as_read)}' style='max-width:300px' "
                                          f"src='{data_uri(crop, 'image/jpeg')}'>")
            folium.CircleMarker([row.lat, row.lon], radius=7, color=colour, fill=True, fill_opacity=0.9,
                                tooltip=label, popup=folium.Popup(popup, max_width=320)).add_to(routes)
        bounds = [[s["lat"].min(), s["lon"].min()], [s["lat"].max(), s["lon"].max()]]
        m.fit_bounds(bounds)
    return _control_last(m)


_PARTNER_COLOURS = ["#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457", "#4e342e", "#455a64",
                    "#9e9d24", "#283593", "#c62828", "#00695c"]


def _wedge(lon: float, lat: float, heading: float, fov: float, range_m: float) -> list[tuple[float, float]]:
    """The field of view of a camera as a (lat, lon) polygon (a circular sector)."""
    m_per_deg_lat, m_per_deg_lon = 111_320.0, 111_320.0 * math.cos(math.radians(lat))
    points = [(lat, lon)]
    for k in range(13):
        bearing = math.radians(heading - fov / 2 + fov * k / 12)
        points.append((lat + range_m * math.cos(bearing) / m_per_deg_lat,
                       lon + range_m * math.sin(bearing) / m_per_deg_lon))
    return points


def add_cameras(m: folium.Map, cameras: pd.DataFrame) -> folium.Map:
    """Cameras coloured by partner, one layer per kind, with their field of view when it is known.

    Cameras without a position are left off the map (list them with ``cameras[cameras.lon.isna()]``).
    """
    partners = sorted(cameras["partner"].unique())
    colours = {p: _PARTNER_COLOURS[i % len(_PARTNER_COLOURS)] for i, p in enumerate(partners)}
    for kind, group in cameras.dropna(subset=["lon", "lat"]).groupby("kind"):
        layer = folium.FeatureGroup(name=f"Caméras / Camera's: {kind}").add_to(m)
        for cam in group.itertuples():
            colour = colours[cam.partner]
            if pd.notna([cam.heading, cam.fov_deg, cam.range_m]).all():
                folium.Polygon(_wedge(cam.lon, cam.lat, cam.heading, cam.fov_deg, cam.range_m), color=colour,
                               weight=1, fill=True, fill_opacity=0.15).add_to(layer)
            folium.CircleMarker([cam.lat, cam.lon], radius=5, color=colour, fill=True, fill_opacity=0.9,
                                tooltip=f"{cam.camera_id} — {cam.partner} ({kind})").add_to(layer)
    return _control_last(m)


def add_density(m: folium.Map, points: pd.DataFrame, *, name: str, weight: str | None = None,
                cell_m: float = 300.0, colour: str = "#d84315") -> folium.Map:
    """A heat map of ``points`` (lon, lat; each counts ``weight`` or 1) as a grid of shaded squares.

    Drawn as plain vector squares, with no plugin to download.
    """
    pts = points.dropna(subset=["lon", "lat"])
    layer = folium.FeatureGroup(name=name).add_to(m)
    if pts.empty:
        return _control_last(m)
    dlat = cell_m / 111_320.0
    dlon = cell_m / (111_320.0 * math.cos(math.radians(float(pts["lat"].mean()))))
    cells = pd.DataFrame({"i": (pts["lon"] // dlon).astype(int), "j": (pts["lat"] // dlat).astype(int),
                          "n": pts[weight] if weight else 1})
    counts = cells.groupby(["i", "j"])["n"].sum()
    counts = counts[counts > 0]
    top = float(counts.max()) if len(counts) else 1.0
    for (i, j), n in counts.items():
        folium.Rectangle([(j * dlat, i * dlon), ((j + 1) * dlat, (i + 1) * dlon)], color=colour, weight=0,
                         fill=True, fill_opacity=0.15 + 0.6 * n / top, tooltip=f"{n:g}",
                         class_name="wb-density").add_to(layer)
    return _control_last(m)


class _TimeSlider(MacroElement):
    """A Leaflet control: a range over the sightings in time order, and a play button that animates them."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var points = {{ this.points | tojson }};
  var layer = L.layerGroup().addTo(map);
  var control = L.control({position: "bottomleft"});
  control.onAdd = function () {
    var div = L.DomUtil.create("div", "wb-time-slider leaflet-bar");
    div.style.cssText = "background:white;padding:4px 8px;font:12px sans-serif";
    div.innerHTML = '<button type="button" class="wb-play" title="{{ this.play_title }}">&#9654;</button> ' +
      '<input type="range" min="0" max="' + (points.length - 1) + '" value="' + (points.length - 1) +
      '" style="width:220px;vertical-align:middle"> <span class="wb-time"></span>';
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  control.addTo(map);
  var box = control.getContainer(), range = box.querySelector("input"), label = box.querySelector(".wb-time");
  function show(k) {
    layer.clearLayers();
    for (var i = 0; i <= k; i++) {
      L.circleMarker([points[i].lat, points[i].lon], {radius: i === k ? 10 : 5, weight: 2,
        color: i === k ? "#d50000" : "#37474f", fillOpacity: 0.8, className: "wb-slider-point"})
        .bindTooltip(points[i].label).addTo(layer);
    }
    label.textContent = points[k].label;
  }
  range.addEventListener("input", function () { show(+range.value); });
  var timer = null;
  box.querySelector(".wb-play").addEventListener("click", function () {
    if (timer) { clearInterval(timer); timer = null; return; }
    range.value = 0; show(0);
    timer = setInterval(function () {
      if (+range.value >= points.length - 1) { clearInterval(timer); timer = null; return; }
      range.value = +range.value + 1; show(+range.value);
    }, 700);
  });
  show(points.length - 1);
})();
{% endmacro %}
""")

    def __init__(self, points: list[dict], play_title: str) -> None:
        super().__init__()
        self._name = "TimeSlider"
        self.points, self.play_title = points, play_title


def add_time_slider(m: folium.Map, sightings: pd.DataFrame) -> folium.Map:
    """A time slider over ``sightings`` (time, camera_id, lon, lat): drag it, or press play to animate.

    Plain Leaflet, no plugin to download: it works on a closed network.
    """
    s = sightings.dropna(subset=["lon", "lat"]).sort_values("time")
    if s.empty:
        return m
    points = [{"lat": float(r.lat), "lon": float(r.lon),
               "label": f"{format_local(r.time, with_date=False)} {r.camera_id}"} for r in s.itertuples()]
    m.add_child(_TimeSlider(points, "Animer / Afspelen / Play"))
    return m
