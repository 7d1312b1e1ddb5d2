"""PostgreSQL: a batch of reads COPYed and merged with set-based SQL.

The steps of :func:`workbench.plates.read_ingest` that touch many rows, done
the PostgreSQL way (psycopg 3 ``cursor.copy`` in the binary format; a few
statements per batch, whatever its size), inside the caller's transaction:

* :func:`stage` COPYs the batch's keys (source id, camera, plate, time) into a
  temporary table dropped at commit;
* :func:`drop_known` deletes from it, in one statement, the reads already
  loaded (same source and read id among the reads of the day either side);
* :func:`nearby_sightings` joins the staged (camera, plate) pairs with the
  sightings they may join (only those pairs' passages come back to the
  client, not the days' sightings);
* :func:`insert_sightings` takes a range of consecutive ids from the sequence
  and COPYs new sightings;
* :func:`extend_sightings` updates the sightings late reads joined, in one
  ``UPDATE ... FROM`` bounded to their days (a sighting whose start moves
  earlier moves partition);
* :func:`insert_reads` COPYs the reads, with their sighting ids, straight
  into ``plate_read``.

The clustering itself (which reads make one passage) is the pandas code of
``read_ingest``, the same on both backends.

    >>> with store.session() as session:                      # doctest: +SKIP
    ...     stage(session, reads); fresh = drop_known(session, reads)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from workbench.store import binary_copy
from workbench.store.partitions import missing_partition_error

DEDUPE_REACH = timedelta(days=1)
"""A re-delivered read is looked up among the reads of its time +- a day (its partitions and their neighbours)."""
PROBE_PAGE_COST = 1.1
"""``random_page_cost`` of the re-delivery check (:func:`drop_known`): the catalogue's indexes sit in memory or
on SSD."""
PAIRS_WORK_MEM = "32MB"
"""The least ``work_mem`` of the passages-nearby join (:func:`nearby_sightings`): a batch's 100,000 reads group
into ~50,000 (camera, plate) pairs, about 10 MB to aggregate and hash, which spilled to disk at PostgreSQL's
default 4 MB. A server configured with more (``deploy/postgresql.workbench.conf``: 64 MB) keeps its own."""
READ_COLUMNS = ["source", "source_read_id", "camera_id", "time", "plate_raw", "plate", "country", "confidence",
                "direction", "lane", "image_ref"]
_STAGE = """CREATE TEMPORARY TABLE wb_stage_read (idx integer, source varchar(64) COLLATE "C",
    source_read_id varchar(128) COLLATE "C", camera_id varchar(64) COLLATE "C", plate varchar(32) COLLATE "C",
    time timestamptz) ON COMMIT DROP"""
_STAGE_COLUMNS = ["idx", "source", "source_read_id", "camera_id", "plate", "time"]
_TAKE_IDS = "SELECT setval('sighting_id_seq', nextval('sighting_id_seq') + :n - 1)"
"""The last of ``n`` consecutive ids taken from the sequence at once (``n`` calls of ``nextval`` cost about a µs
of server CPU each). Only ingest takes sighting ids, each time holding the sightings' counter
(:func:`workbench.store.counters.hold`), and the shards of one process take theirs one after the other
(``_IDS_TAKEN``): nobody calls ``nextval`` between the two calls."""
_IDS_TAKEN = threading.Lock()


def _cursor(session: Session) -> Any:
    """The psycopg cursor of the session's own connection (same transaction)."""
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def _copy(session: Session, table: str, frame: pd.DataFrame) -> None:
    """COPY a DataFrame into ``table`` (columns by name) in PostgreSQL's binary format, encoded at once
    (:mod:`workbench.store.binary_copy`: the server parses no text), numbers and times first
    (:func:`~workbench.store.binary_copy.fixed_width_first`)."""
    data = binary_copy.fixed_width_first(pa.Table.from_pandas(frame, preserve_index=False))
    columns = ", ".join(data.column_names)
    with _cursor(session) as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(binary_copy.encode(data))


def stage(session: Session, reads: pd.DataFrame) -> None:
    """COPY the batch's keys (``idx`` = the read's row number) into the temporary table ``wb_stage_read``."""
    session.execute(text(_STAGE))
    _copy(session, "wb_stage_read", reads.assign(idx=np.arange(len(reads)))[_STAGE_COLUMNS])
    # a temporary table has no statistics and the joins need some: a rough sample does (3,000 rows, not 30,000)
    session.execute(text("ALTER TABLE wb_stage_read " + ", ".join(f"ALTER COLUMN {c} SET STATISTICS 10"
                                                                  for c in _STAGE_COLUMNS[1:])))
    session.execute(text(f"ANALYZE wb_stage_read ({', '.join(_STAGE_COLUMNS[1:])})"))


def drop_known(session: Session, reads: pd.DataFrame) -> pd.DataFrame:
    """The staged reads not loaded before (the others are deleted from the stage).

    The planner prices an index probe at a disk read's cost by default
    (``random_page_cost`` 4) and would scan the days' partitions whole even
    for a small batch: the cost of each file of a feed delivered every few
    minutes would grow with its days' reads (measured: 5,000 reads against
    900,000 of their days, 2.6 s scanned, 0.05 s probed). For this
    statement a probe is priced as the in-memory or SSD read it is
    (:data:`PROBE_PAGE_COST`): small batches probe the unique index of
    source ids, large ones (or spread over many days) still hash.
    """
    lo, hi = reads["time"].min() - DEDUPE_REACH, reads["time"].max() + DEDUPE_REACH
    session.execute(text(f"SET LOCAL random_page_cost = {PROBE_PAGE_COST}"))
    known = session.execute(text(
        "DELETE FROM wb_stage_read s USING plate_read p WHERE p.source = s.source "
        "AND p.source_read_id = s.source_read_id AND p.time >= s.time - :reach AND p.time <= s.time + :reach "
        "AND p.time >= :lo AND p.time <= :hi RETURNING s.idx"),
        {"reach": DEDUPE_REACH, "lo": lo.to_pydatetime(), "hi": hi.to_pydatetime()}).scalars().all()
    session.execute(text("SET LOCAL random_page_cost = DEFAULT"))
    return reads.drop(index=reads.index[np.asarray(known, dtype=np.int64)]) if known else reads


def nearby_sightings(session: Session, reads: pd.DataFrame, window: timedelta, span: timedelta) -> pd.DataFrame:
    """Existing sightings the staged reads could join: same camera and plate, ending at most ``window`` before
    the pair's first read, starting at most ``window`` after its last one and ``span`` before its first.

    One join of the staged pairs with the sightings of the batch's days (the
    planner hashes the pairs and scans those days' partitions once: for a
    day's batch five times faster than an index probe per pair, measured).
    """
    columns = ["id", "camera_id", "plate", "first_time", "last_time", "n_reads", "confidence"]
    lo, hi = reads["time"].min() - window - span, reads["time"].max() + window
    session.execute(text("SELECT set_config('work_mem', greatest(pg_size_bytes(current_setting('work_mem')), "
                         "pg_size_bytes(:least)) / 1024 || 'kB', true)"), {"least": PAIRS_WORK_MEM})
    rows = session.execute(text(
        "SELECT s.id, s.camera_id, s.plate, s.first_time, s.last_time, s.n_reads, s.confidence "
        "FROM (SELECT camera_id, plate, min(time) AS lo, max(time) AS hi FROM wb_stage_read "
        "      GROUP BY camera_id, plate) k "
        "JOIN sighting s ON s.plate = k.plate AND s.camera_id = k.camera_id "
        "AND s.first_time >= k.lo - :reach AND s.first_time <= k.hi + :window AND s.last_time >= k.lo - :window "
        "WHERE s.first_time >= :lo AND s.first_time <= :hi"),
        {"reach": window + span, "window": window, "lo": lo.to_pydatetime(), "hi": hi.to_pydatetime()}).all()
    session.execute(text("SET LOCAL work_mem = DEFAULT"))
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("first_time", "last_time"):
        frame[col] = pd.to_datetime(frame[col], utc=True).astype("datetime64[ns, UTC]")
    return frame


def insert_sightings(session: Session, new: pd.DataFrame) -> np.ndarray:
    """COPY the new sightings (columns of ``sighting`` but id) with ids from the sequence; returns the ids."""
    if new.empty:
        return np.zeros(0, dtype=np.int64)
    with _IDS_TAKEN:
        last = int(session.execute(text(_TAKE_IDS), {"n": len(new)}).scalar_one())
    ids = np.arange(last - len(new) + 1, last + 1, dtype=np.int64)
    _copy(session, "sighting", new.assign(id=ids))
    return ids


def extend_sightings(session: Session, joined: pd.DataFrame) -> None:
    """Widen the sightings late reads joined: columns id, was_first (its current start), first_time,
    last_time, n, confidence."""
    if joined.empty:
        return
    session.execute(text("CREATE TEMPORARY TABLE wb_stage_join (id integer, was_first timestamptz, "
                         "first_time timestamptz, last_time timestamptz, n integer, confidence float8) "
                         "ON COMMIT DROP"))
    _copy(session, "wb_stage_join", joined)
    session.execute(text(   # bounded by the sightings' current starts: only their days' partitions are read
        "UPDATE sighting s SET first_time = LEAST(s.first_time, j.first_time), "
        "last_time = GREATEST(s.last_time, j.last_time), n_reads = s.n_reads + j.n, "
        "confidence = GREATEST(s.confidence, j.confidence) FROM wb_stage_join j "
        "WHERE s.id = j.id AND s.first_time = j.was_first AND s.first_time >= :lo AND s.first_time <= :hi"),
        {"lo": pd.Timestamp(joined["was_first"].min()).to_pydatetime(),
         "hi": pd.Timestamp(joined["was_first"].max()).to_pydatetime()})


def insert_reads(session: Session, reads: pd.DataFrame, now: datetime) -> None:
    """COPY the reads (:data:`READ_COLUMNS` and ``sighting_id``) into ``plate_read``, stamped ``now``."""
    _copy(session, "plate_read", reads[[*READ_COLUMNS, "sighting_id"]].assign(ingested_at=pd.Timestamp(now)))


@contextmanager
def partition_errors(lo: datetime, hi: datetime) -> Iterator[None]:
    """A row with no partition to go to (one detached or dropped meanwhile) as a PartitionError naming the range."""
    try:
        yield
    except Exception as exc:
        problem = missing_partition_error(exc, lo, hi)
        if problem is not None:
            raise problem from None
        raise
