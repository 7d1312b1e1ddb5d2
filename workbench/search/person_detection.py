"""Persons in the best view of a moving object: OpenCV's HOG people detector.

The detector is the Dalal-Triggs histogram-of-oriented-gradients pedestrian
model whose linear SVM coefficients are compiled into OpenCV
(``cv2.HOGDescriptor.getDefaultPeopleDetector``, OpenCV's Apache-2.0 / BSD
licence): nothing to download or load. It finds upright walkers from about 50
pixels tall; the index asks it about a slow object its shape calls a vehicle
(wide boxes: people walking side by side, a walker with a bag), and names the object
a person when the persons found span most of the object's width, so a lone
false find on a car's flank does not turn the car into a person.

    >>> PersonDetector().span(np.zeros((60, 40, 3), np.uint8), (0, 0, 40, 60))
    0.0
"""

from __future__ import annotations

import cv2
import numpy as np

WINDOW = (64, 128)      # the detector's window (width, height) in pixels
VIEW_HEIGHT = 160       # a view is scaled to about this height, so a walker fills the window
MIN_WEIGHT = 0.3        # SVM score under which a find is not trusted
PERSON_SPAN = 0.6       # share of the object's width the persons found must span

Pixels = tuple[int, int, int, int]   # x0, y0, x1, y1


class PersonDetector:
    """How much of an object's width the persons found in its view span."""

    def __init__(self) -> None:
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))

    def span(self, bgr: np.ndarray, box: Pixels) -> float:
        """The share of ``box`` (x0, y0, x1, y1 in ``bgr``'s pixels) spanned by the persons found in ``bgr``."""
        height, width = bgr.shape[:2]
        x0, _, x1, _ = box
        if x1 <= x0 or height < 8 or width < 4:
            return 0.0
        scale = VIEW_HEIGHT / height
        view = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        pad_w, pad_h = max(0, WINDOW[0] - view.shape[1]), max(0, WINDOW[1] - view.shape[0])
        if pad_w or pad_h:
            view = cv2.copyMakeBorder(view, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        rects, weights = self._hog.detectMultiScale(view, winStride=(8, 8), padding=(16, 16), scale=1.05)
        covered = np.zeros(x1 - x0, bool)
        for (rx, _, rw, _), weight in zip(rects, np.ravel(weights)):
            if weight >= MIN_WEIGHT:
                covered[max(0, int(rx / scale) - x0):max(0, int((rx + rw) / scale) - x0)] = True
        return float(covered.mean())

    def persons(self, bgr: np.ndarray, box: Pixels) -> bool:
        """Whether the object in ``box`` is one or more persons."""
        return self.span(bgr, box) >= PERSON_SPAN
