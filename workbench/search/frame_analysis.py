"""What one analysed frame yields: a coarse motion grid and the moving blobs in it.

Frames are analysed at reduced resolution (``ANALYSIS_WIDTH`` pixels wide,
luma only unless a blob needs its colour). Two OpenCV tools do the work:
frame differencing for the motion grid, MOG2 background subtraction for the
moving objects.

    >>> analyser = FrameAnalyser(1280, 720)
    >>> bits, blobs = analyser.analyse(y_plane)           # doctest: +SKIP

The motion grid has ``GRID_COLS`` x ``GRID_ROWS`` = 128 cells, stored as two
64-bit words per sample: bit ``row * GRID_COLS + col`` is set when at least
``CELL_ACTIVE`` of the cell's pixels changed. Any region of interest is a
set of cells, so it is answered later from the bits alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ANALYSIS_WIDTH = 320
GRID_COLS, GRID_ROWS = 16, 8
CELL_ACTIVE = 0.03          # share of a cell's pixels that must change
DIFF_THRESHOLD = 20         # grey-level change that counts as change
STILL_LEARN = 4             # when nothing moves, the background model learns from one frame in this many
MIN_BLOB = 0.0012           # smallest moving object, as a share of the frame

PALETTE = ("black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "brown")
SYNONYMS = {"silver": "grey", "gray": "grey", "rouge": "red", "noir": "black", "blanc": "white", "gris": "grey",
            "bleu": "blue", "vert": "green", "jaune": "yellow", "rood": "red", "zwart": "black", "wit": "white",
            "grijs": "grey", "blauw": "blue", "groen": "green", "geel": "yellow"}
KINDS = ("vehicle", "person")
DIRECTIONS = ("left", "right", "up", "down")
DESCRIPTOR_BINS = (8, 4, 4)  # hue, saturation, value


@dataclass(frozen=True)
class Blob:
    """A moving region in analysis pixels."""

    x: int
    y: int
    w: int
    h: int
    area: int


def analysis_size(width: int, height: int) -> tuple[int, int]:
    """The (width, height) frames are analysed at: at most ``ANALYSIS_WIDTH`` wide, even sizes."""
    w = min(ANALYSIS_WIDTH, width)
    return w - w % 2, max(2, round(height * w / width / 2) * 2)


def roi_mask(roi: tuple[float, float, float, float] | None) -> np.ndarray:
    """The two 64-bit words selecting the grid cells that a region (x0, y0, x1, y1 in 0..1) touches."""
    bits = np.zeros((GRID_ROWS, GRID_COLS), dtype=bool)
    if roi is None:
        bits[:] = True
    else:
        x0, y0, x1, y1 = roi
        c0, c1 = int(np.floor(x0 * GRID_COLS)), int(np.ceil(x1 * GRID_COLS))
        r0, r1 = int(np.floor(y0 * GRID_ROWS)), int(np.ceil(y1 * GRID_ROWS))
        bits[max(r0, 0):min(r1, GRID_ROWS), max(c0, 0):min(c1, GRID_COLS)] = True
    return np.packbits(bits.ravel()).view(np.uint64)


class FrameAnalyser:
    """Motion grid and moving blobs of successive frames of one video (keeps the background model).

    The motion grid is computed at ``size``; the background model runs at half
    that (its cost grows with pixels, and objects stay several pixels wide);
    blobs are given in ``size`` pixels.
    """

    def __init__(self, width: int, height: int, *, history_frames: int = 160) -> None:
        self.width, self.height = width, height
        self.size = analysis_size(width, height)
        self._object_size = (self.size[0] // 2, self.size[1] // 2)
        self._mog = cv2.createBackgroundSubtractorMOG2(history=history_frames, varThreshold=32,
                                                       detectShadows=False)
        self._previous: np.ndarray | None = None
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._min_area = max(6, int(MIN_BLOB * self._object_size[0] * self._object_size[1]))
        self._mask: np.ndarray | None = None
        self._still = 0

    def reduce(self, luma: np.ndarray) -> np.ndarray:
        """The luma plane at analysis size, lightly blurred against sensor noise and aliasing."""
        small = luma if luma.shape[1] == self.size[0] and luma.shape[0] == self.size[1] else \
            cv2.resize(luma, self.size, interpolation=cv2.INTER_LINEAR)
        return cv2.blur(small, (3, 3))

    def _learn(self, small: np.ndarray) -> np.ndarray:
        """Update the background model with a frame; returns its foreground mask."""
        return self._mog.apply(cv2.resize(small, self._object_size, interpolation=cv2.INTER_AREA))

    def foreground(self) -> np.ndarray:
        """The moving-object mask of the last analysed frame, at ``size``."""
        assert self._mask is not None
        return cv2.resize(self._mask, self.size, interpolation=cv2.INTER_NEAREST)

    def analyse(self, luma: np.ndarray) -> tuple[np.ndarray, list[Blob]]:
        """Motion grid words (2 x uint64) and blobs for one frame's luma plane (full size)."""
        small = self.reduce(luma)
        previous, self._previous = self._previous, small
        if previous is None:
            self._learn(small)
            return np.zeros(2, dtype=np.uint64), []
        changed = cv2.threshold(cv2.absdiff(small, previous), DIFF_THRESHOLD, 255, cv2.THRESH_BINARY)[1]
        cells = cv2.resize(changed, (GRID_COLS, GRID_ROWS), interpolation=cv2.INTER_AREA)
        bits = np.packbits((cells > 255 * CELL_ACTIVE).ravel()).view(np.uint64)
        if not bits.any():   # nothing moves: the background model learns from one still frame in STILL_LEARN
            self._still += 1
            if self._still % STILL_LEARN == 0:
                self._learn(small)
            return bits, []
        mask = cv2.morphologyEx(self._learn(small), cv2.MORPH_OPEN, None)  # type: ignore[call-overload]  # 3x3
        self._mask = mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._kernel, iterations=2)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        blobs = [Blob(2 * int(x), 2 * int(y), 2 * int(w), 2 * int(h), 4 * int(a)) for x, y, w, h, a in stats[1:count]
                 if a >= self._min_area]
        return bits, blobs


def colour_name(bgr: np.ndarray, mask: np.ndarray | None = None) -> str:
    """The palette name of the dominant colour of the (masked) pixels: achromatic first, then hue."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV).reshape(-1, 3)
    if mask is not None:
        hsv = hsv[mask.reshape(-1) > 0]
    if len(hsv) == 0:
        return "grey"
    h, s, v = hsv[:, 0].astype(int), hsv[:, 1].astype(int), hsv[:, 2].astype(int)
    chromatic = (s > 90) & (v > 75)   # dark glass and tyres are not the body colour
    if chromatic.mean() < 0.3:
        value = np.median(v[v > 0]) if (v > 0).any() else 0
        return "black" if value < 70 else "white" if value > 175 and np.median(s) < 40 else "grey"
    hue = h[chromatic]
    bins = np.bincount(np.digitize(hue, [8, 20, 34, 85, 130, 168]), minlength=7)
    bins[0] += bins[6]
    name = ("red", "orange", "yellow", "green", "blue", "purple")[int(np.argmax(bins[:6]))]
    if name in ("orange", "red") and np.median(v[chromatic]) < 95:
        return "brown"
    return name


def descriptor(bgr: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """An appearance descriptor: the L2-normalised HSV histogram of the (masked) pixels (128 floats)."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], mask, list(DESCRIPTOR_BINS), [0, 180, 0, 256, 0, 256]).ravel()
    hist = np.sqrt(hist)   # Hellinger: large uniform areas do not drown the rest
    norm = np.linalg.norm(hist)
    return (hist / norm if norm else hist).astype(np.float32)


def kind_of(w: float, h: float) -> str:
    """Vehicle or person from the shape of the best view (persons are upright, vehicles wide)."""
    return "person" if h >= 1.3 * w else "vehicle"


def direction_of(dx: float, dy: float) -> str:
    """Where an object went in the image: left, right, up (away, usually) or down."""
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"
