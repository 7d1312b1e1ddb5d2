"""Shared fixtures: settings in a temporary home, SQLite and PostgreSQL stores, the sample world.

PostgreSQL: set WORKBENCH_TEST_PG_URL to a server URL (``.ci/run`` starts one on
127.0.0.1); each test gets a database of its own. Without it, the PostgreSQL
variants are skipped with that reason shown, except under CI (CI=true), where
they fail: CI must prove the PostgreSQL path.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

import workbench
from workbench.access import audit
from workbench.config import Settings
from workbench.samples import build_sample
from workbench.store.database import scratch_database

TEST_DATA = Path(__file__).resolve().parent / "data"
SAMPLE_DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
PG_URL = os.environ.get("WORKBENCH_TEST_PG_URL")
OPS = audit.writer(audit.Actor("system:test"), time=NOW)   # the audit writer of ingests run by tests


def fixed_clock(now: datetime = NOW):
    """A clock that always says ``now`` (tests and trainers fix time this way)."""
    return lambda: now


def system_program(name: str, package: str | None = None) -> str:
    """The path of a program the test needs from the system; fails naming it and how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"this test needs {name}, which is not installed: apt-get install {package or name} "
                    "(bash .ci/run installs every system package the tests need)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory) -> Path:
    """The full sample world of SAMPLE_DAY (traffic, footage), built once per test session: copy, never change."""
    home = tmp_path_factory.mktemp("sample-world")
    build_sample(Settings.from_env({}, home=home), day=SAMPLE_DAY)
    return home


@pytest.fixture(scope="module")
def sample_copy(sample_home, tmp_path_factory) -> Path:
    """A copy of the session's sample world for one test module, which may change it."""
    home = tmp_path_factory.mktemp("sample-copy")
    shutil.copytree(sample_home, home, dirs_exist_ok=True)
    return home


@contextmanager
def sample_workspace(home: Path):
    """The sample world in ``home`` opened with the clock fixed the day after SAMPLE_DAY."""
    ws = workbench.open(home, clock=fixed_clock())
    try:
        yield ws
    finally:
        ws.store.dispose()


@contextmanager
def new_database(backend: str, folder: Path):
    """A fresh, empty catalogue URL on ``backend`` (sqlite or postgresql), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'workbench.db'}"
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("WORKBENCH_TEST_PG_URL is not set: CI must run the store tests on PostgreSQL")
        pytest.skip("PostgreSQL variant: set WORKBENCH_TEST_PG_URL (.ci/run starts a server)")
    with scratch_database(PG_URL, "wb_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty catalogue URL on each backend."""
    with new_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def settings(tmp_path, db_url) -> Settings:
    return Settings.from_env({}, home=tmp_path / "home", db_url=db_url)


@pytest.fixture
def sample_ws(settings):
    """The sample world of SAMPLE_DAY without its traffic, opened with the clock fixed at NOW."""
    build_sample(settings, day=SAMPLE_DAY, traffic=False)
    ws = workbench.open(settings.home, db_url=settings.db_url, clock=fixed_clock())
    yield ws
    ws.store.dispose()


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def pytest_collection_modifyitems(items) -> None:
    """Tests on the full sample world are slow (building it takes a minute): ``make check`` leaves them out."""
    for item in items:
        if "sample_home" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
