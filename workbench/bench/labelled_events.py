"""How well the frame index names what passes, measured on real events labelled by hand.

``tests/data/footage/labelled_events.csv`` holds, for the real clips beside it,
one row per moving object the index found: the clip, the time of its best view,
its box there (shares of the image), and what a person looking at the picture
says it is (colour from the search palette, kind; ``none`` where the "object"
is not one, such as a patch of road). Each labelled object is matched to the
index's event nearest in time whose box overlaps it; one not found counts as
wrong.

    >>> scores = evaluate_labelled_events()                   # doctest: +SKIP
    >>> scores["colour_accuracy"], scores["kind_accuracy"]    # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.bench.footage_corpus import CLIPS
from workbench.search.index_build import index_video

LABELS = CLIPS / "labelled_events.csv"
MATCH_S = 0.5        # seconds between a label and an event's best view
MATCH_IOU = 0.3


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def evaluate_labelled_events(labels: Path = LABELS) -> dict[str, float | int]:
    """Index each labelled clip and score colour and kind against the labels, and the objects' precision."""
    table = pd.read_csv(labels)
    right_colour = right_kind = real = found_real = events_total = 0
    for clip, rows in table.groupby("clip"):
        events = index_video(Path(labels).parent / str(clip)).events
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
            if match is not None:
                found_real += 1
                right_colour += match.colour == row.colour
                right_kind += match.kind == row.kind
    return {"labelled_objects": real, "colour_accuracy": round(right_colour / max(1, real), 4),
            "kind_accuracy": round(right_kind / max(1, real), 4),
            "object_precision_real": round(found_real / max(1, events_total), 4)}
