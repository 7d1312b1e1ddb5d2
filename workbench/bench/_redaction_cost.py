"""What a redacted clip costs, and whether the pictures between two detections stay covered.

On real clips of ``tests/data/footage`` (pedestrians, a street with cars),
a redacted re-encode is timed (CPU seconds per second of clip) with the
detectors every ``Redactor.INTERVAL`` seconds, as exports run, and with them
on every third picture (the cadence before detections were spaced out; boxes
carried unchanged to the next detection). Fail-safe check: the detectors
also run on every picture, and ``carry_coverage`` is the share of the faces
and plates they find there that the regions blurred with the spaced-out
detections cover (at least ``COVERED`` of each box); ``carry_coverage_every_3``
is the same for the old cadence.

    >>> redaction_cost()["redaction_cpu_s_per_clip_s"]      # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from workbench.bench._labelled_images import COVERED, covered_share
from workbench.evidence.clip_export import reencode
from workbench.evidence.redaction import INTERVAL, Pixels, Redactor
from workbench.footage.decoding import VideoFile
from workbench.footage.probe import probe

CLIPS = Path(__file__).resolve().parents[2] / "tests" / "data" / "footage"
SAMPLES = ((CLIPS / "heldout" / "opencv_vtest_20s.avi", 2.0), (CLIPS / "ahmetozlu_input_video.mp4", 2.0))
OLD_EVERY = 3   # pictures between two detections before


def _pictures(path: Path, seconds: float) -> list[tuple[np.ndarray, float]]:
    """The (RGB image, time) of each picture of the clip's first ``seconds``."""
    pictures = []
    with VideoFile(path) as video:
        for t, frame in video.pictures(0.0, probe(path).keyframes):
            if t >= seconds:
                break
            pictures.append((frame.to_ndarray(format="rgb24"), t))
    return pictures


def redaction_cost() -> dict[str, float | int]:
    """CPU per clip second and coverage between detections, spaced out and every third picture."""
    spaced = old = clip_s = 0.0
    detections = {"spaced": 0, "old": 0}
    covered = {"spaced": 0, "old": 0}
    found = 0
    for path, seconds in SAMPLES:
        facts = probe(path)
        for key, redactor in (("spaced", Redactor()), ("old", Redactor(interval=(OLD_EVERY - 0.5) / facts.fps))):
            with tempfile.TemporaryDirectory(prefix="wb-redaction-cost-") as folder:
                cpu = time.process_time()
                reencode(path, Path(folder) / "redacted.mp4", 0.0, seconds, facts.keyframes, redactor.stream)
                cpu = time.process_time() - cpu
            detections[key] += redactor.detections
            spaced, old = (spaced + cpu, old) if key == "spaced" else (spaced, old + cpu)
        clip_s += seconds
        pictures = _pictures(path, seconds)
        redactor = Redactor()
        every = [redactor.detect(image) for image, _ in pictures]
        replay = _Replay(every, pictures)
        spaced_regions = [regions for _, regions in replay.stream_regions(pictures)]
        for i, ((image, _), boxes) in enumerate(zip(pictures, every)):
            last = every[i - i % OLD_EVERY]
            old_regions = redactor.regions(last, image.shape)
            for _, (x, y, w, h) in boxes:
                found += 1
                box = (x, y, x + w, y + h)
                covered["spaced"] += covered_share([r for _, r in spaced_regions[i]], box, image.shape) >= COVERED
                covered["old"] += covered_share([r for _, r in old_regions], box, image.shape) >= COVERED
    return {"redaction_cpu_s_per_clip_s": round(spaced / clip_s, 2),
            "redaction_cpu_s_per_clip_s_every_3": round(old / clip_s, 2),
            "redaction_cost_ratio": round(old / spaced, 2) if spaced else 0.0,
            "redaction_detections": detections["spaced"], "redaction_detections_every_3": detections["old"],
            "carry_coverage": round(covered["spaced"] / found, 3) if found else 1.0,
            "carry_coverage_every_3": round(covered["old"] / found, 3) if found else 1.0,
            "carry_boxes": found}


class _Replay(Redactor):
    """The redactor's carrying of boxes between detections, with what the detectors found on each picture (run
    once per picture above) in place of running them again."""

    def __init__(self, found: list[list[tuple[str, Pixels]]], pictures: list[tuple[np.ndarray, float]]) -> None:
        self.interval, self.only, self.still, self.detections = INTERVAL, None, False, 0
        self.blurred = {"face": 0, "plate": 0}
        self._found = {id(image): boxes for (image, _), boxes in zip(pictures, found)}

    def detect(self, rgb: np.ndarray) -> list[tuple[str, Pixels]]:
        return self._found[id(rgb)]
