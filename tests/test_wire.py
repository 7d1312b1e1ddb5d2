"""The service's wire format: every kind of facade value comes back identical; malformed messages are refused."""

from __future__ import annotations

import datetime as dt
import json
import struct

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from workbench.access import CaseInfo, UserInfo
from workbench.errors import InvalidInput
from workbench.service import wire


def roundtrip(value):
    return wire.decode(wire.encode(value))


def test_tables_keep_types_index_lists_mappings_and_geometry():
    times = pd.to_datetime(["2026-11-20T08:00:00.123456Z", "2026-11-20T09:00:00.000000Z", None], utc=True)
    frame = gpd.GeoDataFrame({
        "id": np.array([1, 2, 3], dtype=np.int64), "plate": ["1ABC234", "9XYZ001", None], "time": times,
        "score": [0.5, np.nan, 1.0], "ok": [True, False, True], "sources": [[1, 2], None, [3]],
        "resource": [{"a": 1}, {"b": [1, 2]}, {}], "thumb": [b"\x00\xff", None, b""],
        "route": gpd.GeoSeries([LineString([(4.3, 50.8), (4.4, 50.9)]), None, Point(4.35, 50.85)], crs=4326),
        "geometry": gpd.points_from_xy([4.35, 4.36, 4.37], [50.84, 50.85, 50.86]),
    }, geometry="geometry", crs="EPSG:4326", index=pd.Index([10, 11, 12], name="row"))
    back = roundtrip(frame)
    assert isinstance(back, gpd.GeoDataFrame) and back.crs == frame.crs and back.geometry.name == "geometry"
    assert back["route"].crs == frame["route"].crs
    pd.testing.assert_frame_equal(pd.DataFrame(back), pd.DataFrame(frame))
    empty = frame.iloc[:0]
    pd.testing.assert_frame_equal(pd.DataFrame(roundtrip(empty)), pd.DataFrame(empty))


def test_scalars_rows_images_and_dataclasses():
    image = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    row = pd.Series({"camera_id": "CCTV-1", "best_time": pd.Timestamp("2026-11-20T08:00Z"), "score": np.float64(0.7),
                     "thumbnail": b"jpeg"}, name=4)
    value = {"when": dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC), "day": dt.date(2026, 11, 20),
             "span": dt.timedelta(seconds=90), "pd_span": pd.Timedelta("2min"), "nan": float("nan"),
             "pair": (1, "a"), "set": {"x", "y"}, "n": np.int64(7), "image": image, "row": row,
             "numbers": np.arange(6, dtype=np.float32).reshape(2, 3), "nat": pd.NaT,
             "user": UserInfo("inspector.dupont", "Claire Dupont", "investigator", "PZ5339", "Zone"),
             "case": CaseInfo("PV-1", "t", "judicial-investigation", "art. 46", "open", False,
                              dt.datetime(2026, 11, 1, tzinfo=dt.UTC))}
    back = roundtrip(value)
    assert np.array_equal(back.pop("image"), value.pop("image"))      # lossless PNG
    assert np.array_equal(back.pop("numbers"), value.pop("numbers"))
    pd.testing.assert_series_equal(back.pop("row"), value.pop("row"))
    assert np.isnan(back.pop("nan")) and np.isnan(value.pop("nan"))
    assert back.pop("nat") is pd.NaT and value.pop("nat") is pd.NaT
    assert back == value and type(back["n"]) is np.int64 and type(back["pd_span"]) is pd.Timedelta


def _message(tree, buffers=()) -> bytes:
    header = json.dumps({"value": tree, "buffers": [len(b) for b in buffers]}).encode()
    return wire.MAGIC + struct.pack("<I", len(header)) + header + b"".join(buffers)


@pytest.mark.parametrize("message, words", [
    (b"", "not a workbench service message"),
    (b"WBW1" + struct.pack("<I", 5) + b"{}", "header is not readable"),
    (_message({"$dc": "Workspace", "fields": {}}), "unknown kind 'Workspace'"),
    (_message({"$eval": "__import__('os')"}), r"unknown kind '\$eval'"),
    (_message({"$bytes": 3}), "does not hold"),
    (_message({"$nd": 0, "dtype": "O", "shape": [1]}, [b"12345678"]), "unsupported type"),
    (_message({"$png": 0}, [b"not a png"]), "does not decode"),
    (_message({"$table": 0}, [b"not arrow"]), "does not decode"),
    (_message(1, [b"extra"])[:-2], "length does not match"),
])
def test_malformed_messages_are_refused_in_words(message, words):
    with pytest.raises(InvalidInput, match=words):
        wire.decode(message)


def test_a_value_of_an_unknown_type_is_not_sent():
    with pytest.raises(InvalidInput, match="cannot be sent"):
        wire.encode(object())
