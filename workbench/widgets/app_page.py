"""What every app page does around its widgets: warm up before the visit, learn the visitor's language, show progress.

Voila keeps a pool of preheated kernels (``workbench apps``, see
``voila_apps/voila.json``): each runs its app's notebook up to
:func:`request_language`, which waits for a visitor's request. Everything
slow and not personal (imports, the road graph, the street map) is done
before by :func:`warm_up`, so a page view only logs in, opens the case and
draws the page. Outside a preheated kernel (a notebook, nbval, Voila as a
server extension) :func:`request_language` returns at once.

    >>> from workbench.widgets.app_page import Progress
    >>> progress = Progress(lang="nl")
    >>> with progress.step("step_map"):
    ...     pass                                   # the bar shows while the block runs
    >>> progress.value
    ''
"""

from __future__ import annotations

import dataclasses
import html
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from workbench.config import Settings
from workbench.widgets.labels import text

_FROM_THE_ADDRESS = ("lang", "bookmark")   # the settings an app's address may give
_BAR_CSS = ("<style>@keyframes wb-slide{from{background-position:0 0}to{background-position:40px 0}}"
            ".wb-progress .wb-bar{height:6px;width:260px;border-radius:3px;background:repeating-linear-gradient("
            "45deg,#1565c0 0 10px,#90caf9 10px 20px);animation:wb-slide .8s linear infinite}</style>")


def warm_up(workspace: Any) -> None:
    """Do the slow, impersonal work of a first page view now: the road graph, the street map, the catalogue's
    object mapping (SQLAlchemy configures it on a first query).

    Called before :func:`request_language` in the apps, it runs while the
    kernel waits in Voila's pool; it reads no case data and writes no audit
    event.
    """
    from sqlalchemy.orm import configure_mappers

    from workbench import maps
    from workbench.trajectories.road_graph import RoadGraph

    configure_mappers()

    settings = workspace.settings
    maps.base_map(settings).get_root().render()     # street layer, inlined Leaflet, boundaries, legend
    if getattr(settings, "cache_dir", None) is not None and os.access(settings.cache_dir, os.W_OK):
        RoadGraph.load(settings.cache_dir)          # the graph file is read into the page cache


def request_language() -> str:
    """The visitor's language (``?lang=`` of the app's address, else ``WORKBENCH_LANG``, else French).

    In a preheated Voila kernel this waits for the visitor's request, whose
    query string Voila then puts in the environment.
    """
    from workbench.widgets.voila_request import wait_for_request

    wait_for_request()
    return Settings.from_env().lang


def page_settings(workspace: Any) -> Settings:
    """The workspace's settings with what the visitor's address says (``?lang=``, ``?bookmark=``).

    A preheated kernel opened its workspace before the visitor came, so its
    settings miss them; call this after :func:`request_language`.
    """
    asked = Settings.from_env()
    return dataclasses.replace(workspace.settings, **{name: getattr(asked, name) for name in _FROM_THE_ADDRESS})


class Progress(widgets.HTML):
    """A moving bar with the name of the step running; empty when nothing runs."""

    def __init__(self, *, lang: str = "fr") -> None:
        super().__init__()
        self.lang = lang

    @contextmanager
    def step(self, key: str, number: int | None = None, of: int | None = None) -> Iterator[None]:
        """Show the step named by the label ``key`` (``number`` of ``of`` when given) while the block runs."""
        count = f"{number}/{of} — " if number is not None and of is not None else ""
        self.value = (f"{_BAR_CSS}<div class='wb-progress' role='progressbar'><span>{count}"
                      f"{html.escape(text(key, self.lang))}</span><div class='wb-bar'></div></div>")
        try:
            yield
        finally:
            self.value = ""
