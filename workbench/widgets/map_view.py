"""A folium map inside a widget, redrawn on demand.

    >>> from workbench import maps
    >>> view = MapView()
    >>> view.show(maps.base_map(settings))

The map is self-contained HTML (Leaflet inlined, see :mod:`workbench.maps`),
carried by an HTML widget: it draws the same in a notebook and in a Voila app,
with or without internet.
"""

from __future__ import annotations

import folium
import ipywidgets as widgets


class MapView(widgets.HTML):
    """An HTML widget holding one map; ``show(m)`` replaces it, ``clear()`` empties it."""

    def show(self, m: folium.Map) -> None:
        """Draw ``m`` in place of the previous map."""
        self.value = m._repr_html_()

    def clear(self) -> None:
        """Remove the map."""
        self.value = ""
