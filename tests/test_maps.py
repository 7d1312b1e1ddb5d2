"""Maps: UrbIS base layers, offline vector layers, overlays; they draw with no internet."""

from __future__ import annotations

import re

import pytest

from workbench import maps
from workbench.config import Settings
from workbench.samples import SAMPLE_CASE

from conftest import sample_workspace, system_program


@pytest.fixture(scope="module")
def case(sample_copy):
    with sample_workspace(sample_copy) as ws:
        yield ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")


def _external_assets(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)


def test_base_map_offers_urbis_layers_and_needs_no_cdn(tmp_path):
    settings = Settings.from_env({}, home=tmp_path)
    html = maps.base_map(settings).get_root().render()
    assert _external_assets(html) == []
    assert "UrbISFrenchLabeledColor" in html and "UrbISDutchLabeledColor" in html and "Ortho" in html
    assert "Realized by means of Brussels UrbIS" in html and "Paradigm (formerly CIRB)" in html
    assert "OpenStreetMap contributors" in html
    assert html.count("Anderlecht") >= 1 and "Montgomery" in html  # municipalities and police zones


def test_tile_settings_for_a_closed_network(tmp_path):
    local = Settings.from_env({"WORKBENCH_TILES": "https://tiles.police.local/{z}/{x}/{y}.png"}, home=tmp_path)
    html = maps.base_map(local).get_root().render()
    assert "tiles.police.local" in html and "UrbISFrenchLabeledColor" not in html
    bare = maps.base_map(Settings.from_env({"WORKBENCH_TILES": "none"}, home=tmp_path)).get_root().render()
    assert "tile.openstreetmap.org" not in bare and "Anderlecht" in bare


def test_overlays_carry_cameras_reasons_sightings_and_routes(case, tmp_path):
    trip = case.trajectory(case.hits(include_ignored=True).query("reason.str.contains('Suspect')")["plate"].iloc[0])
    m = maps.add_trajectory(maps.add_camera_access(maps.base_map(case.settings), case.camera_access()), trip)
    html = m.get_root().render()
    assert "no sharing agreement from SIAMU to PZ5339" in html
    assert html.count("L.polyline") >= len(trip.route) and trip.sightings["camera_id"].iloc[0] in html
    assert html.rfind("L.control.layers") > html.rfind("L.polyline")  # the control comes after its layers


@pytest.mark.browser
def test_map_draws_in_chromium_without_network(case, tmp_path):
    from playwright.sync_api import sync_playwright

    trip = case.trajectory(case.hits(include_ignored=True).query("reason.str.contains('Suspect')")["plate"].iloc[0])
    page_file = tmp_path / "map.html"
    maps.add_trajectory(maps.add_camera_access(maps.base_map(case.settings), case.camera_access()), trip) \
        .save(str(page_file))
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=system_program("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        context = browser.new_context(offline=True, viewport={"width": 1000, "height": 700})
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_selector("path.leaflet-interactive", timeout=15_000)
        drawn = page.locator("path.leaflet-interactive").count()
        (tmp_path / "artifacts").mkdir(exist_ok=True)
        page.screenshot(path=str(tmp_path / "artifacts" / "map.png"))
        browser.close()
    assert errors == []
    assert drawn >= 26 + len(case.camera_access()) + len(trip.sightings)  # boundaries, cameras, sightings
