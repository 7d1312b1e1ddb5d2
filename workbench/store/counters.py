"""Numbers the catalogue keeps so that nobody has to count rows (table ``catalogue_counter``, migration 0005).

``sightings`` is the newest sighting id loaded: ingest holds its row from
taking sighting ids to its commit and raises it in that transaction
(committed with the sightings, or rolled back with them), and the plate
index compares it with the number it was built at (one row read, where
``max(sighting.id)`` probed every day partition). ``rules`` is raised by a
trigger at every change of the tables the access rule reads (migration
0006): what was read of them at one value still holds (``access/rule_facts.py``).

    >>> with store.session() as session:                 # doctest: +SKIP
    ...     raise_to(session, SIGHTINGS, 1234)
    >>> with store.connect() as conn:                    # doctest: +SKIP
    ...     value(conn, SIGHTINGS)
    1234
"""

from __future__ import annotations

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from workbench.store.models import CatalogueCounter

SIGHTINGS = "sightings"
RULES = "rules"   # raised by a trigger at every change of the access rule's tables (migration 0006)


def hold(session: Session | Connection, name: str) -> None:
    """Lock counter ``name``'s row until the caller's transaction ends (PostgreSQL; SQLite's write lock already
    covers the whole database).

    Ingest holds ``sightings`` from taking its sighting ids to its commit, so
    that concurrent loaders commit their ids in increasing order: a reader
    that has seen ids up to N never sees a smaller one appear later.
    """
    session.execute(select(CatalogueCounter.value).where(CatalogueCounter.name == name).with_for_update())


def raise_to(session: Session | Connection, name: str, at_least: int) -> None:
    """Raise counter ``name`` to ``at_least`` (never lowers it), in the caller's transaction."""
    session.execute(update(CatalogueCounter).where(CatalogueCounter.name == name).values(
        value=case((CatalogueCounter.value < at_least, at_least), else_=CatalogueCounter.value)))


_VALUE = select(CatalogueCounter.value).where(CatalogueCounter.name == bindparam("name"))   # built once: read often


def value(conn: Session | Connection, name: str) -> int:
    """Counter ``name``'s value (0 when the catalogue never set it)."""
    return int(conn.execute(_VALUE, {"name": name}).scalar() or 0)


_VALUES = select(CatalogueCounter.name, CatalogueCounter.value).where(
    CatalogueCounter.name.in_(bindparam("names", expanding=True)))


def values(conn: Session | Connection, names: tuple[str, ...]) -> dict[str, int]:
    """The values of the counters ``names``, read in one statement (0 for one the catalogue never set)."""
    found = {name: int(value or 0) for name, value in conn.execute(_VALUES, {"names": list(names)}).all()}
    return {name: found.get(name, 0) for name in names}
