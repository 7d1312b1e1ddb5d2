"""Read licence plates in pictures: PaddleOCR's text detector and recogniser from the ``rapidocr`` wheel.

The two ONNX models (PP-OCRv6 small text detection and recognition, Apache-2.0,
converted by RapidOCR from PaddleOCR's weights) ship inside the ``rapidocr``
wheel and run on ``onnxruntime``: nothing is downloaded at first use. The
model files are named explicitly, so a missing or damaged file raises a
:class:`ConfigurationError` when the reader is made (never a silent download
attempt). Every text line found is normalised; only lines that fit a plate
format the workbench parses (:mod:`workbench.plates.plate_format`) are kept,
so shop signs and lettering on vans are not plates.

    >>> reader = PlateReader()
    >>> [p.plate for p in reader.read(vehicle_bgr)]          # doctest: +SKIP
    ['1ABC234']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from workbench.errors import ConfigurationError, InvalidInput
from workbench.installed_packages import installed_folder
from workbench.plates.plate_format import normalise, recognise

MODELS = {"det": "PP-OCRv6_det_small.onnx", "rec": "PP-OCRv6_rec_small.onnx"}
MIN_CONFIDENCE = 0.6     # recogniser score under which a line is not trusted as a plate
DET_SIDE = 640           # longest side the text detector sees (pixels)
DET_THRESHOLDS = {"Det.thresh": 0.2, "Det.box_thresh": 0.3}   # below rapidocr's 0.3 / 0.5: faint, small lines too
MIN_HEIGHT = 48          # pixels: smaller pictures are enlarged before reading (the recogniser reads 48 px lines)

Pixels = tuple[int, int, int, int]   # x, y, w, h


@dataclass(frozen=True)
class PlateText:
    """A plate read in a picture: normalised, as read, the recogniser's score, where (pixels), its country."""

    plate: str
    raw: str
    confidence: float
    box: Pixels
    country: str | None


def model_files() -> dict[str, Path]:
    """The detection and recognition model files inside the installed ``rapidocr`` package."""
    folder = installed_folder("rapidocr", "the plate reader (package rapidocr, with onnxruntime) is not installed: "
                                          "pip install rapidocr onnxruntime") / "models"
    files = {step: folder / name for step, name in MODELS.items()}
    for step, path in files.items():
        if not path.is_file() or path.stat().st_size == 0:
            raise ConfigurationError(f"the plate reader's {step} model {path.name} is missing from {folder}: "
                                     "reinstall rapidocr")
    return files


class PlateReader:
    """Finds text lines in a BGR picture and keeps those that read as plates."""

    def __init__(self, *, min_confidence: float = MIN_CONFIDENCE) -> None:
        files = model_files()
        try:
            from rapidocr import RapidOCR

            self._engine = RapidOCR(params={
                "Global.log_level": "error", "Global.use_cls": False,
                "Det.model_path": str(files["det"]), "Rec.model_path": str(files["rec"]),
                # vehicle crops are small: detect at their own size (at most DET_SIDE), not enlarged to 736 px
                "Det.limit_type": "max", "Det.limit_side_len": DET_SIDE, **DET_THRESHOLDS,
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1})
            self._engine(np.full((64, 160, 3), 255, np.uint8))   # loads both networks now: a damaged one fails here
        except ConfigurationError:
            raise
        except ImportError as exc:
            raise ConfigurationError(f"the plate reader cannot start ({exc}): pip install rapidocr onnxruntime") \
                from None
        except Exception as exc:  # noqa: BLE001 - onnxruntime and rapidocr raise their own kinds on a bad model
            raise ConfigurationError(f"the plate reader's models in {files['det'].parent} do not load "
                                     f"({type(exc).__name__}: {str(exc)[:160]}): reinstall rapidocr") from None
        self.min_confidence = min_confidence

    def lines(self, bgr: np.ndarray) -> list[tuple[str, float, Pixels]]:
        """Every text line in the picture: (text, score, box in pixels)."""
        if bgr.ndim != 3 or bgr.shape[0] < 4 or bgr.shape[1] < 4:
            return []
        scale = max(1.0, MIN_HEIGHT * 2 / bgr.shape[0])
        picture = bgr if scale == 1.0 else cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        # every step named at each call (the engine keeps what a call set); every line kept, however badly read:
        # redaction blurs lines that do not read as words, read() keeps those that read as plates
        result: Any = self._engine(np.ascontiguousarray(picture), use_det=True, use_cls=False, use_rec=True,
                                   text_score=0.0)   # RapidOCROutput: boxes, txts, scores
        if getattr(result, "boxes", None) is None or getattr(result, "txts", None) is None:
            return []
        found = []
        for quad, text, score in zip(result.boxes, result.txts, result.scores):
            xs, ys = np.asarray(quad)[:, 0] / scale, np.asarray(quad)[:, 1] / scale
            x0, y0 = int(max(0, xs.min())), int(max(0, ys.min()))
            found.append((str(text), float(score), (x0, y0, int(np.ceil(xs.max())) - x0, int(np.ceil(ys.max())) - y0)))
        return found

    def read(self, bgr: np.ndarray) -> list[PlateText]:
        """The lines of the picture that read as plates, best score first."""
        plates = []
        for text, score, box in self.lines(bgr):
            if score < self.min_confidence:
                continue
            plate = as_plate(text)
            if plate is not None:
                formats = recognise(plate)
                plates.append(PlateText(plate, text, score, box, formats[0][0] if formats else None))
        return sorted(plates, key=lambda p: -p.confidence)


def as_plate(text: str) -> str | None:
    """The normalised plate a text line reads as, or None when it fits no plate format parsed here.

    >>> as_plate("1-ABC-234"), as_plate("SQUAD"), as_plate("B 1-ABC-234")
    ('1ABC234', None, '1ABC234')
    """
    words = text.replace("|", " ").split()
    # the whole line, then without a leading country code (the blue band of EU plates reads as "B", "NL"...)
    for candidate in (" ".join(words), " ".join(words[1:]) if len(words) > 1 and len(words[0]) <= 2 else ""):
        try:
            plate = normalise(candidate) if candidate else None
        except InvalidInput:
            continue
        if plate and len(plate) >= 5 and recognise(plate):
            return plate
    return None


@functools.cache
def _process_reader() -> PlateReader:
    return PlateReader()


def shared_reader() -> tuple[PlateReader | None, str | None]:
    """This process's plate reader (its models loaded once), or None and why it is missing."""
    try:
        return _process_reader(), None
    except ConfigurationError as exc:
        return None, str(exc)
