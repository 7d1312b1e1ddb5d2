"""SQL reads restricted to a :class:`~workbench.access.session.Grant` (used by the case scope only)."""

from __future__ import annotations

import heapq
import os
from collections import defaultdict
from datetime import timezone
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from sqlalchemy import ARRAY, ColumnElement, String, and_, any_, bindparam, false, func, or_, select, text
from sqlalchemy.engine import Connection

from workbench.access import call_snapshot
from workbench.access.policy import Window
from workbench.store import Store, counters
from workbench.store.models import Camera, FootageSegment, Hit, Hotlist, HotlistEntry, Partner, PlateRead, Sighting

if TYPE_CHECKING:  # the session module imports this one
    from workbench.access.session import Grant

SIGHTING_COLUMNS = ["sighting_id", "camera_id", "time", "last_time", "plate", "country", "confidence",
                    "direction", "n_reads", "source_ids", "lon", "lat"]
_CHUNK = 900  # stays under SQLite's bound-parameter limit
_UNION_BRANCHES = 200
"""Day groups per statement when reading source ids on PostgreSQL (a year: two statements)."""
WGS84 = CRS.from_epsg(4326)   # parsed once: the CRS of every frame of sightings


def among(column: Any, values: list[str], dialect: str) -> ColumnElement[bool]:
    """SQL condition ``column IN values``: on PostgreSQL one array parameter (``= ANY``), so the statement's
    text does not grow with the list (rendered, parsed and prepared once, however many cameras a region has);
    elsewhere an expanding list."""
    condition: ColumnElement[bool] = column == any_(bindparam(None, list(values), type_=ARRAY(String))) \
        if dialect == "postgresql" else column.in_(values)
    return condition


def window_filter(grant: Grant, camera_col: Any, time_col: Any, dialect: str) -> ColumnElement[bool]:
    """SQL condition: (camera, time) inside the grant, cameras with the same windows grouped."""
    groups: dict[tuple[Window, ...], list[str]] = defaultdict(list)
    for camera_id, windows in grant.windows.items():
        groups[windows].append(camera_id)
    terms = [and_(among(camera_col, cams, dialect), or_(*[and_(time_col >= s, time_col < e) for s, e in windows]))
             for windows, cams in groups.items()]
    return or_(*terms) if terms else false()


def load_sightings(store: Store, grant: Grant, plates: list[str] | None,
                   with_sources: bool = True) -> gpd.GeoDataFrame:
    """Sightings inside the grant (optionally of the given plates), with the source ids of their reads.

    Time-ordered (then camera, then id): each chunk of plates comes sorted from
    the database and the chunks are merged, so one plate's few sightings cost
    no sort of a table.
    """
    query = (select(Sighting.id.label("sighting_id"), Sighting.camera_id, Sighting.first_time.label("time"),
                    Sighting.last_time, Sighting.plate, Sighting.country, Sighting.confidence, Sighting.direction,
                    Sighting.n_reads, Camera.lon, Camera.lat)
             .join(Camera, Camera.id == Sighting.camera_id)
             .where(window_filter(grant, Sighting.camera_id, Sighting.first_time, store.dialect))
             .order_by(Sighting.first_time, Sighting.camera_id, Sighting.id))
    chunks: list[list[str] | None] = [None] if plates is None else \
        [plates[i:i + _CHUNK] for i in range(0, len(plates), _CHUNK)] or [[]]
    with store.connect() as conn:
        parts = [conn.execute(query if chunk is None else query.where(among(Sighting.plate, chunk, store.dialect)))
                 .all()
                 for chunk in chunks]
        rows: list[Any] = list(parts[0]) if len(parts) == 1 else list(heapq.merge(*parts, key=_sighting_order))
        sources = _source_ids(conn, rows) if with_sources else {}
    return sightings_frame(rows, sources if with_sources else None, grant)


_QUERIED = [c for c in SIGHTING_COLUMNS if c != "source_ids"]
_NUMBERS = {"sighting_id": np.int64, "n_reads": np.int64, "confidence": np.float64, "lon": np.float64,
            "lat": np.float64}


def sightings_frame(rows: list[Any], sources: dict[int | None, list[str]] | None, grant: Grant) -> gpd.GeoDataFrame:
    """The GeoDataFrame of sighting rows (the columns of ``_QUERIED``), each row inside ``grant`` kept.

    Built column by column and at once, geometry included (a frame of rows, then columns changed one by
    one and the geometry set, cost more than the query for one plate's few sightings); a column with a
    missing value is typed as pandas infers it.
    """
    columns: dict[str, Any] = dict(zip(_QUERIED, map(list, zip(*rows)))) if rows else \
        {name: np.empty(0, dtype=object) for name in _QUERIED}   # untyped, as a frame of no rows
    for name, kind in _NUMBERS.items():
        if rows and None not in columns[name]:
            columns[name] = np.array(columns[name], dtype=kind)
    for name in ("time", "last_time"):
        columns[name] = pd.to_datetime(columns[name], utc=True)
    data: dict[str, Any] = {}
    for name in SIGHTING_COLUMNS:
        if name == "source_ids":
            data[name] = [sorted(sources.get(s, [])) for s in columns["sighting_id"]] if sources is not None \
                else None
        else:
            data[name] = columns[name]
    data["geometry"] = gpd.points_from_xy(columns["lon"], columns["lat"], crs=WGS84)
    frame = gpd.GeoDataFrame(data, geometry="geometry")
    if rows:
        keep = grant.mask(frame["camera_id"], frame["time"])
        if not keep.all():
            frame = frame[keep].reset_index(drop=True)
    return frame


def _sighting_order(row: Any) -> tuple[Any, ...]:
    return row.time, row.camera_id, row.sighting_id


def _source_ids(conn: Connection, rows: list[Any]) -> dict[int | None, list[str]]:
    """The source ids (``source:read id``) of the reads of each sighting in ``rows``.

    A sighting's reads lie between its first and last time. On PostgreSQL the
    sightings are grouped by the days their reads span and each group reads
    only those days' partitions (one id list against every day of a year made
    the planner weigh the whole list against each of the 366 partitions: a
    second of planning); elsewhere the ids go by chunks.
    """
    sources: dict[int | None, list[str]] = defaultdict(list)
    if conn.dialect.name == "postgresql":
        groups: dict[tuple[Any, Any], list[Any]] = defaultdict(list)
        for r in rows:
            groups[(r.time.astimezone(timezone.utc).date(), r.last_time.astimezone(timezone.utc).date())].append(r)
        branches = [f"SELECT sighting_id, source, source_read_id FROM plate_read WHERE sighting_id = ANY(:ids{i}) "
                    f"AND time >= :lo{i} AND time <= :hi{i}" for i in range(len(groups))]
        params = {f"{key}{i}": value for i, part in enumerate(groups.values())
                  for key, value in (("ids", [r.sighting_id for r in part]), ("lo", min(r.time for r in part)),
                                     ("hi", max(r.last_time for r in part)))}
        for i in range(0, len(branches), _UNION_BRANCHES):
            chosen = range(i, min(i + _UNION_BRANCHES, len(branches)))
            statement = text(" UNION ALL ".join(branches[j] for j in chosen))
            for sid, source, read_id in conn.execute(statement, {f"{key}{j}": params[f"{key}{j}"] for j in chosen
                                                                 for key in ("ids", "lo", "hi")}):
                sources[sid].append(f"{source}:{read_id}")
        return sources
    for i in range(0, len(rows), _CHUNK):
        part = rows[i:i + _CHUNK]
        ids = [r.sighting_id for r in part]
        for sid, source, read_id in conn.execute(
                select(PlateRead.sighting_id, PlateRead.source, PlateRead.source_read_id)
                .where(PlateRead.sighting_id.in_(ids), PlateRead.time >= min(r.time for r in part),
                       PlateRead.time <= max(r.last_time for r in part))):
            sources[sid].append(f"{source}:{read_id}")
    return sources


HIT_COLUMNS = ["hit_id", "priority", "plate", "camera_id", "time", "reason", "hotlist", "hotlist_owner",
               "hotlist_scope", "sighting_id", "lon", "lat"]


def load_hits(store: Store, grant: Grant) -> pd.DataFrame:
    """Hotlist hits on sightings inside the grant, newest first."""
    query = (select(Hit.id.label("hit_id"), Hit.priority, Sighting.plate, Sighting.camera_id,
                    Sighting.first_time.label("time"), HotlistEntry.reason, Hotlist.name.label("hotlist"),
                    Partner.code.label("hotlist_owner"), Hotlist.scope.label("hotlist_scope"),
                    Sighting.id.label("sighting_id"), Camera.lon, Camera.lat)
             .join(Sighting, Sighting.id == Hit.sighting_id).join(HotlistEntry, HotlistEntry.id == Hit.entry_id)
             .join(Hotlist, Hotlist.id == HotlistEntry.hotlist_id).join(Partner, Partner.id == Hotlist.owner_id)
             .join(Camera, Camera.id == Sighting.camera_id)
             .where(window_filter(grant, Sighting.camera_id, Sighting.first_time, store.dialect)))
    with store.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=HIT_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    if len(frame):
        frame = frame[grant.mask(frame["camera_id"], frame["time"])]
    return frame.sort_values(["time", "priority"], ascending=[False, True], ignore_index=True)


def sightings_version(store: Store) -> int:
    """The newest sighting id loaded (the catalogue's counter, one row; in a served call, as the call read it at
    its start: :mod:`~workbench.access.call_snapshot`): a plate index built at this version knows every plate
    sighted so far."""
    return call_snapshot.counter(store, counters.SIGHTINGS)


def distinct_plates(store: Store, after: int = 0) -> list[str]:
    """Every distinct plate sighted (in sightings newer than id ``after``)."""
    with store.connect() as conn:
        query = select(Sighting.plate).distinct()
        return list(conn.execute(query.where(Sighting.id > after) if after else query).scalars())


SEGMENT_COLUMNS = ["segment_id", "camera_id", "start", "end", "fps", "codec", "container", "width", "height",
                   "frame_count", "path", "sha256", "keyframes", "indexed_at"]


_SEGMENT_CACHE: dict[tuple[Any, ...], pd.DataFrame] = {}
_SEGMENT_CACHE_SIZE = 32


def segments_version(store: Store, grant: Grant) -> tuple[Any, ...]:
    """Number, newest id and newest indexing time of the segments of the grant's cameras and time: it changes
    with any ingest, indexing or purge there, and costs what the grant asks for, not the whole catalogue."""
    with store.connect() as conn:   # one (number, newest id, newest indexing) per chunk of cameras
        return tuple(tuple(conn.execute(select(func.count(FootageSegment.id), func.max(FootageSegment.id),
                                               func.max(FootageSegment.indexed_at)).where(*where)).one())
                     for where in _segment_conditions(grant))


def _segment_conditions(grant: Grant) -> list[tuple[ColumnElement[bool], ...]]:
    """SQL conditions, one per chunk of the grant's cameras, for segments overlapping its time."""
    cameras = sorted(grant.windows)
    return [(FootageSegment.camera_id.in_(cameras[i:i + _CHUNK]), FootageSegment.start < grant.until,
             FootageSegment.end > grant.since) for i in range(0, len(cameras), _CHUNK)]


def load_segments(store: Store, grant: Grant, *, keyframes: bool = True) -> pd.DataFrame:
    """Footage segments that overlap an authorised window of the grant, by camera and start.

    ``path`` is absolute; a segment only partly inside a window is listed; what
    may be shown of it is for the caller to cut with ``grant.windows``. Without
    ``keyframes`` the (long) keyframe lists are not read: enough to search the index.
    The same windows at the same catalogue version give the same table, kept
    for repeated searches.
    """
    key = (store.safe_url, str(store.settings.footage_dir), segments_version(store, grant), keyframes, grant.since,
           grant.until, tuple(sorted(grant.windows.items())))
    if key not in _SEGMENT_CACHE:
        if len(_SEGMENT_CACHE) >= _SEGMENT_CACHE_SIZE:
            _SEGMENT_CACHE.pop(next(iter(_SEGMENT_CACHE)))
        _SEGMENT_CACHE[key] = _query_segments(store, grant, keyframes)
    return _SEGMENT_CACHE[key].copy()


def _query_segments(store: Store, grant: Grant, keyframes: bool) -> pd.DataFrame:
    columns = [c for c in SEGMENT_COLUMNS if keyframes or c != "keyframes"]
    fields = [FootageSegment.id if c == "segment_id" else getattr(FootageSegment, c) for c in columns]
    rows: list[Any] = []
    with store.connect() as conn:
        for where in _segment_conditions(grant):
            rows += conn.execute(select(*fields).where(*where)).all()
    keep = sorted((tuple(r) for r in rows if any(r.start < e and r.end > s for s, e in grant.windows[r.camera_id])),
                  key=lambda r: (r[1], r[2]))   # by camera and start (a sort in pandas costs more)
    frame = pd.DataFrame(keep, columns=columns)
    root = f"{store.settings.footage_dir}{os.sep}"
    frame["path"] = [root + p for p in frame["path"]]
    for column in ("start", "end", "indexed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
