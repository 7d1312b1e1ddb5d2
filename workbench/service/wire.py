"""The service's wire format: facade values to bytes and back, the same on both sides.

A message is ``WBW1``, a 4-byte header length, a JSON header, then binary
buffers. The header describes the value as a tree; tables travel as Arrow IPC
streams (GeoDataFrames with their geometry as WKB and their CRS, rebuilt on
the other side), images as PNG (lossless: the client's frame is the service's
frame), bytes as they are. Only a closed list of types is decoded: nothing in
a message names a class to import or a function to call.

    >>> blob = encode({"when": pd.Timestamp("2026-11-20T08:00Z"), "rows": pd.DataFrame({"a": [1, 2]})})
    >>> decode(blob)["rows"]["a"].tolist()
    [1, 2]
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import struct
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from workbench.access.audit import ChainCheck
from workbench.access.bookmarks import Bookmark
from workbench.access.indicators import Indicators
from workbench.access.session import CaseInfo, UserInfo
from workbench.case_footage import FrameHits, Playback, PlaybackClip
from workbench.errors import InvalidInput
from workbench.footage.frame_reader import Frame, encode_image
from workbench.report_pdf import CaseReport
from workbench.trajectories.trajectory import Trajectory

MAGIC = b"WBW1"
MEDIA_TYPE = "application/vnd.workbench.wire"
# the plain-data classes a message may carry, by name (never a class named by the sender)
DATACLASSES: dict[str, type] = {cls.__name__: cls for cls in (UserInfo, CaseInfo, ChainCheck, Indicators, FrameHits,
                                                              Frame)}
DATACLASSES.update({cls.__name__: cls for cls in (Playback, PlaybackClip, CaseReport, Bookmark)})
_SCALARS = (str, int, float, bool, type(None))


class _Writer:
    def __init__(self) -> None:
        self.buffers: list[bytes | pa.Buffer] = []

    def buffer(self, data: bytes | pa.Buffer) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def tree(self, value: Any) -> Any:
        if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
            return value
        if isinstance(value, float):
            return value if np.isfinite(value) else {"$float": repr(value)}
        if isinstance(value, np.generic):
            return {"$np": value.dtype.str, "v": self.tree(value.item())}
        if isinstance(value, (list,)):
            return [self.tree(v) for v in value]
        if isinstance(value, tuple):
            return {"$tuple": [self.tree(v) for v in value]}
        if isinstance(value, (set, frozenset)):
            return {"$set": [self.tree(v) for v in sorted(value, key=repr)]}
        if isinstance(value, dict):
            return {"$dict": [[self.tree(k), self.tree(v)] for k, v in value.items()]}
        if isinstance(value, pd.Timestamp):
            return {"$ts": value.isoformat()} if value is not pd.NaT else {"$nat": True}
        if value is pd.NaT:
            return {"$nat": True}
        if isinstance(value, dt.datetime):
            return {"$datetime": value.isoformat()}
        if isinstance(value, dt.date):
            return {"$date": value.isoformat()}
        if isinstance(value, (pd.Timedelta, dt.timedelta)):
            return {"$timedelta": pd.Timedelta(value).value, "pd": isinstance(value, pd.Timedelta)}
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {"$bytes": self.buffer(bytes(value))}
        if isinstance(value, Path):
            return {"$path": str(value)}
        if isinstance(value, pd.DataFrame):
            return self.table(value)
        if isinstance(value, pd.Series):
            return self.series(value)
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, shapely.Geometry):
            return {"$wkb": self.buffer(shapely.to_wkb(value))}
        if isinstance(value, Trajectory):
            return {"$trajectory": {"plate": value.plate, "sightings": self.table(value.sightings),
                                    "hops": self.table(value.hops), "rejected": self.table(value.rejected),
                                    "route": self.table(value.route)}}
        if dataclasses.is_dataclass(value) and type(value).__name__ in DATACLASSES:
            return {"$dc": type(value).__name__,
                    "fields": {f.name: self.tree(getattr(value, f.name)) for f in dataclasses.fields(value)}}
        raise InvalidInput(f"a value of type {type(value).__name__} cannot be sent to or from the workbench service")

    def array(self, value: np.ndarray) -> dict[str, Any]:
        if value.dtype == np.uint8 and value.ndim == 3 and value.shape[2] == 3:   # an RGB image: lossless PNG
            return {"$png": self.buffer(encode_image(value, ".png"))}
        if value.dtype.kind not in "biufcmM":
            return {"$objarray": [self.tree(v) for v in value.tolist()]}
        return {"$nd": self.buffer(np.ascontiguousarray(value).tobytes()), "dtype": value.dtype.str,
                "shape": list(value.shape)}

    def series(self, value: pd.Series) -> dict[str, Any]:
        if value.dtype == object:   # a row: mixed values, each sent with its own type
            return {"$row": [[self.tree(k), self.tree(v)] for k, v in value.items()], "name": self.tree(value.name)}
        return {"$series": self.table(value.to_frame(name="__value__")), "name": self.tree(value.name)}

    def table(self, frame: pd.DataFrame) -> dict[str, Any]:
        geo: dict[str, dict[str, Any]] = {}
        names = list(frame.columns)
        kinds = list(frame.dtypes)
        replaced, dropped = {}, []
        for position, (name, kind) in enumerate(zip(names, kinds)):
            if isinstance(kind, gpd.array.GeometryDtype):
                geo[str(name)] = self._geometry(frame[name], position)
                if "xy" in geo[str(name)]:
                    dropped.append(name)
                else:
                    replaced[name] = shapely.to_wkb(np.asarray(frame[name].array))
        lists, loose = [], {}   # loose: mappings (an audit event's resource) and mixed columns, value by value
        for position, (name, kind) in enumerate(zip(names, kinds)):
            if not pd.api.types.is_object_dtype(kind) or str(name) in geo:
                continue
            values = frame[name]
            try:
                arrow_kind = str(pa.array(values, from_pandas=True).type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                arrow_kind = "mixed"
            if arrow_kind == "mixed" or "struct" in arrow_kind or "map<" in arrow_kind:
                loose[str(name)] = [position, [self.tree(v) for v in values.tolist()]]
                dropped.append(name)
            elif arrow_kind.startswith(("list<", "large_list<")):
                lists.append(str(name))
        plain = pd.DataFrame(frame, copy=False)
        if replaced:
            plain = plain.assign(**replaced)
        if dropped:
            plain = plain.drop(columns=dropped)
        table = pa.Table.from_pandas(plain, preserve_index=None)   # a range index travels as metadata only
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        active = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in \
            frame.columns else None
        return {"$table": self.buffer(sink.getvalue()), "geo": geo, "active": active, "lists": lists,
                "loose": loose}

    def _geometry(self, column: gpd.GeoSeries, position: int) -> dict[str, Any]:
        """A geometry column: x and y when every value is a 2-D point (exact, and fast), else WKB in the table."""
        crs = column.crs.to_string() if getattr(column, "crs", None) is not None else None
        values = np.asarray(column.array)
        if len(values) and (shapely.get_type_id(values) == 0).all() and not shapely.has_z(values).any() \
                and not shapely.is_empty(values).any():
            xy = np.ascontiguousarray(shapely.get_coordinates(values), dtype=np.float64)
            return {"crs": crs, "xy": self.buffer(xy.tobytes()), "position": position}
        return {"crs": crs}


class _Reader:
    def __init__(self, buffers: list[memoryview]) -> None:
        self.buffers = buffers

    def buffer(self, index: Any) -> memoryview:
        if not isinstance(index, int) or not 0 <= index < len(self.buffers):
            raise InvalidInput("a message refers to a buffer it does not hold")
        return self.buffers[index]

    def tree(self, node: Any) -> Any:
        if isinstance(node, _SCALARS):
            return node
        if isinstance(node, list):
            return [self.tree(v) for v in node]
        if not isinstance(node, dict) or len(node) < 1:
            raise InvalidInput("a message holds a value the workbench does not know")
        tag = next(iter(node))
        body = node[tag]
        if tag == "$float":
            return float(body)
        if tag == "$np":
            return np.dtype(body).type(self.tree(node["v"]))
        if tag == "$tuple":
            return tuple(self.tree(v) for v in body)
        if tag == "$set":
            return {self.tree(v) for v in body}
        if tag == "$dict":
            return {self.tree(k): self.tree(v) for k, v in body}
        if tag == "$ts":
            return pd.Timestamp(body)
        if tag == "$nat":
            return pd.NaT
        if tag == "$datetime":
            return dt.datetime.fromisoformat(body)
        if tag == "$date":
            return dt.date.fromisoformat(body)
        if tag == "$timedelta":
            delta = pd.Timedelta(int(body))
            return delta if node.get("pd") else delta.to_pytimedelta()
        if tag == "$bytes":
            return bytes(self.buffer(body))
        if tag == "$path":
            return Path(body)
        if tag == "$wkb":
            return shapely.from_wkb(bytes(self.buffer(body)))
        if tag == "$table":
            return self.table(node)
        if tag == "$series":
            series = self.table(body)["__value__"]
            return series.rename(self.tree(node.get("name")))
        if tag == "$row":
            keys = [self.tree(k) for k, _ in body]
            return pd.Series([self.tree(v) for _, v in body], index=keys, name=self.tree(node.get("name")),
                             dtype=object)
        if tag == "$png":
            import cv2

            image = cv2.imdecode(np.frombuffer(self.buffer(body), np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise InvalidInput("a message holds an image that does not decode")
            return np.ascontiguousarray(image[:, :, ::-1])
        if tag == "$nd":
            dtype = np.dtype(node["dtype"])
            if dtype.kind not in "biufcmM":
                raise InvalidInput("a message holds an array of an unsupported type")
            return np.frombuffer(self.buffer(body), dtype=dtype).reshape(node["shape"]).copy()
        if tag == "$objarray":
            return np.array([self.tree(v) for v in body], dtype=object)
        if tag == "$trajectory":
            parts = {k: self.tree(v) if isinstance(v, dict) else v for k, v in body.items()}
            return Trajectory(str(parts["plate"]), parts["sightings"], parts["hops"], None,  # type: ignore[arg-type]
                              rejected=parts["rejected"], _route=parts["route"])
        if tag == "$dc":
            cls = DATACLASSES.get(body)
            if cls is None:
                raise InvalidInput(f"a message holds an object of an unknown kind {body!r}")
            return cls(**{k: self.tree(v) for k, v in node["fields"].items()})
        raise InvalidInput(f"a message holds a value of an unknown kind {tag!r}")

    def table(self, node: dict[str, Any]) -> pd.DataFrame:
        try:
            table = pa.ipc.open_stream(pa.py_buffer(self.buffer(node["$table"]))).read_all()
        except pa.ArrowInvalid as exc:
            raise InvalidInput(f"a message holds a table that does not decode: {exc}") from None
        frame = table.to_pandas()
        for name in node.get("lists", []):
            if name not in node.get("loose", {}):
                frame[name] = pd.Series(table.column(name).to_pylist(), index=frame.index, dtype=object)
        for name, (position, values) in sorted(node.get("loose", {}).items(), key=lambda item: item[1][0]):
            frame.insert(int(position), name, pd.Series([self.tree(v) for v in values], index=frame.index,
                                                        dtype=object))
        geo = node.get("geo", {})
        for name, spec in sorted(geo.items(), key=lambda item: item[1].get("position", -1)):
            if "xy" in spec:
                xy = np.frombuffer(self.buffer(spec["xy"]), dtype=np.float64).reshape(-1, 2)
                frame.insert(int(spec["position"]), name, gpd.GeoSeries(
                    gpd.points_from_xy(xy[:, 0], xy[:, 1]), index=frame.index, crs=spec["crs"]))
            else:
                frame[name] = gpd.GeoSeries(shapely.from_wkb(frame[name].to_numpy()), index=frame.index,
                                            crs=spec["crs"])
        active = node.get("active")
        return gpd.GeoDataFrame(frame, geometry=active, crs=geo[active]["crs"]) if active else frame


def encode(value: Any) -> bytes:
    """The message carrying ``value`` (facade results and call arguments)."""
    writer = _Writer()
    tree = writer.tree(value)
    header = json.dumps({"value": tree, "buffers": [memoryview(b).nbytes for b in writer.buffers]},
                        separators=(",", ":")).encode("utf-8")
    return b"".join([MAGIC, struct.pack("<I", len(header)), header, *writer.buffers])


def decode(message: bytes) -> Any:
    """The value a message carries; :class:`InvalidInput` for anything malformed."""
    view = memoryview(message)
    if len(view) < 8 or bytes(view[:4]) != MAGIC:
        raise InvalidInput("the request is not a workbench service message")
    (length,) = struct.unpack("<I", view[4:8])
    try:
        header = json.loads(bytes(view[8:8 + length]).decode("utf-8"))
        sizes = header["buffers"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidInput("the message's header is not readable") from None
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise InvalidInput("the message's header is not readable")
    offset, buffers = 8 + length, []
    for size in sizes:
        buffers.append(view[offset:offset + size])
        offset += size
    if offset != len(view):
        raise InvalidInput("the message's length does not match its header")
    return _Reader(buffers).tree(header["value"])
