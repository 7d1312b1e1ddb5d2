"""The offline street map as a picture: for printed reports (PDF), drawn with matplotlib, no tile server.

The same street layer as the interactive maps (:mod:`workbench.maps.street_layer`, read from the shipped
OpenStreetMap extract), cut to the area of a trajectory, with its route, its numbered sightings, a legend, a
scale bar and the attribution.

    >>> png = map_png(settings.cache_dir, trip.sightings, route_lines(trip.route), lang="fr")   # doctest: +SKIP
    >>> png[:4]                                                                               # doctest: +SKIP
    b'\\x89PNG'
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.config import LANGUAGES
from workbench.maps.legend import legend_entries
from workbench.maps.street_layer import AREA_STYLES, ATTRIBUTION, LINE_STYLES, street_layer_json

_M_PER_DEG_LAT = 111_320.0
_MIN_SPAN_M = 1500.0        # the smallest area drawn (a single sighting still shows its streets)
_ROUTE, _SIGHTING = "#c62828", "#0d47a1"
_WORDS = {"route": ("Trajet", "Traject", "Route"), "sightings": ("Passages (n°)", "Doorgangen (nr.)",
                                                                  "Sightings (no.)")}


def _word(key: str, lang: str) -> str:
    return _WORDS[key][LANGUAGES.index(lang if lang in LANGUAGES else "fr")]


@lru_cache(maxsize=2)
def _decoded(layer_json: str) -> dict[str, dict[str, list[np.ndarray]]]:
    """The street layer's delta-encoded lines and areas as arrays of (lon, lat)."""
    import json

    layer = json.loads(layer_json)

    def decode(flat: list[int]) -> np.ndarray:
        pairs = np.cumsum(np.asarray(flat, dtype=np.int64).reshape(-1, 2), axis=0) / 1e5
        return pairs[:, ::-1]   # (lat, lon) -> (lon, lat)

    return {group: {kind: [decode(f) for f in items] for kind, items in layer[group].items()}
            for group in ("lines", "areas")}


def _bounds(points: np.ndarray) -> tuple[float, float, float, float]:
    """An area around ``points`` (lon, lat), padded, at least ``_MIN_SPAN_M`` wide and high."""
    lon0, lat0 = points.min(axis=0)
    lon1, lat1 = points.max(axis=0)
    cos = math.cos(math.radians((lat0 + lat1) / 2))
    half_w = max((lon1 - lon0) * 0.58, _MIN_SPAN_M / 2 / (_M_PER_DEG_LAT * cos))
    half_h = max((lat1 - lat0) * 0.58, _MIN_SPAN_M / 2 / _M_PER_DEG_LAT)
    cx, cy = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def _inside(shape: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    return bool(shape[:, 0].max() >= box[0] and shape[:, 0].min() <= box[2]
                and shape[:, 1].max() >= box[1] and shape[:, 1].min() <= box[3])


def _scale_bar(ax, box: tuple[float, float, float, float]) -> None:  # type: ignore[no-untyped-def]
    cos = math.cos(math.radians((box[1] + box[3]) / 2))
    width_m = (box[2] - box[0]) * _M_PER_DEG_LAT * cos
    length = max(n for n in (50, 100, 200, 250, 500, 1000, 2000, 5000, 10000) if n <= width_m / 4)
    x0 = box[0] + (box[2] - box[0]) * 0.04
    y0 = box[1] + (box[3] - box[1]) * 0.04
    x1 = x0 + length / (_M_PER_DEG_LAT * cos)
    ax.plot([x0, x1], [y0, y0], color="black", linewidth=3, solid_capstyle="butt", zorder=9)
    ax.text((x0 + x1) / 2, y0 + (box[3] - box[1]) * 0.012, f"{length} m" if length < 1000 else f"{length // 1000} km",
            ha="center", va="bottom", fontsize=8, zorder=9)


def map_png(cache_dir: Path, sightings: pd.DataFrame, route: list[dict], *, lang: str = "fr",
            size: tuple[float, float] = (7.2, 5.6), dpi: int = 160) -> bytes:
    """A PNG of the street map around ``sightings`` (lon, lat; numbered in table order) and ``route`` legs
    (:func:`workbench.result_export.route_lines`), with legend, scale bar and attribution."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    placed = sightings.dropna(subset=["lon", "lat"]) if len(sightings) else sightings
    points = [placed[["lon", "lat"]].to_numpy(dtype=float)] if len(placed) else []
    points += [np.asarray(leg["coordinates"], dtype=float) for leg in route if leg["coordinates"]]
    if not points:
        points = [np.array([[4.3517, 50.8466]])]   # nothing placed: the centre of Brussels
    box = _bounds(np.vstack(points))
    layer = _decoded(street_layer_json(cache_dir))
    fig = Figure(figsize=size, dpi=dpi)
    ax = fig.add_axes((0, 0.12, 1, 0.88))
    ax.set_facecolor("#f2efe9")
    for kind, colour in AREA_STYLES:
        shapes = [a for a in layer["areas"].get(kind, []) if _inside(a, box)]
        ax.add_collection(PolyCollection(shapes, facecolors=colour, edgecolors="none", zorder=1))
    for kind, colour, weight, _zoom in LINE_STYLES:
        shapes = [line for line in layer["lines"].get(kind, []) if _inside(line, box)]
        casing = "#bdbdbd" if colour in ("#ffffff", "#fffbe6") else colour
        ax.add_collection(LineCollection(shapes, colors=casing, linewidths=weight * 0.55 + 0.6, zorder=2,
                                         linestyles="dashed" if kind == "rail" else "solid"))
        ax.add_collection(LineCollection(shapes, colors=colour, linewidths=weight * 0.55, zorder=3,
                                         linestyles="dashed" if kind == "rail" else "solid"))
    for leg in route:
        xy = np.asarray(leg["coordinates"], dtype=float)
        if len(xy) > 1:
            ax.plot(xy[:, 0], xy[:, 1], color=_ROUTE, linewidth=2.6, alpha=0.85, zorder=5,
                    linestyle="solid" if leg.get("kind", "main") == "main" else "dotted")
    for n, row in enumerate(sightings.itertuples(), 1):
        if pd.notna(getattr(row, "lon", None)) and pd.notna(getattr(row, "lat", None)):
            ax.plot(row.lon, row.lat, "o", markersize=11, color=_SIGHTING, markeredgecolor="white", zorder=6)
            ax.text(row.lon, row.lat, str(n), color="white", fontsize=6.5, ha="center", va="center",
                    fontweight="bold", zorder=7)
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect(1 / math.cos(math.radians((box[1] + box[3]) / 2)))
    ax.set_axis_off()
    _scale_bar(ax, box)
    handles: list[Line2D | Patch] = [Line2D([], [], color=_ROUTE, linewidth=2.6, label=_word("route", lang)),
               Line2D([], [], marker="o", color=_SIGHTING, linestyle="none", markersize=8,
                      label=_word("sightings", lang))]
    for shape, colour, width, label in legend_entries(lang)[:8]:
        handles.append(Patch(facecolor=colour, edgecolor="#999999", label=label) if shape == "area" else
                       Line2D([], [], color=colour if colour != "#ffffff" else "#bdbdbd", linewidth=width * 0.6,
                              linestyle="dashed" if shape == "dash" else "solid", label=label))
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=7, frameon=False)
    ax.text(0.995, 0.005, ATTRIBUTION, transform=ax.transAxes, ha="right", va="bottom", fontsize=6,
            color="#333333", zorder=9)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi)
    return out.getvalue()
