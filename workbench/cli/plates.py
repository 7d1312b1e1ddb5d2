"""``workbench plates ingest FILE...`` and ``workbench hotlist load FILE``."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from workbench import batch_priority

# The load's modules (pandas, SQLAlchemy, the store: about a second of processor time) are imported by each
# command, after ``ingest`` has lowered its priority: a job started for each feed file that arrives would
# otherwise spend that second at the queries' priority every time.


@click.group()
def plates() -> None:
    """ANPR plate reads."""


@plates.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--nice", "niceness", default=10, show_default=True, type=click.IntRange(0, 19),
              help="run as a batch job at this CPU priority (0: as the analysts' queries; 19: lowest)")
@click.option("--connections", type=click.IntRange(1, 16),
              help="PostgreSQL: load each batch on this many connections at once (split by camera and plate; each "
                   "part commits alone, so a failure leaves the others loaded until a re-run); default: "
                   "workbench.plates.read_ingest.PG_CONNECTIONS")
def ingest(files: tuple[Path, ...], niceness: int, connections: int | None) -> None:
    """Load ANPR feeds (CSV or JSON Lines; see docs/plates-feed.md). Re-running a file loads nothing twice.

    A batch job: by default it gives the processor to the workbench service's
    queries first (``--nice 10``), so investigators are served while a feed loads:
    its own process, the session it leads and, on PostgreSQL, its database
    connections (``workbench.batch_priority``).
    """
    batch_priority.lower(niceness)
    from workbench.access import audit
    from workbench.cli.common import settings_from, system_actor
    from workbench.plates.read_ingest import ingest_files
    from workbench.store import Store

    store, now = Store(settings_from()), datetime.now(timezone.utc)
    store.migrate()
    if store.dialect == "postgresql":
        batch_priority.on_each_connection(store.engine, niceness, tell=lambda text: click.echo(text, err=True))
    reports = ingest_files(store, files, now=now, progress=True, audit=audit.writer(system_actor(), time=now),
                           connections=connections)
    for report in reports:
        click.echo(str(report))
    if any(r.error for r in reports):
        sys.exit(1)


@click.group()
def hotlist() -> None:
    """Hotlists of wanted plates."""


@hotlist.command("load")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--owner", required=True, help="partner code owning the list (FEDPOL, PZ5339...)")
@click.option("--name", help="name of the list; default the file name")
@click.option("--scope", type=click.Choice(["national", "zone"]), default="zone", show_default=True)
def load(file: Path, owner: str, name: str | None, scope: str) -> None:
    """Load a hotlist CSV (plate, priority 0-4, reason[, valid_from, valid_until])."""
    from workbench.access import audit
    from workbench.cli.common import settings_from, system_actor
    from workbench.plates.hotlist import load_hotlist
    from workbench.store import Store

    store, now = Store(settings_from()), datetime.now(timezone.utc)
    entries, hits = load_hotlist(store, file, name=name or file.stem, owner=owner, scope=scope, now=now,
                                 audit=audit.writer(system_actor(), time=now))
    click.echo(f"{entries} entries loaded, {hits} hits on existing sightings")
