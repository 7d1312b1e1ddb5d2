"""A closed audit vocabulary, no public ``record``, and every failure inside an access audited."""

from __future__ import annotations

import hashlib

import pytest

from workbench.access import CaseScope, UserSession, audit
from workbench.access.audit_actions import ACTIONS, CELL_ACTION, CUSTODY_ACTION, describe
from workbench.access.session import CaseInfo
from workbench.errors import AccessDenied, InvalidInput
from workbench.samples import SAMPLE_CASE
from workbench.samples.world import TRAINING_CASE

from conftest import NOW

PURPOSE = "judicial-investigation"
CELL = hashlib.sha256(b"case.camera_access()").hexdigest()


def _events(ws, user: str):
    return audit.events_frame(ws.store, user_name=user)


def _case(ws, user: str = "inspector.dupont") -> CaseScope:
    return ws.login(user).open_case(SAMPLE_CASE, purpose=PURPOSE)


def test_every_action_has_a_description_and_others_are_refused(sample_ws):
    assert all(isinstance(text, str) and len(text) > 10 for text in ACTIONS.values())
    assert "purpose" in describe("open-case")
    before = audit.verify(sample_ws.store).events
    with pytest.raises(InvalidInput, match="not an audit action"):
        audit.record(sample_ws.store, audit.Actor("inspector.dupont"), "made-up", time=NOW)
    with pytest.raises(InvalidInput, match="not an audit outcome"):
        audit.record(sample_ws.store, audit.Actor("inspector.dupont"), "login", time=NOW, outcome="fine")
    assert audit.verify(sample_ws.store).events == before


def test_an_access_under_an_unknown_action_reads_nothing(sample_ws):
    case = _case(sample_ws)
    with pytest.raises(InvalidInput, match="not an audit action"):
        with case.access("plates", action="quiet-read"):
            pytest.fail("the block ran under an action the trail cannot hold")


@pytest.mark.parametrize("action", [CUSTODY_ACTION, CELL_ACTION])
def test_custody_and_cell_events_are_not_written_through_the_general_path(sample_ws, action):
    with pytest.raises(InvalidInput, match="written only by"):
        audit.record(sample_ws.store, audit.Actor("analyst.peeters", "PZ5339", SAMPLE_CASE, PURPOSE), action,
                     time=NOW, resource={"manifest_sha256": "0" * 64})


def test_record_is_not_public_on_sessions_and_cases(sample_ws):
    case = _case(sample_ws)
    assert not hasattr(UserSession, "record") and not hasattr(CaseScope, "record")
    assert not hasattr(case, "record") and not hasattr(case._user_session, "record")


def test_a_cell_is_noted_with_its_validated_fields_only(sample_ws):
    me = sample_ws.login("inspector.dupont")
    info = _case(sample_ws).info
    me.note_cell(CELL, 20, 3, "ok", case=info)
    event = _events(sample_ws, "inspector.dupont").iloc[-1]
    assert (event["action"], event["case_reference"]) == (CELL_ACTION, SAMPLE_CASE)
    assert event["resource"] == {"sha256": CELL, "chars": 20, "execution_count": 3, "status": "ok"}


@pytest.mark.parametrize("args, message", [
    (("not-a-hash", 1, 1, "ok"), "SHA-256"),
    ((CELL, -1, 1, "ok"), "length"),
    ((CELL, 1, "3", "ok"), "execution count"),
    ((CELL, 1, 1, "custody"), "status"),
])
def test_a_cell_with_bad_fields_is_refused(sample_ws, args, message):
    me = sample_ws.login("inspector.dupont")
    before = audit.verify(sample_ws.store).events
    with pytest.raises(InvalidInput, match=message):
        me.note_cell(*args)
    assert audit.verify(sample_ws.store).events == before


def test_a_cell_cannot_be_noted_under_a_case_the_user_is_not_in(sample_ws):
    """A hand-made CaseInfo naming another case (or the case with another purpose) is refused."""
    me = sample_ws.login("analyst.peeters")
    forged = CaseInfo(TRAINING_CASE, "x", "training", "x", "open", True, NOW)
    with pytest.raises(InvalidInput, match="is not a case of analyst.peeters"):
        me.note_cell(CELL, 1, 1, "ok", case=forged)
    real = _case(sample_ws, "analyst.peeters").info
    with pytest.raises(InvalidInput):
        me.note_cell(CELL, 1, 1, "ok", case=CaseInfo(real.reference, "x", "public-order", "x", "open", False, NOW))


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyError("gone"), ZeroDivisionError("division by zero")])
def test_any_exception_inside_an_access_is_audited_as_an_error(sample_ws, exc):
    case = _case(sample_ws)
    with pytest.raises(type(exc)):
        with case.access("plates", action="read-sightings"):
            raise exc
    event = _events(sample_ws, "inspector.dupont").iloc[-1]
    assert (event["action"], event["outcome"]) == ("read-sightings", "error")
    assert event["reason"].startswith(type(exc).__name__)


def test_an_interrupt_inside_an_access_is_audited(sample_ws):
    case = _case(sample_ws)
    with pytest.raises(KeyboardInterrupt):
        with case.access("plates", action="read-sightings"):
            raise KeyboardInterrupt()
    assert _events(sample_ws, "inspector.dupont").iloc[-1]["reason"].startswith("KeyboardInterrupt")


def test_a_refusal_raised_inside_an_access_is_audited_once_as_denied(sample_ws):
    case = _case(sample_ws)
    before = len(_events(sample_ws, "inspector.dupont"))
    with pytest.raises(AccessDenied):
        with case.access("plates", action="read-sightings"):
            raise AccessDenied("outside the export window")
    events = _events(sample_ws, "inspector.dupont")
    assert len(events) == before + 1
    assert tuple(events.iloc[-1][["outcome", "reason"]]) == ("denied", "outside the export window")


def test_an_old_refusal_raised_again_inside_a_new_access_is_audited_again(sample_ws):
    """Re-raising an exception audited earlier must not silence the new access it leaves."""
    case = _case(sample_ws, "analyst.peeters")
    refused = case.camera_access().query("not granted")["camera_id"].iloc[0]
    with pytest.raises(AccessDenied) as earlier:
        case.sightings(None, cameras=[refused])
    before = len(_events(sample_ws, "analyst.peeters"))
    with pytest.raises(AccessDenied):
        with case.access("plates", action="read-sightings"):
            raise earlier.value
    events = _events(sample_ws, "analyst.peeters")
    assert len(events) == before + 1 and events.iloc[-1]["outcome"] == "denied"


def test_a_refused_camera_is_audited_once(sample_ws):
    case = _case(sample_ws, "analyst.peeters")
    refused = case.camera_access().query("not granted")["camera_id"].iloc[0]
    before = len(_events(sample_ws, "analyst.peeters"))
    with pytest.raises(AccessDenied):
        case.sightings(None, cameras=[refused])
    assert len(_events(sample_ws, "analyst.peeters")) == before + 1


@pytest.mark.parametrize("call, action", [
    (lambda c: c.sightings(None, since="2026-11-20", until="2026-11-19"), "read-sightings"),
    (lambda c: c.sightings(None, since="not a date"), "read-sightings"),
    (lambda c: c.access("videos", action="list-footage").__enter__(), "list-footage"),
    (lambda c: c.plate_reads("1-ABC-%%%"), "plate-reads"),
    (lambda c: c.place_hold("CCTV-PZ5339-101", "2026-11-20", "2026-11-19", "seized"), "place-hold"),
    (lambda c: c.export_clip("CCTV-PZ5339-101"), "export-clip"),
    (lambda c: c.frame("CCTV-PZ5339-101", "2026-11-20T08:00:00Z", keyframe="sideways"), "frame"),
    (lambda c: c.frames_at("yesterday-ish", near="CCTV-PZ5339-101"), "frames-at"),
    (lambda c: c.frame_search(page=0), "frame-search"),
])
def test_bad_input_is_refused_and_audited(sample_ws, call, action):
    case = _case(sample_ws)
    with pytest.raises(InvalidInput) as refusal:
        call(case)
    event = _events(sample_ws, "inspector.dupont").iloc[-1]
    assert (event["action"], event["outcome"], event["case_reference"]) == (action, "error", SAMPLE_CASE)
    assert str(refusal.value) in event["reason"]
    assert audit.verify(sample_ws.store).ok


def test_bad_input_outside_a_case_is_audited_too(sample_ws):
    me = sample_ws.login("inspector.dupont")
    with pytest.raises(InvalidInput, match="unknown purpose"):
        me.create_case("PV-NEW-1", title="t", purpose="curiosity", legal_basis="none")
    event = _events(sample_ws, "inspector.dupont").iloc[-1]
    assert (event["action"], event["outcome"]) == ("create-case", "error") and "curiosity" in event["reason"]
    auditor = sample_ws.login("auditor.maes")
    with pytest.raises(InvalidInput):
        auditor.audit_events(since="last tuesday")
    assert tuple(_events(sample_ws, "auditor.maes").iloc[-1][["action", "outcome"]]) == ("read-audit", "error")
