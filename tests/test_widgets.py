"""Widgets, indicators, training checks and map overlays, driven through the public API (no browser)."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pandas as pd
import pytest

from workbench import maps, widgets as ww
from workbench.config import Settings
from workbench.errors import AccessDenied
from workbench.samples import SAMPLE_CASE, TRAINING_CASE
from workbench.samples.training import TrainingCheck

from conftest import sample_workspace


@pytest.fixture(scope="module")
def ws(sample_copy):
    with sample_workspace(sample_copy) as ws:
        yield ws


@pytest.fixture(scope="module")
def case(ws):
    return ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")


@pytest.fixture(scope="module")
def suspect(case) -> str:
    hits = case.hits(include_ignored=True)
    return str(hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0])


def test_language_comes_from_the_app_address_then_the_environment(tmp_path):
    assert Settings.from_env({"QUERY_STRING": "lang=nl&x=1"}, home=tmp_path).lang == "nl"
    assert Settings.from_env({"WORKBENCH_LANG": "en"}, home=tmp_path).lang == "en"
    assert Settings.from_env({"QUERY_STRING": "lang=de", "WORKBENCH_LANG": "xx"}, home=tmp_path).lang == "fr"
    assert ww.text("search", "nl") == "Zoeken" and ww.text("search", "en") == "Search"


def test_plate_search_finds_exact_plates_suggests_for_misreads_and_explains_unknown_ones(case, suspect):
    chosen: list[str] = []
    box = ww.PlateSearch(case, chosen.append)
    box.search(suspect)
    assert chosen == [suspect] and box.choices.layout.display == "none"
    misread = suspect[:-1] + ("8" if suspect[-1] != "8" else "3")
    table = box.search(misread)
    assert suspect in list(table["plate"]) and chosen == [suspect]          # offered, not chosen for the user
    assert suspect in [value for _label, value in box.choices.options]
    box.choices.value = suspect
    assert chosen == [suspect, suspect]
    assert box.search("9-ZZZ-999").empty and "Aucun passage" in box.status.value
    assert box.search("   ").empty and "wb-warning" in box.status.value


def test_suggestions_rank_closest_then_most_seen():
    reads = pd.DataFrame({"plate": ["A", "B", "B", "C", "C", "C"], "distance": [0.4, 0.2, 0.2, 0.4, 0.4, 0.4]})
    assert list(ww.suggestions(reads)["plate"]) == ["B", "C", "A"]
    assert list(ww.suggestions(reads)["sightings"]) == [2, 3, 1]


def test_timeline_draws_one_dot_per_sighting(case, suspect):
    sightings = case.trajectory(suspect).sightings
    svg = ww.timeline_svg(sightings)
    assert svg.count("class='wb-sighting'") == len(sightings)
    assert all(camera in svg for camera in set(sightings["camera_id"]))
    assert "Geen doorgang" in ww.timeline_svg(sightings.iloc[:0], lang="nl")


def test_case_header_opens_the_users_case_and_explains_when_there_is_none(ws):
    header = ww.CaseHeader(ws, "sightings_map", user="inspector.dupont")
    assert header.case is not None and header.case.reference == SAMPLE_CASE
    seen: list = []
    header.on_case(seen.append)
    assert seen == [header.case]
    auditor = ww.CaseHeader(ws, "sightings_map", user="auditor.maes")
    assert auditor.case is None and "Aucun dossier" in auditor.messages.value
    nobody = ww.CaseHeader(ws, "sightings_map", user="nobody.here", lang="en")
    assert nobody.me is None and "wb-error" in nobody.messages.value


def test_frame_viewer_steps_between_keyframes_and_reports_missing_footage(case, suspect):
    hit = case.frame_search(near=case.trajectory(suspect), colour="red", kind="vehicle")[0]
    viewer = ww.FrameViewer(case, hit["camera_id"], hit["best_time"])
    shown = viewer.shown.time
    assert viewer.image.value[:2] == b"\xff\xd8"                      # a JPEG
    viewer.step("next")
    assert viewer.shown.keyframe and viewer.shown.time > shown
    after = viewer.shown.time
    viewer.step("previous")
    assert viewer.shown.keyframe and viewer.shown.time < after
    viewer.show(viewer.centre + timedelta(days=3))
    assert "wb-warning" in viewer.caption.value
    grid = ww.SyncGrid(case, hit["best_time"], near=hit["camera_id"], radius=300)
    assert [f.camera_id for f in grid.frames][0] == hit["camera_id"]


def test_indicators_count_footage_requests_and_the_cases_they_helped(ws, case, suspect):
    auditor = ws.login("auditor.maes")
    before = auditor.indicators().summary()
    hit = case.frame_search(near=case.trajectory(suspect), colour="red", kind="vehicle")[0]
    case.export_clip(hit, seconds=6)
    figures = auditor.indicators()
    row = figures.footage_requests.set_index("case").loc[SAMPLE_CASE]
    assert row["requests"] >= 2 and row["evidence_packages"] >= 1 and bool(row["helped"])
    assert figures.summary()["cases_helped"] >= 1
    assert figures.summary()["footage_requests"] > before["footage_requests"]
    assert figures.summary()["hits"] == int(figures.cameras["hits"].sum()) > 0
    assert "plate" not in figures.hits_by_priority.columns                   # counts, never plates
    with pytest.raises(AccessDenied, match="investigator role does not read"):
        ws.login("inspector.dupont").indicators()
    trail = auditor.audit_events()
    reads = trail[trail["action"] == "read-indicators"]
    assert set(reads["outcome"]) == {"ok", "denied"}
    assert set(reads.loc[reads["outcome"] == "denied", "user_name"]) == {"inspector.dupont"}


def test_training_check_follows_the_case_and_refuses_wrong_answers(ws, capsys):
    case = ws.login("inspector.vermeulen").open_case(TRAINING_CASE, purpose="training")
    check = TrainingCheck(case)
    stolen = check.expected("stolen_plate")
    assert check("stolen_plate", stolen) and check("stolen_plate", stolen.lower())
    assert not check("stolen_plate", "1-AAA-111") and not check("stolen_plate", None)
    out = capsys.readouterr().out
    assert "✘" in out and "pas encore répondu" in out


def test_overlays_fields_of_view_density_and_time_slider(ws, case, suspect):
    trip = case.trajectory(suspect)
    cams = case.cameras()
    m = maps.add_cameras(maps.base_map(ws.settings), cams)
    m = maps.add_density(m, trip.sightings, name="Passages")
    m = maps.add_time_slider(m, trip.sightings)
    html = m.get_root().render()
    with_view = cams.dropna(subset=["heading", "fov_deg", "range_m"])
    assert html.count("L.polygon") >= len(with_view) > 0
    assert 1 <= html.count("L.rectangle") <= len(trip.sightings)
    assert "wb-time-slider" in html and trip.sightings["camera_id"].iloc[-1] in html
    assert html.rfind("L.control.layers") > html.rfind("L.rectangle")


def test_density_squares_add_up_weights_per_cell(ws):
    points = pd.DataFrame({"lon": [4.35, 4.3501, 4.3502, 4.45], "lat": [50.85, 50.85, 50.8501, 50.80],
                           "hits": [2, 3, 0, 7]})
    html = maps.add_density(maps.base_map(ws.settings), points, name="x", weight="hits").get_root().render()
    assert html.count("L.rectangle") == 2
    tooltips = sorted(int(t) for t in re.findall(r"bindTooltip\(\s*`<div>\s*(\d+)\s*</div>`", html))
    assert tooltips == [5, 7]


def test_a_sighting_at_a_camera_without_position_is_left_off_the_map(ws, case, suspect):
    trip = case.trajectory(suspect)
    sightings = trip.sightings.copy()
    sightings.loc[sightings.index[0], ["lon", "lat"]] = float("nan")
    unplaced = SimpleNamespace(plate=trip.plate, route=trip.route, sightings=sightings)
    whole = maps.add_trajectory(maps.base_map(ws.settings), trip).get_root().render()
    partial = maps.add_trajectory(maps.base_map(ws.settings), unplaced).get_root().render()
    assert "NaN" not in partial
    assert partial.count("L.circleMarker") == whole.count("L.circleMarker") - 1
