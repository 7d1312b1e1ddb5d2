"""Plates read on footage become plate reads of a source of their own, merged into sightings like ANPR reads.

The index build reads the plates of each vehicle's best view
(:mod:`workbench.search.plate_reading`); this module writes them into the
catalogue through the ANPR ingest (:func:`workbench.plates.read_ingest.ingest_batch`:
idempotent, merged into sightings, hotlist hits, audited), under the source
``FOOTAGE-OCR``. A read's id names the frame it came from and the plate's box
in it, so that the crop that was read can be cut again from the archived
frame (through the case's access layer) and shown with the sighting:

    FOOTAGE-OCR:segment-12@31.250s#0.412,0.601,0.471,0.632

    >>> ref = frame_ref("FOOTAGE-OCR:segment-12@31.250s#0.412,0.601,0.471,0.632")
    >>> ref.segment_id, ref.seconds, ref.box
    (12, 31.25, (0.412, 0.601, 0.471, 0.632))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd

from workbench.access import audit
from workbench.plates.anpr_feed import FeedBatch
from workbench.plates.read_ingest import ingest_batch
from workbench.search.object_tracks import PlateSeen
from workbench.store import Store
from workbench.store.models import FootageSegment

SOURCE = "FOOTAGE-OCR"
ACTOR = "system:index"
_REF = re.compile(r"segment-([0-9]+)@([0-9]+(?:\.[0-9]+)?)s#([0-9.]+),([0-9.]+),([0-9.]+),([0-9.]+)")


@dataclass(frozen=True)
class FrameRef:
    """Where a plate read on footage was seen: the segment, seconds from its start, the plate's box (0..1)."""

    segment_id: int
    seconds: float
    box: tuple[float, float, float, float]


def read_id(segment_id: int, plate: PlateSeen) -> str:
    """The read's id at its source: the segment, the time of the frame and the plate's box in it."""
    x0, y0, x1, y1 = plate.box
    return f"segment-{segment_id}@{plate.time:.3f}s#{x0:.3f},{y0:.3f},{x1:.3f},{y1:.3f}"


def frame_ref(source_id: str) -> FrameRef | None:
    """The frame a footage read came from, from its ``source:read_id`` (None for any other source)."""
    source, _, rest = source_id.partition(":")
    match = _REF.fullmatch(rest) if source == SOURCE else None
    if match is None:
        return None
    x0, y0, x1, y1 = (float(v) for v in match.groups()[2:])
    return FrameRef(int(match.group(1)), float(match.group(2)), (x0, y0, x1, y1))


def store_plate_reads(store: Store, segment_id: int, plates: Sequence[PlateSeen], *,
                      now: datetime | None = None) -> int:
    """Write the plates read on a segment as reads of ``FOOTAGE-OCR`` at its camera; returns how many are new."""
    if not plates:
        return 0
    now = now or datetime.now(timezone.utc)
    with store.snapshot() as session:
        segment = session.get(FootageSegment, segment_id)
        if segment is None:
            return 0
        camera, start = segment.camera_id, segment.start
    reads = pd.DataFrame({
        "line": range(1, len(plates) + 1),
        "source": SOURCE,
        "source_read_id": [read_id(segment_id, p) for p in plates],
        "camera_id": camera,
        "time": pd.to_datetime([start + timedelta(seconds=p.time) for p in plates], utc=True),
        "plate_raw": [p.raw[:64] for p in plates],
        "plate": [p.plate for p in plates],
        "country": pd.Series([p.country for p in plates], dtype=object),
        "confidence": [round(p.confidence, 4) for p in plates],
        "direction": pd.Series([None] * len(plates), dtype=object),
        "lane": pd.Series([None] * len(plates), dtype="Int64"),
        "image_ref": [f"footage:{read_id(segment_id, p)}" for p in plates],
    })
    batch = FeedBatch(f"footage segment {segment_id}", reads)
    report = ingest_batch(store, batch, now=now, audit=audit.writer(audit.Actor(ACTOR), time=now))
    return report.loaded
