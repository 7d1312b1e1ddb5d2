"""``workbench serve``: run the workbench service; ``workbench token``: issue a token without a hub.

    workbench serve --port 8765                      # under JupyterHub: the hub checks the tokens
    WORKBENCH_SERVICE_TOKENS=/srv/wb/tokens.json workbench serve --port 8765
    workbench token inspector.dupont --days 1        # prints a token for the table (shown once)
"""

from __future__ import annotations

import click

from workbench.cli.common import settings_from
from workbench.errors import ConfigurationError
from workbench.timeutil import as_utc


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--now", default=None, help="fix the service's clock to this ISO time with a zone (training, tests)")
@click.option("--max-request-mb", default=16.0, show_default=True, type=float, help="largest request accepted")
@click.option("--body-timeout", default=30.0, show_default=True, type=float,
              help="seconds a client has to send its request")
def serve(host: str, port: int, now: str | None, max_request_mb: float, body_timeout: float) -> None:
    """Serve the facade to users identified by their JupyterHub token (or the service's token table)."""
    import uvicorn

    from workbench.service.app import Limits, create_app

    fixed = as_utc(now) if now else None
    settings = settings_from()
    if settings.home.exists() and settings.home.stat().st_mode & 0o077:
        click.echo(f"warning: {settings.home} is open to other users (mode {settings.home.stat().st_mode & 0o777:o}): "
                   "in a deployment the store, archive, indexes and evidence belong to the service's own user, "
                   "mode 700", err=True)
    app = create_app(settings, clock=(lambda: fixed) if fixed else None,
                     limits=Limits(max_request_bytes=int(max_request_mb * 2**20), body_timeout_s=body_timeout))
    click.echo(f"workbench service on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_keep_alive=5,
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
