"""What the data says, drawn: impossible hops, suspected clones, merged misreads and blind spots on a map.

    >>> from workbench.maps.findings_layer import add_findings
    >>> from workbench.trajectories.findings import blind_spots
    >>> m = add_findings(maps.add_trajectory(maps.base_map(settings), trip), trip,
    ...                  blind_spots(trip.route, case.camera_access()), lang="nl")     # doctest: +SKIP

An impossible hop is a straight dashed line between its two sightings (no road
links them in the time), named a suspected clone or a misread; the sightings
at its ends are ringed; a camera near the route that the case may not see is
drawn as a blind spot with the access layer's reason. A legend of its own
names each mark in the user's language.
"""

from __future__ import annotations

import folium
import pandas as pd

from workbench.config import LANGUAGES
from workbench.maps.layer_control import control_last
from workbench.maps.legend import Entry, Legend
from workbench.trajectories.findings import impossible_hops

CLONE, MISREAD, BLIND = "#d500f9", "#ff6d00", "#37474f"
_WORDS: dict[str, tuple[str, str, str]] = {
    "clone": ("Saut impossible : plaque clonée suspectée", "Onmogelijke sprong: vermoedelijk gekloonde plaat",
              "Impossible hop: suspected cloned plate"),
    "misread": ("Saut impossible : plaque mal lue", "Onmogelijke sprong: verkeerd gelezen plaat",
                "Impossible hop: misread plate"),
    "merged": ("Lecture erronée rattachée au trajet, lue", "Verkeerde lezing bij het traject gevoegd, gelezen als",
               "Misread merged into the journey, read as"),
    "blind": ("Angle mort : caméra que le dossier ne peut pas voir", "Dode hoek: camera die het dossier niet mag zien",
              "Blind spot: a camera the case may not see"),
    "title": ("Constats", "Vaststellingen", "Findings"),
    "in": ("en", "in", "in"),
}


def word(key: str, lang: str) -> str:
    """A finding's name in ``lang`` (``clone``, ``misread``, ``merged``, ``blind``)."""
    return _WORDS[key][LANGUAGES.index(lang if lang in LANGUAGES else "fr")]


def _legend(lang: str) -> Legend:
    entries: list[Entry] = [("dash", CLONE, 4, _WORDS["clone"]), ("dot", MISREAD, 3, _WORDS["merged"]),
                            ("dot", BLIND, 2, _WORDS["blind"])]
    legend = Legend(lang, entries, _WORDS["title"], css_class="wb-legend-findings")
    legend._name = "FindingsLegend"
    return legend


def add_findings(m: folium.Map, trip, blind: pd.DataFrame, *, lang: str = "fr") -> folium.Map:  # type: ignore[no-untyped-def]
    """Draw ``trip``'s impossible hops and merged misreads, and the ``blind`` spots, on ``m``."""
    layer = folium.FeatureGroup(name=_WORDS["title"][LANGUAGES.index(lang if lang in LANGUAGES else "fr")])
    layer.add_to(m)
    at = trip.sightings.dropna(subset=["lon", "lat"]).set_index("sighting_id")
    for hop in impossible_hops(trip).itertuples():
        if hop.from_sighting not in at.index or hop.to_sighting not in at.index:
            continue
        a, b = at.loc[hop.from_sighting], at.loc[hop.to_sighting]
        label = (f"{word(hop.kind, lang)} — {hop.from_camera} → {hop.to_camera}: {hop.length_m / 1000:.1f} km "
                 f"{word('in', lang)} {hop.dt_s / 60:.1f} min ({hop.speed_kmh:.0f} km/h)")
        folium.PolyLine([(a.lat, a.lon), (b.lat, b.lon)], color=CLONE if hop.kind == "clone" else MISREAD,
                        weight=4, dash_array="10 8", tooltip=label, class_name=f"wb-impossible-hop wb-{hop.kind}"
                        ).add_to(layer)
        for end in (a, b):
            folium.CircleMarker([end.lat, end.lon], radius=13, color=CLONE if hop.kind == "clone" else MISREAD,
                                weight=3, fill=False, tooltip=label, class_name=f"wb-suspect-{hop.kind}").add_to(layer)
    for row in at[at["merged_misread"].astype(bool)].itertuples() if "merged_misread" in at else ():
        folium.CircleMarker([row.lat, row.lon], radius=11, color=MISREAD, weight=3, fill=False,
                            tooltip=f"{word('merged', lang)} {row.plate_as_read} — {row.camera_id}",
                            class_name="wb-merged-misread").add_to(layer)
    for cam in blind.itertuples():
        label = f"{word('blind', lang)} — {cam.camera_id} ({cam.partner}, {cam.kind}): {cam.reason}"
        folium.CircleMarker([cam.lat, cam.lon], radius=7, color=BLIND, weight=2, dash_array="3 3", fill=True,
                            fill_color="#ffffff", fill_opacity=0.8, tooltip=label,
                            class_name="wb-blind-spot").add_to(layer)
    m.add_child(_legend(lang))
    return control_last(m)
