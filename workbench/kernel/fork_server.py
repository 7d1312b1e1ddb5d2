"""Kernels forked from one process that has already imported what the apps use.

A preheated app kernel used to start a new Python, import IPython, pandas,
SQLAlchemy, folium and the workbench (3-4 s of CPU) each time Voila refilled
its pool, that is right after every visit, on the cores the visitor's page was
drawn with. ``workbench apps`` starts a fork server instead
(:func:`start`): one process imports all that once and forks a kernel on
request, in a few milliseconds, the pages of memory shared until written.

The kernel spec does not change: ``python -m workbench.kernel`` sees
:data:`SOCKET_VARIABLE` in its environment and becomes a thin launcher
(:func:`launch`): it hands the server its arguments, environment, working
folder and standard streams, forwards the signals Jupyter sends it
(interrupt, terminate) to the forked kernel and exits with its status. If the
launcher dies, the server kills its kernel; if the server dies, the launcher
kills it. Each forked kernel starts a new session, resets the signal
handlers and takes the launcher's environment before anything runs in it:
identity and case come from the visitor's request, as before.

    server = start(["pandas", "workbench.maps"])
    os.environ[SOCKET_VARIABLE] = server.path   # the kernels Jupyter starts from here on are forked
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from workbench.errors import ConfigurationError

SOCKET_VARIABLE = "WORKBENCH_KERNEL_FORK_SERVER"
"""The environment variable naming the fork server's socket (set for the kernels of ``workbench apps``)."""
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
_HEADER = struct.Struct("!I")
_STATUS = struct.Struct("!i")


def _receive(conn: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes from ``conn``, or fewer if it closed."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def launch(path: str, argv: list[str]) -> int | None:
    """Have the server at ``path`` fork a kernel run with ``argv``; wait for it and return its exit status.

    Returns ``None`` when no server answers (the caller then starts the
    kernel itself).
    """
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None
    payload = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    socket.send_fds(conn, [_HEADER.pack(len(payload)) + payload], [0, 1, 2])
    answer = _receive(conn, _STATUS.size)
    if len(answer) < _STATUS.size:
        return 1
    pid = _STATUS.unpack(answer)[0]

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    status = _receive(conn, _STATUS.size)
    if len(status) < _STATUS.size:   # the server went away: its kernel goes with it
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return 1
    return _STATUS.unpack(status)[0]


def _run_kernel(request: dict, fds: list[int], run: Callable[[list[str]], None]) -> None:
    """In the forked child: become the launcher's kernel, then exit (never returns)."""
    code = 1
    try:
        os.setsid()
        for signum in (*FORWARDED, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [sys.argv[0], *request["argv"]]
        run(request["argv"])
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:   # noqa: BLE001 - a kernel's crash is reported on its stderr, the server carries on
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _request(conn: socket.socket) -> tuple[dict | None, list[int]]:
    """A launcher's request (``None`` if it is not one: three streams and a JSON body) and the streams passed."""
    message, fds, _flags, _address = socket.recv_fds(conn, 65536, 3)
    if len(fds) != 3 or len(message) < _HEADER.size:
        return None, fds
    size = _HEADER.unpack(message[:_HEADER.size])[0]
    body = message[_HEADER.size:]
    body += _receive(conn, size - len(body))
    try:
        request = json.loads(body)
    except ValueError:
        return None, fds
    return (request if isinstance(request, dict) and {"argv", "env", "cwd"} <= request.keys() else None), fds


def serve(path: str, run: Callable[[list[str]], None], parent: int, preload: Iterable[str] = ()) -> None:
    """Import ``preload``, then answer launchers on the Unix socket ``path`` until the process ``parent`` is gone.

    The socket listens before the imports: a launcher that comes early waits
    for them. Each request forks a child that calls ``run(argv)`` with the
    launcher's streams and environment; the child's pid, then its exit
    status, go back to the launcher, whose hang-up kills the child.
    """
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    for module in preload:
        importlib.import_module(module)
    gc.freeze()   # the collector leaves the preloaded objects alone: their pages stay shared with every kernel
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while os.getppid() == parent:
            for key, _ in selector.select(timeout=0.5):
                if key.fileobj is listener:
                    conn, _ = listener.accept()
                    request, fds = _request(conn)
                    if request is None:
                        for fd in fds:
                            os.close(fd)
                        conn.close()
                        continue
                    pid = os.fork()
                    if pid == 0:
                        selector.close()
                        listener.close()
                        for other in children.values():
                            other.close()
                        conn.close()
                        _run_kernel(request, fds, run)
                    for fd in fds:
                        os.close(fd)
                    conn.sendall(_STATUS.pack(pid))
                    children[pid] = conn
                    selector.register(conn, selectors.EVENT_READ, pid)
                else:   # a launcher hung up (it only ever waits): its kernel goes
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(key.data, signal.SIGKILL)
                    selector.unregister(key.fileobj)
            while children:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                conn = children.pop(pid)
                with contextlib.suppress(OSError):
                    conn.sendall(_STATUS.pack(os.waitstatus_to_exitcode(status)))
                with contextlib.suppress(KeyError, ValueError):
                    selector.unregister(conn)
                conn.close()
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.unlink(path)
            os.rmdir(os.path.dirname(path))


def run_kernel(argv: list[str]) -> None:
    """Start the audited kernel with ``argv`` in this process (what ``python -m workbench.kernel`` does)."""
    from ipykernel.kernelapp import IPKernelApp

    from workbench.kernel.audited_kernel import AuditedKernel

    IPKernelApp.launch_instance(argv=argv, kernel_class=AuditedKernel)


@dataclasses.dataclass
class Server:
    """A running fork server: its process and socket."""

    process: subprocess.Popen
    path: str

    def stop(self) -> None:
        """Stop the server (its kernels are killed with it)."""
        self.process.terminate()
        self.process.wait(timeout=30)


def start(preload: Iterable[str], timeout_s: float = 60) -> Server:
    """Start a fork server, child of this process, that imports the modules ``preload`` before its first fork.

    Returns once its socket listens (the imports go on behind it). The server ends when this process does
    (after an ``exec`` too: the pid stays).
    """
    folder = tempfile.mkdtemp(prefix="workbench-kernels-")   # private (0700): only this user reaches the socket
    path = str(Path(folder) / "fork.sock")
    process = subprocess.Popen([sys.executable, "-m", "workbench.kernel.fork_server", path, str(os.getpid()),
                                *preload])
    deadline = time.monotonic() + timeout_s
    while not os.path.exists(path):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise ConfigurationError(f"the kernels' fork server did not start (status {process.poll()})")
        time.sleep(0.05)
    return Server(process, path)


def main(argv: list[str]) -> None:
    """``python -m workbench.kernel.fork_server SOCKET PARENT_PID MODULE...``: preload, then serve."""
    path, parent, *modules = argv
    serve(path, run_kernel, int(parent), modules)


if __name__ == "__main__":
    main(sys.argv[1:])
