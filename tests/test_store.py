"""The catalogue: migrations, schema in step with the models, UTC times, clear errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from workbench.config import Settings
from workbench.errors import ConfigurationError, InvalidInput, StoreError
from workbench.store import Store
from workbench.store.models import Base, Partner, Retention
from workbench.store.partitions import include_object
from workbench.timeutil import as_utc


def test_migrations_are_idempotent_and_match_the_models(settings):
    store = Store(settings)
    store.migrate()
    store.migrate()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"the migrations differ from the models: {diff}"


def test_times_come_back_as_utc(settings):
    store = Store(settings)
    store.migrate()
    brussels = timezone(timedelta(hours=1))
    with store.session() as s:
        s.add(Partner(code="P", name="P", kind="police_zone"))
    with store.session() as s:
        s.add(Retention(partner_id=s.execute(select(Partner.id)).scalar_one(), data_kind="footage", days=14))
    from workbench.store.models import Case
    with store.session() as s:
        s.add(Case(reference="C", title="t", purpose="training", legal_basis="x", status="open",
                   is_training=True, opened_at=datetime(2026, 11, 20, 9, 30, tzinfo=brussels)))
    with store.session() as s:
        opened = s.execute(select(Case.opened_at)).scalar_one()
    assert opened == datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc) and opened.tzinfo is not None


def test_a_failed_transaction_writes_nothing(settings):
    store = Store(settings)
    store.migrate()
    with pytest.raises(RuntimeError):
        with store.session() as s:
            s.add(Partner(code="P", name="P", kind="police_zone"))
            s.flush()
            raise RuntimeError("boom")
    with store.session() as s:
        assert s.execute(select(Partner)).first() is None


def test_an_unreachable_database_is_a_clear_error(tmp_path):
    settings = Settings.from_env({}, home=tmp_path, db_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="cannot migrate the catalogue"):
        Store(settings).migrate()


def test_settings_refuse_nonsense(tmp_path):
    with pytest.raises(ConfigurationError, match="not a database URL"):
        Settings.from_env({"WORKBENCH_DB_URL": "workbench.db"}, home=tmp_path)
    with pytest.raises(ConfigurationError, match="WORKBENCH_TILES"):
        Settings.from_env({"WORKBENCH_TILES": "google"}, home=tmp_path)
    s = Settings.from_env({"WORKBENCH_HOME": str(tmp_path), "JUPYTERHUB_USER": "inspector.dupont"})
    assert s.db_url == f"sqlite:///{tmp_path / 'workbench.db'}" and s.user == "inspector.dupont"


@pytest.mark.parametrize("text,expected", [
    ("2026-11-20T08:30:00+01:00", datetime(2026, 11, 20, 7, 30, tzinfo=timezone.utc)),
    ("2026-11-20T07:30:00Z", datetime(2026, 11, 20, 7, 30, tzinfo=timezone.utc)),
    ("2026-11-20", datetime(2026, 11, 20, tzinfo=timezone.utc)),
])
def test_as_utc_parses_times_with_a_zone(text, expected):
    assert as_utc(text) == expected


@pytest.mark.parametrize("text", ["2026-11-20T08:30:00", "yesterday at noon", "'; DROP TABLE camera; --"])
def test_as_utc_refuses_times_without_a_zone_or_garbage(text):
    with pytest.raises(InvalidInput):
        as_utc(text)


def test_a_pooled_connection_the_server_dropped_while_idle_is_replaced(tmp_path, monkeypatch):
    from sqlalchemy import text

    from workbench.store import database

    from conftest import new_database

    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)
    with new_database("postgresql", tmp_path) as url:
        store = Store(Settings.from_env({}, home=tmp_path, db_url=url))
        with store.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with Store(Settings.from_env({}, home=tmp_path, db_url=url)).connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with store.connect() as conn:   # the dead connection is pinged, dropped and replaced
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        store.dispose()
