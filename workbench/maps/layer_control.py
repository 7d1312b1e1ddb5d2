"""The layer control of a map stays after every layer it lists.

    >>> from workbench.maps.layer_control import control_last
    >>> m = control_last(m)          # after adding a layer   # doctest: +SKIP
"""

from __future__ import annotations

import folium


def control_last(m: folium.Map) -> folium.Map:
    """Keep the layer control after every layer (it must be rendered after the layers it lists)."""
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[key]
            m.add_child(child, name=key)
    return m
