"""The authorisation matrix: role x own/foreign partner x agreement state x retention."""

from __future__ import annotations

from datetime import timedelta

import pytest

import workbench
from workbench.errors import AccessDenied
from workbench.store import Store
from workbench.config import Settings

from conftest import NOW, fixed_clock, new_database
from worlds import CASE, AgreementRow, World, write_world

ROLES = ["investigator", "analyst", "dispatcher", "trainer", "auditor", "admin"]
READERS = {"investigator", "analyst", "dispatcher"}
STATES = ["own", "none", "active", "expired", "revoked", "wrong-kind", "wrong-purpose"]
WINDOWS = {
    "inside": (NOW - timedelta(days=2), NOW - timedelta(days=2) + timedelta(hours=1)),
    "outside": (NOW - timedelta(days=40), NOW - timedelta(days=40) + timedelta(hours=1)),
    "outside-held": (NOW - timedelta(days=50), NOW - timedelta(days=50) + timedelta(hours=1)),
}
PURPOSE = "judicial-investigation"


def _world() -> World:
    year = timedelta(days=365)
    partners = ["OWN"] + [f"F-{s}" for s in STATES if s != "own"]
    agreements = {
        "active": AgreementRow("F-active", "OWN", ["footage"], [PURPOSE], NOW - year),
        "expired": AgreementRow("F-expired", "OWN", ["footage"], [PURPOSE], NOW - 2 * year, NOW - timedelta(days=1)),
        "revoked": AgreementRow("F-revoked", "OWN", ["footage"], [PURPOSE], NOW - year,
                                revoked_at=NOW - timedelta(hours=1)),
        "wrong-kind": AgreementRow("F-wrong-kind", "OWN", ["plates"], [PURPOSE], NOW - year),
        "wrong-purpose": AgreementRow("F-wrong-purpose", "OWN", ["footage"], ["administrative-police"], NOW - year),
    }
    cameras = {f"CAM-{s}": ("OWN" if s == "own" else f"F-{s}") for s in STATES}
    held_start, held_end = WINDOWS["outside-held"]
    return World(
        partners=partners, cameras=cameras,
        users={f"u.{r}": ("OWN", r) for r in ROLES},
        agreements=list(agreements.values()),
        retention={(p, "footage"): 30 for p in partners},
        holds=[(c, held_start - timedelta(hours=1), held_end + timedelta(hours=1)) for c in cameras])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix_ws(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("matrix")
    with new_database(request.param, folder) as url:
        settings = Settings.from_env({}, home=folder, db_url=url)
        store = Store(settings)
        write_world(store, _world(), opened=NOW - timedelta(days=400))
        store.dispose()
        ws = workbench.open(folder, db_url=url, clock=fixed_clock())
        yield ws
        ws.store.dispose()


def expected(role: str, state: str, window: str) -> bool:
    return role in READERS and state in {"own", "active"} and window in {"inside", "outside-held"}


@pytest.mark.parametrize("role", ROLES)
def test_opening_the_case_depends_on_the_role(matrix_ws, role):
    me = matrix_ws.login(f"u.{role}")
    if role in READERS:
        assert me.open_case(CASE, purpose=PURPOSE).reference == CASE
    else:
        with pytest.raises(AccessDenied) as refusal:
            me.open_case(CASE, purpose=PURPOSE)
        assert role in str(refusal.value) or "training" in str(refusal.value)
        events = matrix_ws.login("u.auditor").audit_events(user_name=f"u.{role}")
        last = events[events["action"] == "open-case"].iloc[-1]
        assert last["outcome"] == "denied" and last["case_reference"] == CASE


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", sorted(READERS))
def test_footage_access_matrix(matrix_ws, role, state, window):
    case = matrix_ws.login(f"u.{role}").open_case(CASE, purpose=PURPOSE)
    since, until = WINDOWS[window]
    camera = f"CAM-{state}"
    if expected(role, state, window):
        with case.access("footage", cameras=[camera], since=since, until=until, action="list-footage") as grant:
            grant.count = 0
        assert grant.windows == {camera: ((since, until),)}
    else:
        with pytest.raises(AccessDenied) as refusal:
            with case.access("footage", cameras=[camera], since=since, until=until, action="list-footage"):
                pass
        reason = str(refusal.value)
        if state in {"own", "active"}:
            assert "retention" in reason
        else:
            assert {"none": "no sharing agreement", "expired": "expired", "revoked": "revoked",
                    "wrong-kind": "does not cover footage", "wrong-purpose": "does not cover the purpose"}[state] \
                in reason
    event = case.audit_trail(limit=1).iloc[-1]
    assert event["action"] == "list-footage"
    assert event["outcome"] == ("ok" if expected(role, state, window) else "denied")


def test_listing_without_naming_cameras_keeps_only_granted_ones(matrix_ws):
    case = matrix_ws.login("u.analyst").open_case(CASE, purpose=PURPOSE)
    since, until = WINDOWS["inside"]
    with case.access("footage", since=since, until=until, action="list-footage") as grant:
        grant.count = len(grant.cameras)
    assert grant.cameras == ["CAM-active", "CAM-own"]
    assert set(grant.refused) == {f"CAM-{s}" for s in STATES} - {"CAM-active", "CAM-own"}
    table = case.camera_access().set_index("camera_id")
    assert table.loc["CAM-active", "granted"] and not table.loc["CAM-revoked", "granted"]
    assert "revoked" in table.loc["CAM-revoked", "reason"]


def test_export_needs_the_investigator_role(matrix_ws):
    since, until = WINDOWS["inside"]
    for role in sorted(READERS):
        case = matrix_ws.login(f"u.{role}").open_case(CASE, purpose=PURPOSE)
        if role == "investigator":
            with case.access("footage", cameras=["CAM-own"], since=since, until=until, action="export-clip",
                             export=True) as grant:
                grant.count = 1
        else:
            with pytest.raises(AccessDenied, match="investigator role"):
                with case.access("footage", cameras=["CAM-own"], since=since, until=until, action="export-clip",
                                 export=True):
                    pass


def test_a_narrowed_grant_is_never_wider(matrix_ws):
    case = matrix_ws.login("u.investigator").open_case(CASE, purpose=PURPOSE)
    since, until = WINDOWS["inside"]
    with case.access("footage", since=since, until=until, action="list-footage") as grant:
        grant.count = 0
    inner = grant.narrowed([("CAM-own", since + timedelta(minutes=10), until + timedelta(days=3)),
                            ("CAM-revoked", since, until), ("CAM-active", until, until + timedelta(hours=1))])
    assert inner.windows == {"CAM-own": ((since + timedelta(minutes=10), until),)}
