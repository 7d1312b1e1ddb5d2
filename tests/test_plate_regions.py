"""The plate reader sees the bands of a vehicle's view that look like lines of characters, placed back in the frame
where they were cut; a view with nothing like a line of text is read whole."""

from __future__ import annotations

import cv2
import numpy as np

from workbench.search.frame_analysis import Blob
from workbench.search.object_tracks import ObjectTracker
from workbench.search.plate_reading import PlateText
from workbench.search.plate_regions import MIN_REGION_HEIGHT, plate_regions

SIZE, FULL = (320, 180), (1280, 720)
TEXT = (40, 30, 200)   # BGR: the characters, red, so that a stand-in reader finds them


def _text_box(bgr: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) of the characters in a picture, as a reader would find the line."""
    ys, xs = np.nonzero(np.all(bgr == TEXT, axis=2))
    return (int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1) if len(xs) else None


def _vehicle_view() -> np.ndarray:
    """A grey car's lower body with two wheels and a plate line, 600 x 160 pixels."""
    view = np.full((160, 600, 3), 70, np.uint8)
    cv2.rectangle(view, (40, 0), (560, 110), (150, 150, 150), -1)
    for x in (130, 470):
        cv2.circle(view, (x, 115), 35, (20, 20, 20), -1)
        cv2.circle(view, (x, 115), 15, (160, 160, 160), -1)
    cv2.rectangle(view, (230, 50), (370, 80), (245, 245, 245), -1)
    cv2.putText(view, "1ABC234", (236, 74), cv2.FONT_HERSHEY_SIMPLEX, 0.7, TEXT, 2)
    return view


def test_the_plate_line_is_proposed_with_context_and_the_rest_of_the_view_is_not():
    view = _vehicle_view()
    [(x0, y0, x1, y1)] = plate_regions(view)
    assert x0 <= 236 and x1 >= 336 and y0 <= 58 and y1 >= 81   # the whole line of characters (236..336, 58..81)
    assert y1 - y0 >= MIN_REGION_HEIGHT                         # seen at its own size, with context
    assert (x1 - x0) * (y1 - y0) < 0.5 * view.shape[0] * view.shape[1]


def test_a_view_without_text_lines_is_read_whole():
    assert plate_regions(np.full((200, 500, 3), 120, np.uint8)) == []
    assert plate_regions(np.full((60, 150, 3), 120, np.uint8)) == []   # too small to save anything


def test_a_plate_read_in_a_region_is_placed_in_the_frame_where_it_was_seen():
    view = _vehicle_view()
    frame = np.full((FULL[1], FULL[0], 3), 70, np.uint8)
    # the tracker reads the lower two thirds of the best view's box, padded: full pixels 220..820 x 412..586
    frame[400:560, 200:800] = view
    seen: list[tuple[int, int]] = []

    def read(bgr: np.ndarray) -> list[PlateText]:
        seen.append(bgr.shape[:2])
        box = _text_box(bgr)
        return [] if box is None else [PlateText("1ABC234", "1ABC234", 0.99, box, "BE")]

    tracker = ObjectTracker(SIZE, plates=read)
    blob = Blob(80, 87, 100, 54, 5400)   # full pixels 320..720 x 348..564, padded 220..820 x 326..586
    for n in range(4):
        moved = Blob(blob.x + 6 * n, blob.y, blob.w, blob.h, blob.area)
        tracker.update(n * 0.2, [moved], lambda: np.full((SIZE[1], SIZE[0]), 255, np.uint8),
                       lambda: (np.full((SIZE[1], SIZE[0], 3), 90, np.uint8), frame))
    [event] = tracker.finish()
    [plate] = event.plates
    found = [v * s for v, s in zip(plate.box, FULL * 2)]
    tx, ty, tw, th = _text_box(frame)
    assert np.allclose(found, (tx, ty, tx + tw, ty + th), atol=1.5), (found, (tx, ty, tw, th))
    assert seen and all(h * w < 0.5 * 174 * 600 for h, w in seen)   # less than the whole view (174 x 600)
