"""A plate search box: exact plates are found at once, misreads and typos get suggestions.

    >>> box = PlateSearch(case, on_plate=lambda plate: print(plate))
    >>> box.search("6G6M833")       # no exact read: suggests 6-GGM-833 (G/6 look alike)
         plate  distance  sightings
    0  6GGM833       0.2          6
    1  6GGMB33       0.4          1

Each search is one audited ``plate-reads`` query of the case (fuzzy, OCR-aware).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.widgets.case_header import message_html
from workbench.widgets.labels import error_text, text

MAX_SUGGESTIONS = 6


def suggestions(reads: pd.DataFrame, limit: int = MAX_SUGGESTIONS) -> pd.DataFrame:
    """Plates of fuzzy reads, closest first, then most seen: plate, distance, sightings."""
    if reads.empty:
        return pd.DataFrame(columns=["plate", "distance", "sightings"])
    table = (reads.groupby("plate", as_index=False)
             .agg(distance=("distance", "min"), sightings=("plate", "size"))
             .sort_values(["distance", "sightings", "plate"], ascending=[True, False, True]))
    return table.head(limit).reset_index(drop=True)


class PlateSearch(widgets.VBox):
    """Type a plate (or a pattern with ? and *), press search; ``on_plate(plate)`` gets the chosen plate."""

    def __init__(self, case: Any, on_plate: Callable[[str], None], *, lang: str = "fr",
                 max_distance: float = 1.5, on_start: Callable[[], None] | None = None) -> None:
        self.case, self.on_plate, self.lang, self.max_distance = case, on_plate, lang, max_distance
        self.on_start = on_start   # called as each search starts: the page clears the previous plate's results
        # the value arrives when the user presses Enter or leaves the box, not at each key
        self.query = widgets.Text(placeholder="1-ABC-234", description=text("plate", lang),
                                  layout={"width": "280px"}, continuous_update=False)
        self.button = widgets.Button(description=text("search", lang), button_style="primary")
        self.choices = widgets.ToggleButtons(options=[], value=None, layout={"display": "none"})
        self.status = widgets.HTML()
        self._submitted: str | None = None
        self.button.on_click(lambda _b: self._submit(self.query.value))
        self.query.observe(lambda change: self._submit(change["new"]), names="value")
        self.choices.observe(self._chosen, names="value")
        super().__init__([widgets.HBox([self.query, self.button]), self.status, self.choices])

    def search(self, query: str) -> pd.DataFrame:
        """Search ``query``; picks the exact plate if it was read, else offers the closest plates."""
        self.choices.layout.display = "none"
        self.choices.options = []
        if self.on_start is not None:
            self.on_start()
        query = query.strip()
        if not query:
            self.status.value = message_html(f"{text('plate', self.lang)} ?", "warning")
            return suggestions(pd.DataFrame())
        try:
            fuzzy = not any(ch in query for ch in "?*")
            reads = self.case.plate_reads(query, fuzzy=fuzzy, max_distance=self.max_distance)
        except WorkbenchError as exc:
            self.status.value = message_html(error_text(exc, self.lang), "error")
            return suggestions(pd.DataFrame())
        table = suggestions(reads)
        if table.empty:
            self.status.value = message_html(f"{query}: {text('no_sighting', self.lang)}", "warning")
        elif table["distance"].iloc[0] == 0 and (len(table) == 1 or table["distance"].iloc[1] > 0):
            self.status.value = ""
            self.on_plate(str(table["plate"].iloc[0]))
        else:
            self.status.value = message_html(text("suggestions", self.lang))
            self.choices.options = [(f"{r.plate} ({r.sightings})", r.plate) for r in table.itertuples()]
            self.choices.value = None
            self.choices.layout.display = "flex"
        return table

    def _submit(self, query: str) -> None:
        """Search what the user typed, once: leaving the box and then pressing the button is one search."""
        if query != self._submitted:
            self._submitted = query
            self.search(query)

    def _chosen(self, change: dict) -> None:
        if change["new"]:
            if self.on_start is not None:
                self.on_start()
            self.on_plate(str(change["new"]))
