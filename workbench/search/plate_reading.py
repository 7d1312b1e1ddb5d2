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
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from workbench.errors import ConfigurationError, InvalidInput
from workbench.installed_packages import installed_folder
from workbench.plates.plate_format import FORMATS, normalise, recognise
from workbench.plates.plate_search import CONFUSIONS

MODELS = {"det": "PP-OCRv6_det_small.onnx", "rec": "PP-OCRv6_rec_small.onnx"}
MIN_CONFIDENCE = 0.6     # recogniser score under which a line is not trusted as a plate
DET_SIDE = 640           # longest side the text detector sees (pixels)
DET_THRESHOLDS = {"Det.thresh": 0.2, "Det.box_thresh": 0.3}   # below rapidocr's 0.3 / 0.5: faint, small lines too
MIN_HEIGHT = 48          # pixels: smaller pictures are enlarged before reading (the recogniser reads 48 px lines)
CROP_MARGIN = 0.2        # of an enlarged crop's height: the plain margin around it when lines(margin=True)

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

    def lines(self, bgr: np.ndarray, *, margin: bool = False) -> list[tuple[str, float, Pixels]]:
        """Every text line in the picture: (text, score, box in pixels).

        ``margin``: a picture lower than ``2 * MIN_HEIGHT`` (a crop around a plate or a vehicle's part, which the
        reader enlarges) is read inside a plain margin of its median colour, ``CROP_MARGIN`` of its enlarged height
        wide: the detector finds a line by its outline, and characters cut by the crop's edge have none there.
        The detector then finds them, but the recogniser also reads the plate's rim in the margin as more
        characters (an I, an L): redaction, which blurs what it finds, asks for it; reading does not.
        """
        if bgr.ndim != 3 or bgr.shape[0] < 4 or bgr.shape[1] < 4:
            return []
        scale = max(1.0, MIN_HEIGHT * 2 / bgr.shape[0])
        picture = bgr if scale == 1.0 else cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        border = int(round(CROP_MARGIN * picture.shape[0])) if margin and scale > 1.0 else 0
        if border:
            fill = [int(v) for v in np.median(picture.reshape(-1, picture.shape[2]), axis=0)]
            picture = cv2.copyMakeBorder(picture, border, border, border, border, cv2.BORDER_CONSTANT, value=fill)
        # every step named at each call (the engine keeps what a call set); every line kept, however badly read:
        # redaction blurs lines that do not read as words, read() keeps those that read as plates
        result: Any = self._engine(np.ascontiguousarray(picture), use_det=True, use_cls=False, use_rec=True,
                                   text_score=0.0)   # RapidOCROutput: boxes, txts, scores
        if getattr(result, "boxes", None) is None or getattr(result, "txts", None) is None:
            return []
        height, width = bgr.shape[:2]
        found = []
        for quad, text, score in zip(result.boxes, result.txts, result.scores):
            xs, ys = (np.asarray(quad)[:, 0] - border) / scale, (np.asarray(quad)[:, 1] - border) / scale
            x0, y0 = int(max(0, xs.min())), int(max(0, ys.min()))
            x1, y1 = int(min(width, np.ceil(xs.max()))), int(min(height, np.ceil(ys.max())))
            if x1 > x0 and y1 > y0:   # not a "line" in the margin alone
                found.append((str(text), float(score), (x0, y0, x1 - x0, y1 - y0)))
        return joined_lines(found)

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


def _beside(a: Pixels, b: Pixels) -> bool:
    """Whether box ``b`` continues the line of box ``a`` on its right (one plate's groups of characters: similar
    heights, mostly the same rows, a gap under twice their height) or lies just under it (a two-line plate:
    similar heights, mostly the same columns, its top below the middle of ``a`` and at most half a line under it).
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    if not 2 / 3 <= ah / max(bh, 1) <= 3 / 2:
        return False
    rows = min(ay + ah, by + bh) - max(ay, by)
    columns = min(ax + aw, bx + bw) - max(ax, bx)
    if rows >= 0.6 * min(ah, bh) and 0 <= bx - (ax + aw) + min(aw, bw) // 4 and bx - (ax + aw) <= 2 * max(ah, bh):
        return True
    # the detector's boxes of two stacked lines overlap: b's top below a's middle, at most half a line under it
    return columns >= 0.5 * min(aw, bw) and ay + ah / 2 < by <= ay + ah + max(ah, bh) / 2


def joined_lines(lines: list[tuple[str, float, Pixels]],
                 fits: Callable[[str], bool] | None = None) -> list[tuple[str, float, Pixels]]:
    """The text lines with the parts of one plate joined: two lines that do not read as a plate each, beside or
    above one another as the groups of a plate's characters are, and together read as one (the detector splits
    a plate at a wide gap between its groups, and reads a two-line plate as two lines). The joined line's score
    is its parts' lowest, its box covers both. ``fits`` says what reads as a plate (by default: it fits a plate
    format, :func:`as_plate`; redaction, which blurs on doubt, asks less).

    >>> [(t, b) for t, _, b in joined_lines([("NMM", 1.0, (0, 0, 40, 20)), ("840", 0.9, (50, 1, 40, 20))])]
    [('NMM 840', (0, 0, 90, 21))]
    >>> [t for t, _, _ in joined_lines([("A03", 1.0, (10, 0, 30, 20)), ("5HFA", 0.9, (4, 24, 40, 20))])]
    ['A03 5HFA']
    >>> [t for t, _, _ in joined_lines([("NMM", 1.0, (0, 0, 40, 20)), ("840", 0.9, (150, 1, 40, 20))])]
    ['NMM', '840']
    """
    plate = fits or (lambda text: as_plate(text) is not None)
    lines = list(lines)
    for i, (text, score, box) in enumerate(lines):
        if plate(text):
            continue
        for j, (other, other_score, other_box) in enumerate(lines):
            if j == i or plate(other) or not _beside(box, other_box) or not plate(f"{text} {other}"):
                continue
            x0, y0 = min(box[0], other_box[0]), min(box[1], other_box[1])
            x1 = max(box[0] + box[2], other_box[0] + other_box[2])
            y1 = max(box[1] + box[3], other_box[1] + other_box[3])
            rest = [line for k, line in enumerate(lines) if k not in (i, j)]
            return joined_lines(rest + [(f"{text} {other}", min(score, other_score), (x0, y0, x1 - x0, y1 - y0))],
                                fits)
    return lines


# the look-alikes ANPR reads confuse (plate search's classes, O0DQ I1L B8 S5 Z2 G6), across the letter/digit divide
AS_LETTER = {ch: next(c for c in group if c.isalpha()) for group in CONFUSIONS for ch in group if ch.isdigit()}
AS_DIGIT = {ch: next(c for c in group if c.isdigit()) for group in CONFUSIONS for ch in group if ch.isalpha()}
MAX_SWAPS = 3            # confusable characters changed at most to fit a plate format


@functools.lru_cache(maxsize=4096)   # asked again for the same lines: joining pairs them, read() keeps them
def as_plate(text: str) -> str | None:
    """The normalised plate a text line reads as, or None when it fits no plate format parsed here.

    The recogniser reads characters, not plates: a 0 for an O, a 1 for an I. Of the readings that change at
    most ``MAX_SWAPS`` such characters across the letter/digit divide, the one kept fits a plate format with its
    groups of characters where the line has its gaps (the format's printed groups, e.g. ``AB 023 IG``), with the
    fewest changes; a changed reading needs that evidence, a reading as read only needs to fit a format.

    >>> as_plate("1-ABC-234"), as_plate("SQUAD"), as_plate("B 1-ABC-234")
    ('1ABC234', None, '1ABC234')
    >>> as_plate("001 662"), as_plate("AB 023·1G"), as_plate("AB0231G")
    ('OOI662', 'AB023IG', 'AB0231G')
    """
    words = text.replace("|", " ").split()
    # the whole line, then without a leading country code (the blue band of EU plates reads as "B", "NL"...)
    for candidate in (" ".join(words), " ".join(words[1:]) if len(words) > 1 and len(words[0]) <= 2 else ""):
        try:
            plate = normalise(candidate) if candidate else None
        except InvalidInput:
            continue
        if plate and len(plate) >= 5:
            fitted = _fitted(plate, _gaps(candidate))
            if fitted is not None:
                return fitted
    return None


def _gaps(text: str) -> tuple[int, ...]:
    """The lengths of the groups of letters and digits a line shows between its gaps (``AB 023·1G``: 2, 3, 2)."""
    groups, run = [], 0
    for ch in text:
        if ch.isalnum():
            run += 1
        elif run:
            groups.append(run)
            run = 0
    return tuple(groups + [run] if run else groups)


def _fitted(plate: str, gaps: tuple[int, ...]) -> str | None:
    """The reading of ``plate`` that fits a plate format best (see :func:`as_plate`), or None."""
    spots = [i for i, ch in enumerate(plate) if ch in AS_LETTER or ch in AS_DIGIT]
    best: tuple[tuple[bool, int], str] | None = None
    for swaps in range(min(MAX_SWAPS, len(spots)) + 1):
        for chosen in itertools.combinations(spots, swaps):
            chars = list(plate)
            for i in chosen:
                chars[i] = AS_LETTER.get(chars[i]) or AS_DIGIT[chars[i]]
            reading = "".join(chars)
            fits = gaps in {g for _, _, pattern, g in FORMATS if g and pattern.fullmatch(reading)}
            if not (fits if swaps else recognise(reading)):
                continue   # a changed reading must also have its gaps where its format prints them
            rank = (fits, -swaps)
            if best is None or rank > best[0]:
                best = (rank, reading)
        if best is not None and best[0][0]:
            break   # fewer changes than any later reading, and its gaps fit
    return None if best is None else best[1]


@functools.cache
def _process_reader() -> PlateReader:
    return PlateReader()


def shared_reader() -> tuple[PlateReader | None, str | None]:
    """This process's plate reader (its models loaded once), or None and why it is missing."""
    try:
        return _process_reader(), None
    except ConfigurationError as exc:
        return None, str(exc)
