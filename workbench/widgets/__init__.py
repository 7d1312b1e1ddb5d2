"""Widgets shared by the notebooks and the Voila apps (ipywidgets), labelled in FR, NL and EN.

    >>> from workbench import widgets as ww
    >>> header = ww.CaseHeader(wb.open(), "sightings_map")             # doctest: +SKIP
    >>> ww.PlateSearch(header.case, on_plate=print)                    # doctest: +SKIP
    >>> ww.Timeline(trip.sightings); ww.FrameViewer(case, camera, at)  # doctest: +SKIP

They take an open case (or a workspace) and show refusals and empty results
as messages, never as tracebacks.
"""

from workbench.widgets.case_header import CaseHeader, message_html
from workbench.widgets.frame_viewer import FrameViewer, SyncGrid
from workbench.widgets.gallery import HitGallery, hit_caption
from workbench.widgets.labels import text
from workbench.widgets.map_view import MapView
from workbench.widgets.plate_search import PlateSearch, suggestions
from workbench.widgets.timeline import Timeline, timeline_svg

__all__ = ["CaseHeader", "FrameViewer", "HitGallery", "MapView", "PlateSearch", "SyncGrid", "Timeline", "hit_caption",
           "message_html", "suggestions", "text", "timeline_svg"]
