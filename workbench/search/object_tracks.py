"""Blobs of successive frames joined into object events (start, end, box track, colour, kind...).

Association is a minimum-cost matching (SciPy's Hungarian solver) between the
tracks' predicted positions (constant velocity) and the new blobs; a track
not seen for ``max_gap_s`` ends. Each event keeps its best view (the largest
one clear of the frame border) for its colour, kind (shape and speed; given a
person detector, a wide object whose view shows walkers is a person) and
appearance descriptor;
given a plate reader, the best view of a vehicle is also read at the picture's
full resolution and the plates found are kept with the event (time, box).

    >>> tracker = ObjectTracker((320, 180), persons=PersonDetector())   # plates=PlateReader().read to read plates
    >>> tracker.update(t, blobs, foreground, pictures)   # per analysed frame       # doctest: +SKIP
    >>> events = tracker.finish()                                                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from workbench.search.frame_analysis import PERSON_SPEED, Blob, colour_name, descriptor, direction_of, kind_of
from workbench.search.person_detection import PersonDetector
from workbench.search.plate_reading import PlateText
from workbench.search.plate_regions import plate_regions

MIN_PLATE_VIEW = 160   # a vehicle's width in full-size pixels: a plate is about 0.3 of a car's width, its
                       # characters 0.045: under 7 px
MIN_PLATE_HEIGHT = 70  # a vehicle's height in full-size pixels: characters (80 mm) are at most a tenth of it
Pictures = Callable[[], tuple[np.ndarray, np.ndarray | None]]
"""The frame in BGR at analysis size and at full size (None: no plate or person detector); asked once a track has
ended, for its best view only, so a frame is converted to colour only when it holds an event's best view."""
ReadPlates = Callable[[np.ndarray], list[PlateText]]
_FullCrop = tuple[np.ndarray, tuple[int, int], tuple[int, int], tuple[int, int, int, int]]
"""A view cut from the full-size frame, its origin there, the frame's size, the object's box in the view."""


@dataclass(frozen=True)
class PlateSeen:
    """A plate read on an object's best view: time (seconds from the segment start), box (0..1 of the frame)."""

    plate: str
    raw: str
    confidence: float
    country: str | None
    time: float
    box: tuple[float, float, float, float]   # x0, y0, x1, y1


@dataclass
class ObjectEvent:
    """One moving object seen by one camera; times in seconds from the segment start, boxes in 0..1."""

    start: float
    end: float
    best_time: float
    track: np.ndarray            # (n, 5): time, x0, y0, x1, y1
    direction: str
    colour: str
    kind: str
    size: float                  # mean box area, share of the frame
    descriptor: np.ndarray = field(repr=False)
    plates: list[PlateSeen] = field(default_factory=list)


@dataclass
class _Track:
    times: list[float]
    boxes: list[tuple[int, int, int, int]]
    best_score: float = -1.0
    best_time: float = 0.0
    best_blob: Blob | None = None
    best_mask: np.ndarray | None = None       # the foreground in the best blob's box, at analysis size
    best_pictures: Pictures | None = None     # the best view's frame in colour (converted when the track ends)

    def predicted(self, t: float) -> tuple[float, float]:
        cx, cy = _centre(self.boxes[-1])
        if len(self.times) > 1 and self.times[-1] > self.times[-2]:
            px, py = _centre(self.boxes[-2])
            k = (t - self.times[-1]) / (self.times[-1] - self.times[-2])
            return cx + (cx - px) * k, cy + (cy - py) * k
        return cx, cy


def _centre(box: tuple[int, int, int, int]) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


class ObjectTracker:
    """Joins blobs into tracks over one video; ``size`` is the analysis (width, height)."""

    def __init__(self, size: tuple[int, int], *, max_gap_s: float = 1.0, min_samples: int = 3,
                 min_travel: float = 0.04, plates: ReadPlates | None = None,
                 persons: PersonDetector | None = None) -> None:
        self.width, self.height = size
        self.plates, self.persons = plates, persons
        self.max_gap_s, self.min_samples, self.min_travel = max_gap_s, min_samples, min_travel
        self._live: list[_Track] = []
        self._events: list[ObjectEvent] = []

    def update(self, t: float, blobs: list[Blob], foreground: Callable[[], np.ndarray],
               pictures: Pictures) -> None:
        """Feed the blobs of the frame at ``t``; ``foreground`` gives its moving-object mask now and ``pictures``
        its colour pictures later, both asked only when a better view of an object is kept."""
        for track in [tr for tr in self._live if t - tr.times[-1] > self.max_gap_s]:
            self._close(track)
        matched: dict[int, int] = {}
        if self._live and blobs:
            cost = np.empty((len(self._live), len(blobs)))
            for i, track in enumerate(self._live):
                px, py = track.predicted(t)
                w = track.boxes[-1][2]
                for j, b in enumerate(blobs):
                    cx, cy = _centre((b.x, b.y, b.w, b.h))
                    cost[i, j] = np.hypot(cx - px, cy - py) / max(w, b.w, 8)
            rows, cols = linear_sum_assignment(cost)
            matched = {int(j): int(i) for i, j in zip(rows, cols) if cost[i, j] < 1.0}
        mask: np.ndarray | None = None
        for j, blob in enumerate(blobs):
            box = (blob.x, blob.y, blob.w, blob.h)
            if j in matched:
                track = self._live[matched[j]]
                track.times.append(t)
                track.boxes.append(box)
            else:
                track = _Track([t], [box])
                self._live.append(track)
            clear = blob.x > 1 and blob.y > 1 and blob.x + blob.w < self.width - 1 and \
                blob.y + blob.h < self.height - 1
            score = blob.area * (1.0 if clear else 0.25)
            if score > 1.15 * track.best_score:   # a clearly better view
                mask = foreground() if mask is None else mask
                track.best_score, track.best_time, track.best_blob = score, t, blob
                track.best_mask = mask[blob.y:blob.y + blob.h, blob.x:blob.x + blob.w].copy()
                track.best_pictures = pictures

    def _full_crop(self, full: np.ndarray, blob: Blob) -> _FullCrop:
        """The blob's box cut from the full-size frame, wider (a plate at the edge of the box is read whole)."""
        fh, fw = full.shape[:2]
        sx, sy = fw / self.width, fh / self.height
        pad_x, pad_y = blob.w * 0.25, blob.h * 0.1   # a vehicle cut in two blobs still has its whole plate
        x0, y0 = max(0, int((blob.x - pad_x) * sx)), max(0, int((blob.y - pad_y) * sy))
        x1 = min(fw, int(np.ceil((blob.x + blob.w + pad_x) * sx)))
        y1 = min(fh, int(np.ceil((blob.y + blob.h + pad_y) * sy)))
        inner = (int(blob.x * sx) - x0, int(blob.y * sy) - y0, int((blob.x + blob.w) * sx) - x0,
                 int((blob.y + blob.h) * sy) - y0)
        return full[y0:y1, x0:x1].copy(), (x0, y0), (fw, fh), inner

    def finish(self) -> list[ObjectEvent]:
        """Close every live track and return all events, by start time."""
        for track in list(self._live):
            self._close(track)
        return sorted(self._events, key=lambda e: e.start)

    def _close(self, track: _Track) -> None:
        self._live.remove(track)
        if len(track.times) < self.min_samples or track.best_blob is None:
            return
        boxes = np.asarray(track.boxes, dtype=np.float32)
        (x0, y0), (x1, y1) = _centre(track.boxes[0]), _centre(track.boxes[-1])
        dx, dy = (x1 - x0) / self.width, (y1 - y0) / self.height
        if np.hypot(dx, dy) < self.min_travel:   # something that flickers in place is not an object passing
            return
        norm = np.column_stack([np.asarray(track.times, dtype=np.float32), boxes[:, 0] / self.width,
                                boxes[:, 1] / self.height, (boxes[:, 0] + boxes[:, 2]) / self.width,
                                (boxes[:, 1] + boxes[:, 3]) / self.height])
        assert track.best_pictures is not None and track.best_mask is not None   # kept with the best blob
        blob, mask = track.best_blob, track.best_mask
        bgr, full = track.best_pictures()
        crop = bgr[blob.y:blob.y + blob.h, blob.x:blob.x + blob.w]
        best_full = None if full is None else self._full_crop(full, blob)
        h, w = crop.shape[:2]
        centres = np.column_stack([(boxes[:, 0] + boxes[:, 2] / 2) / self.width,
                                   (boxes[:, 1] + boxes[:, 3] / 2) / self.height])
        path = float(np.hypot(*np.diff(centres, axis=0).T).sum()) if len(centres) > 1 else 0.0
        speed = path / max(track.times[-1] - track.times[0], 1e-3)
        kind = kind_of(w, h, speed)
        if kind == "vehicle" and speed < PERSON_SPEED and self.persons is not None and best_full is not None \
                and self.persons.persons(best_full[0], best_full[3]):
            kind = "person"   # slow and wide: walkers side by side, or one with a bag (traffic is not asked)
        self._events.append(ObjectEvent(
            start=track.times[0], end=track.times[-1], best_time=track.best_time, track=norm,
            direction=direction_of(dx, dy), colour=colour_name(crop, mask), kind=kind,
            size=float(np.mean(boxes[:, 2] * boxes[:, 3]) / (self.width * self.height)),
            descriptor=descriptor(crop, mask),
            plates=self._read_plates(track.best_time, best_full) if kind == "vehicle" else []))

    def _read_plates(self, time: float, best_full: _FullCrop | None) -> list[PlateSeen]:
        """The plates the reader finds on the vehicle's best view (at ``time``), placed in the frame."""
        if self.plates is None or best_full is None:
            return []
        crop, (ox, oy), (fw, fh), (x0, y0, x1, y1) = best_full
        if x1 - x0 < MIN_PLATE_VIEW or y1 - y0 < MIN_PLATE_HEIGHT:
            return []   # the vehicle itself (not the margin read around it) too small for legible characters
        cut = crop.shape[0] // 3   # plates are on the bumpers: the upper third (roof, windows) is not read
        crop, oy = crop[cut:], oy + cut
        # the text detector sees the bands that look like lines of characters, or the whole view if none does
        regions = plate_regions(crop) or [(0, 0, crop.shape[1], crop.shape[0])]
        seen = [PlateSeen(p.plate, p.raw, p.confidence, p.country, time,
                          ((ox + rx + x) / fw, (oy + ry + y) / fh, (ox + rx + x + w) / fw, (oy + ry + y + h) / fh))
                for rx, ry, rx1, ry1 in regions for p in self.plates(crop[ry:ry1, rx:rx1]) for x, y, w, h in [p.box]]
        return sorted(seen, key=lambda p: -p.confidence)
