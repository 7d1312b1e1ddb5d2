"""Widgets shared by the notebooks and the Voila apps (ipywidgets), labelled in FR, NL and EN.

    >>> from workbench import widgets as ww
    >>> header = ww.CaseHeader(ws, "sightings_map", user="inspector.dupont")
    >>> search = ww.PlateSearch(header.case, on_plate=print)
    >>> timeline = ww.Timeline(trip.sightings)
    >>> viewer = ww.FrameViewer(case, "CCTV-PZ5344-102", "2026-11-20T08:29:26Z")

They take an open case (or a workspace) and show refusals and empty results
as messages, never as tracebacks.
"""

from workbench.widgets.analysis_forms import PlaceWindow, result_table
from workbench.widgets.app_page import Progress, page_settings, request_language, warm_up
from workbench.widgets.case_header import CaseHeader, message_html
from workbench.widgets.frame_viewer import FrameViewer, SyncGrid
from workbench.widgets.gallery import HitGallery, hit_caption
from workbench.widgets.hit_triage import HitTriage, plate_groups
from workbench.widgets.labels import error_text, text
from workbench.widgets.map_view import MapView
from workbench.widgets.plate_search import PlateSearch, suggestions
from workbench.widgets.playback_view import PlaybackView, RouteFootage
from workbench.widgets.sharing import BookmarkBar, BookmarkList, ReportButton
from workbench.widgets.sightings_table import SightingsTable, exclusions_html
from workbench.widgets.timeline import Timeline, timeline_svg

__all__ = ["BookmarkBar", "BookmarkList", "CaseHeader", "FrameViewer", "HitGallery", "HitTriage", "MapView",
           "PlaceWindow", "PlateSearch", "PlaybackView", "Progress", "ReportButton", "RouteFootage", "SightingsTable",
           "SyncGrid", "Timeline", "error_text", "exclusions_html", "hit_caption", "message_html", "page_settings",
           "plate_groups", "request_language", "result_table", "suggestions", "text", "timeline_svg", "warm_up"]
