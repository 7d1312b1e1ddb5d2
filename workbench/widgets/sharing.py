"""Leave the app with something: a PDF report to download, a bookmark or saved search with a link for colleagues.

    >>> bar = BookmarkBar(case, lambda: {"kind": "frame", "camera": "CCTV-PZ5344-102", "at": "2026-11-20T08:29:26Z"})
    >>> button = ReportButton(case, lambda: "6-GGM-833", lang="nl")

Every action goes through the case (``case.bookmark``, ``case.report``), audited; refusals and bad input show
as messages in the user's language. A link opens the same app for a colleague on the same case
(``UserSession.open_bookmark`` refuses everyone else); under JupyterHub it goes through ``/hub/user-redirect/``,
which sends each colleague to their own server.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import ipywidgets as widgets

from workbench.access.bookmarks import link
from workbench.errors import WorkbenchError
from workbench.widgets.case_header import message_html
from workbench.widgets.labels import error_text, text


def link_prefix(settings: Any) -> str:
    """Where the apps are served for whoever opens a link: the hub's user redirect, or the server's root."""
    if settings.hub_api_url:
        hub = urlparse(settings.hub_api_url).path.rstrip("/").removesuffix("/api")
        return f"{hub}/user-redirect/"
    return "/"


def bookmark_link_html(mark: Any, settings: Any, lang: str) -> str:
    """A bookmark's link as HTML, with its title (``mark``: a Bookmark or a row of ``case.bookmarks()``)."""
    href = html.escape(link(mark.app, mark.id, link_prefix(settings), lang=lang))
    return (f"<a class='wb-bookmark-link' href='{href}' target='_blank' data-bookmark='{html.escape(mark.id)}'>"
            f"{html.escape(mark.title)}</a>")


class BookmarkBar(widgets.VBox):
    """A note and a button that bookmarks what ``what()`` describes (``case.bookmark`` keyword arguments)."""

    def __init__(self, case: Any, what: Callable[[], dict[str, Any]], *, lang: str = "fr",
                 label: str = "bookmark_add") -> None:
        self.case, self.what, self.lang = case, what, lang
        self.mark: Any = None
        self.note = widgets.Text(placeholder=text("note", lang), layout={"width": "320px"})
        self.button = widgets.Button(description=text(label, lang), icon="bookmark")
        self.button.add_class("wb-bookmark-add")
        self.result = widgets.HTML()
        self.button.on_click(lambda _b: self.save())
        super().__init__([widgets.HBox([self.note, self.button]), self.result])

    def save(self) -> None:
        """Bookmark now; show the link for colleagues, or why not."""
        try:
            kwargs = self.what()
            if self.note.value.strip():
                kwargs["note"] = self.note.value.strip()
            self.mark = self.case.bookmark(**kwargs)
        except WorkbenchError as exc:
            self.result.value = message_html(error_text(exc, self.lang), "error")
            return
        self.result.value = (f"<div class='wb-bookmark-saved'>{html.escape(text('bookmark_saved', self.lang))} "
                             f"{bookmark_link_html(self.mark, self.case.settings, self.lang)}</div>")


class BookmarkList(widgets.HTML):
    """The case's bookmarks and saved searches, each a link (``refresh()`` reads them again, audited)."""

    def __init__(self, case: Any, *, lang: str = "fr") -> None:
        super().__init__()
        self.case, self.lang = case, lang
        self.refresh()

    def refresh(self) -> None:
        try:
            marks = self.case.bookmarks()
        except WorkbenchError as exc:
            self.value = message_html(error_text(exc, self.lang), "warning")
            return
        rows = "".join(f"<li>{html.escape(r.kind)} — {bookmark_link_html(r, self.case.settings, self.lang)} "
                       f"<small>({html.escape(r.created_by)})</small></li>" for r in marks.itertuples())
        self.value = (f"<details class='wb-bookmarks'><summary>{html.escape(text('bookmarks', self.lang))} "
                      f"({len(marks)})</summary><ul>{rows}</ul></details>")


class ReportButton(widgets.VBox):
    """A button that writes the case report on ``plate()`` as PDF and offers it for download."""

    def __init__(self, case: Any, plate: Callable[[], str], *, lang: str = "fr") -> None:
        self.case, self.plate, self.lang = case, plate, lang
        self.report: Any = None
        self.button = widgets.Button(description=text("report_pdf", lang), icon="file-pdf-o")
        self.button.add_class("wb-report-button")
        self.result = widgets.HTML()
        self.button.on_click(lambda _b: self.make())
        super().__init__([self.button, self.result])

    def make(self) -> None:
        """Write the report; show a download link (the PDF inline), or why not."""
        self.result.value = message_html(text("working", self.lang))
        try:
            self.report = self.case.report(self.plate(), lang=self.lang)
        except WorkbenchError as exc:
            self.result.value = message_html(error_text(exc, self.lang), "error")
            return
        data = base64.b64encode(self.report.pdf).decode()
        self.result.value = (f"{html.escape(text('report_ready', self.lang))} <a class='wb-report-link' "
                             f"download='{html.escape(self.report.filename)}' href='data:application/pdf;base64,"
                             f"{data}'>{html.escape(self.report.filename)}</a> ({self.report.pages} p., SHA-256 "
                             f"{self.report.sha256[:16]}…)")
