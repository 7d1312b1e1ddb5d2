"""The top of every app and dashboard: who is logged in, which case is open, and messages.

    >>> from workbench.widgets import CaseHeader
    >>> header = CaseHeader(ws, "sightings_map", user="inspector.dupont")
    >>> header.case                                          # the open case, or None with a message shown
    <Case PV-BR-2026-001234 (judicial-investigation) opened by inspector.dupont>

The identity is the one of the notebooks (JupyterHub's user or
``WORKBENCH_USER``) and the case rules are the same: a user who may not open
any case, or a case that is closed, gets a clear message and the app stays up.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from workbench.errors import WorkbenchError
from workbench.widgets.labels import error_text, text

_STYLE = {"info": "#0d47a1", "warning": "#e65100", "error": "#b71c1c"}


def message_html(message: str, level: str = "info") -> str:
    """A message box (``info``, ``warning`` or ``error``) for an HTML widget."""
    colour = _STYLE.get(level, _STYLE["info"])
    return (f"<div class='wb-message wb-{level}' style='border-left:4px solid {colour};padding:4px 8px;"
            f"margin:4px 0;color:{colour}'>{html.escape(message)}</div>")


class CaseHeader(widgets.VBox):
    """Log in from the environment, pick one of the user's open cases, show messages."""

    def __init__(self, workspace: Any, title_key: str, *, lang: str | None = None, needs_case: bool = True,
                 user: str | None = None) -> None:
        self.lang = lang or workspace.settings.lang
        self.workspace = workspace
        self.me: Any = None
        self.case: Any = None
        self._listeners: list[Callable[[Any], None]] = []
        self._purposes: dict[str, str] = {}
        self.messages = widgets.HTML()
        self.title = widgets.HTML(f"<h2 class='wb-title'>{html.escape(text(title_key, self.lang))}</h2>")
        self.picker = widgets.Dropdown(description=text("case", self.lang), layout={"width": "480px"})
        super().__init__([self.title, self.messages], layout={"margin": "0 0 8px 0"})
        try:
            self.me = workspace.login(user)
        except WorkbenchError as exc:
            self.error(exc)
            return
        self.children = (self.title, widgets.HTML(f"{text('user', self.lang)}: <b>{html.escape(self.me.user.name)}"
                                                  f"</b> ({html.escape(self.me.user.partner)})"), self.messages)
        if needs_case:
            self._offer_cases()

    def _offer_cases(self) -> None:
        cases = self.me.cases()
        usable = cases[cases["may_open"].astype(bool)]
        if usable.empty:
            self.show(text("no_case", self.lang), "warning")
            return
        self._purposes = dict(zip(usable["reference"], usable["purpose"]))
        self.picker.options = [(f"{r.reference} — {r.title}", r.reference) for r in usable.itertuples()]
        self.picker.value = usable["reference"].iloc[0]
        self.picker.observe(lambda change: self._open(change["new"]), names="value")
        self.children = (*self.children[:2], self.picker, self.messages)  # type: ignore[assignment]
        self._open(self.picker.value)

    def _open(self, reference: str) -> None:
        self.case = None
        try:
            self.case = self.me.open_case(reference, purpose=self._purposes[reference])
            self.show("")
        except WorkbenchError as exc:
            self.error(exc)
        for listener in self._listeners:
            listener(self.case)

    def open_bookmark(self, bookmark_id: str | None) -> Any:
        """Open the case of the bookmark an app's address names and return the bookmark; None (the refusal
        shown, in the user's words) when this user may not open it."""
        if not bookmark_id or self.me is None:
            return None
        try:
            mark = self.me.open_bookmark(bookmark_id)
        except WorkbenchError as exc:
            self.error(exc)
            return None
        if self.picker.value != mark.case_reference:
            self.picker.value = mark.case_reference   # opens it, for its purpose
        self.show(f"{text('opened_bookmark', self.lang)} : {mark.title}")
        return mark

    def on_case(self, listener: Callable[[Any], None]) -> None:
        """Call ``listener(case)`` now and whenever another case is opened (``None`` when refused)."""
        self._listeners.append(listener)
        if self.me is not None:
            listener(self.case)

    def show(self, message: str, level: str = "info") -> None:
        """Show a message (an empty one clears the box)."""
        self.messages.value = message_html(message, level) if message else ""

    def error(self, exc: BaseException) -> None:
        """Show a refused or impossible action in the investigator's words, without a traceback."""
        self.show(error_text(exc, self.lang), "error")
