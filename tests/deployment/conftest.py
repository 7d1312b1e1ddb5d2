"""The team deployment brought up once for the boundary tests: ``deploy/hub.sh up`` in a temporary state folder.

It needs root (it creates system accounts and JupyterHub spawns servers as
them), Debian's PostgreSQL and python3-venv, and configurable-http-proxy from
npm; ``.ci/run`` installs them. Without them the tests are skipped with that
reason shown, except under CI (CI=true), where they fail. They are marked
``deployment`` (``pytest -m "not deployment"`` leaves them out).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from .hub_session import HubUser

REPO = Path(__file__).resolve().parents[2]
HELD_BACK_WINDOW_S = 2   # the service audits requests held back after refused tokens as one count per window


def _free_port_block(n: int = 3) -> int:
    """A first port such that it and the next n-1 are free on loopback."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + n >= 65535:
            continue
        try:
            for p in range(first, first + n):
                with socket.socket() as t:
                    t.bind(("127.0.0.1", p))
            return first
        except OSError:
            continue
    raise RuntimeError("no block of free ports on loopback")


@dataclass
class Deployment:
    """A running deployment: its public address, state folder and the users' passwords."""

    base: str
    state: Path
    service_url: str
    pg_port: int
    passwords: dict[str, str]

    def login(self, name: str) -> HubUser:
        return HubUser.login(self.base, name, self.passwords[name])


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/deployment" in str(item.fspath):
            item.add_marker(pytest.mark.deployment)


@pytest.fixture(scope="session")
def deployment() -> Deployment:
    missing = [what for what, ok in [
        ("root (the hub spawns servers as system accounts)", os.geteuid() == 0),
        ("configurable-http-proxy (npm install -g configurable-http-proxy)",
         shutil.which("configurable-http-proxy") is not None),
        ("Debian's python3 with venv (apt-get install python3-venv)", Path("/usr/bin/python3").exists()),
        ("PostgreSQL (apt-get install postgresql)", any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))),
    ] if not ok]
    if missing:
        reason = "the deployment tests need: " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI must prove the deployment
        pytest.skip(reason)
    # not under pytest's own temporary folder: that one is private to root, and the deployment's accounts
    # (postgres, workbench, the users) must be able to reach their own folders inside the state folder
    state = Path(os.environ.get("WB_TEST_HUB_STATE") or tempfile.mkdtemp(prefix="workbench-hub-", dir="/tmp"))
    hub_port, service_port, pg_port = _free_port_block(3), _free_port_block(1), _free_port_block(1)
    env = dict(os.environ, WB_HUB_STATE=str(state), WB_HUB_PORT=str(hub_port), WB_SERVICE_PORT=str(service_port),
               WB_HUB_PG_PORT=str(pg_port), WB_SERVICE_ARGS=f"--held-back-window {HELD_BACK_WINDOW_S}")
    script = ["bash", str(REPO / "deploy" / "hub.sh")]
    log = state / "hub-up.log"
    with log.open("w") as out:  # a file, not a pipe: the daemons it starts must not hold our pipe open
        up = subprocess.run([*script, "up"], env=env, stdout=out, stderr=subprocess.STDOUT, timeout=1500)
    if up.returncode != 0:
        subprocess.run([*script, "down"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pytest.fail(f"deploy/hub.sh up failed:\n{log.read_text()[-4000:]}")
    passwords = dict(line.split(":", 1) for line in (state / "hub" / "passwords").read_text().split())
    try:
        yield Deployment(f"http://127.0.0.1:{hub_port}", state, f"http://127.0.0.1:{service_port}", pg_port,
                         passwords)
    finally:
        subprocess.run([*script, "down"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        if not os.environ.get("WB_TEST_HUB_STATE"):
            shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def dupont(deployment) -> HubUser:
    """inspector.dupont logged in to the hub, their server started."""
    user = deployment.login("inspector.dupont")
    user.start_server()
    return user


@pytest.fixture(scope="session")
def auditor(deployment):
    """The data protection officer, with the workbench client and their own hub token."""
    import workbench

    user = deployment.login("auditor.maes")
    return workbench.open(service=deployment.service_url, token=user.token).login()
