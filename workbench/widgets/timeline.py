"""A timeline of sightings: one row per camera, one dot per passage, in time order.

    >>> timeline = Timeline(trip.sightings)

Drawn as inline SVG, so it shows in a notebook, a Voila app and an exported
HTML report alike, with no script and no network.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from workbench.maps import time_colour
from workbench.timeutil import format_local
from workbench.widgets.labels import text

_ROW, _LEFT, _WIDTH = 22, 150, 820


def timeline_svg(sightings: pd.DataFrame, *, lang: str = "fr") -> str:
    """The SVG of a timeline of ``sightings`` (columns ``time``, aware, and ``camera_id``), in Brussels time."""
    if sightings.empty:
        return f"<p class='wb-timeline'>{html.escape(text('no_sighting', lang))}</p>"
    times = pd.to_datetime(sightings["time"], utc=True)
    cameras = list(dict.fromkeys(sightings.sort_values("time")["camera_id"]))
    t0, t1 = times.min(), times.max()
    span = max((t1 - t0).total_seconds(), 1.0)
    plot = _WIDTH - _LEFT - 20
    height = _ROW * len(cameras) + 40
    parts = [f"<svg class='wb-timeline' xmlns='http://www.w3.org/2000/svg' width='{_WIDTH}' height='{height}' "
             f"font-family='sans-serif' font-size='11'>",
             f"<text x='{_LEFT}' y='{height - 6}'>{format_local(t0)}</text>",
             f"<text x='{_WIDTH - 20}' y='{height - 6}' text-anchor='end'>{format_local(t1, with_date=False)}</text>"]
    for row, camera in enumerate(cameras):
        y = 14 + row * _ROW
        parts.append(f"<text x='{_LEFT - 8}' y='{y + 4}' text-anchor='end'>{html.escape(str(camera))}</text>"
                     f"<line x1='{_LEFT}' x2='{_LEFT + plot}' y1='{y}' y2='{y}' stroke='#ddd'/>")
    label = sightings["plate_as_read"] if "plate_as_read" in sightings else \
        sightings.get("plate", sightings["camera_id"])
    for t, camera, name in zip(times, sightings["camera_id"], label):
        x = _LEFT + plot * (t - t0).total_seconds() / span
        y = 14 + cameras.index(camera) * _ROW
        colour = time_colour((t - t0).total_seconds() / span)
        parts.append(f"<circle class='wb-sighting' cx='{x:.1f}' cy='{y}' r='6' fill='{colour}'>"
                     f"<title>{html.escape(str(name))} {format_local(t, with_date=False, with_utc=True)} "
                     f"{html.escape(str(camera))}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


class Timeline(widgets.VBox):
    """The timeline widget; ``update(sightings)`` redraws it."""

    def __init__(self, sightings: pd.DataFrame | None = None, *, lang: str = "fr") -> None:
        self.lang = lang
        self.drawing = widgets.HTML()
        super().__init__([widgets.HTML(f"<b>{html.escape(text('timeline', lang))}</b>"), self.drawing])
        if sightings is not None:
            self.update(sightings)

    def update(self, sightings: pd.DataFrame) -> None:
        """Draw ``sightings`` (columns ``time`` and ``camera_id``)."""
        self.drawing.value = timeline_svg(sightings, lang=self.lang)
