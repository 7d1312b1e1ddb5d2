"""Redact a file given by hand (a still image or a clip) with the same code as an evidence export.

    workbench redact photo.jpg --out photo-redacted.jpg
    workbench redact clip.avi --out clip-redacted.mp4
    >>> redact_file(Path("clip.avi"), Path("clip-redacted.mp4"))      # doctest: +SKIP
    {'frames': 250, 'faces_blurred': 31, 'plates_blurred': 12}
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from workbench.errors import FootageError, InvalidInput
from workbench.evidence.clip_export import reencode
from workbench.evidence.redaction import Box, Redactor
from workbench.footage.probe import probe

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
CLIP_SUFFIXES = {".mp4", ".mkv", ".mov"}


def redact_file(source: Path, target: Path, *, only: Box | None = None) -> dict[str, int]:
    """Blur the faces and plates of ``source`` (or everything but ``only``) into ``target``; what was blurred.

    The redactor is made first: a detector model missing or damaged refuses
    before anything is written.
    """
    source, target = Path(source), Path(target)
    if target.resolve() == source.resolve():
        raise InvalidInput("the redacted copy must not overwrite the original: give another --out")
    still = source.suffix.lower() in IMAGE_SUFFIXES
    redactor = Redactor(only=only, still=still)
    if still:
        if target.suffix.lower() not in IMAGE_SUFFIXES:
            raise InvalidInput(f"{target.name}: a redacted image is written as PNG or JPEG (.png, .jpg)")
        bgr = cv2.imread(str(source), cv2.IMREAD_COLOR)
        if bgr is None:
            raise InvalidInput(f"{source.name}: not a readable image")
        clean = redactor(np.ascontiguousarray(bgr[..., ::-1]))
        if not cv2.imwrite(str(target), np.ascontiguousarray(clean[..., ::-1])):
            raise InvalidInput(f"{target.name}: the redacted image could not be written")
        frames = 1
    else:
        if target.suffix.lower() not in CLIP_SUFFIXES:
            raise InvalidInput(f"{target.name}: a redacted clip is written as H.264 in .mp4, .mkv or .mov")
        facts = probe(source)
        try:
            frames = reencode(source, target, 0.0, facts.duration, facts.keyframes, redactor.stream).frames
        except FootageError:
            target.unlink(missing_ok=True)
            raise
    return {"frames": frames, "faces_blurred": redactor.blurred["face"], "plates_blurred": redactor.blurred["plate"]}
