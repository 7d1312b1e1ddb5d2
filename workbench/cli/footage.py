"""``workbench footage ingest``, ``workbench index build`` and ``workbench evidence verify``."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from workbench.access import audit
from workbench.cli.common import settings_from, system_actor
from workbench.store import Store


@click.group()
def footage() -> None:
    """Video footage of the partners' cameras."""


@footage.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--camera", "camera_id", required=True, help="camera id the footage comes from (CCTV-PZ5339-001...)")
@click.option("--start", help="when the first file starts (ISO 8601 with a time zone); default: the file's metadata")
@click.option("--index/--no-index", default=True, show_default=True, help="build the frame index of new segments")
def ingest(files: tuple[Path, ...], camera_id: str, start: str | None, index: bool) -> None:
    """Archive video files (any container and codec FFmpeg decodes). The same file twice is one segment."""
    from workbench.footage.footage_ingest import ingest_footage
    from workbench.search.index_build import build_index

    store, now = Store(settings_from()), datetime.now(timezone.utc)
    store.migrate()
    reports = ingest_footage(store, files, camera_id=camera_id, start=start, now=now,
                             audit=audit.writer(system_actor(), time=now), on_file=lambda r: click.echo(str(r)))
    added = [r.segment_id for r in reports if r.segment_id is not None]
    if index and added:
        click.echo(str(build_index(store, segment_ids=added, progress=True, now=now)))
    if any(r.error for r in reports):
        sys.exit(1)


@click.group("index")
def index_group() -> None:
    """The frame index (motion grid and moving objects) of the archived footage."""


@index_group.command("build")
@click.option("--rebuild", is_flag=True, help="index every segment again")
@click.option("--workers", type=int, help="worker processes of the local cluster (default: one per core)")
@click.option("--scheduler", help="address of a Dask scheduler (tcp://host:8786) whose workers fetch the footage "
              "from the workbench service (default: WORKBENCH_DASK_SCHEDULER, else a local cluster)")
def build(rebuild: bool, workers: int | None, scheduler: str | None) -> None:
    """Index the segments that are not indexed yet, in parallel, with a progress bar."""
    from workbench.search.index_build import build_index

    settings = settings_from()
    scheduler = scheduler or settings.dask_scheduler
    client, source = None, None
    if scheduler:
        from dask.distributed import Client

        from workbench.footage.footage_source import ServedFootage

        if not (settings.service_url and settings.worker_token):
            raise click.UsageError("workers on a cluster read the footage from the workbench service: set "
                                   "WORKBENCH_SERVICE_URL and WORKBENCH_WORKER_TOKEN (a token of the service's "
                                   "WORKBENCH_WORKER_TOKENS table)")
        try:
            client = Client(scheduler)   # waits distributed.comm.timeouts.connect (Dask config) at most
        except OSError as exc:
            raise click.UsageError(f"no Dask scheduler answers at {scheduler}: {exc}") from None
        source = ServedFootage(settings.service_url, settings.worker_token)
    store, now = Store(settings), datetime.now(timezone.utc)
    try:
        summary = build_index(store, rebuild=rebuild, workers=workers, client=client, source=source,
                              progress=True, now=now)
    finally:
        if client is not None:
            client.close()
    audit.record(store, system_actor(), "index-build", time=now,
                 resource={"rebuild": rebuild, "scheduler": scheduler or "local"}, result_count=summary.indexed)
    click.echo(str(summary))
    if summary.failed:
        sys.exit(1)


@click.group()
def evidence() -> None:
    """Evidence packages exported from cases."""


@evidence.command("verify")
@click.argument("package", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--files-only", is_flag=True, help="check the files only, not the archive and the audit trail")
def verify(package: Path, files_only: bool) -> None:
    """Check an evidence package: clip hashes, source segments in the archive, custody record in the audit trail."""
    from workbench.evidence.custody import verify_with_store
    from workbench.evidence.package import verify_package

    if files_only:
        report = verify_package(package)
    else:
        store = Store(settings_from())
        report = verify_with_store(store, package)
        audit.record(store, system_actor(), "evidence-verify", time=datetime.now(timezone.utc),
                     outcome="ok" if report.ok else "error", resource={"package": package.name},
                     reason=None if report.ok else report.problems[0])
    click.echo(str(report))
    if not report.ok:
        sys.exit(1)
