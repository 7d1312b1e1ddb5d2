"""Where a plate can be in a vehicle's view: text-like bands of vertical strokes, proposed before the text detector.

The plate reader's text detector costs in proportion to the pixels it sees
(about three quarters of a read); a plate is a small part of a vehicle's
view. A line of characters is a dense run of vertical strokes: strong
horizontal gradients, closely spaced, in a band a few times wider than it is
tall. :func:`plate_regions` finds such bands (Sobel gradient across, Otsu
threshold, a horizontal closing that joins the strokes of one line, connected
components of plausible size and shape) and returns each with a margin of
the view around it, at least ``MIN_REGION_HEIGHT`` pixels tall so that the
detector sees the characters at their own size with context (never
enlarged). The reader is then asked about these regions only. An empty list
means nothing looks like a line of text: the caller reads the whole view,
and also when the proposals would cover most of it (no pixels saved).

    >>> view = np.full((120, 400, 3), 90, np.uint8)
    >>> _ = cv2.putText(view, "1-ABC-234", (150, 80), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
    >>> [(x0 <= 150, x1 >= 290) for x0, y0, x1, y1 in plate_regions(view)]
    [(True, True)]
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_CHAR_HEIGHT = 6        # pixels: a stroke band lower than this holds no legible character
MIN_ASPECT, MAX_ASPECT = 1.5, 15.0   # width / height of a line of 2 to 10 characters (two-line plates ~1.5)
STROKE_LEVEL = 0.5         # of Otsu's level: the strokes of dark text on a grey body are fainter than a wheel's rim
MIN_REGION_HEIGHT = 96     # pixels: the reader enlarges lower pictures; a region takes context instead
MARGIN = 0.6               # of the band's height, added on each side (the detector needs a border around text)
MAX_REGIONS = 4            # more candidate bands than this: a textured view, read whole
MAX_SHARE = 0.6            # regions covering more of the view than this save nothing: read whole

Region = tuple[int, int, int, int]   # x0, y0, x1, y1 in the view's pixels


def _bands(grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of the runs of closely spaced vertical strokes in a grey picture."""
    gradient = cv2.convertScaleAbs(cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3))
    level = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
    if level < 24:   # a flat view: Otsu splits noise
        return []
    strokes = cv2.threshold(gradient, level * STROKE_LEVEL, 255, cv2.THRESH_BINARY)[1]
    height = grey.shape[0]
    gap = max(3, height // 8)   # strokes of one line are closer than about a character's height
    joined = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    joined = cv2.morphologyEx(joined, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 3)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    bands = []
    for x, y, w, h, _ in stats[1:count]:
        if h >= MIN_CHAR_HEIGHT and MIN_ASPECT <= w / h <= MAX_ASPECT:
            bands.append((int(x), int(y), int(w), int(h)))
    return bands


def _merge(regions: list[Region]) -> list[Region]:
    """Overlapping regions joined into one (a plate is read once)."""
    merged: list[Region] = []
    for r in sorted(regions):
        for i, m in enumerate(merged):
            if r[0] < m[2] and m[0] < r[2] and r[1] < m[3] and m[1] < r[3]:
                merged[i] = (min(r[0], m[0]), min(r[1], m[1]), max(r[2], m[2]), max(r[3], m[3]))
                break
        else:
            merged.append(r)
    return merged if len(merged) == len(regions) else _merge(merged)


def plate_regions(bgr: np.ndarray) -> list[Region]:
    """The regions of a vehicle's view (BGR) that may hold its plate, or [] to read the whole view."""
    height, width = bgr.shape[:2]
    if height <= MIN_REGION_HEIGHT and width <= 2 * MIN_REGION_HEIGHT:
        return []   # no smaller region worth proposing
    bands = _bands(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    if not bands or len(bands) > MAX_REGIONS:
        return []
    regions = []
    for x, y, w, h in bands:
        pad_x = int(np.ceil(MARGIN * h))
        pad_y = max(int(np.ceil(MARGIN * h)), (MIN_REGION_HEIGHT - h + 1) // 2)
        y0, y1 = max(0, y - pad_y), min(height, y + h + pad_y)
        if y1 - y0 < MIN_REGION_HEIGHT:   # at the view's edge: the margin taken on the other side
            y0, y1 = max(0, y1 - MIN_REGION_HEIGHT), min(height, y0 + MIN_REGION_HEIGHT)
        regions.append((max(0, x - pad_x), y0, min(width, x + w + pad_x), y1))
    regions = _merge(regions)
    if sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in regions) > MAX_SHARE * width * height:
        return []
    return regions
