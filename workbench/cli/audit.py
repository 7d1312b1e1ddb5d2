"""``workbench audit verify|report``: the audit trail for internal control."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from workbench.access import audit as trail
from workbench.cli.common import echo_table, settings_from, system_actor
from workbench.store import Store
from workbench.timeutil import as_utc


@click.group()
def audit() -> None:
    """Verify and summarise the hash-chained audit trail."""


@audit.command("verify")
def verify() -> None:
    """Check the whole chain; exits 1 and names the first broken event if it does not verify."""
    store = Store(settings_from())
    check = trail.verify(store)
    trail.record(store, system_actor(), "verify-audit", time=datetime.now(timezone.utc),
                 outcome="ok" if check.ok else "error", reason=None if check.ok else str(check),
                 result_count=check.events)
    click.echo(str(check))
    if not check.ok:
        sys.exit(1)


@audit.command("report")
@click.option("--since", help="first day (YYYY-MM-DD)")
@click.option("--until", help="day after the last one (YYYY-MM-DD)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("audit-report"),
              show_default=True, help="folder for audit-report.csv and audit-report.html")
def report(since: str | None, until: str | None, out: Path) -> None:
    """Accesses per partner, purpose, user and day, as CSV and HTML."""
    store = Store(settings_from())
    events = trail.events_frame(store, since=as_utc(since) if since else None,
                                until=as_utc(until) if until else None)
    summary = trail.report(events)
    check = trail.verify(store)
    csv_path, html_path = trail.write_report(summary, out, check=check)
    trail.record(store, system_actor(), "audit-report", time=datetime.now(timezone.utc),
                 resource={"since": since, "until": until}, result_count=len(events))
    echo_table(summary, max_rows=30)
    click.echo(f"{check}\nwrote {csv_path} and {html_path}")
