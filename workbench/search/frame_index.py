"""Answer frame searches from the stored index, inside authorised windows only.

The index is stored per camera and UTC day (``footage.index_files``: Parquet
files); a query opens only the partitions of the cameras and days of its
windows, keeps the rows of the authorised indexed segments, and answers with
a few vectorised passes over them. Recently read partitions stay in memory
(bounded), so the pages of one search do not read them again.

    >>> index = FrameIndex(settings.index_dir)
    >>> hits = index.search(segments, windows, roi=(0.5, 0.4, 1.0, 1.0), colour="red")   # doctest: +SKIP

``segments`` is the table of authorised segments (``access.reads.load_segments``)
and ``windows`` the grant's windows per camera: nothing outside them is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.errors import InvalidInput
from workbench.footage.index_files import (
    DAY_S,
    EVENTS,
    MOTION,
    PartitionReader,
    binary_rows,
    days_spanned,
)
from workbench.search.frame_analysis import (
    DESCRIPTOR_BINS,
    DIRECTIONS,
    GRID_COLS,
    GRID_ROWS,
    KINDS,
    PALETTE,
    SYNONYMS,
    descriptor,
    roi_mask,
)
from workbench.search.index_build import BIN_S

HIT_COLUMNS = ["camera_id", "time", "end", "best_time", "x0", "y0", "x1", "y1", "score", "kind", "colour",
               "direction", "size", "event_id", "segment_id"]
Windows = dict[str, tuple[tuple, ...]]
_DESCRIPTOR_SIZE = int(np.prod(DESCRIPTOR_BINS))


@dataclass
class _CameraIndex:
    """One camera's index over the days a query asks for (the parts it needs), times as UTC epoch seconds."""

    times: np.ndarray              # (bins,) float64 start of each bin with motion, sorted
    bin_segment: np.ndarray        # (bins,) the segment of each bin
    bin_s: float
    motion: np.ndarray             # (2, bins) uint64: each word of the grid contiguous
    events: dict[str, np.ndarray]  # one entry per object event in each column (see _EVENT_COLUMNS)
    descriptors: np.ndarray        # (events, d) float16
    track: np.ndarray              # (points, 5) time from the event's start, x0, y0, x1, y1
    track_offsets: np.ndarray      # (events + 1,)


_EVENT_COLUMNS = ("segment_id", "event_no", "start", "end", "best", "direction_code", "colour_code", "kind_code",
                  "size", "x0", "y0", "x1", "y1")


def _rows(reader: PartitionReader, camera_id: str, days: list[int], name: str, schema: pa.Schema,
          segment_ids: np.ndarray, columns: tuple[str, ...]) -> pa.Table:
    """``columns`` of ``name`` in the camera's partitions of ``days``, rows of ``segment_ids`` only."""
    parts = [t for day in days if (t := reader.read(camera_id, day, name, columns)) is not None]
    table = pa.concat_tables(parts) if parts else pa.schema([schema.field(c) for c in columns]).empty_table()
    keep = np.isin(table["segment_id"].to_numpy(), segment_ids)
    return table if keep.all() else table.filter(pa.array(keep))


def _load_camera(reader: PartitionReader, camera_id: str, days: Iterable[int], segment_ids: np.ndarray, *,
                 motion: bool = False, tracks: bool = False, descriptors: bool = False) -> _CameraIndex:
    """What a query needs of a camera's days: the motion grid, or the object events (with their tracks and
    descriptors if asked); the parts not asked for are left empty and not read."""
    days = sorted(days)
    empty = np.zeros(0)
    if motion:
        rows = _rows(reader, camera_id, days, "motion", MOTION, segment_ids, tuple(MOTION.names))
        words = np.vstack([rows["w0"].to_numpy(), rows["w1"].to_numpy()]) if rows.num_rows else \
            np.zeros((2, 0), np.uint64)
        return _CameraIndex(rows["time"].to_numpy(), rows["segment_id"].to_numpy(), BIN_S,
                            np.ascontiguousarray(words, dtype=np.uint64), {}, empty, empty, empty)
    columns = _EVENT_COLUMNS + ("track",) * tracks + ("descriptor",) * descriptors
    events = _rows(reader, camera_id, days, "events", EVENTS, segment_ids, columns)
    ev = {c: events[c].to_numpy() for c in _EVENT_COLUMNS}
    track, offsets = binary_rows(events["track"], np.float32, 5) if tracks else (empty, empty)
    desc = binary_rows(events["descriptor"], np.float16, _DESCRIPTOR_SIZE)[0] if descriptors else empty
    return _CameraIndex(empty, empty, BIN_S, np.zeros((2, 0), np.uint64), ev, desc, track, offsets)


def _epoch_s(column: pd.Series) -> np.ndarray:
    """A column of UTC timestamps as whole epoch seconds (int64)."""
    return column.to_numpy(dtype="datetime64[s]").astype(np.int64)


def _window_days(windows: tuple[tuple, ...]) -> set[int]:
    return {d for s, e in windows for d in days_spanned(s.timestamp(), e.timestamp())}


def _slices(times: np.ndarray, windows: tuple[tuple, ...]) -> list[slice]:
    return [slice(int(np.searchsorted(times, s.timestamp())), int(np.searchsorted(times, e.timestamp())))
            for s, e in windows]


def check_roi(roi: tuple[float, float, float, float] | None) -> None:
    """Refuse a region of interest that is not inside the image (coordinates are shares, 0..1)."""
    if roi is None:
        return
    if len(roi) != 4:
        raise InvalidInput(f"a region of interest is (x0, y0, x1, y1) in shares of the image, not {roi!r}")
    x0, y0, x1, y1 = map(float, roi)
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise InvalidInput(f"region of interest {tuple(roi)} is outside the image: use shares of its width and "
                           "height, 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 (e.g. (0.5, 0.4, 1.0, 1.0) for "
                           "the lower right part)")


def colour_code(colour: str) -> str:
    """A palette name from a name in English, French or Dutch; refuses other names."""
    name = SYNONYMS.get(colour.lower().strip(), colour.lower().strip())
    if name not in PALETTE:
        raise InvalidInput(f"unknown colour {colour!r}: one of {', '.join(PALETTE)}")
    return name


class FrameIndex:
    """The frame index of one workbench home, read per camera and day as queries ask."""

    def __init__(self, index_dir: Path, *, cache_bytes: int = 256 * 2**20) -> None:
        self.index_dir = Path(index_dir)
        self.reader = PartitionReader(self.index_dir, cache_bytes)

    def _cameras_of(self, segments: pd.DataFrame, windows: Windows,
                    **parts: bool) -> Iterator[tuple[str, _CameraIndex, tuple]]:
        """(camera, its index over the windows' days, its windows) for each camera of ``windows`` with an index.

        ``parts`` says what to read (``_load_camera``'s ``motion``, ``tracks``, ``descriptors``).
        """
        indexed = segments[segments["indexed_at"].notna() & segments["camera_id"].isin(list(windows))]
        cams = indexed["camera_id"].to_numpy(dtype=object)
        ids = indexed["segment_id"].to_numpy(dtype=np.int64)
        first, last = (_epoch_s(indexed[c]) // DAY_S for c in ("start", "end"))
        order = np.argsort(cams, kind="stable")
        names, starts = np.unique(cams[order], return_index=True)
        for camera_id, mine in zip(names, np.split(order, starts[1:])):
            wins = windows[str(camera_id)]
            days = [d for d in sorted(_window_days(wins)) if np.any((first[mine] <= d) & (last[mine] >= d))]
            if days:
                yield str(camera_id), _load_camera(self.reader, str(camera_id), days, ids[mine], **parts), wins

    def motion(self, segments: pd.DataFrame, windows: Windows, *,
               roi: tuple[float, float, float, float] | None = None, gap_s: float = 1.0,
               limit: int | None = None, by_score: bool = False) -> tuple[pd.DataFrame, int]:
        """Motion inside ``roi``: one hit per run of activity (runs closer than ``gap_s`` join).

        Returns the hits and their total number; with ``limit`` only the first
        ``limit`` hits over all cameras (in time, or by score) are described,
        enough for a page.
        """
        check_roi(roi)
        mask = roi_mask(roi)
        found = [runs for camera_id, cam, wins in self._cameras_of(segments, windows, motion=True)
                 for sl in _slices(cam.times, wins) if (runs := _find_runs(cam, camera_id, sl, mask, gap_s))]
        sizes = [len(r.starts) for r in found]
        total = sum(sizes)
        picks = [np.arange(n) for n in sizes]
        if limit is not None and total > limit:   # the page's candidates over all cameras
            key = np.concatenate([-r.scores if by_score else r.times[r.starts] for r in found])
            chosen = np.argpartition(key, limit)[:limit]
            owner = np.repeat(np.arange(len(found)), sizes)[chosen]
            local = np.concatenate(picks)[chosen]
            picks = [np.sort(local[owner == i]) for i in range(len(found))]
        return _frame([_describe(r, pick, mask) for r, pick in zip(found, picks) if len(pick)]), total

    def objects(self, segments: pd.DataFrame, windows: Windows, *,
                roi: tuple[float, float, float, float] | None = None, colour: str | None = None,
                kind: str | None = None, direction: str | None = None,
                like: np.ndarray | None = None) -> pd.DataFrame:
        """Object events in the windows matching every criterion given; ``like`` ranks by appearance."""
        check_roi(roi)
        colour = colour_code(colour) if colour else None
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
        if direction is not None and direction not in DIRECTIONS:
            raise InvalidInput(f"unknown direction {direction!r}: one of {', '.join(DIRECTIONS)} (in the image)")
        parts: list[dict[str, Any]] = []
        for camera_id, cam, wins in self._cameras_of(segments, windows, tracks=roi is not None,
                                                     descriptors=like is not None):
            ev = cam.events
            best = ev["best"]
            keep = np.zeros(len(best), dtype=bool)
            for s, e in wins:
                keep |= (best >= s.timestamp()) & (best < e.timestamp())
            for value, names, column in ((colour, PALETTE, "colour_code"), (kind, KINDS, "kind_code"),
                                         (direction, DIRECTIONS, "direction_code")):
                if value:
                    keep &= ev[column] == names.index(value)
            chosen = np.flatnonzero(keep)
            score = np.ones(len(chosen))
            if roi is not None:
                share = _share_in_roi(cam, chosen, roi)
                chosen, score = chosen[share > 0], share[share > 0]
            if not len(chosen):
                continue
            if like is not None:
                score = cam.descriptors[chosen].astype(np.float32) @ like
            part = {c: ev[c][chosen] for c in _EVENT_COLUMNS}
            part.update(camera_id=np.full(len(chosen), camera_id, dtype=object), score=score)
            parts.append(part)
        if not parts:
            return _frame([])
        found = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
        found["event_id"] = np.char.add(np.char.add(found["segment_id"].astype(str), ":"),
                                        found["event_no"].astype(str)).astype(object)
        found["colour"] = np.array(PALETTE, dtype=object)[found["colour_code"]]
        found["kind"] = np.array(KINDS, dtype=object)[found["kind_code"]]
        found["direction"] = np.array(DIRECTIONS, dtype=object)[found["direction_code"]]
        found["time"], found["best_time"] = found.pop("start"), found.pop("best")
        return _frame([found])

    def event_descriptor(self, segments: pd.DataFrame, event_id: str) -> np.ndarray:
        """The appearance descriptor of an event (``"<segment>:<n>"``) in the given segments."""
        try:
            segment_id, number = (int(x) for x in str(event_id).split(":"))
        except ValueError:
            raise InvalidInput(f"{event_id!r} is not an event id (segment:number)") from None
        row = segments[segments["segment_id"] == segment_id]
        if row.empty:
            raise InvalidInput(f"event {event_id} is not in the footage this search may read")
        seg = row.iloc[0]
        days = days_spanned(seg["start"].timestamp(), seg["end"].timestamp())
        cam = _load_camera(self.reader, str(seg["camera_id"]), days, np.array([segment_id], np.int64),
                           descriptors=True)
        hit = np.flatnonzero(cam.events["event_no"] == number)
        if len(hit) == 0:
            raise InvalidInput(f"no event {event_id} in the index")
        return cam.descriptors[hit[0]].astype(np.float32)


def crop_descriptor(image_rgb: np.ndarray) -> np.ndarray:
    """The appearance descriptor of an image crop (RGB), to search for objects that look like it."""
    import cv2

    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or min(image_rgb.shape[:2]) < 4:
        raise InvalidInput("an example image must be an RGB crop of at least 4 x 4 pixels")
    small = cv2.resize(np.ascontiguousarray(image_rgb[..., ::-1]), (64, 64), interpolation=cv2.INTER_AREA)
    return descriptor(small)


def _share_in_roi(cam: _CameraIndex, events: np.ndarray, roi: tuple[float, float, float, float]) -> np.ndarray:
    """For the given events, the share of their track points whose box centre lies inside ``roi``."""
    off = cam.track_offsets
    lengths = off[events + 1] - off[events]
    firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    points = np.arange(lengths.sum()) + np.repeat(off[events] - firsts, lengths)
    t = cam.track[points]
    cx, cy = (t[:, 1] + t[:, 3]) / 2, (t[:, 2] + t[:, 4]) / 2
    inside = ((cx >= roi[0]) & (cx <= roi[2]) & (cy >= roi[1]) & (cy <= roi[3])).astype(np.float64)
    return np.add.reduceat(inside, firsts) / np.maximum(lengths, 1) if len(events) else np.zeros(0)


@dataclass
class _Runs:
    """The runs of activity in one camera window, found but not yet described."""

    camera_id: str
    cam: _CameraIndex
    bins: np.ndarray      # the active bins (indexes into the camera's arrays)
    cells: np.ndarray     # active cells inside the mask, per active bin
    times: np.ndarray     # start time of each active bin
    starts: np.ndarray    # first active bin of each run (index into ``bins``)
    ends: np.ndarray      # one past its last
    scores: np.ndarray    # active cells summed over the run


def _find_runs(cam: _CameraIndex, camera_id: str, sl: slice, mask: np.ndarray, gap_s: float) -> _Runs | None:
    """Runs of motion inside the mask in one slice of a camera's bins (``None`` when nothing moved)."""
    halves = [np.bitwise_count(cam.motion[k, sl] & mask[k]) for k in range(2) if mask[k]]   # skip an empty word
    cells = halves[0] + halves[1] if len(halves) == 2 else halves[0]   # at most 128: fits in uint8
    active = np.flatnonzero(cells)
    if not len(active):
        return None
    times = cam.times[sl][active]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(times) > gap_s + cam.bin_s / 2) + 1])
    ends = np.concatenate([starts[1:], [len(active)]])
    return _Runs(camera_id, cam, sl.start + active, cells[active], times, starts, ends,
                 np.add.reduceat(cells[active].astype(np.int64), starts))


def _describe(runs: _Runs, pick: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """Hit columns for the chosen runs: span, peak time, the outline of the cells they touched, score."""
    cam, starts, ends = runs.cam, runs.starts[pick], runs.ends[pick]
    peak = np.array([a + int(np.argmax(runs.cells[a:b])) for a, b in zip(starts, ends)], dtype=np.int64)
    best = runs.times[peak] + cam.bin_s / 2
    union = np.array([np.bitwise_or.reduce(cam.motion[:, runs.bins[a:b]] & mask[:, None], axis=1)
                      for a, b in zip(starts, ends)], dtype=np.uint64).reshape(-1, 2)
    grid: np.ndarray = np.unpackbits(np.ascontiguousarray(union).view(np.uint8), axis=1) \
        .reshape(-1, GRID_ROWS, GRID_COLS)
    cols, rows = np.asarray(grid.any(axis=1)), np.asarray(grid.any(axis=2))
    n = len(starts)
    return {"camera_id": np.full(n, runs.camera_id, dtype=object), "time": runs.times[starts],
            "end": runs.times[ends - 1] + cam.bin_s, "best_time": best,
            "x0": cols.argmax(axis=1) / GRID_COLS, "y0": rows.argmax(axis=1) / GRID_ROWS,
            "x1": (GRID_COLS - cols[:, ::-1].argmax(axis=1)) / GRID_COLS,
            "y1": (GRID_ROWS - rows[:, ::-1].argmax(axis=1)) / GRID_ROWS,
            "score": runs.scores[pick].astype(float), "segment_id": cam.bin_segment[runs.bins[peak]]}


def _frame(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """One hit table (HIT_COLUMNS, times as UTC timestamps) from column arrays; missing columns are empty."""
    columns = {}
    n = sum(len(next(iter(p.values()))) for p in parts)
    for column in HIT_COLUMNS:
        values = [p[column] for p in parts if column in p]
        columns[column] = np.concatenate(values) if len(values) == len(parts) and parts else \
            np.full(n, np.nan if column == "size" else None, dtype=float if column == "size" else object)
    frame = pd.DataFrame(columns)
    for column in ("time", "end", "best_time"):
        frame[column] = pd.to_datetime(frame[column].astype(float), unit="s", utc=True)
    return frame
