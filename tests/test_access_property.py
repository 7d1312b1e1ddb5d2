"""Property: in random worlds, what the API returns is exactly what the access rule grants,
and every call leaves one audit event."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import workbench
from workbench.access import audit
from workbench.config import Settings
from workbench.errors import AccessDenied
from workbench.store import Store

from conftest import NOW, fixed_clock
from worlds import CASE, AgreementRow, World, write_world

PURPOSES = ["judicial-investigation", "administrative-police"]
PLATES = ["1ABC234", "2XYZ987", "1ABC284"]


@st.composite
def worlds(draw):
    n = draw(st.integers(2, 4))
    partners = [f"P{i}" for i in range(n)]
    cameras = {}
    for p in partners:
        for j in range(draw(st.integers(1, 3))):
            cameras[f"C-{p}-{j}"] = p
    agreements = []
    for p in partners[1:]:
        own = [c for c, o in cameras.items() if o == p]
        for _ in range(draw(st.integers(1, 2))):
            start = NOW + timedelta(days=draw(st.sampled_from([-400, -30, -1, 2])))
            until = draw(st.sampled_from([-3, None, 200]))
            revoked = draw(st.sampled_from([None, -2, 20]))
            agreements.append(AgreementRow(
                p, "P0", draw(st.lists(st.sampled_from(["footage", "plates"]), min_size=1, max_size=2, unique=True)),
                draw(st.lists(st.sampled_from(PURPOSES), min_size=1, max_size=2, unique=True)), start,
                None if until is None else NOW + timedelta(days=until),
                None if revoked is None else NOW + timedelta(days=revoked),
                draw(st.one_of(st.none(), st.lists(st.sampled_from(own), min_size=1, unique=True)))))
    retention = {(p, k): draw(st.sampled_from([14, 30, 365])) for p in partners for k in ("footage", "plates")}
    camera_ids = sorted(cameras)
    holds = [(draw(st.sampled_from(camera_ids)), NOW - timedelta(days=a), NOW - timedelta(days=a) + timedelta(days=b))
             for a, b in draw(st.lists(st.tuples(st.integers(20, 400), st.integers(1, 60)), max_size=3))]
    ages = draw(st.lists(st.integers(0, 24 * 400), max_size=6)) + [
        1, 24 * 10, 24 * 20, 24 * 45, 24 * 100, 24 * 380, 24 * 14 + 12, 24 * 30 + 12]
    reads = [(c, NOW - timedelta(hours=h), PLATES[(i + j) % len(PLATES)])
             for i, c in enumerate(camera_ids) for j, h in enumerate(ages)]
    role = draw(st.sampled_from(["investigator", "analyst", "dispatcher", "auditor", "admin"]))
    world = World(partners=partners, cameras=cameras, users={"u.x": ("P0", role)}, agreements=agreements,
                  retention=retention, holds=holds, case_purpose=draw(st.sampled_from(PURPOSES)), reads=reads)
    query = {
        "cameras": draw(st.one_of(st.none(), st.lists(st.sampled_from(camera_ids), min_size=1, unique=True))),
        "since": NOW - timedelta(days=draw(st.sampled_from([400, 60, 25, 2]))),
        "plates": draw(st.one_of(st.none(), st.lists(st.sampled_from(PLATES), min_size=1, unique=True))),
    }
    query["until"] = query["since"] + timedelta(days=draw(st.sampled_from([420, 30, 1])))
    return world, query


def _agreement_ok(world: World, camera: str) -> bool:
    owner = world.cameras[camera]
    if owner == "P0":
        return True
    return any(a.owner == owner and a.valid_from <= NOW and (a.valid_until is None or NOW < a.valid_until)
               and (a.revoked_at is None or NOW < a.revoked_at) and "plates" in a.kinds
               and world.case_purpose in a.purposes and (a.scope is None or camera in a.scope)
               for a in world.agreements)


def _visible(world: World, camera: str, t, since, until) -> bool:
    """The rule, point-wise, written independently of workbench.access.policy."""
    if not (since <= t < until) or not _agreement_ok(world, camera):
        return False
    horizon = NOW - timedelta(days=world.retention[(world.cameras[camera], "plates")])
    return t >= horizon or any(c == camera and s <= t < e for c, s, e in world.holds)


def _some_time_visible(world: World, camera: str, since, until) -> bool:
    if not _agreement_ok(world, camera):
        return False
    horizon = NOW - timedelta(days=world.retention[(world.cameras[camera], "plates")])
    return max(since, horizon) < until or any(c == camera and max(s, since) < min(e, until)
                                              for c, s, e in world.holds)


@pytest.mark.slow
@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_results_are_exactly_what_the_rule_grants_and_every_call_is_audited(example):
    world, q = example
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({}, home=Path(tmp))
        store = Store(settings)
        write_world(store, world, opened=NOW - timedelta(days=500))
        ws = workbench.open(settings.home, db_url=settings.db_url, clock=fixed_clock())
        try:
            before = audit.verify(store).events
            me = ws.login("u.x")
            if world.users["u.x"][1] in {"auditor", "admin"}:
                with pytest.raises(AccessDenied):
                    me.open_case(CASE, purpose=world.case_purpose)
                assert audit.verify(store).events == before + 2  # login, refused opening
                return
            case = me.open_case(CASE, purpose=world.case_purpose)
            middle = audit.verify(store).events
            named = q["cameras"]
            if named is not None and not all(_some_time_visible(world, c, q["since"], q["until"]) for c in named):
                with pytest.raises(AccessDenied):
                    case.sightings(q["plates"], since=q["since"], until=q["until"], cameras=named)
            else:
                got = case.sightings(q["plates"], since=q["since"], until=q["until"], cameras=named)
                want = sorted((c, t) for c, t, p in world.reads
                              if (named is None or c in named) and (q["plates"] is None or p in q["plates"])
                              and _visible(world, c, t, q["since"], q["until"]))
                assert sorted(zip(got["camera_id"], got["time"].dt.to_pydatetime())) == want
            check = audit.verify(store)
            assert check.ok and check.events == middle + 1
        finally:
            ws.store.dispose()
