"""``workbench kernel install``: the audited Jupyter kernel spec."""

from __future__ import annotations

import sys

import click

from workbench.kernelspec import install as install_spec


@click.group()
def kernel() -> None:
    """The "Workbench (audited)" Jupyter kernel."""


@kernel.command("install")
@click.option("--user", is_flag=True, help="for this user only")
@click.option("--sys-prefix", is_flag=True, help="into the current environment (the default for make demo)")
def install(user: bool, sys_prefix: bool) -> None:
    """Write the kernel spec with the current interpreter."""
    where = install_spec(user=user, prefix=sys.prefix if sys_prefix else None)
    click.echo(f"installed the 'Workbench (audited)' kernel spec in {where}")
