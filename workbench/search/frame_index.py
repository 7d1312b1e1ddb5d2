"""Answer frame searches from the stored index, inside authorised windows only.

The index of every segment of a camera is gathered once into per-camera
arrays (times, motion words, object events) and kept in memory, so a query is
a few vectorised passes over them, whatever the number of segments.

    >>> index = FrameIndex(settings.index_dir)
    >>> hits = index.search(segments, windows, roi=(0.5, 0.4, 1.0, 1.0), colour="red")   # doctest: +SKIP

``segments`` is the table of authorised segments (``access.reads.load_segments``)
and ``windows`` the grant's windows per camera: nothing outside them is read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import InvalidInput
from workbench.search.frame_analysis import (
    DIRECTIONS,
    GRID_COLS,
    GRID_ROWS,
    KINDS,
    PALETTE,
    SYNONYMS,
    descriptor,
    roi_mask,
)
from workbench.search.index_build import index_path

HIT_COLUMNS = ["camera_id", "time", "end", "best_time", "x0", "y0", "x1", "y1", "score", "kind", "colour",
               "direction", "size", "event_id", "segment_id"]
Windows = dict[str, tuple[tuple, ...]]


@dataclass
class _CameraIndex:
    """One camera's index, all its segments together, times as UTC epoch seconds."""

    segments: tuple[int, ...]
    seg_start: np.ndarray          # epoch seconds of each segment's start
    times: np.ndarray              # (bins,) float64 start of each motion bin
    bin_s: float
    motion: np.ndarray             # (2, bins) uint64: each word of the grid contiguous
    events: dict[str, np.ndarray]  # one entry per object event in each column (see _EVENT_COLUMNS)
    descriptors: np.ndarray        # (events, d) float32
    track: np.ndarray              # (points, 5) time (epoch), x0, y0, x1, y1
    track_offsets: np.ndarray      # (events + 1,)


_EVENT_COLUMNS = ("segment_id", "event_no", "start", "end", "best", "direction_code", "colour_code", "kind_code",
                  "size", "x0", "y0", "x1", "y1")


def _load_camera(index_dir: Path, camera_id: str, segments: pd.DataFrame) -> _CameraIndex:
    times, motion, events, descs, tracks, offsets, bin_s = [], [], [], [], [], [0], 0.5
    for seg in segments.itertuples():
        with np.load(index_path(index_dir, seg.segment_id)) as z:
            start = seg.start.timestamp()
            bin_s = float(z["bin_s"])
            n = len(z["motion"])
            times.append(start + np.arange(n) * bin_s)
            motion.append(z["motion"])
            k = len(z["ev_start"])
            events.append({
                "segment_id": np.full(k, seg.segment_id, dtype=np.int64), "event_no": np.arange(k),
                "start": start + z["ev_start"].astype(np.float64), "end": start + z["ev_end"].astype(np.float64),
                "best": start + z["ev_best"].astype(np.float64), "direction_code": z["ev_direction"],
                "colour_code": z["ev_colour"], "kind_code": z["ev_kind"], "size": z["ev_size"]})
            descs.append(z["ev_descriptor"].astype(np.float32))
            track = z["track"].astype(np.float64)
            track[:, 0] += start
            tracks.append(track)
            offsets.extend((z["ev_track_offsets"][1:] + offsets[-1]).tolist())
    ev = {c: np.concatenate([e[c] for e in events]) for c in events[0]} if events else {}
    track = np.concatenate(tracks) if tracks else np.zeros((0, 5))
    off = np.asarray(offsets, dtype=np.int64)
    nonempty = len(off) > 1 and off[-1] > 0
    for col, fn, k in (("x0", np.minimum, 1), ("y0", np.minimum, 2), ("x1", np.maximum, 3), ("y1", np.maximum, 4)):
        ev[col] = fn.reduceat(track[:, k], off[:-1]) if nonempty else np.zeros(len(off) - 1)   # union box
    ev = {c: ev.get(c, np.zeros(0)) for c in _EVENT_COLUMNS}
    return _CameraIndex(tuple(segments["segment_id"]), segments["start"].map(pd.Timestamp.timestamp).to_numpy(),
                        np.concatenate(times) if times else np.zeros(0), bin_s,
                        np.ascontiguousarray(np.concatenate(motion).T) if motion else np.zeros((2, 0), np.uint64), ev,
                        np.concatenate(descs) if descs else np.zeros((0, 128), np.float32), track, off)


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
    """The frame index of one workbench home, loaded on demand and kept per camera."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._cameras: dict[str, _CameraIndex] = {}
        self._lock = threading.Lock()

    def _cameras_of(self, segments: pd.DataFrame, windows: Windows) -> Iterator[tuple[str, _CameraIndex, tuple]]:
        """(camera, its index, its windows) for each camera of ``windows`` with indexed segments.

        ``segments`` is sorted by camera (as ``load_segments`` returns it).
        """
        indexed = segments["indexed_at"].notna().to_numpy()
        cameras = segments["camera_id"].to_numpy()[indexed]
        ids = segments["segment_id"].to_numpy()[indexed]
        if not len(cameras):
            return
        bounds = np.flatnonzero(cameras[1:] != cameras[:-1]) + 1
        for a, b in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [len(cameras)]])):
            camera_id = str(cameras[a])
            if camera_id in windows:
                cam = self._camera(camera_id, tuple(ids[a:b].tolist()), segments, indexed)
                yield camera_id, cam, windows[camera_id]

    def _camera(self, camera_id: str, key: tuple[int, ...], segments: pd.DataFrame,
                indexed: np.ndarray) -> _CameraIndex:
        with self._lock:
            cached = self._cameras.get(camera_id)
            if cached is None or cached.segments != key:
                segs = segments[indexed & (segments["camera_id"] == camera_id).to_numpy()]
                cached = self._cameras[camera_id] = _load_camera(self.index_dir, camera_id, segs)
        return cached

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
        found = [runs for camera_id, cam, wins in self._cameras_of(segments, windows)
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
        for camera_id, cam, wins in self._cameras_of(segments, windows):
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
                score = cam.descriptors[chosen] @ like
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
        camera_id = str(row["camera_id"].iloc[0])
        cam = next((c for cid, c, _ in self._cameras_of(segments, {camera_id: ()}) if cid == camera_id), None)
        hit: np.ndarray | list[int] = [] if cam is None else \
            np.flatnonzero((cam.events["segment_id"] == segment_id) & (cam.events["event_no"] == number))
        if cam is None or len(hit) == 0:
            raise InvalidInput(f"no event {event_id} in the index")
        return cam.descriptors[hit[0]]


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
    seg = np.maximum(np.searchsorted(cam.seg_start, best, side="right") - 1, 0)
    n = len(starts)
    return {"camera_id": np.full(n, runs.camera_id, dtype=object), "time": runs.times[starts],
            "end": runs.times[ends - 1] + cam.bin_s, "best_time": best,
            "x0": cols.argmax(axis=1) / GRID_COLS, "y0": rows.argmax(axis=1) / GRID_ROWS,
            "x1": (GRID_COLS - cols[:, ::-1].argmax(axis=1)) / GRID_COLS,
            "y1": (GRID_ROWS - rows[:, ::-1].argmax(axis=1)) / GRID_ROWS,
            "score": runs.scores[pick].astype(float), "segment_id": np.asarray(cam.segments)[seg]}


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
