"""The sightings of a trajectory as a list that says what the data says, and what was left out.

    >>> from workbench.widgets.sightings_table import SightingsTable, exclusions_html
    >>> table = SightingsTable(lang="nl")
    >>> table.update(trip)                                 # doctest: +SKIP
    >>> exclusions_html(exclusions(trip, blind), "fr")     # doctest: +SKIP

Each row is a sighting in Brussels time with the plate as read; a merged
misread or a sighting at either end of an impossible hop is named (suspected
clone). :func:`exclusions_html` counts the blind spots, the look-alike reads
left out and the sightings that cannot be placed, each with its reason.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from workbench.timeutil import format_local
from workbench.trajectories.findings import sighting_notes
from workbench.widgets.labels import text

_NOTE_STYLE = {"clone": "color:#aa00c8;font-weight:bold", "misread": "color:#e65100"}


def _note_text(note: str, as_read: str, lang: str) -> str:
    parts = []
    if "misread" in note.split("+"):
        parts.append(f"{text('note_misread', lang)} {as_read}")
    if "clone" in note.split("+"):
        parts.append(text("note_clone", lang))
    return "; ".join(parts)


def sightings_html(trip, lang: str = "fr") -> str:  # type: ignore[no-untyped-def]
    """The sightings of ``trip`` as an HTML table with a finding column."""
    notes = sighting_notes(trip)
    head = "".join(f"<th>{html.escape(text(k, lang))}</th>" for k in ("time", "camera", "as_read", "finding"))
    rows = []
    for i, row in trip.sightings.iterrows():
        note = str(notes.get(i, "") or "")
        style = _NOTE_STYLE["clone" if "clone" in note else "misread"] if note else ""
        rows.append(f"<tr class='wb-sighting-row' data-note='{html.escape(note)}'>"
                    f"<td>{format_local(row['time'], with_utc=True)}</td><td>{html.escape(str(row['camera_id']))}</td>"
                    f"<td>{html.escape(str(row.get('plate_as_read', row['plate'])))}</td>"
                    f"<td style='{style}'>{html.escape(_note_text(note, str(row.get('plate_as_read', '')), lang))}</td>"
                    "</tr>")
    return (f"<table class='wb-sightings' style='border-collapse:collapse;font-size:12px'><tr>{head}</tr>"
            f"{''.join(rows)}</table>")


def exclusions_html(table: pd.DataFrame, lang: str = "fr") -> str:
    """What the picture leaves out, counted per kind and reason (``findings.exclusions``), as an HTML list."""
    if table.empty:
        return f"<div class='wb-exclusions'>{html.escape(text('nothing_excluded', lang))}</div>"
    items = []
    for what, group in table.groupby("what", sort=False):
        total = int(group["count"].sum())
        if what == "impossible-hop":
            reasons = [f"{int(r.count)} {text(str(r.reason), lang)}" for r in group.itertuples()]
        else:
            reasons = [f"{int(r.count)}: {r.reason}" for r in group.itertuples()]
        items.append(f"<li data-what='{html.escape(str(what))}'><b>{total}</b> "
                     f"{html.escape(text(f'excl_{what}', lang))} "
                     f"<span style='color:#555'>({html.escape('; '.join(reasons))})</span></li>")
    return (f"<div class='wb-exclusions'><b>{html.escape(text('excluded', lang))}</b>"
            f"<ul style='margin:2px 0'>{''.join(items)}</ul></div>")


class SightingsTable(widgets.HTML):
    """The sightings list of a trajectory; ``update(trip)`` redraws it, ``clear()`` empties it."""

    def __init__(self, *, lang: str = "fr") -> None:
        super().__init__()
        self.lang = lang

    def update(self, trip) -> None:  # type: ignore[no-untyped-def]
        """Show ``trip``'s sightings with their findings."""
        self.value = sightings_html(trip, self.lang)

    def clear(self) -> None:
        """Remove the list."""
        self.value = ""
