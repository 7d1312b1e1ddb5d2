"""Hotlist hits grouped per plate, each plate a clickable row; acknowledge or dismiss a hit with a reason.

    >>> from workbench.widgets.hit_triage import HitTriage, plate_groups
    >>> triage = HitTriage(case, on_plate=print, lang="nl")   # doctest: +SKIP
    >>> triage.refresh()                                      # doctest: +SKIP
    >>> triage.poll(20)            # new hits appear without a reload  # doctest: +SKIP

Every read is the case's audited ``hits``; every decision is the case's
audited ``triage_hit`` (``hit-acknowledge`` / ``hit-dismiss``), shared by the
case's members. :meth:`HitTriage.poll` re-reads the hits in the background and
redraws only when they changed.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.timeutil import format_local
from workbench.widgets.case_header import message_html
from workbench.widgets.labels import error_text, text

BADGE = {0: "#b71c1c", 1: "#e65100", 2: "#f9a825", 3: "#607d8b", 4: "#9e9e9e"}
_STATE = {"": "to_handle", "acknowledge": "acknowledged", "dismiss": "dismissed"}


def plate_groups(hits: pd.DataFrame) -> pd.DataFrame:
    """One row per plate, most urgent first: plate, hits, priority (the highest), last_seen, cameras, reason,
    decision (``act`` when any hit is to act on), open (hits not yet acknowledged or dismissed)."""
    columns = ["plate", "hits", "priority", "last_seen", "cameras", "reason", "decision", "open"]
    if hits.empty:
        return pd.DataFrame(columns=columns)
    ordered = hits.sort_values(["priority", "time"], ascending=[True, False])
    triage = hits["triage"] if "triage" in hits else pd.Series("", index=hits.index)
    groups = ordered.assign(is_open=triage.reindex(ordered.index).fillna("").eq(""),
                            acts=ordered["decision"].eq("act")).groupby("plate", sort=False)
    table = groups.agg(hits=("hit_id", "size"), priority=("priority", "min"), last_seen=("time", "max"),
                       cameras=("camera_id", "nunique"), reason=("reason", "first"), acts=("acts", "any"),
                       open=("is_open", "sum")).reset_index()
    table["decision"] = table.pop("acts").map({True: "act", False: "ignore"})
    table["open"] = table["open"].astype(int)
    return table.sort_values(["priority", "last_seen"], ascending=[True, False], ignore_index=True)[columns]


class HitTriage(widgets.VBox):
    """The hits of a case per plate; a click on a plate shows its hits with acknowledge and dismiss."""

    def __init__(self, case: Any, on_plate: Callable[[str], None] | None = None, *, lang: str = "fr") -> None:
        self.case, self.on_plate, self.lang = case, on_plate, lang
        self.include_ignored = widgets.Checkbox(description=text("include_ignored", lang), indent=False)
        self.include_ignored.observe(lambda _c: self.refresh(), names="value")
        self.status, self.rows, self.detail = widgets.HTML(), widgets.VBox(), widgets.VBox()
        self.rows.add_class("wb-triage")
        self.hits = pd.DataFrame()
        self.selected: str | None = None
        self._signature: tuple = ()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        super().__init__([self.include_ignored, self.status, self.rows, self.detail])

    def refresh(self, *, quiet: bool = False) -> None:
        """Read the hits again (one audited read) and redraw what changed; ``quiet`` says only new hits."""
        with self._lock:
            try:
                hits = self.case.hits(include_ignored=self.include_ignored.value)
            except WorkbenchError as exc:
                self.status.value = message_html(error_text(exc, self.lang), "error")
                return
            signature = tuple(zip(hits["hit_id"], hits["triage"]))
            if quiet and signature == self._signature:
                return
            new = len(set(hits["hit_id"]) - set(self.hits["hit_id"])) if quiet and len(self.hits) else 0
            self.hits, self._signature = hits, signature
            self.rows.children = [self._row(g) for g in plate_groups(hits).itertuples()]
            self.status.value = message_html(f"{new} {text('new_hits', self.lang)}") if new else ""
            if self.selected is not None:
                self._show_detail(self.selected)

    def poll(self, interval_s: float = 20.0) -> None:
        """Re-read the hits every ``interval_s`` seconds in the background until :meth:`stop`."""
        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.refresh(quiet=True)
        threading.Thread(target=loop, name="hit-triage-poll", daemon=True).start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()

    def _row(self, g: Any) -> widgets.Button:
        state = f"{g.open} {text('to_handle', self.lang)}" if g.open else text("acknowledged", self.lang)
        label = (f"{int(g.priority)} · {g.plate} · {g.hits} {text('hits_of_plate', self.lang)} · "
                 f"{format_local(g.last_seen)} · {g.reason} · {text(g.decision, self.lang)} · {state}")
        row = widgets.Button(description=label, tooltip=label, layout={"width": "100%"},
                             style={"button_color": "#ffffff" if g.open else "#eeeeee"})
        row.add_class("wb-hit-row")
        row.add_class(f"wb-priority-{int(g.priority)}")
        row.on_click(lambda _b, plate=g.plate: self.select(plate))
        return row

    def select(self, plate: str) -> None:
        """Show ``plate``'s hits with their triage buttons, and tell the page (``on_plate``)."""
        self.selected = plate
        self._show_detail(plate)
        if self.on_plate is not None:
            self.on_plate(plate)

    def _show_detail(self, plate: str) -> None:
        mine = self.hits[self.hits["plate"] == plate].sort_values("time", ascending=False)
        lines = [widgets.HTML(f"<h3 class='wb-selected-plate'>{html.escape(plate)}</h3>")]
        for hit in mine.itertuples():
            state = text(_STATE.get(str(hit.triage), "to_handle"), self.lang)
            if hit.triage:
                state += (f" ({text('by', self.lang)} {hit.triage_by}, {format_local(hit.triage_at)}: "
                          f"{hit.triage_reason})")
            badge = (f"<span style='background:{BADGE.get(int(hit.priority), '#999')};color:white;padding:0 6px;"
                     f"border-radius:8px'>{int(hit.priority)}</span>")
            info = widgets.HTML(f"<span class='wb-hit' data-hit='{int(hit.hit_id)}' data-state='{hit.triage}'>{badge} "
                                f"{format_local(hit.time)} — {html.escape(str(hit.camera_id))} — "
                                f"{html.escape(str(hit.reason))} — <i>{html.escape(state)}</i></span>",
                                layout={"width": "640px"})
            reason = widgets.Text(placeholder=text("triage_reason", self.lang), layout={"width": "220px"})
            reason.add_class("wb-triage-reason")
            buttons = []
            for decision, style in (("acknowledge", "success"), ("dismiss", "warning")):
                button = widgets.Button(description=text(decision, self.lang), button_style=style)
                button.add_class(f"wb-{decision}")
                button.on_click(lambda _b, h=int(hit.hit_id), d=decision, r=reason: self.decide(h, d, r.value))
                buttons.append(button)
            lines.append(widgets.HBox([info, reason, *buttons]))
        self.detail.children = lines

    def decide(self, hit_id: int, decision: str, reason: str) -> None:
        """Acknowledge or dismiss a hit (audited through the case); a refusal or a missing reason is shown."""
        try:
            self.case.triage_hit(hit_id, decision, reason)
        except WorkbenchError as exc:
            self.status.value = message_html(error_text(exc, self.lang), "error")
            return
        self.refresh()
