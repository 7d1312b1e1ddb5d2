"""Bad input gets a clear, typed error or an empty audited result, never a library traceback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workbench.access import audit
from workbench.errors import AccessDenied, InvalidInput, NotFound, WorkbenchError
from workbench.samples import SAMPLE_CASE
from workbench.samples.world import CLOSED_CASE, TRAINING_CASE

from conftest import NOW

PURPOSE = "judicial-investigation"


def _last(ws, user: str):
    return audit.events_frame(ws.store, user_name=user).iloc[-1]


def test_unknown_user_is_refused_and_audited(sample_ws):
    with pytest.raises(AccessDenied, match="no active workbench account named 'mallory'"):
        sample_ws.login("mallory")
    assert tuple(_last(sample_ws, "mallory")[["action", "outcome"]]) == ("login", "denied")


def test_no_identity_at_all(sample_ws, monkeypatch):
    import workbench

    monkeypatch.delenv("WORKBENCH_USER", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    ws = workbench.open(sample_ws.settings.home, db_url=sample_ws.settings.db_url)
    with pytest.raises(AccessDenied, match="WORKBENCH_USER"):
        ws.login()
    ws.store.dispose()


def test_closed_case_is_refused(sample_ws):
    with pytest.raises(AccessDenied, match="closed"):
        sample_ws.login("inspector.dupont").open_case(CLOSED_CASE, purpose=PURPOSE)


def test_case_closed_while_open_refuses_further_reads(sample_ws):
    from sqlalchemy import update
    from workbench.store.models import Case

    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    with sample_ws.store.session() as s:
        s.execute(update(Case).where(Case.reference == SAMPLE_CASE).values(status="closed"))
    with pytest.raises(AccessDenied, match="closed"):
        case.sightings(["1ABC234"])


def test_wrong_purpose_is_refused(sample_ws):
    with pytest.raises(AccessDenied, match="purpose limitation"):
        sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="administrative-police")


def test_non_member_and_unknown_case_read_the_same(sample_ws):
    me = sample_ws.login("inspector.vermeulen")
    with pytest.raises(AccessDenied) as a:
        me.open_case(SAMPLE_CASE, purpose=PURPOSE)
    with pytest.raises(AccessDenied) as b:
        me.open_case("PV-DOES-NOT-EXIST", purpose=PURPOSE)
    assert "not a member" in str(a.value) and "not a member" in str(b.value)


def test_trainer_works_on_training_cases_only(sample_ws):
    trainer = sample_ws.login("trainer.claes")
    with pytest.raises(AccessDenied, match="training"):
        trainer.open_case(SAMPLE_CASE, purpose=PURPOSE)
    case = trainer.open_case(TRAINING_CASE, purpose="training")
    assert case.info.is_training and len(case.cameras()) > 0


def test_auditor_reads_the_trail_and_nothing_else(sample_ws):
    auditor = sample_ws.login("auditor.maes")
    with pytest.raises(AccessDenied, match="auditors read the audit trail and nothing else"):
        auditor.open_case(SAMPLE_CASE, purpose=PURPOSE)
    assert auditor.verify_audit().ok
    assert "open-case" in set(auditor.audit_events()["action"])
    with pytest.raises(AccessDenied, match="only auditors"):
        sample_ws.login("inspector.dupont").audit_events()


@pytest.mark.parametrize("plate", ["1ABC234' OR '1'='1", "'; DROP TABLE plate_read; --", "%", "_", "\"", "x" * 1000])
def test_plate_queries_with_sql_in_them_are_just_plates(sample_ws, plate):
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    result = case.sightings([plate])
    assert result.empty
    assert _last(sample_ws, "inspector.dupont")["result_count"] == 0
    assert len(case.camera_access()) > 10  # the tables are still there


def test_unknown_camera_is_a_clear_error_and_audited(sample_ws):
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    with pytest.raises(NotFound, match="no camera with id 'CAM-NOPE'"):
        case.sightings(None, cameras=["CAM-NOPE"])
    last = _last(sample_ws, "inspector.dupont")
    assert (last["outcome"], last["reason"]) == ("error", "no camera with id 'CAM-NOPE'")


def test_refused_camera_names_the_rule(sample_ws):
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    with pytest.raises(AccessDenied, match="CCTV-SIAMU-001: no sharing agreement from SIAMU to PZ5339"):
        with case.access("footage", cameras=["CCTV-SIAMU-001"], action="frame"):
            pass


@pytest.mark.parametrize("since,until,match", [
    ("2026-11-20T10:00", None, "no time zone"),
    ("next tuesday", None, "not a date or time"),
    ("2026-11-21", "2026-11-20", "the time window is empty"),
])
def test_bad_time_windows(sample_ws, since, until, match):
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    with pytest.raises(InvalidInput, match=match):
        case.sightings(None, since=since, until=until)


def test_outside_retention_is_empty_and_audited(sample_ws):
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    old = NOW - timedelta(days=800)
    assert case.sightings(None, since=old, until=old + timedelta(days=1)).empty
    assert _last(sample_ws, "inspector.dupont")["action"] == "read-sightings"


def test_every_error_is_a_workbench_error_and_a_builtin():
    assert issubclass(AccessDenied, PermissionError) and issubclass(AccessDenied, WorkbenchError)
    assert issubclass(InvalidInput, ValueError) and issubclass(NotFound, LookupError)


def test_create_case_is_for_investigators(sample_ws):
    analyst = sample_ws.login("analyst.peeters")
    with pytest.raises(AccessDenied, match="only an investigator"):
        analyst.create_case("PV-NEW-1", title="x", purpose=PURPOSE, legal_basis="y")
    me = sample_ws.login("inspector.dupont")
    info = me.create_case("PV-NEW-1", title="Nouveau", purpose=PURPOSE, legal_basis="art. 46sexies",
                          members=["analyst.peeters"])
    assert info.status == "open" and "PV-NEW-1" in set(analyst.cases()["reference"])
    with pytest.raises(InvalidInput, match="exists already"):
        me.create_case("PV-NEW-1", title="x", purpose=PURPOSE, legal_basis="y")
    with pytest.raises(NotFound, match="unknown users: ghost"):
        me.create_case("PV-NEW-2", title="x", purpose=PURPOSE, legal_basis="y", members=["ghost"])
