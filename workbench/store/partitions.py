"""PostgreSQL: plate reads and sightings partitioned by day (native declarative range partitioning).

``plate_read`` is partitioned on ``time`` and ``sighting`` on ``first_time``
(migration ``0003_plates_partitioned``), one partition per UTC day, named
``plate_read_p20261120``. Ingest creates the partitions a batch needs, each in
a short transaction of its own (creating a partition locks its table for a
moment: never inside a long load); retention drops whole days. A query with a
time window reads only the days it covers (partition pruning).

What partitioning changes (PostgreSQL only; SQLite keeps the plain tables):

* a partitioned table's keys hold its partition column: the primary keys are
  (id, time) and (id, first_time), and a read's source id is unique per
  (source, read id, time) -- a re-delivered read carries its time, and ingest
  looks re-deliveries up among the reads of the days around it;
* no foreign key points at a sighting (PostgreSQL cannot reference a
  partitioned table by ``id`` alone): ingest and retention keep reads, hits
  and sightings together; nor from them to ``camera`` (a query per row
  loaded; ingest refuses unknown cameras first);
* the reads keep only the indexes ingest and the reads of sightings use
  (source id, sighting; no primary key: no query reads a read by its id) and
  the sightings no ``last_time`` index (migration 0004): every index is a
  b-tree written per row loaded.

A partition missing where a table of its name exists but is not attached
(detached to archive it, say) is refused in words naming the day
(:class:`PartitionError`), never filled by a second table for the same day.

    >>> partition_name("plate_read", date(2026, 11, 20))
    'plate_read_p20261120'
    >>> day_range(datetime(2026, 11, 20, 23, 59, tzinfo=timezone.utc), datetime(2026, 11, 21, 1, tzinfo=timezone.utc))
    [datetime.date(2026, 11, 20), datetime.date(2026, 11, 21)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from workbench.errors import PartitionError

PARTITIONED = {"plate_read": "time", "sighting": "first_time"}
"""Partitioned tables and their partition column."""
PLANNED_COLUMNS = {"plate_read": "time, camera_id, plate, source, source_read_id, sighting_id",
                   "sighting": "id, first_time, last_time, camera_id, plate"}
"""The columns queries select and join on: :func:`analyse` gathers statistics for these only (the others, such
as a read's image reference or confidence, cost the sampling's sorts and steer no plan)."""
SAMPLE_TARGET = {"plate_read": 10, "sighting": 100}
"""The statistics target :func:`analyse` samples each table's partitions with (it reads 300 rows per unit).
The sightings keep PostgreSQL's default (100: 30,000 rows), their plates' and cameras' frequencies steer the
investigators' queries; the reads are read only by their sightings' ids and by the re-delivery check, whose plans
follow row counts and distinct counts that 3,000 rows estimate as well (measured: sampling 30,000 rows of the
day's reads cost about 4 % of the server's CPU of a day's load)."""
STALE_SHARE = 0.2
"""A partition's statistics are refreshed after a load that adds more than this share of the rows they counted."""
_NAME = re.compile(r"^(plate_read|sighting)_p([0-9]{8})$")


@dataclass(frozen=True, order=True)
class Partition:
    """One day's partition of a table."""

    table: str
    name: str
    start: datetime
    end: datetime

    @property
    def span(self) -> str:
        """The time range in words (UTC)."""
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"


def partition_name(table: str, day: date) -> str:
    """The name of ``table``'s partition for ``day`` (UTC)."""
    return f"{table}_p{day:%Y%m%d}"


def day_start(day: date) -> datetime:
    """Midnight UTC of ``day``."""
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def day_range(lo: datetime, hi: datetime) -> list[date]:
    """Every UTC day from ``lo``'s to ``hi``'s, both included."""
    first, last = lo.astimezone(timezone.utc).date(), hi.astimezone(timezone.utc).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def is_partitioned(conn: Connection, table: str) -> bool:
    """Whether ``table`` is a partitioned table here (PostgreSQL after migration 0003)."""
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c "
                                  "ON c.oid = p.partrelid WHERE c.relname = :t AND pg_table_is_visible(c.oid))"),
                             {"t": table}).scalar())


def attached(conn: Connection, table: str) -> list[Partition]:
    """The day partitions attached to ``table``, oldest first."""
    rows = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t AND pg_table_is_visible(p.oid)"),
        {"t": table}).scalars().all()
    return sorted(_partition(table, name) for name in rows if _NAME.match(name))


def detached(conn: Connection, table: str) -> list[Partition]:
    """Tables named like a day partition of ``table`` that are not attached to it."""
    names = conn.execute(text(
        "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE :pattern "
        "AND pg_table_is_visible(c.oid) AND NOT c.relispartition"), {"pattern": f"{table}\\_p%"}).scalars().all()
    return sorted(_partition(table, name) for name in names if _NAME.match(name))


def partition_of(name: str) -> Partition:
    """The partition a day partition's name stands for."""
    match = _NAME.match(name)
    assert match is not None, name
    return _partition(match.group(1), name)


def _partition(table: str, name: str) -> Partition:
    match = _NAME.match(name)
    assert match is not None
    start = day_start(datetime.strptime(match.group(2), "%Y%m%d").date())
    return Partition(table, name, start, start + timedelta(days=1))


def ensure(conn: Connection, lo: datetime, hi: datetime) -> list[str]:
    """Create the missing day partitions of every partitioned table from ``lo`` to ``hi``; returns their names.

    Run it in a short transaction of its own, before the load. A table of a
    partition's name that is not attached raises :class:`PartitionError`.
    """
    created: list[str] = []
    for table in PARTITIONED:
        if not is_partitioned(conn, table):
            continue
        have = {p.name for p in attached(conn, table)}
        loose = {p.name: p for p in detached(conn, table)}
        for day in day_range(lo, hi):
            name = partition_name(table, day)
            if name in have:
                continue
            if name in loose:
                raise PartitionError(
                    f"the {table.replace('_', ' ')} partition of {loose[name].span} ({name}) exists but is "
                    "detached from the catalogue (archived?): reattach it (ALTER TABLE "
                    f"{table} ATTACH PARTITION {name} FOR VALUES FROM ('{day}') TO ('{day + timedelta(days=1)}')) "
                    "or drop it, then load again; nothing was loaded")
            start, end = day_start(day).isoformat(), day_start(day + timedelta(days=1)).isoformat()
            conn.execute(text(f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table}" '
                              f"FOR VALUES FROM ('{start}') TO ('{end}')"))
            created.append(name)
    return created


def analyse(conn: Connection, loaded: dict[date, int]) -> list[str]:
    """Refresh the planner's statistics of the partitions of the days rows were ``loaded`` into (rows per day)
    where they are missing or behind; returns the partitions analysed.

    A fresh partition has none, and a plan made without them may read every
    row instead of the index. A partition whose statistics counted rows
    already is analysed again only when this load adds more than
    :data:`STALE_SHARE` of them: a feed delivered every few minutes would
    otherwise sample (30,000 rows, a tenth of a second) each of its days'
    partitions per file; autovacuum's analyse follows the slower growth.
    """
    names = {partition_name(table, day): (table, n) for table in PARTITIONED for day, n in loaded.items()}
    if not names:
        return []
    counted: dict[str, float] = dict(conn.execute(text(   # attached partitions only; -1: never analysed
        "SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid "
        "WHERE c.relname = ANY(:names)"), {"names": sorted(names)}).all())
    stale = [name for name, (_, n) in sorted(names.items())
             if name in counted and (counted[name] < 0 or n > STALE_SHARE * counted[name])]
    for name in stale:
        table = names[name][0]
        conn.execute(text(f"SET LOCAL default_statistics_target = {SAMPLE_TARGET[table]}"))
        conn.execute(text(f'ANALYZE "{name}" ({PLANNED_COLUMNS[table]})'))
    conn.execute(text("SET LOCAL default_statistics_target = DEFAULT"))
    return stale


def missing_partition_error(exc: BaseException, lo: datetime, hi: datetime) -> PartitionError | None:
    """PostgreSQL's 'no partition of relation ... found for row', in words with the time range; else None."""
    message = str(getattr(exc, "orig", exc))
    if "no partition of relation" not in message:
        return None
    return PartitionError(f"no partition of the plate reads holds some of the times from {lo:%Y-%m-%d %H:%M} to "
                          f"{hi:%Y-%m-%d %H:%M} UTC (detached or dropped while loading?); this batch was rolled "
                          "back, nothing of it is loaded: load it again")


def drop(conn: Connection, partition: Partition) -> None:
    """Drop one day partition (retention)."""
    conn.execute(text(f'DROP TABLE "{partition.name}"'))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """For schema comparisons (Alembic): leave out the day partitions and what partitioning changes on purpose."""
    if type_ == "table" and name is not None and _NAME.match(name):
        return False
    if type_ == "foreign_key_constraint" and obj.parent.name in {*PARTITIONED, "hit"} \
            and obj.referred_table.name in {"sighting", "camera"}:
        return False
    if type_ == "index" and name in {"ix_plate_read_plate_time", "ix_plate_read_camera_time", "ix_sighting_last_time"}:
        return False
    return not (type_ == "unique_constraint" and name == "uq_plate_read_source")
