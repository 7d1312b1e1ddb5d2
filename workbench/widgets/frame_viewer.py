"""Look at footage: one camera with scrubbing and keyframe steps, or a grid of synchronised cameras.

    >>> viewer = FrameViewer(case, "CCTV-PZ5344-102", "2026-11-20T08:29:26Z")
    >>> grid = SyncGrid(case, "2026-11-20T08:29:26Z", near="CCTV-PZ5344-102", radius=300)

Every picture is an audited ``case.frame`` or ``case.frames_at`` read.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

import ipywidgets as widgets

from workbench.errors import WorkbenchError
from workbench.timeutil import as_utc, format_local
from workbench.widgets.case_header import message_html
from workbench.widgets.labels import error_text, text

SCRUB_SECONDS = 30


class FrameViewer(widgets.VBox):
    """One camera around a moment: a slider of ±30 s, previous/next keyframe, the true frame time."""

    def __init__(self, case: Any, camera: str, at: datetime | str, *, lang: str = "fr", width: int = 640) -> None:
        self.case, self.camera, self.centre, self.lang, self.width = case, camera, as_utc(at), lang, width
        self.image = widgets.Image(format="jpeg", layout={"width": f"{width}px"})
        self.caption = widgets.HTML()
        self.slider = widgets.FloatSlider(value=0, min=-SCRUB_SECONDS, max=SCRUB_SECONDS, step=0.5,
                                          description=text("offset", lang), continuous_update=False,
                                          layout={"width": f"{width}px"})
        self.previous = widgets.Button(description=text("previous_key", lang))
        self.next = widgets.Button(description=text("next_key", lang))
        self.previous.add_class("wb-previous-keyframe")
        self.next.add_class("wb-next-keyframe")
        self.slider.observe(lambda c: self.show(self.centre + timedelta(seconds=c["new"])), names="value")
        self.previous.on_click(lambda _b: self.step("previous"))
        self.next.on_click(lambda _b: self.step("next"))
        self.shown: Any = None
        super().__init__([self.caption, self.image, self.slider, widgets.HBox([self.previous, self.next])])
        self.show(self.centre)

    def show(self, at: datetime, keyframe: str | None = None) -> None:
        """Show the frame on screen at ``at`` (or the keyframe before/after it)."""
        try:
            frame = self.case.frame(self.camera, at, keyframe=keyframe)
        except WorkbenchError as exc:
            self.caption.value = message_html(f"{self.camera}: {error_text(exc, self.lang)}", "warning")
            return
        self.shown = frame
        self.image.value = frame.to_jpeg(self.width)
        kind = f" ({text('keyframe', self.lang)})" if frame.keyframe else ""
        self.caption.value = (f"<b>{html.escape(self.camera)}</b> — "
                              f"{html.escape(format_local(frame.time, with_utc=True, ms=True))}{kind}")

    def step(self, direction: str) -> None:
        """Move to the previous or next keyframe of the recording."""
        start = self.shown.time if self.shown is not None else self.centre
        self.show(start, keyframe=direction)


class SyncGrid(widgets.VBox):
    """The frames of every authorised camera near a place at one instant, nearest first."""

    def __init__(self, case: Any, at: datetime | str, *, near: Any, radius: float = 250.0, lang: str = "fr",
                 width: int = 320) -> None:
        self.lang = lang
        title = widgets.HTML(f"<b>{html.escape(text('synchronised', lang))}</b> — "
                             f"{html.escape(format_local(at, with_utc=True))}")
        try:
            frames = case.frames_at(at, near=near, radius=radius)
        except WorkbenchError as exc:
            super().__init__([title, widgets.HTML(message_html(error_text(exc, lang), "warning"))])
            return
        cells = [widgets.VBox([widgets.Image(value=f.to_jpeg(width), format="jpeg", layout={"width": f"{width}px"}),
                               widgets.HTML(f"{html.escape(f.camera_id)} "
                                            f"{format_local(f.time, with_date=False, ms=True)}")])
                 for f in frames]
        body = widgets.GridBox(cells, layout={"grid_template_columns": f"repeat(auto-fill, {width + 8}px)"}) \
            if cells else widgets.HTML(message_html(text("no_frame", lang), "warning"))
        super().__init__([title, body])
        self.frames = frames

