"""``workbench bench NAME``: benchmarks that time our path and a baseline in one run.

Each benchmark is a module ``workbench.bench.NAME`` exposing a click command
named ``command``; it prints both timings and their ratio (and one JSON object
with ``--json``)::

    workbench bench trajectories --reads 1000000
    workbench bench frames --minutes 30 --json
"""

from __future__ import annotations

import importlib
import pkgutil

import click

import workbench.bench as _benches


class _BenchGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(m.name for m in pkgutil.iter_modules(_benches.__path__) if not m.name.startswith("_"))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        name = name.replace("-", "_")   # workbench bench frame-scale
        if name not in self.list_commands(ctx):
            return None
        return importlib.import_module(f"workbench.bench.{name}").command


@click.group(cls=_BenchGroup)
def bench() -> None:
    """Time the workbench against a straightforward baseline and print the ratio."""
