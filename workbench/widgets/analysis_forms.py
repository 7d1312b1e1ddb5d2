"""The forms and tables of the vehicle analyses' apps: convoy, common plates, stakeout.

    >>> from workbench.widgets.analysis_forms import PlaceWindow, result_table
    >>> place = PlaceWindow(case.cameras(kind="anpr"), lang="nl")     # doctest: +SKIP
    >>> cameras, since, until = place.window()                          # doctest: +SKIP
    >>> result_table(case.stakeout(cameras, since=since, until=until), "nl")   # doctest: +SKIP

Times are typed and shown in Brussels time (the offset travels with them, so
the access layer receives an unambiguous instant).
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone

import ipywidgets as widgets
import pandas as pd

from workbench.errors import InvalidInput
from workbench.timeutil import LOCAL_ZONE, format_local
from workbench.widgets.labels import has_text, text


def local_iso(when: datetime) -> str:
    """``when`` as Brussels time with its offset, to the minute (``2026-11-26T09:15+01:00``)."""
    return when.astimezone(LOCAL_ZONE).isoformat(timespec="minutes")


class PlaceWindow(widgets.VBox):
    """Pick cameras and a time window; :meth:`window` returns them (InvalidInput when no camera is chosen)."""

    def __init__(self, cameras: pd.DataFrame, *, lang: str = "fr", title: str = "",
                 days: float = 7.0) -> None:
        self.lang = lang
        now = datetime.now(timezone.utc)
        options = [(f"{c.camera_id} — {c.name}", c.camera_id) for c in cameras.sort_values("camera_id").itertuples()]
        self.cameras = widgets.SelectMultiple(options=options, rows=6, description=text("cameras", lang),
                                              layout={"width": "520px"})
        self.cameras.add_class("wb-cameras")
        self.since = widgets.Text(local_iso(now - timedelta(days=days)), description=text("since", lang))
        self.until = widgets.Text(local_iso(now), description=text("until", lang))
        heading = [widgets.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        super().__init__([*heading, self.cameras, widgets.HBox([self.since, self.until])])

    def window(self) -> tuple[list[str], str, str]:
        """The chosen cameras and the window's two ends, as typed."""
        if not self.cameras.value:
            raise InvalidInput(text("choose_cameras", self.lang))
        return list(self.cameras.value), self.since.value.strip(), self.until.value.strip()


def result_table(frame: pd.DataFrame, lang: str = "fr", css_class: str = "wb-result") -> str:
    """An analysis' result as an HTML table: headers in ``lang``, times in Brussels time, lists joined."""
    if frame.empty:
        return f"<p class='{css_class} wb-empty'>{html.escape(text('no_result', lang))}</p>"
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            shown[column] = shown[column].map(format_local)
        elif column == "mean_gap_s":
            shown[column] = shown[column].round(0).astype(int)
        elif shown[column].map(lambda v: isinstance(v, list | tuple)).any():
            shown[column] = shown[column].map(lambda v: ", ".join(str(int(x) + 1) for x in v))
    shown.columns = [text(c, lang) if has_text(c) else c for c in shown.columns]
    rows = "".join("<tr class='wb-result-row'>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>"
                   for r in shown.itertuples(index=False))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    return f"<table class='{css_class}' style='border-collapse:collapse'><tr>{head}</tr>{rows}</table>"
