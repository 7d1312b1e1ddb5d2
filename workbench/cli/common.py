"""Options shared by the command-line modules."""

from __future__ import annotations

import getpass

import click

from workbench.access.audit import Actor
from workbench.config import Settings


def settings_from(ctx_obj: object = None) -> Settings:
    """The settings of this run (environment variables; see workbench.config)."""
    return Settings.from_env()


def system_actor() -> Actor:
    """The identity written to the audit trail for platform operations run from a shell."""
    return Actor(f"system:{getpass.getuser()}")


def echo_table(frame, max_rows: int = 50) -> None:  # type: ignore[no-untyped-def]
    """Print a DataFrame compactly."""
    click.echo(frame.to_string(index=False, max_rows=max_rows) if len(frame) else "(nothing)")
