"""The legend of every map: a small Leaflet control of our own (no plugin, no CDN).

    >>> from workbench.maps.legend import legend_entries
    >>> legend_entries("nl")[0]
    ('line', '#e8823a', 5, 'Autosnelweg')
"""

from __future__ import annotations

import html

from branca.element import MacroElement
from jinja2 import Template

from workbench.config import LANGUAGES

# (shape, colour, width, (fr, nl, en)); shapes: line, dash, area, dot
_ENTRIES: list[tuple[str, str, float, tuple[str, str, str]]] = [
    ("line", "#e8823a", 5, ("Autoroute", "Autosnelweg", "Motorway")),
    ("line", "#f4b942", 4, ("Route principale", "Hoofdweg", "Primary road")),
    ("line", "#f7e07c", 3.5, ("Route secondaire", "Secundaire weg", "Secondary road")),
    ("line", "#fffbe6", 3, ("Route tertiaire", "Tertiaire weg", "Tertiary road")),
    ("line", "#ffffff", 2, ("Rue", "Straat", "Street")),
    ("dash", "#6d6d6d", 1.5, ("Chemin de fer", "Spoorweg", "Railway")),
    ("area", "#aad3df", 0, ("Eau", "Water", "Water")),
    ("area", "#c8e6c0", 0, ("Parc, bois", "Park, bos", "Park, wood")),
    ("line", "#0d47a1", 3, ("Région", "Gewest", "Region")),
    ("dash", "#6a1b9a", 2, ("Zone de police", "Politiezone", "Police zone")),
    ("line", "#78909c", 1, ("Commune", "Gemeente", "Municipality")),
]
_TITLE = ("Légende", "Legende", "Legend")


Entry = tuple[str, str, float, tuple[str, str, str]]


def legend_entries(lang: str = "fr", entries: list[Entry] | None = None) -> list[tuple[str, str, float, str]]:
    """The legend's rows in ``lang``: (shape, colour, width, label); the base map's unless ``entries`` given."""
    k = LANGUAGES.index(lang if lang in LANGUAGES else "fr")
    return [(shape, colour, width, names[k]) for shape, colour, width, names in entries or _ENTRIES]


def _swatch(shape: str, colour: str, width: float) -> str:
    if shape == "area":
        return f"<rect x='1' y='2' width='22' height='10' fill='{colour}' stroke='#999' stroke-width='0.5'/>"
    if shape == "dot":
        return f"<circle cx='12' cy='7' r='5' fill='none' stroke='{colour}' stroke-width='{width}'/>"
    dash = " stroke-dasharray='5 3'" if shape == "dash" else ""
    casing = f"<line x1='1' y1='7' x2='23' y2='7' stroke='#9e9e9e' stroke-width='{width + 1.5}'/>" \
        if colour in {"#ffffff", "#fffbe6"} else ""
    return casing + f"<line x1='1' y1='7' x2='23' y2='7' stroke='{colour}' stroke-width='{width}'{dash}/>"


def legend_html(lang: str = "fr", entries: list[Entry] | None = None,
                title: tuple[str, str, str] = _TITLE) -> str:
    """The legend as an HTML fragment (inline SVG swatches)."""
    rows = "".join(f"<div><svg width='24' height='14'>{_swatch(shape, colour, width)}</svg> "
                   f"{html.escape(label)}</div>" for shape, colour, width, label in legend_entries(lang, entries))
    title_text = html.escape(title[LANGUAGES.index(lang if lang in LANGUAGES else "fr")])
    return f"<details open><summary><b>{title_text}</b></summary>{rows}</details>"


class Legend(MacroElement):
    """A collapsible legend in the bottom-right corner of the map (the base map's, or ``entries`` under ``title``)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", {{ this.css_class | tojson }});
    div.style.cssText = "background:rgba(255,255,255,0.92);padding:4px 8px;font:11px sans-serif;line-height:16px";
    div.innerHTML = {{ this.body | tojson }};
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
""")

    def __init__(self, lang: str = "fr", entries: list[Entry] | None = None,
                 title: tuple[str, str, str] = _TITLE, css_class: str = "wb-legend") -> None:
        super().__init__()
        self._name = "Legend"
        self.body = legend_html(lang, entries, title)
        self.css_class = f"{css_class} leaflet-bar"
