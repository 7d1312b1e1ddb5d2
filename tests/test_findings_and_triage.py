"""What the data says about a trajectory (clones, misreads, blind spots, exclusions), and hit triage.

On the session's sample world: the planted cloned plate's impossible hops are
named clones, the suspect's planted misread is named a misread, the cameras
the case may not see along the suspect's route are blind spots with their
reason; a hit is acknowledged or dismissed with a reason through the access
layer (audited, shared by the case), and bad decisions are refused in words.
"""

from __future__ import annotations

import json

import pytest

from workbench import maps
from workbench.errors import InvalidInput, NotFound
from workbench.maps.findings_layer import add_findings
from workbench.samples import SAMPLE_CASE
from workbench.trajectories import findings
from workbench.widgets import HitTriage, SightingsTable, exclusions_html, plate_groups
from workbench.widgets.app_page import Progress

from conftest import sample_workspace


@pytest.fixture(scope="module")
def case(sample_copy):
    with sample_workspace(sample_copy) as ws:
        yield ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")


@pytest.fixture(scope="module")
def suspect(case):
    hits = case.hits(include_ignored=True)
    return case.trajectory(str(hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0]))


@pytest.fixture(scope="module")
def clone(case):
    return case.trajectory(str(case.cloned_plates()["plate"].iloc[0]))


def test_the_cloned_plate_is_named_a_clone_and_the_misread_a_misread(suspect, clone):
    hops = findings.impossible_hops(clone)
    assert len(hops) >= 1 and set(hops["kind"]) == {"clone"}
    assert (hops["speed_kmh"] > 150).all()
    assert (findings.sighting_notes(clone) == "clone").sum() >= 2
    notes = findings.sighting_notes(suspect)
    merged = suspect.sightings["merged_misread"].astype(bool)
    assert merged.any() and (notes[merged] == "misread").all() and (notes[~merged] == "").all()


def test_blind_spots_are_refused_cameras_near_the_route_with_the_reason(case, suspect):
    access = case.camera_access()
    blind = findings.blind_spots(suspect.route, access)
    assert len(blind) >= 1 and (blind["distance_m"] <= findings.BLIND_SPOT_BUFFER_M).all()
    refused = access.set_index("camera_id")
    assert not refused.loc[blind["camera_id"], "granted"].any()
    assert list(blind["reason"]) == list(refused.loc[blind["camera_id"], "reason"])
    excluded = findings.exclusions(suspect, blind)
    assert excluded.loc[excluded["what"] == "blind-spot", "count"].sum() == len(blind)
    assert findings.blind_spots(suspect.route, access.assign(granted=True)).empty


def test_the_map_and_the_list_name_what_the_data_says(case, suspect, clone):
    blind = findings.blind_spots(clone.route, case.camera_access())
    page = add_findings(maps.add_trajectory(maps.base_map(case.settings), clone), clone, blind, lang="nl") \
        .get_root().render()
    assert page.count("wb-impossible-hop") >= len(findings.impossible_hops(clone))
    assert "vermoedelijk gekloonde plaat" in page and page.count("wb-blind-spot") >= len(blind)
    table = SightingsTable(lang="fr")
    table.update(suspect)
    assert "lecture erronée rattachée" in table.value and table.value.count("wb-sighting-row") == len(suspect)
    said = exclusions_html(findings.exclusions(suspect, findings.blind_spots(suspect.route, case.camera_access())),
                           "nl")
    assert "dode hoeken" in said


def test_a_hit_is_acknowledged_or_dismissed_with_a_reason_and_audited(case):
    hits = case.hits(include_ignored=True)
    first, second = (int(h) for h in hits["hit_id"].iloc[:2])
    case.triage_hit(first, "dismiss", "véhicule en règle")
    case.triage_hit(second, "acknowledge", "patrouille prévenue")
    after = case.hits(include_ignored=True).set_index("hit_id")
    assert after.loc[first, "triage"] == "dismiss" and after.loc[first, "triage_reason"] == "véhicule en règle"
    assert after.loc[second, "triage"] == "acknowledge" and after.loc[second, "triage_by"] == "inspector.dupont"
    trail = case.audit_trail(limit=30)
    done = trail[trail["action"].isin(["hit-dismiss", "hit-acknowledge"]) & (trail["outcome"] == "ok")]
    resources = [r if isinstance(r, dict) else json.loads(r) for r in done["resource"]]
    assert {(r["query"]["hit_id"], r["query"]["reason"]) for r in resources} >= \
        {(first, "véhicule en règle"), (second, "patrouille prévenue")}


@pytest.mark.parametrize(("hit_id", "decision", "reason", "error"), [
    (1, "maybe", "x", InvalidInput), (1, "dismiss", "  ", InvalidInput), ("1", "dismiss", "x", InvalidInput),
    (10**9, "dismiss", "not ours", NotFound)])
def test_bad_triage_decisions_are_refused_and_audited(case, hit_id, decision, reason, error):
    with pytest.raises(error):
        case.triage_hit(hit_id, decision, reason)
    last = case.audit_trail(limit=1).iloc[-1]
    assert last["action"] in {"hit-dismiss", "hit-acknowledge"} and last["outcome"] != "ok"


def test_hits_are_grouped_per_plate_and_the_widget_triages_them(case):
    hits = case.hits(include_ignored=True)
    groups = plate_groups(hits)
    assert sorted(groups["plate"]) == sorted(hits["plate"].unique()) and groups["hits"].sum() == len(hits)
    assert list(groups["priority"]) == sorted(groups["priority"])
    shown: list[str] = []
    triage = HitTriage(case, shown.append, lang="nl")
    triage.include_ignored.value = True
    assert len(triage.rows.children) == len(groups)
    triage.rows.children[0].click()
    assert shown == [groups["plate"].iloc[0]] and "Bevestigen" in str(triage.detail.children[1].children[2])
    triage.decide(int(hits.loc[hits["plate"] == shown[0], "hit_id"].iloc[0]), "dismiss", "")
    assert "reden" in triage.status.value.lower() or "ongeldige invoer" in triage.status.value.lower()


def test_progress_shows_only_while_a_step_runs():
    progress = Progress(lang="nl")
    with progress.step("step_map", 2, 3):
        assert "2/3" in progress.value and "Kaart tekenen" in progress.value
    assert progress.value == ""
