"""How well the frame index names what passes, measured on real events labelled by hand.

``tests/data/footage/labelled_events.csv`` holds, for the real clips beside it,
one row per moving object the index found: the clip, the time of its best view,
its box there (shares of the image), and what a person looking at the picture
says it is (colour from the search palette, kind; ``none`` where the "object"
is not one, such as a patch of road; colour ``none`` where it is not scored).
The thresholds of the colour and kind rules were set on these events: they
measure in sample (``colour_accuracy_by_clip`` shows how far the two clips
differ; rules refitted on one clip and scored on the other do worse, see
docs/architecture.md). ``heldout/labelled_events.csv`` labels the events of two
clips added after the rules were set (pedestrians: two stretches of OpenCV's
``vtest.avi``), scored the same way for kind. Each labelled object is matched to the
index's event nearest in time whose box overlaps it; one not found counts as
wrong.

``labelled_rois.csv`` names regions of the same clips: ``foliage`` (trees,
lawn, hedges that move in the wind, where no road or path is) and ``road``.
Motion in a foliage region is a real hit only while an object's track crosses
it; on a road region, the seconds an object's track crosses it should all show
motion (recall).

    >>> scores = evaluate_labelled_events()                   # doctest: +SKIP
    >>> scores["colour_accuracy"], scores["kind_accuracy"]    # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.bench._footage_corpus import CLIPS
from workbench.search.frame_analysis import roi_mask
from workbench.search.index_build import SegmentIndex, index_video

LABELS = CLIPS / "labelled_events.csv"
HELD_OUT = CLIPS / "heldout" / "labelled_events.csv"
"""Events of clips nothing was tuned on (pedestrians; colour not labelled: clothes are not a vehicle's body)."""
ROIS = CLIPS / "labelled_rois.csv"
MATCH_S = 0.5        # seconds between a label and an event's best view
MATCH_IOU = 0.3


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def evaluate_labelled_events(labels: Path = LABELS) -> dict[str, float | int | dict[str, float] | None]:
    """Index each labelled clip and score colour and kind against the labels, and the objects' precision."""
    table = pd.read_csv(labels)
    rois = pd.read_csv(Path(labels).with_name(ROIS.name))
    right_colour = right_kind = real = coloured = found_real = events_total = 0
    by_clip: dict[str, list[int]] = {}   # clip: [right colours, coloured]
    motion = {"foliage": [0, 0, 0], "road": [0, 0, 0]}   # seconds: with motion, also crossed, crossed
    for clip, rows in table.groupby("clip"):
        index = index_video(Path(labels).parent / str(clip), read_plates=False)   # no legible plate in them
        for roi in rois[rois["clip"] == clip].itertuples():
            hits, crossed = _motion_in(index, (roi.x0, roi.y0, roi.x1, roi.y1))
            counts = motion[roi.what]
            counts[0], counts[1], counts[2] = (counts[0] + int(hits.sum()), counts[1] + int((hits & crossed).sum()),
                                               counts[2] + int(crossed.sum()))
        events = index.events
        events_total += len(events)
        views = [(e, e.track[int(np.argmin(np.abs(e.track[:, 0] - e.best_time))), 1:]) for e in events]
        for row in rows.itertuples():
            box = np.array([row.x0, row.y0, row.x1, row.y1])
            near = [(_iou(box, b), e) for e, b in views if abs(e.best_time - row.time_s) <= MATCH_S]
            score, event = max(near, key=lambda p: p[0], default=(0.0, None))
            match = event if score >= MATCH_IOU else None
            if row.kind == "none":
                continue
            real += 1
            coloured += row.colour != "none"
            clip_colours = by_clip.setdefault(str(clip), [0, 0])
            clip_colours[1] += row.colour != "none"
            if match is not None:
                found_real += 1
                right_colour += row.colour != "none" and match.colour == row.colour
                clip_colours[0] += row.colour != "none" and match.colour == row.colour
                right_kind += match.kind == row.kind
    foliage_hits, foliage_real, _ = motion["foliage"]
    return {"labelled_objects": real, "colour_accuracy": round(right_colour / coloured, 4) if coloured else None,
            "colour_accuracy_by_clip": {clip: round(right / n, 4) for clip, (right, n) in by_clip.items() if n},
            "kind_accuracy": round(right_kind / max(1, real), 4),
            "object_precision_real": round(found_real / max(1, events_total), 4),
            "motion_precision_vegetation": round(foliage_real / foliage_hits, 4) if foliage_hits else 1.0,
            "motion_seconds_vegetation": foliage_hits,
            "motion_recall_road": round(motion["road"][1] / max(1, motion["road"][2]), 4)}


def _motion_in(index: SegmentIndex, roi: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Per second: motion inside ``roi``, and an object's track crossing it."""
    hits = ((index.motion & roi_mask(roi)) != 0).any(axis=1)
    crossed = np.zeros(len(hits), bool)
    for event in index.events:
        for t, x0, y0, x1, y1 in event.track:
            if x1 > roi[0] and x0 < roi[2] and y1 > roi[1] and y0 < roi[3]:
                crossed[min(int(t), len(crossed) - 1)] = True
    return hits, crossed
