"""The frame index on disk: Parquet files per camera and UTC day, each rewritten whole and renamed into place.

    index/<camera>/<YYYY-MM-DD>/segments.parquet  the segments indexed there (id, span, frames, objects, version)
    index/<camera>/<YYYY-MM-DD>/motion.parquet    one row per second with motion: segment, time, two grid words
    index/<camera>/<YYYY-MM-DD>/events.parquet    one row per moving object: segment, number, times, codes,
                                                  box, descriptor (float16 bytes), track (float32 bytes)

Rows go to the day of their own time (motion) or of their best view (object
events), so a query for some cameras and days opens only those folders
(:class:`PartitionReader`). A build writes one segment's rows with
:func:`write_segment`, which replaces whatever that segment had in each day
it spans (a task run twice leaves its rows once), under a lock on the folder,
into a temporary file fsynced and renamed over the old one: a reader sees the
old file or the new one, never half of one (a temporary file left by a
writer killed mid-write is removed when the next build starts). The footage layer owns these
files because retention (access layer) drops the rows of purged segments
with :func:`drop_segments`; the search core reads them.

    >>> write_segment(index_dir, "CCTV-PZ5339-001", info, motion, events)       # doctest: +SKIP
    >>> PartitionReader(index_dir).read("CCTV-PZ5339-001", day_number(t))     # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workbench.errors import StoreError

INDEX_VERSION = 2
DAY_S = 86_400
_EPOCH = date(1970, 1, 1)
SEGMENTS = pa.schema([("segment_id", pa.int64()), ("start", pa.float64()), ("end", pa.float64()),
                      ("frames", pa.int64()), ("events", pa.int64()), ("version", pa.int16())])
MOTION = pa.schema([("segment_id", pa.int64()), ("time", pa.float64()), ("w0", pa.uint64()), ("w1", pa.uint64())])
EVENTS = pa.schema([("segment_id", pa.int64()), ("event_no", pa.int32()), ("start", pa.float64()),
                    ("end", pa.float64()), ("best", pa.float64()), ("direction_code", pa.uint8()),
                    ("colour_code", pa.uint8()), ("kind_code", pa.uint8()), ("size", pa.float32()),
                    ("x0", pa.float32()), ("y0", pa.float32()), ("x1", pa.float32()), ("y1", pa.float32()),
                    ("descriptor", pa.binary()), ("track", pa.binary())])
TABLES = {"segments": (SEGMENTS, "start"), "motion": (MOTION, "time"), "events": (EVENTS, "best")}
_PENDING = ".pending-drops.json"


def day_number(epoch_s: float) -> int:
    """The UTC day (days since 1970-01-01) of an epoch time."""
    return int(epoch_s // DAY_S)


def days_spanned(start_s: float, end_s: float) -> range:
    """The UTC days a span [start, end) touches."""
    return range(day_number(start_s), day_number(max(start_s, end_s - 1e-6)) + 1)


def partition_dir(index_dir: Path, camera_id: str, day: int) -> Path:
    """The folder of one camera's index for one UTC day."""
    return Path(index_dir) / _partition_name(camera_id, day)


@lru_cache(maxsize=65_536)
def _partition_name(camera_id: str, day: int) -> str:
    """``<camera, quoted>/<YYYY-MM-DD>`` (kept: a query names the same few thousand partitions again and again)."""
    return f"{quote(camera_id, safe='-_.')}/{(_EPOCH + timedelta(days=day)).isoformat()}"


def _read(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A partition file; a damaged one is a StoreError that says which and what to do.

    Read in the calling thread, without Arrow's thread pools: a query reads a
    few small files, and on a busy machine each hand-over to another thread
    waits for a core (a read took 2-7 times its CPU time in wall time).
    """
    try:
        with pq.ParquetFile(path, pre_buffer=False) as file:
            return file.read(columns=columns, use_threads=False)
    except (OSError, pa.ArrowException) as exc:
        camera, day = path.parent.parent.name, path.parent.name
        raise StoreError(f"the frame index of camera {camera} on {day} is damaged ({path.name}: {exc}); index "
                         f"that day again: delete {path.parent} and run `workbench index build --rebuild`") from None


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def remove_stale_partials(index_dir: Path) -> int:
    """Every temporary file left under ``index_dir`` by a writer killed mid-write, each folder under its lock;
    returns how many were removed (a build starts with it)."""
    folders = {p.parent for p in Path(index_dir).glob("*/*/.*.partial")}
    removed = 0
    for folder in folders:
        with _locked(folder):   # writers hold it while they write: what is left now is stale
            for stale in folder.glob(".*.partial"):
                stale.unlink(missing_ok=True)
                removed += 1
    return removed


def _encodings(name: str, schema: pa.Schema) -> dict[str, Any]:
    """How each column of table ``name`` is written: floats split by byte (times, boxes: they compress, and
    decode twice as fast as dictionaries of unique values), codes and segment ids as dictionaries, the rest
    plain; LZ4 for the motion grid (read whole by every motion search: a third less CPU than zstd for 60 %
    more bytes), zstd for the rest."""
    floats = [f.name for f in schema if pa.types.is_floating(f.type)]
    coded = [f.name for f in schema
             if f.name == "segment_id" or (pa.types.is_integer(f.type) and f.type.bit_width < 32)]
    return {"compression": "lz4" if name == "motion" else "zstd", "use_dictionary": coded,
            "column_encoding": dict.fromkeys(floats, "BYTE_STREAM_SPLIT")}


def _write_atomically(table: pa.Table, path: Path, encodings: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    with open(tmp, "wb") as out:
        pq.write_table(table, out, **encodings)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def write_partition(folder: Path, tables: dict[str, pa.Table]) -> None:
    """Write whole tables of one partition (sorted by time), each replacing its file; an empty table removes it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        schema, order = TABLES[name]
        path = folder / f"{name}.parquet"
        if table.num_rows == 0:
            path.unlink(missing_ok=True)
        else:
            _write_atomically(table.cast(schema).sort_by(order), path, _encodings(name, schema))


def _replace_rows(folder: Path, segment_ids: list[int], new: dict[str, pa.Table]) -> None:
    """In one partition, the rows of ``segment_ids`` replaced by ``new`` (under the folder's lock)."""
    with _locked(folder):
        tables = {}
        for name, (schema, _) in TABLES.items():
            path = folder / f"{name}.parquet"
            old = _read(path) if path.exists() else schema.empty_table()
            kept = old.filter(pc.invert(pc.is_in(old["segment_id"], pa.array(segment_ids, pa.int64()))))
            tables[name] = pa.concat_tables([kept.cast(schema), new.get(name, schema.empty_table()).cast(schema)])
        write_partition(folder, tables)


def _rows_of_day(table: pa.Table, column: str, day: int) -> pa.Table:
    times = table[column].to_numpy()
    return table.filter(pa.array((times >= day * DAY_S) & (times < (day + 1) * DAY_S)))


def write_segment(index_dir: Path, camera_id: str, segments: pa.Table, motion: pa.Table, events: pa.Table) -> None:
    """Store one segment's index (``segments`` is its one row): its rows replace the segment's rows in each day."""
    info = segments.to_pylist()[0]
    sid = int(info["segment_id"])
    for day in days_spanned(info["start"], info["end"]):
        new = {"segments": segments if day == day_number(info["start"]) else SEGMENTS.empty_table(),
               "motion": _rows_of_day(motion, "time", day), "events": _rows_of_day(events, "best", day)}
        _replace_rows(partition_dir(index_dir, camera_id, day), [sid], new)


def drop_segments(index_dir: Path, segments: Iterable[dict[str, Any]]) -> None:
    """Remove the rows of the given segments (dicts with id, camera_id, start, end as datetimes)."""
    by_folder: dict[Path, list[int]] = {}
    for s in segments:
        for day in days_spanned(s["start"].timestamp(), s["end"].timestamp()):
            by_folder.setdefault(partition_dir(index_dir, s["camera_id"], day), []).append(int(s["id"]))
    for folder, ids in by_folder.items():
        if folder.is_dir():
            _replace_rows(folder, ids, {})


def note_pending_drops(index_dir: Path, segments: list[dict[str, Any]]) -> None:
    """Remember segments about to be purged, so that a purge that dies still drops their index rows later."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    plain = [{"id": s["id"], "camera_id": s["camera_id"], "start": s["start"].isoformat(),
              "end": s["end"].isoformat()} for s in segments]
    path = Path(index_dir) / _PENDING
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(plain), encoding="utf-8")
    os.replace(tmp, path)


def settle_pending_drops(index_dir: Path, alive: set[int]) -> None:
    """Drop the index rows of noted segments that are gone from the catalogue; forget the note."""
    from datetime import datetime

    path = Path(index_dir) / _PENDING
    if not path.exists():
        return
    noted = json.loads(path.read_text(encoding="utf-8") or "[]")
    drop_segments(index_dir, [{**s, "start": datetime.fromisoformat(s["start"]),
                               "end": datetime.fromisoformat(s["end"])} for s in noted if s["id"] not in alive])
    path.unlink(missing_ok=True)


def indexed_segments(index_dir: Path, camera_id: str, day: int) -> set[int]:
    """The segments whose index starts in this camera's partition of ``day``."""
    path = partition_dir(index_dir, camera_id, day) / "segments.parquet"
    return set(_read(path, ["segment_id"])["segment_id"].to_pylist()) if path.exists() else set()


class PartitionReader:
    """Reads partitions, keeping the most recently read ones in memory up to ``cache_bytes``.

    An entry is keyed by the file's modification time and size, so a
    partition rewritten by a build is read again.
    """

    def __init__(self, index_dir: Path, cache_bytes: int = 256 * 2**20) -> None:
        self.index_dir = Path(index_dir)
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[tuple[str, int, int, tuple[str, ...] | None], pa.Table] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def read(self, camera_id: str, day: int, name: str, columns: tuple[str, ...] | None = None) -> pa.Table | None:
        """One table (``motion``, ``events`` or ``segments``) of a camera's day, or None when it has none.

        With ``columns``, only those are read (the Parquet file is read by column).
        """
        path = partition_dir(self.index_dir, camera_id, day) / f"{name}.parquet"
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        key = (str(path), info.st_mtime_ns, info.st_size, columns)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        table = _read(path, list(columns) if columns else None)
        with self._lock:
            if table.nbytes <= self.cache_bytes:
                self._cache[key] = table
                self._held += table.nbytes
                while self._held > self.cache_bytes:
                    _, old = self._cache.popitem(last=False)
                    self._held -= old.nbytes
        return table


def binary_column(rows: np.ndarray, offsets: np.ndarray) -> pa.Array:
    """Rows of a contiguous array as binary values, value ``i`` made of rows ``offsets[i]:offsets[i + 1]``."""
    data = np.ascontiguousarray(rows)
    item = data.itemsize * (data.shape[1] if data.ndim > 1 else 1)
    byte_offsets = (np.asarray(offsets, np.int64) * item).astype(np.int32)
    return pa.BinaryArray.from_buffers(pa.binary(), len(byte_offsets) - 1,
                                       [None, pa.py_buffer(byte_offsets), pa.py_buffer(data.view(np.uint8).ravel())])


def binary_rows(column: pa.ChunkedArray | pa.Array, dtype: Any, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A binary column as rows of ``width`` items of ``dtype`` (one copy), and each value's first row (n + 1).

    A column whose values are all one row long (descriptors) gives one row per value.
    """
    values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(values) == 0:
        return np.zeros((0, width), dtype), np.zeros(1, np.int64)
    flat, offsets = _binary_parts(values)
    item = np.dtype(dtype).itemsize * width
    return flat.view(dtype).reshape(-1, width), (offsets // item).astype(np.int64)


def _binary_parts(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The data bytes of a binary array (its slice only) and its offsets from 0."""
    _, offset_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offset_buf, np.int32)[values.offset:values.offset + len(values) + 1].astype(np.int64)
    flat = np.frombuffer(data_buf, np.uint8)[offsets[0]:offsets[-1]] if data_buf is not None else np.zeros(0, np.uint8)
    return np.ascontiguousarray(flat), offsets - offsets[0]
