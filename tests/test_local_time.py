"""Time as people read it on screens (Brussels, CET/CEST) and errors said in the user's language."""

from __future__ import annotations

from types import SimpleNamespace

import folium
import pandas as pd
import pytest

from workbench import maps, widgets as ww
from workbench.errors import AccessDenied, InvalidInput, NotFound
from workbench.timeutil import format_local, format_utc, local
from workbench.widgets.labels import error_text


def test_local_follows_summer_and_winter_time():
    assert local("2026-03-29T00:59:59Z").utcoffset().total_seconds() == 3600      # CET, before the change
    assert local("2026-03-29T01:00:00Z").utcoffset().total_seconds() == 7200      # CEST, after it
    assert format_local("2026-10-25T00:30:00Z") == "2026-10-25 02:30:00 CEST"
    assert format_local("2026-10-25T01:30:00Z") == "2026-10-25 02:30:00 CET"     # the hour that repeats, told apart
    assert format_utc(pd.Timestamp("2026-11-20 09:30", tz="Europe/Brussels")) == "2026-11-20T08:30:00+00:00"
    with pytest.raises(InvalidInput):
        format_local("2026-11-20T08:30:00")                                      # no zone: refused, not guessed


def test_timeline_and_map_tooltips_show_brussels_time():
    sightings = pd.DataFrame({"time": pd.to_datetime(["2026-11-20T07:41:03Z", "2026-11-20T08:02:10Z"], utc=True),
                              "camera_id": ["ANPR-1", "ANPR-2"], "plate_as_read": ["1ABC234", "1ABC234"],
                              "lon": [4.35, 4.36], "lat": [50.84, 50.85]})
    svg = ww.timeline_svg(sightings, lang="nl")
    assert "2026-11-20 08:41:03 CET" in svg and "09:02:10 CET" in svg and "(07:41:03 UTC)" in svg
    html = maps.add_time_slider(folium.Map(), sightings).get_root().render()
    assert "08:41:03 CET ANPR-1" in html and "07:41:03 ANPR-1" not in html


@pytest.mark.parametrize(("lang", "expected"), [("fr", "Accès refusé"), ("nl", "Toegang geweigerd"),
                                                 ("en", "Access denied")])
def test_errors_are_said_in_the_users_language(lang, expected):
    said = error_text(AccessDenied("ANPR-9: no sharing agreement"), lang)
    assert said.startswith(expected) and said.endswith("ANPR-9: no sharing agreement)")
    assert error_text(NotFound("no camera 'X'"), "nl").startswith("Niet gevonden.")
    assert error_text(InvalidInput(""), "fr") == "Saisie invalide."


def test_plate_search_reports_a_refusal_in_dutch():
    def refuse(*_args, **_kwargs):
        raise AccessDenied("the trainer role reads training cases only")

    box = ww.PlateSearch(SimpleNamespace(plate_reads=refuse), print, lang="nl")
    box.search("1-ABC-234")
    assert "Toegang geweigerd" in box.status.value and "Accès" not in box.status.value
