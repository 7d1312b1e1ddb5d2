"""Rows COPYed to PostgreSQL in its binary format come back as they went: text, numbers, times, NULLs."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pytest

from workbench.store.binary_copy import encode

from conftest import new_database


def test_binary_copy_round_trips_every_column_kind_and_null(tmp_path):
    frame = pd.DataFrame({
        "name": pd.array(["1ABC234", "", None, "Ünïcødé ✓ plaque"], dtype="string[pyarrow]"),
        "n": pd.array([1, None, -2_147_483_648, 2_147_483_647], dtype="Int64"),
        "x": [0.25, np.nan, -1e300, 3.0],
        "at": pd.to_datetime(["2026-11-20T08:31:07.250123Z", None, "1999-12-31T23:59:59.999999Z",
                              "2000-01-01T00:00:00Z"], utc=True, format="ISO8601")})
    with new_database("postgresql", tmp_path) as url, \
            psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute("CREATE TEMPORARY TABLE t (name text, n integer, x float8, at timestamptz)")
        with conn.cursor() as cursor, cursor.copy("COPY t (name, n, x, at) FROM STDIN (FORMAT binary)") as copy:
            copy.write(encode(pa.Table.from_pandas(frame, preserve_index=False)))
        rows = conn.execute("SELECT name, n, x, at FROM t").fetchall()
        assert rows == [
            ("1ABC234", 1, 0.25, datetime(2026, 11, 20, 8, 31, 7, 250123, tzinfo=timezone.utc)),
            ("", None, None, None),
            (None, -2_147_483_648, -1e300, datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)),
            ("Ünïcødé ✓ plaque", 2_147_483_647, 3.0, datetime(2000, 1, 1, tzinfo=timezone.utc))]
        assert encode(pa.Table.from_pandas(frame.iloc[:0], preserve_index=False)).endswith(b"\xff\xff")


def test_an_integer_out_of_its_column_range_is_an_error_not_a_wrapped_value():
    with pytest.raises(pa.ArrowInvalid):
        encode(pa.table({"n": pa.array([2**31], pa.int64())}))
