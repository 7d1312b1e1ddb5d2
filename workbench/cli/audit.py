"""``workbench audit verify|anchor|report``: the audit trail for internal control.

``verify`` and ``anchor`` check and pin the chain's integrity and read no
per-user data; ``report`` reads who did what, so it runs as a logged-in
auditor (``--as auditor.maes`` embedded; through the service in a deployment).
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from workbench.access import anchors as anchoring
from workbench.access import audit as trail
from workbench.cli.common import echo_table, settings_from, system_actor
from workbench.errors import ConfigurationError
from workbench.store import Store


@click.group()
def audit() -> None:
    """Verify, anchor and summarise the hash-chained audit trail."""


def _anchor_dir(given: Path | None) -> Path:
    folder = given or settings_from().anchor_dir
    if folder is None:
        raise ConfigurationError("no anchor directory: pass --dir or set WORKBENCH_ANCHOR_DIR (kept apart from "
                                 "the database)")
    return folder


@audit.command("verify")
@click.option("--anchors", "anchor_dir", type=click.Path(path_type=Path, file_okay=False),
              help="also check the signed anchors in this directory (detects a chain rewritten from the start)")
@click.option("--public-key", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="the auditors' copy of anchor-signing.pub (default: the one beside the anchors)")
def verify(anchor_dir: Path | None, public_key: Path | None) -> None:
    """Check the whole chain (and its anchors); exits 1 and names what does not verify."""
    store = Store(settings_from())
    check = trail.verify(store)
    messages, ok = [str(check)], check.ok
    if anchor_dir is not None:
        anchored = anchoring.verify_anchors(store, anchor_dir, public_key=public_key)
        messages.append(str(anchored))
        ok = ok and anchored.ok
    trail.record(store, system_actor(), "verify-audit", time=datetime.now(timezone.utc),
                 outcome="ok" if ok else "error", reason=None if ok else "; ".join(messages)[:1000],
                 result_count=check.events)
    click.echo("\n".join(messages))
    if not ok:
        sys.exit(1)


@audit.command("anchor")
@click.option("--dir", "anchor_dir", type=click.Path(path_type=Path, file_okay=False),
              help="anchor directory (default: WORKBENCH_ANCHOR_DIR)")
def anchor(anchor_dir: Path | None) -> None:
    """Sign the chain's head now and append it to the anchor file (run it at least daily, e.g. from cron)."""
    folder = _anchor_dir(anchor_dir)
    written = anchoring.write_anchor(Store(settings_from()), folder, now=datetime.now(timezone.utc),
                                     actor=system_actor())
    key = anchoring.load_public_key(folder / anchoring.PUBLIC_KEY_FILE)
    click.echo(f"anchor {written.n}: event {written.seq}, head {written.head[:16]}..., {written.time} "
               f"(key {anchoring.key_fingerprint(key)}) in {folder / anchoring.ANCHOR_FILE}")


@audit.command("report")
@click.option("--as", "user_name", required=True, help="the auditor who reads the trail (e.g. auditor.maes)")
@click.option("--since", help="first day (YYYY-MM-DD)")
@click.option("--until", help="day after the last one (YYYY-MM-DD)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("audit-report"),
              show_default=True, help="folder for audit-report.csv and audit-report.html")
def report(user_name: str, since: str | None, until: str | None, out: Path) -> None:
    """Accesses per partner, purpose, user and day, as CSV and HTML (auditors only)."""
    from workbench.access import Workspace

    auditor = Workspace(settings_from()).login(user_name)
    events = auditor.audit_events(since=since, until=until)
    check = auditor.verify_audit()
    summary = trail.report(events)
    csv_path, html_path = trail.write_report(summary, out, check=check)
    echo_table(summary, max_rows=30)
    click.echo(f"{check}\nwrote {csv_path} and {html_path}")
