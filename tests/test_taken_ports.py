"""A free port chosen, then taken by another program before our server binds it (a kernel's socket once took
the apps' port: the browser got that socket's bytes). `workbench apps` serves on the port it was given or not at
all; the harnesses that start the apps and the service choose a new port."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from workbench.bench import apps as bench_apps
from workbench.service import process
from workbench.service.identity import issue_token
from workbench.service.process import free_port, served, stop

pytestmark = pytest.mark.slow
WORKBENCH = str(Path(sys.executable).with_name("workbench"))


@pytest.fixture
def taken():
    """A port some other program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_a_taken_port_is_refused_in_words_not_moved_to_another(taken, tmp_path):
    env = {"WORKBENCH_HOME": str(tmp_path), "WORKBENCH_USER": "inspector.dupont", "PATH": ""}
    done = subprocess.run([WORKBENCH, "apps", "--port", str(taken)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert f"port {taken} on 127.0.0.1 is taken by another program" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_the_harness_moves_to_a_new_port_when_its_choice_was_taken_meanwhile(taken, tmp_path, monkeypatch):
    chosen = iter([taken, free_port()])
    monkeypatch.setattr(process, "free_port", lambda: next(chosen))
    proc, url = bench_apps.serve_apps(tmp_path, "inspector.dupont", tmp_path / "apps.log", pool=0, tiles="none")
    try:
        assert not url.endswith(f":{taken}")
        answer = httpx.get(f"{url}/voila/static/", timeout=10)   # Voila's own HTTP, not the other program
        assert answer.headers.get("server", "").startswith("TornadoServer")
    finally:
        stop(proc)


def test_the_service_harness_moves_to_a_new_port_when_its_choice_was_taken_meanwhile(taken, tmp_path, monkeypatch):
    tokens = tmp_path / "tokens.json"
    issue_token(tokens, "inspector.dupont", days=1)
    chosen = iter([taken, free_port()])
    monkeypatch.setattr(process, "free_port", lambda: next(chosen))
    with served(tmp_path, tokens) as url:
        assert not url.endswith(f":{taken}")
        assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200
