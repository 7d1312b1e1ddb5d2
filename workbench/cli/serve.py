"""``workbench serve``: run the workbench service; ``workbench token``: issue a token without a hub.

    workbench serve --port 8765                      # under JupyterHub: the hub checks the tokens
    WORKBENCH_SERVICE_TOKENS=/srv/wb/tokens.json workbench serve --port 8765
    workbench token inspector.dupont --days 1        # prints a token for the table (shown once)
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from workbench.cli.common import settings_from
from workbench.errors import ConfigurationError
from workbench.timeutil import as_utc

SWITCH_INTERVAL_S = 0.001
"""How long the service's running thread keeps the interpreter lock when another wants it (Python: 5 ms).

The event loop and the worker threads share one lock; a call back from one of its ~10 database round trips
waits for it until the running thread's interval ends. With a few calls in flight (users, an ingest taking a
core) 5 ms per round trip added up in the slow calls' time; 1 ms bounds the wait for a little more switching.
"""


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--now", default=None, help="fix the service's clock to this ISO time with a zone (training, tests)")
@click.option("--max-request-mb", default=16.0, show_default=True, type=float, help="largest request accepted")
@click.option("--body-timeout", default=30.0, show_default=True, type=float,
              help="seconds a client has to send its request")
@click.option("--call-timeout", default=300.0, show_default=True, type=float,
              help="seconds a call may run; then it is answered with an error and abandoned")
@click.option("--held-back-window", default=60.0, show_default=True, type=float,
              help="seconds between the audit summaries of requests held back (429) after refused tokens")
def serve(host: str, port: int, now: str | None, max_request_mb: float, body_timeout: float, call_timeout: float,
          held_back_window: float) -> None:
    """Serve the facade to users identified by their JupyterHub token (or the service's token table)."""
    import uvicorn

    from workbench.service.app import Limits, create_app, mark_served

    fixed = as_utc(now) if now else None
    settings = settings_from()
    if settings.home.exists() and settings.home.stat().st_mode & 0o077:
        click.echo(f"warning: {settings.home} is open to other users (mode {settings.home.stat().st_mode & 0o777:o}): "
                   "in a deployment the store, archive, indexes and evidence belong to the service's own user, "
                   "mode 700", err=True)
    app = create_app(settings, clock=(lambda: fixed) if fixed else None,
                     limits=Limits(max_request_bytes=int(max_request_mb * 2**20), body_timeout_s=body_timeout,
                                   call_timeout_s=call_timeout, summary_window_s=held_back_window))
    settings.home.mkdir(parents=True, exist_ok=True)
    mark_served(settings.home, f"http://{host}:{port}", fixed or datetime.now(UTC))
    click.echo(f"workbench service on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # uvloop's event loop (C) where installed (the service extra): the loop shares the interpreter lock with the
    # calls; h11 kept as the HTTP parser, which bounds an unfinished request head
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_keep_alive=5, loop="auto", http="h11",
                h11_max_incomplete_event_size=64 * 1024)


@click.command()
@click.argument("user")
@click.option("--days", type=float, default=None, help="the token expires after this many days")
@click.option("--worker", is_flag=True, help="a token for an index worker of the cluster (WORKBENCH_WORKER_TOKENS)")
def token(user: str, days: float | None, worker: bool) -> None:
    """Issue a token for USER in the service's token table (WORKBENCH_SERVICE_TOKENS) and print it once."""
    from workbench.service.identity import issue_token

    settings = settings_from()
    table, variable = (settings.worker_tokens, "WORKBENCH_WORKER_TOKENS") if worker else \
        (settings.service_tokens, "WORKBENCH_SERVICE_TOKENS")
    if table is None:
        raise ConfigurationError(f"set {variable} to the service's token table file")
    click.echo(issue_token(table, user, days=days))
