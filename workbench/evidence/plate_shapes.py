"""Plate-shaped regions of a picture: dark strokes in a bright rectangle of a plate's proportions.

The classic first step of plate readers, with no model: a black-hat filter
keeps dark details smaller than a plate's characters on a brighter ground,
their vertical edges (characters are mostly upright strokes) are closed into
blobs along the line, and each blob whose box has a plate's proportions
(``ASPECT``: EU plates are about 4.7 wide for 1 high, square and old plates
nearer 2) is a candidate. It finds plates the text detector cannot read as
text (blurred by motion, a few pixels high); redaction blurs them as plates
(blur on doubt), which also blurs some grilles and lettering.

    >>> plate_shapes(np.full((120, 160), 200, np.uint8))
    []
"""

from __future__ import annotations

import cv2
import numpy as np

ASPECT = (1.8, 7.0)         # width over height of a plate's box
MIN_HEIGHT, MIN_WIDTH = 6, 16   # pixels
MAX_WIDTH = 0.4             # share of the picture's width
FILL = 0.45                 # share of its box a candidate's blob must fill

Pixels = tuple[int, int, int, int]   # x, y, w, h


def plate_shapes(grey: np.ndarray) -> list[Pixels]:
    """The plate-shaped candidate boxes (x, y, w, h) in a grey picture."""
    height, width = grey.shape[:2]
    stroke = max(5, height // 40)   # about a character's height in a street view
    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (stroke * 3, stroke)))
    edges = np.abs(cv2.Sobel(dark, cv2.CV_32F, 1, 0, ksize=3))
    edges -= edges.min()
    edges = cv2.GaussianBlur((edges * (255 / max(float(edges.max()), 1e-6))).astype(np.uint8), (5, 5), 0)
    edges = cv2.morphologyEx(edges, cv2.MORPH_CLOSE,
                             cv2.getStructuringElement(cv2.MORPH_RECT, (stroke * 2, max(3, stroke // 2))))
    _, mask = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    square = np.ones((3, 3), np.uint8)
    mask = cv2.dilate(cv2.erode(mask, square, iterations=1), square, iterations=2)
    found = []
    for contour in cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]:
        x, y, w, h = cv2.boundingRect(contour)
        if h >= MIN_HEIGHT and MIN_WIDTH <= w <= width * MAX_WIDTH and ASPECT[0] <= w / h <= ASPECT[1] \
                and cv2.contourArea(contour) >= FILL * w * h:
            found.append((int(x), int(y), int(w), int(h)))
    return found
