"""A gallery of frame-search hits: thumbnail, camera, time, what moved; a button opens the hit.

    >>> gallery = HitGallery(case.frame_search(near=trip, colour="red"), on_pick=print)
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.timeutil import format_local
from workbench.widgets.case_header import message_html
from workbench.widgets.labels import text


def hit_caption(hit: pd.Series) -> str:
    """One line about a hit: camera, time, colour, kind and direction when known, score."""
    what = " ".join(str(hit[k]) for k in ("colour", "kind", "direction") if isinstance(hit.get(k), str))
    return f"{hit['camera_id']} {format_local(hit['best_time'], with_date=False)} {what} ({float(hit['score']):.2f})"


class HitGallery(widgets.VBox):
    """One page of hits as a grid of thumbnails; ``on_pick(hit)`` gets the row of the hit chosen."""

    def __init__(self, hits: Any, on_pick: Callable[[pd.Series], None], *, lang: str = "fr",
                 width: int = 240) -> None:
        summary = widgets.HTML(f"<b>{hits.total}</b> {text('hits', lang)} — {text('page', lang)} "
                               f"{hits.page}/{hits.pages}")
        cells = []
        for _, hit in hits.table.iterrows():
            picture = widgets.Image(value=hit["thumbnail"], format="jpeg", layout={"width": f"{width}px"}) \
                if isinstance(hit.get("thumbnail"), bytes) else widgets.HTML(text("no_frame", lang))
            button = widgets.Button(description=text("show", lang), layout={"width": f"{width}px"})
            button.add_class("wb-show-hit")
            button.on_click(lambda _b, row=hit: on_pick(row))
            cells.append(widgets.VBox([picture, widgets.HTML(f"<small>{html.escape(hit_caption(hit))}</small>"),
                                       button], layout={"border": "1px solid #ddd", "padding": "4px"}))
        body = widgets.GridBox(cells, layout={"grid_template_columns": f"repeat(auto-fill, {width + 12}px)"}) \
            if cells else widgets.HTML(message_html(f"0 {text('hits', lang)}", "warning"))
        super().__init__([summary, body])
