"""Administration through the access layer: administrators only, each change audited, the rule follows at once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from workbench.access import audit
from workbench.errors import AccessDenied, InvalidInput, NotFound
from workbench.samples import SAMPLE_CASE

PURPOSE = "judicial-investigation"


def _last(ws, user: str):
    return audit.events_frame(ws.store, user_name=user).iloc[-1]


def _granted(ws, partner: str) -> set[bool]:
    case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    table = case.camera_access()
    return set(table.loc[(table["partner"] == partner) & (table["data"] == "footage"), "granted"])


@pytest.mark.parametrize("user", ["inspector.dupont", "analyst.peeters", "auditor.maes", "trainer.claes"])
def test_only_administrators_administer(sample_ws, user):
    with pytest.raises(AccessDenied, match="does not administer"):
        sample_ws.login(user).admin()
    assert tuple(_last(sample_ws, user)[["action", "outcome"]]) == ("admin-session", "denied")


def test_listings_are_audited(sample_ws):
    admin = sample_ws.login("admin.willems").admin()
    users = admin.users()
    assert {"inspector.dupont", "admin.willems"} <= set(users["name"])
    assert "AGR-2025-STIB-5339" in set(admin.agreements()["authorisation_ref"])
    event = _last(sample_ws, "admin.willems")
    assert (event["action"], event["resource"], event["result_count"]) == ("admin-list", {"list": "agreements"},
                                                                           len(admin.agreements()))


def test_a_revocation_holds_at_once_and_is_audited(sample_ws):
    assert _granted(sample_ws, "STIB") == {True}
    admin = sample_ws.login("admin.willems").admin()
    agreements = admin.agreements()
    stib = int(agreements.loc[agreements["authorisation_ref"] == "AGR-2025-STIB-5339", "id"].iloc[0])
    admin.revoke_agreement(stib, reason="ended by STIB")
    event = _last(sample_ws, "admin.willems")
    assert (event["action"], event["outcome"], event["resource"]) == ("admin-revoke", "ok",
                                                                      {"id": stib, "reason": "ended by STIB"})
    assert _granted(sample_ws, "STIB") == {False}
    with pytest.raises(InvalidInput, match="revoked already"):
        admin.revoke_agreement(stib, reason="again")
    assert tuple(_last(sample_ws, "admin.willems")[["action", "outcome"]]) == ("admin-revoke", "error")


def test_a_new_agreement_needs_its_authorisation_and_holds_at_once(sample_ws):
    assert _granted(sample_ws, "PZ5343") == {False}      # administrative-police only
    admin = sample_ws.login("admin.willems").admin()
    with pytest.raises(InvalidInput, match="authorisation"):
        admin.add_agreement("PZ5343", "PZ5339", kinds=["footage"], purposes=[PURPOSE], valid_from="2025-01-01",
                            authorisation_ref=" ")
    with pytest.raises(InvalidInput, match="purposes"):
        admin.add_agreement("PZ5343", "PZ5339", kinds=["footage"], purposes=["curiosity"], valid_from="2025-01-01",
                            authorisation_ref="COC-1")
    with pytest.raises(NotFound, match="no partner"):
        admin.add_agreement("NOPE", "PZ5339", kinds=["footage"], purposes=[PURPOSE], valid_from="2025-01-01",
                            authorisation_ref="COC-1")
    number = admin.add_agreement("PZ5343", "PZ5339", kinds=["footage"], purposes=[PURPOSE],
                                 valid_from="2025-01-01", authorisation_ref="COC-2026-0042")
    event = _last(sample_ws, "admin.willems")
    assert (event["action"], event["resource"]["id"], event["resource"]["authorisation_ref"]) == \
        ("admin-agreement", number, "COC-2026-0042")
    assert _granted(sample_ws, "PZ5343") == {True}


def test_accounts_and_roles_change_at_once(sample_ws):
    admin = sample_ws.login("admin.willems").admin()
    admin.set_user("analyst.peeters", role="investigator")
    assert sample_ws.login("analyst.peeters").user.role == "investigator"
    admin.set_user("analyst.peeters", active=False)
    with pytest.raises(AccessDenied):
        sample_ws.login("analyst.peeters")
    admin.set_user("inspector.new", full_name="Inspecteur Nouveau", partner="PZ5344", role="investigator")
    assert sample_ws.login("inspector.new").user.partner == "PZ5344"
    with pytest.raises(InvalidInput, match="unknown role"):
        admin.set_user("inspector.new", role="superuser")
    with pytest.raises(InvalidInput, match="own administration"):
        admin.set_user("admin.willems", active=False)
    assert sample_ws.login("admin.willems").user.role == "admin"


def test_a_failed_change_leaves_nothing_but_its_refusal(sample_ws):
    admin = sample_ws.login("admin.willems").admin()
    before = len(admin.partners())
    with pytest.raises(InvalidInput, match="exists already"):
        admin.add_partner("STIB", "STIB again", "public_transport")
    assert len(admin.partners()) == before
    events = audit.events_frame(sample_ws.store, user_name="admin.willems")
    assert list(events.loc[events["action"] == "admin-partner", "outcome"]) == ["error"]
    admin.add_partner("VIAS", "Institut Vias", "road_safety")
    assert len(admin.partners()) == before + 1


def test_hit_policy(sample_ws):
    admin = sample_ws.login("admin.willems").admin()
    with pytest.raises(InvalidInput, match="each in one list"):
        admin.set_hit_policy("PZ5339", act_on=[0, 1], ignore=[1, 7])
    admin.set_hit_policy("PZ5339", act_on=[0, 1, 2], ignore=[3, 4])
    policy = admin.partners().set_index("code").loc["PZ5339", "hit_policy"]
    assert policy == {"act_on": [0, 1, 2], "ignore": [3, 4], "own_list_only": []}
    assert audit.verify(sample_ws.store).ok


def test_cli_admin(sample_ws):
    env = {**os.environ, "WORKBENCH_HOME": str(sample_ws.settings.home), "WORKBENCH_DB_URL": sample_ws.settings.db_url}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "admin", *args],
                              env=env, capture_output=True, text=True)

    listed = run("--as", "admin.willems", "users")
    assert listed.returncode == 0 and "inspector.dupont" in listed.stdout, listed.stderr
    refused = run("--as", "inspector.dupont", "users")
    assert refused.returncode == 2 and "does not administer" in refused.stderr
    revoked = run("--as", "admin.willems", "revoke", "1", "--reason", "ended")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
    grants = run("db-grants", "--service", "wb_service", "--maintenance", "wb_maintenance")
    assert "GRANT INSERT ON audit_event TO \"wb_service\"" in grants.stdout
    assert "REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM \"wb_service\"" in grants.stdout
