"""PostgreSQL: the service's role appends audit events and cannot change them; purges run as maintenance."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

import workbench
from workbench import batch_priority
from workbench.access import audit
from workbench.config import Settings
from workbench.samples import SAMPLE_CASE, build_sample
from workbench.store.roles import grant_statements

from conftest import PG_URL, SAMPLE_DAY, fixed_clock, new_database


@pytest.fixture
def deployment(tmp_path):
    """A sample catalogue owned by the test's superuser, with a service and a maintenance role."""
    suffix = uuid.uuid4().hex[:8]
    roles = {"service": f"wb_service_{suffix}", "maintenance": f"wb_maint_{suffix}"}
    try:
        with new_database("postgresql", tmp_path) as owner_url:
            build_sample(Settings.from_env({}, home=tmp_path / "home", db_url=owner_url), day=SAMPLE_DAY,
                         traffic=False)
            owner = create_engine(owner_url, isolation_level="AUTOCOMMIT")
            with owner.connect() as conn:
                for role in roles.values():
                    conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
                for statement in grant_statements(roles["service"], roles["maintenance"]):
                    conn.execute(text(statement))
            owner.dispose()
            yield owner_url, {k: make_url(owner_url).set(username=v).render_as_string(hide_password=False)
                              for k, v in roles.items()}
    finally:
        if PG_URL:   # roles outlive the test database: drop them once it is gone
            server = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with server.connect() as conn:
                for role in roles.values():
                    conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            server.dispose()


def _refused(url: str, statement: str) -> str:
    engine = create_engine(url)
    try:
        with pytest.raises(DBAPIError) as refusal, engine.begin() as conn:
            conn.execute(text(statement))
        return str(refusal.value)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_service_role_appends_but_cannot_change_the_trail(deployment, tmp_path):
    _, urls = deployment
    ws = workbench.open(tmp_path / "home", db_url=urls["service"], clock=fixed_clock())
    case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    case.camera_access()                                          # reads and audit appends work as the service
    ws.store.dispose()
    for statement in ("UPDATE audit_event SET user_name = 'someone.else' WHERE seq = 1",
                      "DELETE FROM audit_event WHERE seq = (SELECT MAX(seq) FROM audit_event)",
                      "TRUNCATE audit_event", "DELETE FROM audit_head", "DELETE FROM plate_read",
                      "ALTER TABLE audit_event DISABLE TRIGGER USER", "DROP TRIGGER audit_event_append_only "
                      "ON audit_event"):
        message = _refused(urls["service"], statement)
        assert "permission denied" in message or "must be owner" in message, statement


@pytest.mark.postgres
def test_the_maintenance_role_purges_data_but_not_the_trail(deployment):
    _, urls = deployment
    engine = create_engine(urls["maintenance"])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM plate_read WHERE false"))      # allowed: retention purges
    engine.dispose()
    assert "permission denied" in _refused(urls["maintenance"], "DELETE FROM audit_event")
    assert "permission denied" in _refused(urls["maintenance"], "UPDATE audit_event SET reason = 'x'")


@pytest.mark.postgres
def test_the_trigger_refuses_even_the_owner(deployment, tmp_path):
    owner_url, _ = deployment
    for statement in ("UPDATE audit_event SET reason = 'x' WHERE seq = 1", "DELETE FROM audit_event",
                      "TRUNCATE audit_event", "UPDATE audit_head SET seq = 0"):
        message = _refused(owner_url, statement)
        assert "append-only" in message or "only moves forward" in message, statement
    store = workbench.open(tmp_path / "home", db_url=owner_url, clock=fixed_clock()).store
    assert audit.verify(store).ok
    store.dispose()


@pytest.mark.postgres
def test_a_batch_jobs_connections_lower_their_server_process_where_granted(deployment):
    """The service's role (plates ingests run from its account) lowers each connection's server process to the
    job's nice value; a role not granted the function is told why, in words, and its connection still works."""
    _, urls = deployment
    outcomes: dict[str, list[str]] = {}
    for role in ("service", "maintenance"):
        engine = create_engine(urls[role])
        told: list[str] = []
        batch_priority.on_each_connection(engine, 7, tell=told.append)
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            group = Path(f"/proc/{pid}/autogroup")   # the test server runs on this machine
            outcomes[role] = told + ([group.read_text().split()[-1]] if group.exists() else [])
        engine.dispose()
    if Path("/proc/self/autogroup").exists():   # a kernel with session groups
        assert outcomes["service"] == ["7"]
    else:
        assert "autogroup" in outcomes["service"][0]
    assert "permission denied for function workbench_batch_priority" in outcomes["maintenance"][0]
    assert outcomes["maintenance"][-1] != "7"
