"""``workbench retention run [--dry-run]``: purge expired data not kept by a hold."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from workbench.access.retention import purge
from workbench.cli.common import settings_from, system_actor
from workbench.store import Store


@click.group()
def retention() -> None:
    """Retention periods and the purge of expired data."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="list what would be purged, delete nothing")
def run(dry_run: bool) -> None:
    """Delete expired footage segments, plate reads and sightings (files and rows), audited."""
    settings = settings_from()
    plan = purge(Store(settings), settings, now=datetime.now(timezone.utc), actor=system_actor(), dry_run=dry_run)
    for segment in plan.segments:
        click.echo(f"  {segment['camera_id']}  {segment['start']:%Y-%m-%d %H:%M} .. {segment['end']:%H:%M}  "
                   f"{segment['path']}")
    click.echo(plan.summary())
