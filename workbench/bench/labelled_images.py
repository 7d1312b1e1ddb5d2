"""How much of the real faces labelled by hand the redaction blurs.

``tests/data/images/labelled_faces.csv`` gives, for public-domain and CC0
photographs (see the NOTICE beside it), each face's box in pixels. The
redaction's detectors (:class:`workbench.evidence.redaction.Redactor`) run on
each image at full size and reduced to a quarter (a face of a few dozen pixels,
as a street camera sees one); a face counts as redacted when the regions the
redactor blurs cover at least ``COVERED`` of its box.

    >>> evaluate_labelled_images()["face_redaction_recall"]      # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

IMAGES = Path(__file__).resolve().parents[2] / "tests" / "data" / "images"
FACES = IMAGES / "labelled_faces.csv"
SCALES = (1.0, 0.25)
COVERED = 0.8


def covered_share(regions: list[tuple[int, int, int, int]], box: tuple[int, int, int, int],
                  shape: tuple[int, ...]) -> float:
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


def evaluate_labelled_images(labels: Path = FACES) -> dict[str, float | int | None]:
    """``face_redaction_recall`` over the labelled faces at every scale, and how many faces that is."""
    from workbench.evidence.redaction import Redactor

    redactor = Redactor()
    table = pd.read_csv(labels)
    redacted = total = 0
    for image, group in table.groupby("image"):
        bgr = cv2.imread(str(labels.parent / str(image)), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f"labelled image {image} is missing from {labels.parent}")
        for scale in SCALES:
            picture = bgr if scale == 1.0 else cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            rgb = np.ascontiguousarray(picture[..., ::-1])
            regions = [r for kind, r in redactor.regions(redactor.detect(rgb), rgb.shape) if kind == "face"]
            for row in group.itertuples():
                box = tuple(int(round(v * scale)) for v in (row.x0, row.y0, row.x1, row.y1))
                total += 1
                redacted += covered_share(regions, box, rgb.shape) >= COVERED   # type: ignore[arg-type]
    return {"face_redaction_recall": round(redacted / total, 3) if total else None, "labelled_faces": total}
