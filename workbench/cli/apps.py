"""``workbench apps``: serve the Voila apps (sightings map, frame search, hit triage, indicators...).

Voila keeps ``--pool`` preheated kernels per app (``voila_apps/voila.json``):
each has run its app's imports and warm-up and waits for a visitor, so a page
view after the first only logs in and draws. The kernels are forked from one
process that imported the apps' modules once (:mod:`workbench.kernel.fork_server`),
so refilling a pool after a visit costs milliseconds, not the 3-4 s of CPU of a
new Python taken from the visitor's page. Kernels idle for
``--cull-idle-minutes`` are shut down (open pages included), so kernels do not
pile up. In the hub deployment every user's Jupyter server starts its own
``workbench apps`` behind ``/user/NAME/workbench-apps/`` (jupyter-server-proxy,
see :func:`server_proxy`): one persistent app process per user, as that user.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import click

from workbench.config import Settings
from workbench.errors import ConfigurationError, NotFound
from workbench.kernelspec import KERNEL_NAME, install as install_spec
from workbench.maps.map_assets import publish
from workbench.maps.street_layer import street_layer_json


def apps_folder(folder: Path | None = None) -> Path:
    """The folder of apps: the one given, ``./voila_apps``, the source tree's, or the installed one
    (``<prefix>/share/workbench/voila_apps``, where ``pip install`` puts them: the hub's users)."""
    candidates = [folder] if folder else [Path.cwd() / "voila_apps", Path(__file__).resolve().parents[2] / "voila_apps",
                                          Path(sys.prefix) / "share" / "workbench" / "voila_apps"]
    for candidate in candidates:
        if candidate is not None and (candidate / "voila.json").is_file():
            return candidate.resolve()
    raise NotFound("no apps folder (voila_apps/ with its voila.json) here or in the workbench's source tree: "
                   "give it with --folder")


OFFLINE_TEMPLATE = "workbench-offline"
APP_IMPORTS = ("ipykernel.kernelapp", "workbench.kernel.audited_kernel", "ipywidgets", "workbench.widgets",
               "workbench.widgets.voila_request", "workbench.maps", "workbench.maps.findings_layer",
               "workbench.trajectories.findings", "workbench.search.frame_analysis")
"""What the apps' kernels import, once, in the fork server their kernels are forked from."""
MAP_ASSETS = f"../templates/{OFFLINE_TEMPLATE}/static"
"""Where an app's maps find Leaflet and the street layer, relative to its page (``/voila/render/APP.ipynb``)."""


def offline_template(cache_dir: Path) -> Path:
    """Voila's ``lab`` page template without its links to a CDN (Font Awesome, already in Voila's bundle),
    with the maps' shared files in its static folder (:data:`MAP_ASSETS`).

    Written under ``cache_dir/jupyter`` (a Jupyter data folder) from the
    installed Voila's own template, so it follows Voila's version; returns
    that data folder.
    """
    from jupyter_core.paths import jupyter_path

    source = next((Path(p) / "lab" / "index.html.j2" for p in jupyter_path("voila", "templates")
                   if (Path(p) / "lab" / "index.html.j2").is_file()), None)
    if source is None:
        raise NotFound("Voila's lab template is not installed: pip install voila")
    data = Path(cache_dir) / "jupyter"
    target = data / "voila" / "templates" / OFFLINE_TEMPLATE
    target.mkdir(parents=True, exist_ok=True)
    page = "".join(line for line in source.read_text(encoding="utf-8").splitlines(keepends=True)
                   if not ("<link" in line and "://" in line))
    (target / "index.html.j2").write_text(page, encoding="utf-8")
    (target / "conf.json").write_text('{"base_template": "lab"}\n', encoding="utf-8")
    publish(target / "static", street_layer_json(cache_dir))
    return data


def _check_port_free(ip: str, port: int) -> None:
    """ConfigurationError, in words, if another program listens on ``ip:port``.

    Voila is started with no retries on other ports: the apps are served on
    the port asked for or not at all, never on one the user was not told of.
    """
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as Tornado binds: TIME_WAIT is no owner
        try:
            probe.bind((ip, port))
        except OSError as e:
            raise ConfigurationError(f"port {port} on {ip} is taken by another program ({e.strerror}): "
                                     "choose another with --port") from None


def _ensure_kernel() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL_NAME not in KernelSpecManager().find_kernel_specs():
        click.echo(f"installing the 'Workbench (audited)' kernel spec in {install_spec(prefix=sys.prefix)}")


@click.command()
@click.option("--port", default=8866, show_default=True)
@click.option("--ip", default="127.0.0.1", show_default=True, help="address to listen on (loopback by default)")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the apps folder (default: voila_apps/)")
@click.option("--pool", type=click.IntRange(0, 8), default=None,
              help="preheated kernels kept per app (default: voila.json's, 1; 0: a new kernel per view)")
@click.option("--cull-idle-minutes", type=click.IntRange(1, 24 * 60), default=None,
              help="shut down kernels idle this long (default: voila.json's, 10)")
@click.option("--base-url", default="/", show_default=True,
              help="the path the apps are served under (behind a proxy, e.g. /user/NAME/workbench-apps/)")
@click.option("--fork-kernels/--no-fork-kernels", default=True, show_default=True,
              help="fork the kernels from one process that imported the apps' modules (else a new Python each)")
def apps(port: int, ip: str, folder: Path | None, pool: int | None, cull_idle_minutes: int | None,
         base_url: str, fork_kernels: bool) -> None:
    """Serve the apps with Voila; they log in as JUPYTERHUB_USER or WORKBENCH_USER, like the notebooks."""
    where = apps_folder(folder)
    _check_port_free(ip, port)
    _ensure_kernel()
    settings = Settings.from_env()
    user = settings.user or "nobody: set WORKBENCH_USER"
    click.echo(f"apps of {where} on http://{ip}:{port}/ (user {user})")
    os.chdir(where)   # Voila reads voila.json from the folder it starts in: the apps' safe defaults
    sys.stdout.flush()
    data = offline_template(settings.cache_dir)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(data), os.environ.get("JUPYTER_PATH")]))
    os.environ["WORKBENCH_MAP_ASSETS"] = MAP_ASSETS   # the kernels' maps link the files offline_template wrote
    if fork_kernels:
        from workbench.kernel import fork_server

        os.environ[fork_server.SOCKET_VARIABLE] = fork_server.start(APP_IMPORTS).path   # kernels forked, imports done
    # the extensions' files carry their content's hash in their names: a returning browser keeps them
    immutable = {"static_immutable_cache": [base_url.rstrip("/") + "/voila/labextensions/"]}
    options = [f"--Voila.base_url={base_url}", f"--VoilaConfiguration.template={OFFLINE_TEMPLATE}",
               f"--Voila.tornado_settings={json.dumps(immutable)}"]
    if pool is not None:
        options += [f"--VoilaConfiguration.default_pool_size={pool}"] + \
            (["--VoilaConfiguration.preheat_kernel=False"] if pool == 0 else [])
    if cull_idle_minutes is not None:
        options.append(f"--MappingKernelManager.cull_idle_timeout={cull_idle_minutes * 60}")
    os.execv(sys.executable, [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
                              "--Voila.port_retries=0", *options, "."])


def server_proxy() -> dict[str, object]:
    """jupyter-server-proxy's entry for the apps: ``/user/NAME/workbench-apps/`` in a user's Jupyter server.

    The process runs as the user, with the server's environment (its hub
    token, ``WORKBENCH_SERVICE_URL``), and stays up between page views. Its
    kernels start as new Pythons: a kernel forked there rendered its page but
    then left the page's widget requests unanswered (tests/deployment), a
    fault not yet understood.
    """
    return {"command": [sys.executable, "-m", "workbench.cli", "apps", "--port", "{port}",
                        "--base-url", "{base_url}workbench-apps/", "--no-fork-kernels"],
            "absolute_url": True, "timeout": 180,
            "launcher_entry": {"enabled": True, "title": "Workbench apps"}}
