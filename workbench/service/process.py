"""Run ``workbench serve`` in a process of its own on a free loopback port (tests, benchmarks, demos).

    >>> with served(home, tokens, now="2026-11-21T10:00Z") as url:     # doctest: +SKIP
    ...     ws = workbench.open(service=url, token=token)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from workbench.errors import ServiceUnavailable, WorkbenchError

T = TypeVar("T")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortTaken(Exception):
    """A server could not bind the port chosen for it; ``error`` is what to raise if no port is left to try."""

    def __init__(self, error: WorkbenchError) -> None:
        super().__init__(str(error))
        self.error = error


def on_a_free_port(start: Callable[[int], T], attempts: int = 5) -> T:
    """``start(port)`` on a free loopback port, again on a new one while it raises :class:`PortTaken` (a port free
    when chosen can be taken before the server binds it: a kernel's socket, another server), ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        try:
            return start(free_port())
        except PortTaken as taken:
            if attempt == attempts:
                raise taken.error from None
    raise ValueError("attempts must be at least 1")


def wait_until_up(process: subprocess.Popen, urls: list[str], startup_s: float,
                  log: Callable[[], bytes]) -> None:
    """Wait until every URL answers 200; ServiceUnavailable (with the end of the log) if the process stops first."""
    deadline = time.monotonic() + startup_s
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            state = "stopped" if process.poll() is not None else f"did not answer within {startup_s:g} s"
            raise ServiceUnavailable(f"the service {state} at start: " + log().decode(errors="replace")[-3000:])
        try:
            if all(httpx.get(u, timeout=1.0).status_code == 200 for u in urls):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


@contextmanager
def served(home: Path, tokens: Path, *, now: str | None = None, db_url: str | None = None,
           extra_args: tuple[str, ...] = (), startup_s: float = 60.0,
           started: Callable[[int], None] | None = None, attempts: int = 5) -> Iterator[str]:
    """Start the service on ``home`` with the token table ``tokens``; yields its URL, stops it on exit.

    ``started`` is called with the service's process id once it answers (a benchmark reads its CPU time).
    A free port taken by another program before the service binds it is replaced by a new one, up to
    ``attempts`` times."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "WORKBENCH_"))}
    env.update(WORKBENCH_HOME=str(home), WORKBENCH_SERVICE_TOKENS=str(tokens))
    if db_url:
        env["WORKBENCH_DB_URL"] = db_url
    with tempfile.TemporaryFile() as log:
        def written() -> bytes:
            log.seek(0)
            return log.read()

        def start(port: int) -> tuple[subprocess.Popen, str]:
            command = [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port), *extra_args]
            if now:
                command += ["--now", now]
            url = f"http://127.0.0.1:{port}"
            log.seek(0)
            log.truncate()
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log,
                                       start_new_session=True)   # a server's own session, as make hub starts it
            try:
                wait_until_up(process, [f"{url}/api/health"], startup_s, written)
            except ServiceUnavailable as exc:
                stop(process)
                if b"address already in use" in written():
                    raise PortTaken(exc) from None
                raise
            return process, url

        process, url = on_a_free_port(start, attempts)
        try:
            if started is not None:
                started(process.pid)
            yield url
        finally:
            stop(process)


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a process we started: SIGTERM, then SIGKILL if it has not ended within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
