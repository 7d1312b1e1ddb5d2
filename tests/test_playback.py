"""Playback: clips the browser plays (H.264 MP4, index first), the camera and its neighbours on one clock, audited."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import av
import pytest

from workbench.errors import AccessDenied, InvalidInput, NotFound
from workbench.footage.footage_ingest import ingest_footage
from workbench.samples import SAMPLE_CASE
from workbench.timeutil import as_utc
from workbench.widgets.playback_view import PlaybackView, player_html

from conftest import NOW, OPS, TEST_DATA, sample_workspace

CAMERA, NEIGHBOUR = "CCTV-PZ5344-102", "CCTV-PZ5344-001"   # 777 m apart; the case sees both
AT = as_utc("2026-11-20T08:29:26Z")


@pytest.fixture(scope="module")
def case(sample_copy):
    """The sample case, with a second recording of the same minute at a neighbouring camera."""
    with sample_workspace(sample_copy) as ws:
        report = ingest_footage(ws.store, [TEST_DATA / "footage" / "ahmetozlu_input_video.mp4"], camera_id=NEIGHBOUR,
                                now=NOW, audit=OPS, start=AT - timedelta(seconds=16))
        assert not report[0].error, report[0].error
        yield ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")


@pytest.fixture(scope="module")
def played(case):
    return case.playback(CAMERA, AT, seconds=12, radius=1000)


def test_the_camera_and_its_neighbour_play_over_the_same_window(played):
    assert [c.camera_id for c in played.clips] == [CAMERA, NEIGHBOUR]
    assert played.end - played.start == timedelta(seconds=12) and played.start == AT - timedelta(seconds=6)
    for clip in played.clips:
        assert abs((clip.start - played.start).total_seconds()) < 0.05     # cut at the exact picture
        assert abs((clip.end - played.end).total_seconds()) < 0.1
        with av.open(io.BytesIO(clip.mp4)) as video:
            stream = video.streams.video[0]
            assert video.format.name.startswith("mov,mp4") and stream.codec_context.name == "h264"
            pictures = sum(1 for _ in video.decode(stream))
        assert pictures == clip.frames > 100                               # 12 s at 12.5 fps and more
        assert clip.mp4.find(b"moov") < clip.mp4.find(b"mdat")             # faststart: the index first
    assert played.clips[1].distance_m == pytest.approx(777, abs=2)


def test_playback_is_audited_with_what_it_read(case, played):
    event = case.audit_trail(limit=30).query("action == 'playback'").iloc[-1]
    resource = event["resource"] if isinstance(event["resource"], dict) else json.loads(event["resource"])
    assert event["outcome"] == "ok" and event["result_count"] == 2
    assert resource["query"]["camera"] == CAMERA and resource["query"]["seconds"] == 12


def test_without_neighbours_and_refusals_in_words(case):
    alone = case.playback(CAMERA, AT, seconds=4, radius=1000, neighbours=0)
    assert [c.camera_id for c in alone.clips] == [CAMERA]
    with pytest.raises(InvalidInput, match="between 0 and 120 s"):
        case.playback(CAMERA, AT, seconds=600)
    with pytest.raises(NotFound, match="no footage camera"):
        case.playback("ANPR-BM-023", AT)
    with pytest.raises(NotFound, match="no footage of"):
        case.playback(CAMERA, AT + timedelta(hours=3))
    with pytest.raises(AccessDenied, match="outside what this case"):
        case.playback(CAMERA, NOW - timedelta(days=400))
    trail = case.audit_trail(limit=30).query("action == 'playback'")
    assert set(trail["outcome"].iloc[-4:]) == {"error", "denied"}


def test_the_player_holds_each_clip_and_one_control(case, played):
    page = player_html(played, "nl")
    assert page.count("data:video/mp4;base64,") == 2 and page.count("&lt;video") == 2
    assert "Afspelen" in page and "id=&#x27;scrub&#x27;" in page and "wbPlayer" in page
    view = PlaybackView(case, CAMERA, AT + timedelta(hours=3), lang="fr")
    assert view.playback is None and "Introuvable" in view.children[1].value
