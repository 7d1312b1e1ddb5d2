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

import numpy as np
import pandas as pd

from workbench.errors import InvalidInput
from workbench.search.frame_analysis import (DIRECTIONS, GRID_COLS, GRID_ROWS, KINDS, PALETTE, SYNONYMS,
                                             descriptor, roi_mask)
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
    motion: np.ndarray             # (bins, 2) uint64
    events: pd.DataFrame           # one row per object event
    descriptors: np.ndarray        # (events, d) float32
    track: np.ndarray              # (points, 5) time (epoch), x0, y0, x1, y1
    track_offsets: np.ndarray      # (events + 1,)


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
            events.append(pd.DataFrame({
                "camera_id": camera_id, "segment_id": seg.segment_id, "event_no": np.arange(k),
                "start": start + z["ev_start"].astype(np.float64), "end": start + z["ev_end"].astype(np.float64),
                "best": start + z["ev_best"].astype(np.float64), "direction_code": z["ev_direction"],
                "colour_code": z["ev_colour"], "kind_code": z["ev_kind"], "size": z["ev_size"]}))
            descs.append(z["ev_descriptor"].astype(np.float32))
            track = z["track"].astype(np.float64)
            track[:, 0] += start
            tracks.append(track)
            offsets.extend((z["ev_track_offsets"][1:] + offsets[-1]).tolist())
    ev = pd.concat(events, ignore_index=True) if events else pd.DataFrame()
    track = np.concatenate(tracks) if tracks else np.zeros((0, 5))
    off = np.asarray(offsets, dtype=np.int64)
    if len(ev):   # the union box of each track
        for col, fn, k in (("x0", np.minimum, 1), ("y0", np.minimum, 2), ("x1", np.maximum, 3), ("y1", np.maximum, 4)):
            ev[col] = fn.reduceat(track[:, k], off[:-1])
    return _CameraIndex(tuple(segments["segment_id"]), segments["start"].map(pd.Timestamp.timestamp).to_numpy(),
                        np.concatenate(times) if times else np.zeros(0), bin_s,
                        np.concatenate(motion) if motion else np.zeros((0, 2), np.uint64), ev,
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
        """(camera, its index, its windows) for each camera of ``windows`` with indexed segments."""
        indexed = segments[segments["indexed_at"].notna()]
        for camera_id, segs in indexed.groupby("camera_id", sort=True):
            if camera_id in windows:
                yield str(camera_id), self._camera(str(camera_id), segs), windows[camera_id]

    def _camera(self, camera_id: str, segs: pd.DataFrame) -> _CameraIndex:
        key = tuple(segs["segment_id"])
        with self._lock:
            cached = self._cameras.get(camera_id)
            if cached is None or cached.segments != key:
                cached = self._cameras[camera_id] = _load_camera(self.index_dir, camera_id, segs)
        return cached

    def motion(self, segments: pd.DataFrame, windows: Windows, *,
               roi: tuple[float, float, float, float] | None = None, gap_s: float = 1.0,
               limit: int | None = None, by_score: bool = False) -> tuple[pd.DataFrame, int]:
        """Motion inside ``roi``: one hit per run of activity (runs closer than ``gap_s`` join).

        Returns the hits and their total number; with ``limit`` only the first
        ``limit`` hits (in time, or by score) of each camera window are
        described, enough for a page.
        """
        check_roi(roi)
        mask = roi_mask(roi)
        parts = []
        total = 0
        for camera_id, cam, wins in self._cameras_of(segments, windows):
            for sl in _slices(cam.times, wins):
                runs, count = _runs(cam, camera_id, sl, mask, gap_s, limit, by_score)
                parts.append(runs)
                total += count
        parts = [p for p in parts if len(p)]
        return _frame(pd.concat(parts, ignore_index=True) if parts else []), total

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
        parts = []
        for camera_id, cam, wins in self._cameras_of(segments, windows):
            if cam.events.empty:
                continue
            ev = cam.events
            best = ev["best"].to_numpy()
            keep = np.zeros(len(ev), dtype=bool)
            for s, e in wins:
                keep |= (best >= s.timestamp()) & (best < e.timestamp())
            for value, names, column in ((colour, PALETTE, "colour_code"), (kind, KINDS, "kind_code"),
                                         (direction, DIRECTIONS, "direction_code")):
                if value:
                    keep &= ev[column].to_numpy() == names.index(value)
            chosen = np.flatnonzero(keep)
            if roi is not None:
                share = _share_in_roi(cam, chosen, roi)
                chosen, score = chosen[share > 0], share[share > 0]
            else:
                score = np.ones(len(chosen))
            if like is not None:
                score = cam.descriptors[chosen] @ like
            parts.append(ev.iloc[chosen].assign(score=score))
        if not parts or all(p.empty for p in parts):
            return _frame([])
        found = pd.concat([p for p in parts if not p.empty], ignore_index=True)
        found["event_id"] = found["segment_id"].astype(str) + ":" + found["event_no"].astype(str)
        found["colour"] = np.array(PALETTE)[found["colour_code"]]
        found["kind"] = np.array(KINDS)[found["kind_code"]]
        found["direction"] = np.array(DIRECTIONS)[found["direction_code"]]
        found = found.rename(columns={"start": "time", "best": "best_time"})
        return _frame(found[HIT_COLUMNS])

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
        segs = segments[(segments["camera_id"] == camera_id) & segments["indexed_at"].notna()]
        cam = self._camera(camera_id, segs)
        hit = cam.events.index[(cam.events["segment_id"] == segment_id) & (cam.events["event_no"] == number)]
        if len(hit) == 0:
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
    if not len(events):
        return np.zeros(0)
    off = cam.track_offsets
    points = np.concatenate([np.arange(off[e], off[e + 1]) for e in events])
    t = cam.track[points]
    cx, cy = (t[:, 1] + t[:, 3]) / 2, (t[:, 2] + t[:, 4]) / 2
    inside = ((cx >= roi[0]) & (cx <= roi[2]) & (cy >= roi[1]) & (cy <= roi[3])).astype(np.float64)
    lengths = off[events + 1] - off[events]
    return np.add.reduceat(inside, np.concatenate([[0], np.cumsum(lengths)[:-1]])) / np.maximum(lengths, 1)


def _runs(cam: _CameraIndex, camera_id: str, sl: slice, mask: np.ndarray, gap_s: float, limit: int | None,
          by_score: bool) -> tuple[pd.DataFrame, int]:
    """Runs of motion inside the mask in one slice of a camera's bins (the first ``limit``), and their count."""
    words = cam.motion[sl] & mask
    cells = np.bitwise_count(words).sum(axis=1, dtype=np.int32)
    active = np.flatnonzero(cells)
    if not len(active):
        return pd.DataFrame(), 0
    times = cam.times[sl][active]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(times) > gap_s + cam.bin_s / 2) + 1])
    ends = np.concatenate([starts[1:], [len(active)]])
    scores = np.add.reduceat(cells[active], starts)
    count = len(starts)
    if limit is not None and count > limit:   # describe only what a page can show
        pick = np.sort(np.argpartition(-scores, limit)[:limit]) if by_score else np.arange(limit)
        starts, ends, scores = starts[pick], ends[pick], scores[pick]
    peak = np.array([a + int(np.argmax(cells[active[a:b]])) for a, b in zip(starts, ends)], dtype=np.int64)
    best = times[peak] + cam.bin_s / 2
    union = np.array([np.bitwise_or.reduce(words[active[a:b]], axis=0) for a, b in zip(starts, ends)],
                     dtype=np.uint64).reshape(-1, 2)
    grid = np.unpackbits(np.ascontiguousarray(union).view(np.uint8), axis=1).reshape(-1, GRID_ROWS, GRID_COLS)
    cols, rows = grid.any(axis=1), grid.any(axis=2)
    seg = np.maximum(np.searchsorted(cam.seg_start, best, side="right") - 1, 0)
    return pd.DataFrame({
        "camera_id": camera_id, "time": times[starts], "end": times[ends - 1] + cam.bin_s, "best_time": best,
        "x0": cols.argmax(axis=1) / GRID_COLS, "y0": rows.argmax(axis=1) / GRID_ROWS,
        "x1": (GRID_COLS - cols[:, ::-1].argmax(axis=1)) / GRID_COLS,
        "y1": (GRID_ROWS - rows[:, ::-1].argmax(axis=1)) / GRID_ROWS,
        "score": scores.astype(float), "kind": None, "colour": None,
        "direction": None, "size": np.nan, "event_id": None, "segment_id": np.asarray(cam.segments)[seg]}), count


def _frame(rows: list | pd.DataFrame) -> pd.DataFrame:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=HIT_COLUMNS)
    for column in ("time", "end", "best_time"):
        frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    return frame.reset_index(drop=True)
