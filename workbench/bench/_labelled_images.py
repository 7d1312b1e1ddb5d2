"""How much of the real faces and plates labelled by hand the redaction blurs, and how well plates read.

``tests/data/images/labelled_faces.csv`` and ``labelled_plates.csv`` give, for
photographs nobody here made (see the NOTICE beside them), each face's and
each plate's box in pixels, and a plate's text where a person can read it. The
redaction's detectors (:class:`workbench.evidence.redaction.Redactor`, as for a still picture; and, for
``plate_redaction_recall_frames``, as for a clip's frames) run on
each face image at full size and reduced to a quarter (a face of a few dozen
pixels, as a street camera sees one), and on each plate image at full size; a
face or plate counts as redacted when the regions the redactor blurs cover at
least ``COVERED`` of its box. Precision: the share of the regions blurred as
faces (or plates) that touch a labelled one (unlabelled faces in a crowd count
against it, so it is a lower bound). ``plate_read_exact_rate``: the share of
the legible plates the plate reader (:mod:`workbench.search.plate_reading`,
run on the whole picture) reads exactly, from a line inside the plate's box.
:func:`evaluate_labelled_plates` gives the plate figures alone, for ``heldout/labelled_plates.csv`` too (plates of
other pictures of the same sources, set apart by file name and never tuned on).

    >>> evaluate_labelled_images()["face_redaction_recall"]      # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from workbench.evidence.redaction import Redactor

IMAGES = Path(__file__).resolve().parents[2] / "tests" / "data" / "images"
FACES = IMAGES / "labelled_faces.csv"
HELD_OUT_FACES = IMAGES / "heldout" / "labelled_faces.csv"
"""Faces of a crowd photograph added after the detectors and their thresholds were set: measured, never tuned on."""
HELD_OUT_SMALL_FACES = IMAGES / "heldout" / "labelled_small_faces.csv"
"""Small heads (13 to 19 pixels) in a dim lecture hall seen from a ceiling camera, labelled before the search at
twice the size was written and measured at their own size only: never tuned on."""
PLATES = IMAGES / "labelled_plates.csv"
HELD_OUT_PLATES = IMAGES / "heldout" / "labelled_plates.csv"
"""Plates of other pictures of the same two sources (street photographs, plate crops from a traffic camera), set
apart by a hash of the file name before any change was measured: measured, never tuned on."""
SCALES = (1.0, 0.25)
COVERED = 0.8
Region = tuple[int, int, int, int]   # x0, y0, x1, y1 in pixels


def covered_share(regions: list[Region], box: Region, shape: tuple[int, ...]) -> float:
    """The share of ``box`` (x0, y0, x1, y1 pixels) inside the union of ``regions``.

    >>> covered_share([(0, 0, 5, 10)], (0, 0, 10, 10), (10, 10))
    0.5
    """
    mask = np.zeros(shape[:2], bool)
    for x0, y0, x1, y1 in regions:
        mask[y0:y1, x0:x1] = True
    x0, y0, x1, y1 = box
    inside = mask[y0:y1, x0:x1]
    return float(inside.mean()) if inside.size else 0.0


def _touches(region: Region, boxes: list[Region]) -> bool:
    return any(region[0] < b[2] and b[0] < region[2] and region[1] < b[3] and b[1] < region[3] for b in boxes)


def _pictures(table: pd.DataFrame, folder: Path, scales: tuple[float, ...]):  # type: ignore[no-untyped-def]
    """(rows of one image, scale, RGB picture at that scale, labelled boxes at that scale) for every image."""
    for image, group in table.groupby("image"):
        bgr = cv2.imread(str(folder / str(image)), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f"labelled image {image} is missing from {folder}")
        for scale in scales:
            picture = bgr if scale == 1.0 else cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            boxes = [tuple(int(round(v * scale)) for v in (row.x0, row.y0, row.x1, row.y1))
                     for row in group.itertuples()]
            yield group, scale, np.ascontiguousarray(picture[..., ::-1]), boxes


def _redaction(redactor, table: pd.DataFrame, folder: Path, kind: str,  # type: ignore[no-untyped-def]
               scales: tuple[float, ...]) -> tuple[int, int, int, int]:
    """(labelled boxes redacted, labelled boxes, regions blurred that touch a label, regions blurred)."""
    redacted = total = true = blurred = 0
    for _, _, rgb, boxes in _pictures(table, folder, scales):
        regions = [r for k, r in redactor.regions(redactor.detect(rgb), rgb.shape) if k == kind]
        total += len(boxes)
        redacted += sum(covered_share(regions, box, rgb.shape) >= COVERED for box in boxes)
        blurred += len(regions)
        true += sum(_touches(r, boxes) for r in regions)
    return redacted, total, true, blurred


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def evaluate_labelled_images(faces: Path = FACES, plates: Path | None = PLATES,
                             scales: tuple[float, ...] = SCALES) -> dict[str, float | int | None]:
    """Face (at each of ``scales``) and plate redaction recall and precision, plate reading, and the sizes of the
    labelled sets."""
    from workbench.evidence.redaction import Redactor

    redactor = Redactor(still=True)
    found, total, true, blurred = _redaction(redactor, pd.read_csv(faces), faces.parent, "face", scales)
    scores: dict[str, float | int | None] = {
        "face_redaction_recall": _share(found, total), "labelled_faces": total,
        "face_redaction_precision": _share(true, blurred)}
    if plates is None:
        return scores
    return {**scores, **evaluate_labelled_plates(plates, redactor)}


def evaluate_labelled_plates(plates: Path = PLATES,
                             redactor: Redactor | None = None) -> dict[str, float | int | None]:
    """Plate redaction recall and precision (as for a still picture and as for a clip's frames), the share of the
    legible plates read exactly, and the sizes of the labelled set."""
    from workbench.evidence.redaction import Redactor

    redactor = redactor or Redactor(still=True)
    table = pd.read_csv(plates, dtype={"text": str}, keep_default_na=False)
    found, total, true, blurred = _redaction(redactor, table, plates.parent, "plate", (1.0,))
    in_clips = _redaction(Redactor(), table, plates.parent, "plate", (1.0,))[0]   # as on a clip's frames
    legible = table[table["text"] != ""]
    exact = 0
    for group, _, rgb, boxes in _pictures(legible, plates.parent, (1.0,)):
        reads = redactor.plate_reader.read(np.ascontiguousarray(rgb[..., ::-1]))
        for text, (x0, y0, x1, y1) in zip(group["text"], boxes):
            exact += any(p.plate == text and x0 <= p.box[0] + p.box[2] / 2 <= x1 and y0 <= p.box[1] + p.box[3] / 2 <= y1
                         for p in reads)
    return {"plate_redaction_recall": _share(found, total), "labelled_plates": total,
            "plate_redaction_precision": _share(true, blurred),
            "plate_redaction_recall_frames": _share(in_clips, total),
            "plate_read_exact_rate": _share(exact, len(legible)), "labelled_plate_texts": len(legible)}
