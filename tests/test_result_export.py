"""Results that leave: a trajectory or sightings as GeoJSON, KML, CSV and an i2 import file, each audited."""

from __future__ import annotations

import csv
import hashlib
import json

import pandas as pd
import pytest

from workbench.errors import AccessDenied, InvalidInput
from workbench.result_export import COLUMNS, I2_COLUMNS
from workbench.samples import SAMPLE_CASE

from conftest import sample_workspace


@pytest.fixture(scope="module")
def case(sample_copy):
    with sample_workspace(sample_copy) as ws:
        yield ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")


@pytest.fixture(scope="module")
def trip(case):
    hits = case.hits(include_ignored=True)
    return case.trajectory(str(hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0]))


def _source(trip) -> pd.DataFrame:
    s = trip.sightings
    return pd.DataFrame({"sighting_id": s["sighting_id"].astype(str), "camera_id": s["camera_id"],
                         "time_utc": pd.to_datetime(s["time"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                         "lon": s["lon"].round(6), "lat": s["lat"].round(6)}).reset_index(drop=True)


def _last_export(case) -> pd.Series:
    trail = case.audit_trail(limit=20)
    return trail[trail["action"] == "export-results"].iloc[-1]


def _check_audit(case, path, fmt: str, rows: int) -> None:
    event = _last_export(case)
    resource = event["resource"] if isinstance(event["resource"], dict) else json.loads(event["resource"])
    assert event["outcome"] == "ok" and event["result_count"] == rows
    assert resource["query"]["format"] == fmt and resource["query"]["rows"] == rows
    assert resource["query"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_csv_holds_every_sighting_in_utc_and_brussels_time(case, trip, tmp_path):
    path = case.export_results(trip, format="csv", path=tmp_path / "trip.csv")
    back = pd.read_csv(path, dtype={"sighting_id": str})
    assert list(back.columns) == COLUMNS and len(back) == len(trip.sightings) > 3
    source = _source(trip)
    pd.testing.assert_frame_equal(back[["sighting_id", "camera_id", "time_utc"]],
                                  source[["sighting_id", "camera_id", "time_utc"]])
    assert (back["lon"].round(6) == source["lon"]).all() and (back["lat"].round(6) == source["lat"]).all()
    local = pd.to_datetime(back["time_brussels"].str.slice(0, 19))
    offsets = back["time_brussels"].str.slice(19)
    assert set(offsets) <= {"+01:00", "+02:00"}
    assert ((local - pd.to_datetime(back["time_utc"].str.slice(0, 19))).dt.total_seconds()
            == offsets.str.slice(1, 3).astype(int) * 3600).all()
    _check_audit(case, path, "csv", len(back))


def test_geojson_has_points_and_the_route(case, trip, tmp_path):
    path = case.export_results(trip, format="geojson", path=tmp_path / "trip.geojson")
    data = json.loads(path.read_text(encoding="utf-8"))
    points = [f for f in data["features"] if f["properties"]["layer"] == "sighting"]
    lines = [f for f in data["features"] if f["properties"]["layer"] == "route"]
    source = _source(trip)
    assert [p["properties"]["sighting_id"] for p in points] == list(source["sighting_id"])
    assert [p["geometry"]["coordinates"] for p in points] == source[["lon", "lat"]].values.tolist()
    assert len(lines) == len(trip.route) and all(len(f["geometry"]["coordinates"]) >= 2 for f in lines)
    _check_audit(case, path, "geojson", len(points))


def test_kml_opens_in_a_kml_parser(case, trip, tmp_path):
    from fastkml import kml
    from fastkml.features import Placemark
    from lxml import etree

    path = case.export_results(trip, format="kml", path=tmp_path / "trip.kml")
    tree = etree.parse(str(path))
    assert tree.getroot().tag == "{http://www.opengis.net/kml/2.2}kml"
    doc = kml.KML.parse(str(path))
    folders = list(doc.features[0].features)
    placemarks = [p for p in folders[0].features if isinstance(p, Placemark)]
    source = _source(trip)
    assert len(placemarks) == len(source)
    for mark, row in zip(placemarks, source.itertuples()):
        assert (round(mark.geometry.x, 6), round(mark.geometry.y, 6)) == (row.lon, row.lat)
        assert mark.times.timestamp.dt == pd.Timestamp(row.time_utc).to_pydatetime()
        assert row.camera_id in mark.name
    assert len(folders) == 2 and len(list(folders[1].features)) == len(trip.route)
    _check_audit(case, path, "kml", len(source))


def test_i2_file_matches_its_documented_layout(case, trip, tmp_path):
    path = case.export_results(trip, format="i2", path=tmp_path / "trip-i2.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == I2_COLUMNS
    source = _source(trip)
    assert len(rows) == len(source)
    for row, src in zip(rows, source.itertuples()):
        assert (row["Entity1_Type"], row["Entity2_Type"], row["Link_Type"]) == ("Vehicle", "Camera", "Sighted at")
        assert row["Entity1_Identity"] == trip.plate and row["Entity2_Identity"] == src.camera_id
        assert row["Link_Identity"] == src.sighting_id and row["Link_DateTime_UTC"] == src.time_utc
        local = pd.Timestamp(src.time_utc).tz_convert("Europe/Brussels")
        assert (row["Link_Date"], row["Link_Time"]) == (f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}")
    _check_audit(case, path, "i2", len(rows))


def test_every_i2_column_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "i2-import.md").read_text(encoding="utf-8")
    assert all(f"`{column}`" in doc for column in I2_COLUMNS)


def test_bad_exports_are_refused_and_audited(case, trip, tmp_path):
    with pytest.raises(InvalidInput, match="export format"):
        case.export_results(trip, format="pdf", path=tmp_path / "x.pdf")
    assert (_last_export(case)["outcome"], _last_export(case)["reason"][:13]) == ("error", "export format")
    (tmp_path / "there.csv").write_text("x")
    with pytest.raises(InvalidInput, match="exists already"):
        case.export_results(trip, format="csv", path=tmp_path / "there.csv")
    forged = trip.sightings.copy()
    refused = case.camera_access().query("granted == False and data == 'plates'")["camera_id"].iloc[0]
    forged.loc[0, "camera_id"] = refused
    with pytest.raises(AccessDenied):
        case.export_results(forged, format="csv", path=tmp_path / "forged.csv")
    assert _last_export(case)["outcome"] == "denied" and not (tmp_path / "forged.csv").exists()
