"""The street base map drawn from the shipped OpenStreetMap extract: offline, with a legend and a scale."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest

from workbench import maps
from workbench.config import Settings
from workbench.maps.legend import legend_entries
from workbench.maps.map_assets import publish
from workbench.maps.street_layer import LINE_STYLES, street_layer, street_layer_json

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("street-cache")


def _decoded(flat: list[int]) -> list[tuple[float, float]]:
    lat = lon = 0
    points = []
    for i in range(0, len(flat), 2):
        lat += flat[i]
        lon += flat[i + 1]
        points.append((lat / 1e5, lon / 1e5))
    return points


def test_layer_has_every_class_inside_the_region_and_is_cached(cache):
    layer = street_layer(cache)
    assert {kind for kind, *_ in LINE_STYLES} <= set(layer["lines"])
    assert {"park", "water"} <= set(layer["areas"])
    assert len(layer["lines"]["residential"]) > len(layer["lines"]["primary"]) > 100
    for kind, lines in layer["lines"].items():
        for lat, lon in _decoded(lines[0]) + _decoded(lines[-1]):
            assert 50.7 < lat < 50.95 and 4.2 < lon < 4.5, kind
    names = {row[0] for row in layer["labels"]}
    assert "Rue de la Loi - Wetstraat" in names or any("Rue de la Loi" in n for n in names)
    cached = list(cache.glob("street-layer-*.json"))
    assert len(cached) == 1 and cached[0].stat().st_size < 6_000_000
    assert street_layer_json(cache) == cached[0].read_text(encoding="utf-8")


def test_every_map_has_streets_a_legend_and_a_scale(cache, tmp_path):
    html = maps.base_map(Settings.from_env({"WORKBENCH_TILES": "none", "WORKBENCH_LANG": "nl"}, home=tmp_path)) \
        .get_root().render()
    assert "wb-streets" in html and "wb-legend" in html and "L.control.scale" in html
    assert all(label in html for *_, label in legend_entries("nl")) and "Legende" in html
    assert "OpenStreetMap contributors" in html


def _chromium_render(page_file: Path, shot: str, zoom_to: int | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        context = browser.new_context(viewport={"width": 1000, "height": 700})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            ("file:", "data:", "blob:", "about:")) else route.abort())   # a closed network
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_selector(".leaflet-pane.leaflet-wb-streets-pane canvas", timeout=30_000)
        if zoom_to is not None:
            page.evaluate(f"""() => {{ for (const k in window) {{ const v = window[k];
                if (v && v._container && v.setView)
                    v.setView([50.8466, 4.3528], {zoom_to}, {{animate: false}}); }} }}""")
            page.wait_for_timeout(500)
        inked = page.evaluate("""() => Array.from(document.querySelectorAll(
              '.leaflet-wb-streets-pane canvas, .leaflet-wb-areas-pane canvas')).map(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })""")
        result = {"external": [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))],
                  "inked": inked, "labels": page.locator(".wb-street-label").count(),
                  "legend": page.locator(".wb-legend").inner_text(),
                  "scale": page.locator(".leaflet-control-scale-line").count(), "errors": errors}
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / shot))
        browser.close()
    return result


def _map_file(folder: Path, home: Path, tiles: str) -> Path:
    page_file = folder / f"map-{tiles}.html"
    maps.base_map(Settings.from_env({"WORKBENCH_TILES": tiles, "WORKBENCH_HOME": str(home)})).save(str(page_file))
    return page_file


@pytest.mark.browser
def test_street_map_draws_offline_with_no_request_leaving(cache, tmp_path):
    page_file = _map_file(tmp_path, cache, "none")
    drawn = _chromium_render(page_file, "street-map-offline.png")
    assert drawn["errors"] == [] and drawn["external"] == []
    assert drawn["inked"] and min(drawn["inked"]) > 10_000          # streets and areas painted on the canvases
    assert drawn["scale"] >= 1 and "Route principale" in drawn["legend"]
    close = _chromium_render(page_file, "street-map-offline-z16.png", zoom_to=16)
    assert close["external"] == [] and close["labels"] > 0           # the names of the main streets


@pytest.mark.browser
def test_street_map_shows_under_unreachable_urbis(cache, tmp_path):
    drawn = _chromium_render(_map_file(tmp_path, cache, "urbis"), "street-map-urbis-unreachable.png")
    assert drawn["external"] and all("irisnet.be" in u or "openstreetmap" in u for u in drawn["external"])
    assert min(drawn["inked"]) > 10_000


@pytest.mark.browser
def test_a_linked_map_is_light_and_draws_the_same_streets_from_the_published_files(cache, tmp_path):
    """``workbench apps``' maps link Leaflet and the street layer (fetched once, cached) instead of inlining them."""
    settings = Settings.from_env({"WORKBENCH_TILES": "none", "WORKBENCH_HOME": str(cache),
                                  "WORKBENCH_MAP_ASSETS": "map-files"})
    inline = maps.base_map(dataclasses.replace(settings, map_assets=None)).get_root().render()
    linked = maps.base_map(settings).get_root().render()
    assert "data:text/javascript" not in linked and len(linked) < len(inline) - 500_000
    published = publish(tmp_path / "map-files", street_layer_json(settings.cache_dir))
    for name in ("leaflet.js", "jquery.min.js", "leaflet.css", "streets.js"):
        digest = hashlib.sha256((published / name).read_bytes()).hexdigest()[:16]
        assert f'"map-files/{name}?v={digest}"' in linked, name   # a new file gets a new address
    page_file = tmp_path / "linked.html"
    page_file.write_text(linked, encoding="utf-8")
    drawn = _chromium_render(page_file, "street-map-linked.png")
    assert drawn["errors"] == [] and drawn["external"] == []
    assert drawn["inked"] and min(drawn["inked"]) > 10_000
