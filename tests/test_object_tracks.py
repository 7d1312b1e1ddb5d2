"""The object tracker converts a frame to colour only for an ended track's best view, and reads plates only on
vehicles large enough for legible characters."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.search.frame_analysis import Blob
from workbench.search.object_tracks import MIN_PLATE_HEIGHT, MIN_PLATE_VIEW, ObjectTracker

SIZE, FULL = (320, 180), (1280, 720)   # analysis and full-size pictures: 4 full pixels per analysis pixel


def _pass_by(tracker: ObjectTracker, width: int, height: int) -> int:
    """A box ``width`` x ``height`` (analysis pixels) crossing; returns how often colour was asked meanwhile."""
    asked = []

    def pictures() -> tuple[np.ndarray, np.ndarray]:
        asked.append(1)
        return np.full((SIZE[1], SIZE[0], 3), 90, np.uint8), np.full((FULL[1], FULL[0], 3), 90, np.uint8)

    for n in range(5):
        tracker.update(n * 0.2, [Blob(20 + 12 * n, 80, width, height, width * height)],
                       lambda: np.full((SIZE[1], SIZE[0]), 255, np.uint8), pictures)
    return len(asked)


@pytest.mark.parametrize(("width", "height", "read"), [
    (MIN_PLATE_VIEW // 4 + 1, MIN_PLATE_HEIGHT // 4 + 1, True),
    (MIN_PLATE_VIEW // 4 - 2, MIN_PLATE_HEIGHT // 4 + 1, False),   # the margin read around it would be wide enough
    (MIN_PLATE_VIEW // 4 + 1, MIN_PLATE_HEIGHT // 4 - 2, False),
])
def test_plates_are_read_on_vehicles_large_enough_and_colour_is_converted_once(width, height, read):
    crops: list[np.ndarray] = []
    tracker = ObjectTracker(SIZE, plates=lambda bgr: crops.append(bgr) or [])
    asked = _pass_by(tracker, width, height)
    assert asked == 0   # no colour picture while the track is live
    [event] = tracker.finish()
    assert event.kind == "vehicle"
    assert len(crops) == int(read)
    assert event.colour == "grey"   # from the best view's colour picture, converted when the track ended
