"""Blur faces and the plates of other vehicles before footage leaves the police.

Detection uses the Haar cascades that OpenCV 4 ships (frontal faces, plates);
it runs on every ``every``-th frame and each box is kept, slightly enlarged,
until the next detection so that a face is not left clear between two runs.
The ``keep`` function names boxes that must stay readable (the vehicle the
evidence is about): a plate inside one of them is not blurred.

    >>> redactor = Redactor()
    >>> clean = redactor(rgb, keep=[(0.4, 0.5, 0.7, 0.9)])      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from workbench.errors import ConfigurationError

Box = tuple[float, float, float, float]   # x0, y0, x1, y1 as shares of the image
CASCADES = {"face": "haarcascade_frontalface_default.xml", "plate": "haarcascade_russian_plate_number.xml"}


def _pixels(box: Sequence[int]) -> tuple[int, int, int, int]:
    """A detector's (x, y, w, h) box as plain ints."""
    x, y, w, h = (int(v) for v in box)
    return x, y, w, h


def _cascade(name: str) -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + CASCADES[name]  # type: ignore[attr-defined]  # cv2.data has no stub
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise ConfigurationError(f"the OpenCV {name} detector ({CASCADES[name]}) is missing: redaction needs "
                                 "opencv-python-headless 4.x, which ships the Haar cascades")
    return cascade


class Redactor:
    """Finds faces and plates and blurs them, frame after frame."""

    def __init__(self, *, every: int = 3, margin: float = 0.15) -> None:
        self._faces, self._plates = _cascade("face"), _cascade("plate")
        self.every, self.margin = every, margin
        self._count = 0
        self._boxes: list[tuple[str, tuple[int, int, int, int]]] = []
        self.blurred = {"face": 0, "plate": 0}

    def detect(self, rgb: np.ndarray) -> list[tuple[str, tuple[int, int, int, int]]]:
        """Faces and plates in an RGB image, as (kind, (x, y, w, h)) in pixels."""
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        h = grey.shape[0]
        found = [("face", _pixels(b)) for b in
                 self._faces.detectMultiScale(cv2.equalizeHist(grey), 1.15, 4, minSize=(max(12, h // 40),) * 2)]
        # fine steps and few neighbours: a plate missed is worse than a patch blurred for nothing
        found += [("plate", _pixels(b)) for b in
                  self._plates.detectMultiScale(grey, 1.05, 2, minSize=(max(20, h // 30), max(8, h // 90)))]
        return found

    def __call__(self, rgb: np.ndarray, keep: Sequence[Box] = ()) -> np.ndarray:
        """A copy of ``rgb`` with faces and plates blurred, except plates inside a ``keep`` box."""
        if self._count % self.every == 0:
            self._boxes = self.detect(rgb)
        self._count += 1
        out = rgb.copy()
        height, width = rgb.shape[:2]
        for kind, (x, y, w, h) in self._boxes:
            cx, cy = (x + w / 2) / width, (y + h / 2) / height
            if kind == "plate" and any(k[0] <= cx <= k[2] and k[1] <= cy <= k[3] for k in keep):
                continue
            dx, dy = int(w * self.margin), int(h * self.margin)
            x0, y0, x1, y1 = max(0, x - dx), max(0, y - dy), min(width, x + w + dx), min(height, y + h + dy)
            region = out[y0:y1, x0:x1]
            k = max(3, (max(x1 - x0, y1 - y0) // 3) | 1)
            out[y0:y1, x0:x1] = cv2.GaussianBlur(region, (k, k), 0)
            self.blurred[kind] += 1
        return out
