"""The rule's facts kept between accesses (``access/rule_facts.py``): every change of the rule's tables, whoever
writes it, is seen by the next access, and the rule's time limits are applied at every access, embedded (both
backends) and through the service."""

from __future__ import annotations

import importlib.util
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text

import workbench
from workbench.access import call_snapshot
from workbench.config import Settings
from workbench.errors import AccessDenied
from workbench.samples import SAMPLE_CASE, build_sample
from workbench.service.identity import issue_token
from workbench.service.process import served
from workbench.store import counters
from workbench.store.database import MIGRATIONS

from conftest import NOW

PURPOSE = "judicial-investigation"
_spec = importlib.util.spec_from_file_location("rules_version", MIGRATIONS / "versions" / "0006_rules_version.py")
rules_migration = importlib.util.module_from_spec(_spec)   # type: ignore[arg-type]
_spec.loader.exec_module(rules_migration)   # type: ignore[union-attr]


def _rules(ws) -> int:
    with ws.store.connect() as conn:
        return counters.value(conn, counters.RULES)


def _granted(case, partner: str) -> set[bool]:
    table = case.camera_access()
    return set(table.loc[(table["partner"] == partner) & (table["data"] == "footage"), "granted"])


def test_every_write_to_a_table_of_the_rule_raises_the_counter(sample_ws):
    """A trigger on each table, whatever writes it (here plain SQL, as no workbench code would)."""
    for table in rules_migration.RULE_TABLES:
        with sample_ws.store.connect() as conn:
            rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()   # noqa: S608 (fixed names)
        before = _rules(sample_ws)
        with sample_ws.store.engine.begin() as conn:
            column = next(iter(sample_ws.store.engine.dialect.get_pk_constraint(conn, table)["constrained_columns"]))
            conn.execute(text(f"UPDATE {table} SET {column} = {column}"))   # noqa: S608
        assert (table, _rules(sample_ws) > before) == (table, rows > 0 or sample_ws.store.dialect == "postgresql")


def test_a_change_between_two_accesses_is_seen_by_the_second(sample_ws):
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    assert _granted(case, "STIB") == {True}
    version = _rules(sample_ws)
    assert _granted(case, "STIB") == {True} and _rules(sample_ws) == version   # kept: nothing changed
    with sample_ws.store.engine.begin() as conn:   # revoked by hand, not through the administration
        conn.execute(text("UPDATE agreement SET revoked_at = :at WHERE authorisation_ref = 'AGR-2025-STIB-5339'"),
                     {"at": NOW - timedelta(minutes=1)})
    assert _granted(case, "STIB") == {False}
    with sample_ws.store.engine.begin() as conn:   # and the member removed: the case no longer opens
        conn.execute(text("DELETE FROM case_member WHERE user_id = (SELECT id FROM app_user WHERE name = "
                          "'inspector.dupont') AND case_id = (SELECT id FROM investigation_case WHERE reference = "
                          ":case)"), {"case": SAMPLE_CASE})
    with pytest.raises(AccessDenied, match="not a member"):
        sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)


def test_a_served_call_reads_the_counters_once_and_the_next_call_sees_a_change(sample_ws):
    """Inside one call's reading (``call_snapshot.one_reading``, as the service runs every call) each step takes
    the counters read at the call's start: a revocation committed meanwhile is seen by the next call."""
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    assert _granted(case, "STIB") == {True}
    statements: list[str] = []

    def executed(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(sample_ws.store.engine, "before_cursor_execute", executed)
    try:
        with call_snapshot.one_reading(sample_ws.store):
            with sample_ws.store.engine.begin() as conn:   # revoked by hand once the call has begun
                conn.execute(text("UPDATE agreement SET revoked_at = :at "
                                  "WHERE authorisation_ref = 'AGR-2025-STIB-5339'"), {"at": NOW - timedelta(minutes=1)})
            assert _granted(case, "STIB") == {True}   # this call's reading of the rules
            assert _granted(case, "STIB") == {True}
    finally:
        event.remove(sample_ws.store.engine, "before_cursor_execute", executed)
    assert sum("catalogue_counter" in s and s.lstrip().upper().startswith("SELECT") for s in statements) == 1
    assert _granted(case, "STIB") == {False}   # the next call


def test_an_agreement_that_expires_between_two_accesses_holds_no_more(settings):
    """No write in between (the counter stays): the agreement's validity is judged at each access."""
    build_sample(settings, traffic=False)
    now = [NOW]
    ws = workbench.open(settings.home, db_url=settings.db_url, clock=lambda: now[0])
    try:
        ws.login("admin.willems").admin().add_agreement(
            "PZ5343", "PZ5339", kinds=["footage"], purposes=[PURPOSE], valid_from="2025-01-01",
            valid_until=NOW + timedelta(hours=1), authorisation_ref="COC-2026-0043")
        case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
        assert _granted(case, "PZ5343") == {True}
        version = _rules(ws)
        now[0] = NOW + timedelta(hours=2)
        assert _granted(case, "PZ5343") == {False}
        assert _rules(ws) == version
        assert case.camera_access()["reason"].str.contains("agreement COC-2026-0043 is expired").any()
    finally:
        ws.store.dispose()


def test_served_changes_and_expiry_between_two_calls(tmp_path):
    """Through the service (its own clock: the real one): a revocation by the administrator and an agreement
    that expires are both seen by the next call."""
    home = tmp_path / "home"
    build_sample(Settings.from_env({}, home=home), traffic=False)
    tokens = tmp_path / "tokens.json"
    issued = {name: issue_token(tokens, name) for name in ("inspector.dupont", "admin.willems")}
    with served(home, tokens) as url:
        def login(name: str):   # type: ignore[no-untyped-def]
            return workbench.open(service=url, token=issued[name]).login()

        case = login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
        admin = login("admin.willems").admin()
        assert _granted(case, "STIB") == {True}
        agreements = admin.agreements()
        admin.revoke_agreement(int(agreements.loc[agreements["authorisation_ref"] == "AGR-2025-STIB-5339",
                                                  "id"].iloc[0]), reason="ended by STIB")
        assert _granted(case, "STIB") == {False}
        for lasting in (3.0, 10.0, 40.0):   # longer if the first call did not end before the agreement did
            until = datetime.now(UTC) + timedelta(seconds=lasting)
            admin.add_agreement("PZ5343", "PZ5339", kinds=["footage"], purposes=[PURPOSE], valid_from="2025-01-01",
                                valid_until=until, authorisation_ref=f"COC-TEST-{lasting:g}")
            before = _granted(case, "PZ5343")
            if datetime.now(UTC) < until:
                break
        assert before == {True}
        time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.1)
        assert _granted(case, "PZ5343") == {False}


def test_served_an_account_switched_off_or_demoted_is_refused_at_its_next_call(tmp_path):
    """The service keeps a user's login between calls: a change of account or role is seen by the next call."""
    home = tmp_path / "home"
    build_sample(Settings.from_env({}, home=home), traffic=False)
    tokens = tmp_path / "tokens.json"
    issued = {name: issue_token(tokens, name) for name in ("inspector.dupont", "analyst.peeters", "admin.willems")}
    with served(home, tokens) as url:
        def login(name: str):   # type: ignore[no-untyped-def]
            return workbench.open(service=url, token=issued[name]).login()

        analyst, inspector = login("analyst.peeters"), login("inspector.dupont")
        case = inspector.open_case(SAMPLE_CASE, purpose=PURPOSE)
        assert len(case.camera_access())
        analyst.open_case(SAMPLE_CASE, purpose=PURPOSE)
        admin = login("admin.willems").admin()
        admin.set_user("inspector.dupont", active=False)
        with pytest.raises(AccessDenied):
            case.camera_access()
        admin.set_user("analyst.peeters", role="auditor")
        with pytest.raises(AccessDenied):
            analyst.open_case(SAMPLE_CASE, purpose=PURPOSE)
