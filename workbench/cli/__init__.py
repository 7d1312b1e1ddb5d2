"""The ``workbench`` command line.

Each area keeps its commands in its own module of this package; this group
loads a module only when its command is used, so ``workbench --help`` stays
fast::

    workbench sample build          # the embedded sample world
    workbench audit verify          # check the hash chain
    workbench bench trajectories    # a benchmark: ours against a baseline
"""

from __future__ import annotations

import importlib
import sys

import click

from workbench.errors import WorkbenchError

# command name -> "module:attribute" of a click command or group
_SUBCOMMANDS: dict[str, str] = {
    "sample": "workbench.cli.sample:sample",
    "audit": "workbench.cli.audit:audit",
    "retention": "workbench.cli.retention:retention",
    "bench": "workbench.cli.bench:bench",
    "plates": "workbench.cli.plates:plates",
    "hotlist": "workbench.cli.plates:hotlist",
    "kernel": "workbench.cli.kernel:kernel",
    "footage": "workbench.cli.footage:footage",
    "index": "workbench.cli.footage:index_group",
    "evidence": "workbench.cli.footage:evidence",
    "apps": "workbench.cli.apps:apps",
    "serve": "workbench.cli.serve:serve",
    "token": "workbench.cli.serve:token",
    "redact": "workbench.cli.redact:redact",
    "admin": "workbench.cli.admin:admin",
}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self._lazy:
            module_name, attr = self._lazy[name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, lazy=_SUBCOMMANDS)
@click.version_option(package_name="workbench")
def cli() -> None:
    """Investigation workbench of the Brussels-Capital Region video-protection platform."""


def main() -> None:
    """Console entry point: run the CLI, turning workbench errors into one clear line."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except WorkbenchError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
