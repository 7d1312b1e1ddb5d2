"""Rows for PostgreSQL's ``COPY ... FROM STDIN (FORMAT binary)``, encoded column by column with NumPy.

The server reads the binary format without parsing text (times, numbers):
measured on a day's plate reads, about 1.5-2 µs of server CPU less per row
than CSV. The encoding is vectorised (no Python per value): each column's
length words and values are written into one buffer at positions computed
from the rows' lengths.

Arrow types map to PostgreSQL's: strings to ``text``/``varchar``, integers to
``integer`` (int4; a value out of its range is an error), floats to ``float8``
(NaN goes as NULL, as pandas means it), timestamps to ``timestamptz`` (to the
microsecond, PostgreSQL's precision); nulls go as NULL.

    >>> data = encode(pa.table({"n": pa.array([1, None], pa.int64()), "s": ["a", "bc"]}))
    >>> data[:11], len(data)   # the signature; 19 bytes of header, 15 + 12 of rows, 2 of trailer
    (b'PGCOPY\\n\\xff\\r\\n\\x00', 48)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)   # signature, flags, header extension length
_PG_EPOCH_US = 946_684_800_000_000            # 2000-01-01 UTC in µs since 1970


def encode(data: pa.Table) -> bytes:
    """``data``'s rows in PostgreSQL's binary COPY format (header, tuples, trailer)."""
    n = data.num_rows
    columns = [_column(data.column(i).combine_chunks(), data.field(i).name) for i in range(data.num_columns)]
    sizes = [np.where(length < 0, 0, length) + 4 for length, _ in columns]
    row_size = 2 + np.sum(sizes, axis=0, dtype=np.int64) if columns else np.full(n, 2, dtype=np.int64)
    starts = len(_HEADER) + np.cumsum(row_size) - row_size
    out = np.empty(len(_HEADER) + int(row_size.sum()) + 2, dtype=np.uint8)
    out[:len(_HEADER)] = np.frombuffer(_HEADER, dtype=np.uint8)
    _put(out, starts, np.full(n, len(columns), dtype=">i2"))
    at = starts + 2
    for (length, values), size in zip(columns, sizes):
        _put(out, at, length.astype(">i4"))
        if isinstance(values, tuple):   # text: offsets and bytes, scattered after each length word
            offsets, payload = values
            out[np.repeat(at + 4 - offsets[:-1], np.diff(offsets)) + np.arange(offsets[0], offsets[-1])] = \
                payload[offsets[0]:offsets[-1]]
        else:
            valid = length >= 0
            _put(out, (at + 4)[valid], values[valid])
        at = at + size
    out[-2:] = 0xFF   # trailer: a field count of -1
    return out.tobytes()


def _put(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Write fixed-width big-endian ``values`` (one per row) at byte positions ``at``."""
    width = values.dtype.itemsize
    out[at[:, None] + np.arange(width)] = np.ascontiguousarray(values).view(np.uint8).reshape(-1, width)


def _column(array: pa.Array, name: str) -> tuple[np.ndarray, np.ndarray | tuple[np.ndarray, np.ndarray]]:
    """A column's per-row payload lengths (-1 for NULL) and its values: a big-endian array, or (offsets, bytes)."""
    kind = array.type
    if pa.types.is_floating(kind):
        array = pc.if_else(pc.is_nan(array), pa.scalar(None, kind), array)
    null = array.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        width = np.int64 if pa.types.is_large_string(kind) else np.int32
        buffers = array.buffers()
        offsets = np.frombuffer(buffers[1], dtype=width)[array.offset:array.offset + len(array) + 1].astype(np.int64)
        payload = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
        return np.where(null, -1, np.diff(offsets)), (offsets, payload)
    if pa.types.is_timestamp(kind):
        micros = pc.cast(pc.cast(array, pa.timestamp("us", "UTC"), safe=False), pa.int64()).fill_null(0).to_numpy()
        return np.where(null, -1, 8), (micros - _PG_EPOCH_US).astype(">i8")
    if pa.types.is_integer(kind):
        return np.where(null, -1, 4), pc.cast(array.fill_null(0), pa.int32()).to_numpy().astype(">i4")
    if pa.types.is_floating(kind):
        return np.where(null, -1, 8), pc.cast(array.fill_null(0.0), pa.float64()).to_numpy().astype(">f8")
    raise TypeError(f"column {name}: no binary COPY encoding for {kind}")
