"""Kernels forked from the apps' fork server: audited like any kernel, interrupted, stopped, never orphaned."""

from __future__ import annotations

import os
import socket
import sys
import time

import pytest
from jupyter_client.manager import start_new_kernel

from workbench.access import audit
from workbench.config import Settings
from workbench.kernel import fork_server
from workbench.kernelspec import KERNEL_NAME, install
from workbench.store import Store


@pytest.fixture(scope="module")
def server():
    install(prefix=sys.prefix)
    started = fork_server.start(["pandas"])
    yield started
    started.stop()


def _output(client, code: str) -> str:
    out: list[str] = []
    reply = client.execute_interactive(code, timeout=60, output_hook=lambda m: out.append(m["content"].get("text", "")))
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out).strip()


def _wait_until_running(client, msg_id: str) -> None:
    """Wait until the cell ``msg_id`` prints that it sleeps: the user's code runs. An interrupt sent as the cell
    starts (its input just echoed) can lose the cell's reply in ipykernel itself, plain kernel included."""
    while True:
        message = client.get_iopub_msg(timeout=60)
        if (message["msg_type"] == "stream" and "asleep" in message["content"]["text"]
                and message["parent_header"].get("msg_id") == msg_id):
            return


def _ends(pid: int, within_s: float = 30) -> bool:
    """Whether the process ``pid`` ends within ``within_s`` seconds (a loaded machine takes its time)."""
    deadline = time.monotonic() + within_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_forked_kernel_is_audited_interrupted_and_stopped(server, sample_copy):
    env = {**os.environ, "WORKBENCH_HOME": str(sample_copy), "WORKBENCH_USER": "inspector.dupont",
           fork_server.SOCKET_VARIABLE: server.path}
    env.pop("WORKBENCH_DB_URL", None)
    manager, client = start_new_kernel(kernel_name=KERNEL_NAME, env=env)
    try:
        # forked from the server, the preloaded module already there, the launcher's identity taken
        parent, preloaded, user = _output(client, "import os, sys\nprint(os.getppid(), 'pandas' in sys.modules, "
                                                  "os.environ['WORKBENCH_USER'])").split()
        assert int(parent) == server.process.pid and preloaded == "True" and user == "inspector.dupont"
        # stop_on_error off: the interrupted cell's error does not abort the cell sent next (ipykernel aborts the
        # requests that reach it before its abort ends, which a loaded machine makes likely)
        sent = client.execute("import time\nprint('asleep', flush=True)\ntime.sleep(60)", stop_on_error=False)
        _wait_until_running(client, sent)
        manager.interrupt_kernel()                      # Jupyter signals the launcher, which relays it
        reply = client.get_shell_msg(timeout=30)
        while reply["msg_type"] != "execute_reply":
            reply = client.get_shell_msg(timeout=30)
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        kernel = int(_output(client, "print(os.getpid())"))
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
    assert manager.provisioner is None or not manager.is_alive()
    assert _ends(kernel)
    events = audit.events_frame(Store(Settings.from_env({}, home=sample_copy)), user_name="inspector.dupont")
    assert (events["action"] == "notebook-cell").sum() >= 3   # every cell of the forked kernel is in the trail


def test_a_killed_launcher_takes_its_kernel_and_the_server_survives_garbage(server, sample_copy):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as bad:   # not a launcher: refused, server carries on
        bad.connect(server.path)
        bad.sendall(b"hello")
    env = {**os.environ, "WORKBENCH_HOME": str(sample_copy), "WORKBENCH_USER": "inspector.dupont",
           fork_server.SOCKET_VARIABLE: server.path}
    env.pop("WORKBENCH_DB_URL", None)
    manager, client = start_new_kernel(kernel_name=KERNEL_NAME, env=env)
    try:
        kernel = int(_output(client, "import os\nprint(os.getpid())"))
        assert _alive(kernel)
        manager.provisioner.process.kill()               # the launcher dies without a word
        assert _ends(kernel)
    finally:
        client.stop_channels()
        manager.cleanup_resources()
    assert server.process.poll() is None


def test_without_a_server_the_kernel_starts_by_itself(tmp_path):
    assert fork_server.launch(str(tmp_path / "nobody.sock"), ["-f", "x.json"]) is None
