"""``workbench apps``: serve the Voila apps (sightings map, frame search, hit triage, indicators)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from workbench.config import Settings
from workbench.errors import NotFound
from workbench.kernelspec import KERNEL_NAME, install as install_spec
from workbench.maps.street_layer import street_layer_json


def apps_folder(folder: Path | None = None) -> Path:
    """The folder of apps: the one given, ``./voila_apps``, or the one of the source tree."""
    candidates = [folder] if folder else [Path.cwd() / "voila_apps", Path(__file__).resolve().parents[2] / "voila_apps"]
    for candidate in candidates:
        if candidate is not None and (candidate / "voila.json").is_file():
            return candidate.resolve()
    raise NotFound("no apps folder (voila_apps/ with its voila.json) here or in the workbench's source tree: "
                   "give it with --folder")


def _ensure_kernel() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL_NAME not in KernelSpecManager().find_kernel_specs():
        click.echo(f"installing the 'Workbench (audited)' kernel spec in {install_spec(prefix=sys.prefix)}")


@click.command()
@click.option("--port", default=8866, show_default=True)
@click.option("--ip", default="127.0.0.1", show_default=True, help="address to listen on (loopback by default)")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the apps folder (default: voila_apps/)")
def apps(port: int, ip: str, folder: Path | None) -> None:
    """Serve the apps with Voila; they log in as JUPYTERHUB_USER or WORKBENCH_USER, like the notebooks."""
    where = apps_folder(folder)
    _ensure_kernel()
    settings = Settings.from_env()
    street_layer_json(settings.cache_dir)   # the offline street map, built once here rather than in a page view
    user = settings.user or "nobody: set WORKBENCH_USER"
    click.echo(f"apps of {where} on http://{ip}:{port}/ (user {user})")
    os.chdir(where)   # Voila reads voila.json from the folder it starts in: the apps' safe defaults
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
                              "."])
