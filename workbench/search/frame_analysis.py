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
        if not bits.any():   # nothing changes: the background model learns from one still frame in STILL_LEARN
            self._still += 1
            if self._still % STILL_LEARN == 0:
                self._learn(small)
            return bits, []
        mask = cv2.morphologyEx(self._learn(small), cv2.MORPH_OPEN, None)  # type: ignore[call-overload]  # 3x3
        self._mask = mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._kernel, iterations=2)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        blobs = [Blob(2 * int(x), 2 * int(y), 2 * int(w), 2 * int(h), 4 * int(a)) for x, y, w, h, a in stats[1:count]
                 if a >= self._min_area]
        return bits & self._cells_of(blobs), blobs

    def _cells_of(self, blobs: list[Blob]) -> np.ndarray:
        """The grid cells that moving objects cover: changed pixels elsewhere (leaves, rain, flicker that the
        background model has learnt as background) are not motion."""
        cells = np.zeros((GRID_ROWS, GRID_COLS), dtype=bool)
        width, height = self.size
        for b in blobs:
            c0, c1 = b.x * GRID_COLS // width, -(-(b.x + b.w) * GRID_COLS // width)
            r0, r1 = b.y * GRID_ROWS // height, -(-(b.y + b.h) * GRID_ROWS // height)
            cells[r0:r1, c0:c1] = True
        return np.packbits(cells.ravel()).view(np.uint64)


# hue angles in the a*b* plane (degrees) where each chromatic name starts, in order
HUES = ((50, "orange"), (72, "yellow"), (110, "green"), (200, "blue"), (300, "purple"), (345, "red"))


def silhouette(mask: np.ndarray) -> np.ndarray:
    """The object's pixels: the foreground ``mask`` with its holes filled (as a boolean array).

    A background model of luma alone misses the parts of a body as bright as
    the road behind them (a grey bonnet, a white door in the sun): they are
    holes in the mask, and a colour named from what is left would be the
    windows', tyres' and highlights'. Pixels not reachable from the box's
    border through the background are the object's.

    >>> ring = np.pad(np.zeros((2, 2), np.uint8), 1, constant_values=255)
    >>> int(silhouette(ring).sum())
    16
    """
    outside = cv2.copyMakeBorder((mask == 0).astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    cv2.floodFill(outside, None, (0, 0), 2)   # the background reachable from the border
    return outside[1:-1, 1:-1] != 2


def colour_name(bgr: np.ndarray, mask: np.ndarray | None = None) -> str:
    """The palette name of a vehicle's body from the (masked) pixels of its best view, in CIE L*a*b*.

    The body is the object's silhouette (:func:`silhouette`: the moving-object
    mask with its holes filled, where the body looks like the road to a
    luma-only background model). The lowest fifth of the box (shadow, tyres,
    road) is left out; the median
    a* and b* of the rest give the body's hue, robust to glass, highlights and
    the road seen through the mask. A strong chroma names the hue; a weak one
    still does where outdoor footage washes colours out (reds, blues, greens
    of dull bodies), unless the body is bright (white vehicles in yellow
    light); otherwise white, grey or black from the upper quartile of L*
    (a dark car has bright reflections, a white one dark glass).
    Thresholds set on the labelled real events of ``tests/data/footage``.
    """
    rows = bgr.shape[0]
    body = np.ones(bgr.shape[:2], bool) if mask is None else silhouette(mask)
    body[int(np.ceil(rows * 0.8)):] = False
    pixels = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)[body] if body.any() else \
        cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).reshape(-1, 3)
    if len(pixels) == 0:
        return "grey"
    lightness = pixels[:, 0].astype(np.float32) * (100 / 255)
    a = float(np.median(pixels[:, 1].astype(np.float32) - 128))
    b = float(np.median(pixels[:, 2].astype(np.float32) - 128))
    upper = float(np.percentile(lightness, 75))
    if np.hypot(a, b) >= 15:
        angle = np.degrees(np.arctan2(b, a)) % 360
        return next((name for start, name in reversed(HUES) if angle >= start), "red")
    if upper < 82:
        if a >= 3.5 and a >= 0.5 * abs(b):
            return "red"
        if b <= -8.5:
            return "blue"
        if a <= -5.5:
            return "green"
    return "white" if upper >= 86 else "black" if upper <= 38 else "grey"


def descriptor(bgr: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """An appearance descriptor: the L2-normalised HSV histogram of the (masked) pixels (128 floats)."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], mask, list(DESCRIPTOR_BINS), [0, 180, 0, 256, 0, 256]).ravel()
    hist = np.sqrt(hist)   # Hellinger: large uniform areas do not drown the rest
    norm = np.linalg.norm(hist)
    return (hist / norm if norm else hist).astype(np.float32)


PERSON_SPEED = 0.15   # image sizes per second: a walker crosses the view in seconds, a car in one or two


def kind_of(w: float, h: float, speed: float = 0.0) -> str:
    """Vehicle or person from the shape of the best view and the speed of the track.

    Persons are upright and slow; an upright box that moves fast is a vehicle
    cut by the image border or blurred by its speed.
    """
    return "person" if h >= 1.3 * w and speed < PERSON_SPEED else "vehicle"


def direction_of(dx: float, dy: float) -> str:
    """Where an object went in the image: left, right, up (away, usually) or down."""
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"
