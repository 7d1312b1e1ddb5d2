"""Sample cases that ship with the workbench, for demos, training and tests.

    workbench sample build            # the command line
    >>> from workbench.samples import build_sample
    >>> build_sample(Settings.from_env())        # doctest: +SKIP

The world is deterministic for a given day; the ground truth of its simulated
traffic stays in :mod:`workbench.samples` and is never read by the workbench.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select, text

from workbench.access import audit
from workbench.config import Settings
from workbench.samples.world import SAMPLE_CASE, build_world, sample_day_default
from workbench.store import Store
from workbench.store.models import Base, Partner

__all__ = ["SAMPLE_CASE", "build_sample", "is_built"]


def is_built(store: Store) -> bool:
    """Whether the catalogue already holds a world (partners exist)."""
    if not store.is_migrated():
        return False
    with store.session() as session:
        return session.execute(select(Partner.id).limit(1)).first() is not None


def reset(store: Store) -> None:
    """Drop every table and file of the workbench home (sample worlds only!)."""
    import shutil

    Base.metadata.drop_all(store.engine)
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    for folder in (store.settings.footage_dir, store.settings.index_dir, store.settings.evidence_dir):
        shutil.rmtree(folder, ignore_errors=True)


def build_sample(settings: Settings, *, day: date | None = None, rebuild: bool = False) -> str:
    """Build the sample world into the catalogue of ``settings``; returns a one-line summary.

    Does nothing (and says so) when a world is already there, unless ``rebuild``.
    """
    store = Store(settings)
    try:
        if rebuild:
            reset(store)
        store.migrate()
        if is_built(store):
            return f"the sample world is already built in {store.safe_url} (use --rebuild to start again)"
        day = day or sample_day_default()
        build_world(store, day)
        audit.record(store, audit.Actor("system:sample-build"), "sample-build",
                     time=datetime.now(timezone.utc), resource={"day": day.isoformat()})
        return f"sample world of {day.isoformat()} built in {store.safe_url}; case {SAMPLE_CASE}"
    finally:
        store.dispose()
