"""PostgreSQL: a batch of reads COPYed into a staging table and merged with set-based SQL.

The steps of :func:`workbench.plates.read_ingest` that touch many rows, done
the PostgreSQL way (psycopg 3 ``cursor.copy``; a few statements per batch,
whatever its size), inside the caller's transaction:

* :func:`stage` COPYs the parsed reads into a temporary table dropped at commit;
* :func:`drop_known` deletes from it, in one statement, the reads already
  loaded (same source and read id among the reads of the days around them);
* :func:`insert_sightings` takes ids from the sequence and COPYs new sightings;
* :func:`extend_sightings` updates the sightings late reads joined, in one
  ``UPDATE ... FROM`` (a sighting whose start moves earlier moves partition);
* :func:`insert_reads` merges the staged reads with their sighting ids into
  ``plate_read`` in one ``INSERT ... SELECT``.

The clustering itself (which reads make one passage) is the pandas code of
``read_ingest``, the same on both backends.

    >>> with store.session() as session:                      # doctest: +SKIP
    ...     stage(session, reads); fresh = drop_known(session, reads, lo, hi)
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import text
from sqlalchemy.orm import Session

from workbench.store.partitions import missing_partition_error

DEDUPE_REACH = timedelta(days=1)
"""A re-delivered read is looked up among the reads of its time +- a day (its partitions and their neighbours)."""
_STAGE_COLUMNS = ["idx", "source", "source_read_id", "camera_id", "time", "plate_raw", "plate", "country",
                  "confidence", "direction", "lane", "image_ref"]
_STAGE = """CREATE TEMPORARY TABLE wb_stage_read (
    idx integer PRIMARY KEY, source varchar(64), source_read_id varchar(128), camera_id varchar(64),
    time timestamptz, plate_raw varchar(64), plate varchar(32), country varchar(8), confidence float8,
    direction varchar(16), lane integer, image_ref text, sighting_id integer) ON COMMIT DROP"""


def _cursor(session: Session) -> Any:
    """The psycopg cursor of the session's own connection (same transaction)."""
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def _copy(session: Session, table: str, frame: pd.DataFrame) -> None:
    """COPY a DataFrame into ``table`` (columns by name), written as CSV by Arrow in one go."""
    data = pa.Table.from_pandas(frame, preserve_index=False)
    data = data.cast(pa.schema([pa.field(f.name, pa.timestamp("us", "UTC")) if pa.types.is_timestamp(f.type)
                                else f for f in data.schema]))
    buffer = io.BytesIO()
    pacsv.write_csv(data, buffer, pacsv.WriteOptions(include_header=False))
    columns = ", ".join(frame.columns)
    with _cursor(session) as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getbuffer())


def stage(session: Session, reads: pd.DataFrame) -> None:
    """COPY the batch's reads (``idx`` = their row number) into the temporary table ``wb_stage_read``."""
    session.execute(text(_STAGE))
    _copy(session, "wb_stage_read", reads.assign(idx=np.arange(len(reads)))[_STAGE_COLUMNS])


def drop_known(session: Session, reads: pd.DataFrame) -> pd.DataFrame:
    """The staged reads not loaded before (the others are deleted from the stage)."""
    lo, hi = reads["time"].min() - DEDUPE_REACH, reads["time"].max() + DEDUPE_REACH
    known = session.execute(text(
        "DELETE FROM wb_stage_read s USING plate_read p WHERE p.source = s.source "
        "AND p.source_read_id = s.source_read_id AND p.time >= :lo AND p.time <= :hi RETURNING s.idx"),
        {"lo": lo.to_pydatetime(), "hi": hi.to_pydatetime()}).scalars().all()
    return reads.drop(index=reads.index[np.asarray(known, dtype=np.int64)]) if known else reads


def insert_sightings(session: Session, new: pd.DataFrame) -> np.ndarray:
    """COPY the new sightings (columns of ``sighting`` but id) with ids from the sequence; returns the ids."""
    if new.empty:
        return np.zeros(0, dtype=np.int64)
    ids = np.asarray(session.execute(text("SELECT nextval('sighting_id_seq') FROM generate_series(1, :n)"),
                                     {"n": len(new)}).scalars().all(), dtype=np.int64)
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
    session.execute(text(
        "UPDATE sighting s SET first_time = LEAST(s.first_time, j.first_time), "
        "last_time = GREATEST(s.last_time, j.last_time), n_reads = s.n_reads + j.n, "
        "confidence = GREATEST(s.confidence, j.confidence) FROM wb_stage_join j "
        "WHERE s.id = j.id AND s.first_time = j.was_first"))


def insert_reads(session: Session, reads: pd.DataFrame, now: datetime) -> None:
    """Give each staged read its sighting (``reads``: idx, sighting_id) and merge them into ``plate_read``."""
    session.execute(text("CREATE TEMPORARY TABLE wb_stage_assign (idx integer PRIMARY KEY, sighting_id integer) "
                         "ON COMMIT DROP"))
    _copy(session, "wb_stage_assign", reads)
    columns = [c for c in _STAGE_COLUMNS if c != "idx"]
    session.execute(text(
        f"INSERT INTO plate_read ({', '.join(columns)}, sighting_id, ingested_at) "
        f"SELECT {', '.join('s.' + c for c in columns)}, a.sighting_id, :now "
        "FROM wb_stage_read s JOIN wb_stage_assign a ON a.idx = s.idx"), {"now": now})


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
