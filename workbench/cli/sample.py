"""``workbench sample build``: the embedded sample world."""

from __future__ import annotations

import click

from workbench.cli.common import settings_from
from workbench.samples import build_sample
from workbench.timeutil import as_utc


@click.group()
def sample() -> None:
    """Sample cases for demos, training and tests."""


@sample.command("build")
@click.option("--day", help="simulated day (YYYY-MM-DD); default: yesterday")
@click.option("--rebuild", is_flag=True, help="wipe the workbench home's catalogue and files first")
def build(day: str | None, rebuild: bool) -> None:
    """Build the deterministic sample world (partners, users, agreements, cameras, cases)."""
    click.echo(build_sample(settings_from(), day=as_utc(day).date() if day else None, rebuild=rebuild))
