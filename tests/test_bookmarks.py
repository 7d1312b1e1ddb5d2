"""Bookmarks and saved searches on a case: shared with colleagues on the case by link, refused to everyone else."""

from __future__ import annotations

import json

import pytest

from workbench.config import Settings
from workbench.errors import AccessDenied, InvalidInput
from workbench.samples import SAMPLE_CASE
from workbench.widgets.sharing import BookmarkBar, BookmarkList, link_prefix

from conftest import sample_workspace

PURPOSE = "judicial-investigation"


@pytest.fixture(scope="module")
def ws(sample_copy):
    with sample_workspace(sample_copy) as ws:
        yield ws


@pytest.fixture(scope="module")
def marks(ws):
    case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    return {
        "frame": case.bookmark("frame", camera="CCTV-PZ5344-102", at="2026-11-20T09:29:26+01:00", note="red car"),
        "sighting": case.bookmark("sighting", camera="ANPR-BM-023", at="2026-11-20T08:15:00Z", plate="6-ggm-833"),
        "note": case.bookmark("note", note="Le suspect s'arrête deux fois à Flagey."),
        "search": case.save_search("frame_search", {"plate": "6GGM833", "colour": "red", "kind": "vehicle"},
                                   title="voiture rouge"),
    }


def test_a_colleague_on_the_case_lists_and_opens_them(ws, marks):
    colleague = ws.login("inspector.janssens")
    listed = colleague.open_case(SAMPLE_CASE, purpose=PURPOSE).bookmarks()
    assert sorted(listed["id"]) == sorted(m.id for m in marks.values())
    assert set(listed["created_by"]) == {"inspector.dupont"}
    opened = colleague.open_bookmark(marks["frame"].id)
    assert opened == marks["frame"] and opened.at.isoformat() == "2026-11-20T08:29:26+00:00"
    assert opened.app == "frame_search" and opened.note == "red car"
    assert colleague.open_bookmark(marks["sighting"].id).plate == "6GGM833"
    search = colleague.open_bookmark(marks["search"].id)
    assert search.query == {"plate": "6GGM833", "colour": "red", "kind": "vehicle"} and search.title == "voiture rouge"
    case = colleague.open_case(opened.case_reference, purpose=opened.purpose)
    assert case.reference == SAMPLE_CASE


def test_links_name_the_app_and_the_bookmark(marks):
    assert marks["frame"].link() == f"/voila/render/frame_search.ipynb?bookmark={marks['frame'].id}"
    assert marks["note"].link("/hub/user-redirect/", lang="nl") == \
        f"/hub/user-redirect/voila/render/sightings_map.ipynb?bookmark={marks['note'].id}&lang=nl"
    assert len({m.id for m in marks.values()}) == 4 and all(len(m.id) >= 16 for m in marks.values())


@pytest.mark.parametrize("user", ["inspector.vermeulen", "auditor.maes", "trainer.claes"])
def test_everyone_else_is_refused_and_audited(ws, marks, user):
    with pytest.raises(AccessDenied) as refused:
        ws.login(user).open_bookmark(marks["note"].id)
    with pytest.raises(AccessDenied) as unknown:
        ws.login(user).open_bookmark("no-such-bookmark")
    if user != "trainer.claes":   # a member whose role may not open the case hears why
        assert str(refused.value).replace(marks["note"].id, "X") == str(unknown.value).replace("no-such-bookmark", "X")
    trail = ws.login("auditor.maes").audit_events(user_name=user)
    denied = trail[(trail["action"] == "open-bookmark") & (trail["outcome"] == "denied")]
    resources = [r if isinstance(r, dict) else json.loads(r) for r in denied["resource"]]
    assert {marks["note"].id, "no-such-bookmark"} <= {r["bookmark"] for r in resources}


def test_saving_and_opening_are_audited(ws, marks):
    trail = ws.login("auditor.maes").audit_events(case_reference=SAMPLE_CASE)
    saved = trail[trail["action"] == "save-bookmark"]
    assert len(saved) >= 4 and set(saved["outcome"]) == {"ok"}
    opened = trail[(trail["action"] == "open-bookmark") & (trail["user_name"] == "inspector.janssens")]
    assert len(opened) >= 3 and set(opened["outcome"]) == {"ok"}


def test_bad_bookmarks_are_refused_in_words(ws):
    case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    for kwargs, words in [({"kind": "video"}, "one of: frame"), ({"kind": "frame", "camera": "C1"}, "needs camera="),
                          ({"kind": "note", "note": "  "}, "note's text"),
                          ({"kind": "note", "note": "x", "app": "elsewhere"}, "app 'elsewhere'"),
                          ({"kind": "frame", "camera": "C1", "at": "yesterday"}, "not a date")]:
        with pytest.raises(InvalidInput, match=words):
            case.bookmark(**kwargs)
    with pytest.raises(InvalidInput, match="its parameters"):
        case.save_search("frame_search", {})
    errors = case.audit_trail(limit=20).query("action == 'save-bookmark' and outcome == 'error'")
    assert len(errors) >= 6


def test_the_apps_read_the_bookmark_from_their_address_and_link_through_the_hub(tmp_path):
    asked = Settings.from_env({"QUERY_STRING": "lang=nl&bookmark=AbC-12_x"}, home=tmp_path)
    assert (asked.bookmark, asked.lang) == ("AbC-12_x", "nl")
    hub = Settings.from_env({"JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api"}, home=tmp_path)
    assert link_prefix(hub) == "/hub/user-redirect/" and link_prefix(asked) == "/"


def test_the_bookmark_bar_shows_the_link_or_why_not(ws):
    case = ws.login("inspector.janssens").open_case(SAMPLE_CASE, purpose=PURPOSE)
    bar = BookmarkBar(case, lambda: {"kind": "frame", "camera": "CCTV-PZ5344-102", "at": "2026-11-20T08:29:26Z"},
                      lang="nl")
    bar.note.value = "rode wagen"
    bar.save()
    assert bar.mark.note == "rode wagen" and "Bladwijzer bewaard" in bar.result.value
    assert f"bookmark={bar.mark.id}&amp;lang=nl" in bar.result.value
    bad = BookmarkBar(case, lambda: {"kind": "frame"}, lang="nl")
    bad.save()
    assert bad.mark is None and "Ongeldige invoer" in bad.result.value
    assert bar.mark.id in BookmarkList(case, lang="fr").value
