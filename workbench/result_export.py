"""Results that leave the workbench: sightings (and a trajectory's route) as GeoJSON, KML, CSV or i2.

This module only writes files from authorised data; the facade
(``Case.export_results``) checks that the rows are ones the case may see and
audits the export (``export-results``: format, rows, the file's SHA-256)::

    >>> case.export_results(trip, format="kml", path="suspect.kml")       # doctest: +SKIP

Every format carries the same rows (:func:`export_rows`): times in UTC with
their offset, and Brussels time beside them for people. The i2 Analyst's
Notebook file follows the layout in ``docs/i2-import.md``.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pandas as pd

from workbench.errors import InvalidInput
from workbench.timeutil import LOCAL_ZONE, format_utc

FORMATS = {"geojson": ".geojson", "kml": ".kml", "csv": ".csv", "i2": ".csv"}
COLUMNS = ["sighting_id", "plate", "plate_as_read", "camera_id", "time_utc", "time_brussels", "lon", "lat"]
I2_COLUMNS = ["Entity1_Type", "Entity1_Identity", "Entity1_Label", "Entity2_Type", "Entity2_Identity",
              "Entity2_Label", "Entity2_Latitude", "Entity2_Longitude", "Link_Type", "Link_Identity",
              "Link_Label", "Link_Date", "Link_Time", "Link_DateTime_UTC"]
KML_NS = "http://www.opengis.net/kml/2.2"


def export_rows(sightings: pd.DataFrame) -> pd.DataFrame:
    """The exported table of ``sightings`` (time, camera_id, plate; optional sighting_id, plate_as_read)."""
    missing = [c for c in ("time", "camera_id", "plate") if c not in sightings.columns]
    if missing:
        raise InvalidInput(f"sightings to export need the columns {missing}")
    times = pd.to_datetime(sightings["time"], utc=True)
    n = len(sightings)

    def column(name: str, default: object) -> pd.Series:
        return sightings[name].reset_index(drop=True) if name in sightings.columns \
            else pd.Series([default] * n, dtype=object)

    return pd.DataFrame({
        "sighting_id": column("sighting_id", "").astype(str),
        "plate": column("plate", "").astype(str),
        "plate_as_read": column("plate_as_read", None).fillna(column("plate", "")).astype(str),
        "camera_id": column("camera_id", "").astype(str),
        "time_utc": [format_utc(t) for t in times],
        "time_brussels": [t.tz_convert(LOCAL_ZONE).isoformat(timespec="seconds") for t in times],
        "lon": pd.to_numeric(column("lon", None), errors="coerce"),
        "lat": pd.to_numeric(column("lat", None), errors="coerce"),
    }, columns=COLUMNS)


def route_lines(route: pd.DataFrame | None) -> list[dict]:
    """The main legs of a route (a GeoDataFrame of LineStrings) as plain dicts: from, to, kind, coordinates."""
    if route is None or route.empty:
        return []
    return [{"from_camera": str(r.from_camera), "to_camera": str(r.to_camera), "kind": str(r.kind),
             "coordinates": [[round(x, 6), round(y, 6)] for x, y in r.geometry.coords]}
            for r in route.itertuples()]


def _csv(rows: pd.DataFrame, _route: list[dict], path: Path) -> None:
    rows.to_csv(path, index=False, float_format="%.6f", lineterminator="\n")


def _geojson(rows: pd.DataFrame, route: list[dict], path: Path) -> None:
    features = []
    for row in rows.to_dict("records"):
        props = {k: v for k, v in row.items() if k not in {"lon", "lat"}}
        geometry = {"type": "Point", "coordinates": [round(row["lon"], 6), round(row["lat"], 6)]} \
            if pd.notna(row["lon"]) and pd.notna(row["lat"]) else None
        features.append({"type": "Feature", "geometry": geometry, "properties": {**props, "layer": "sighting"}})
    for leg in route:
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": leg["coordinates"]},
                         "properties": {"layer": "route", "from_camera": leg["from_camera"],
                                        "to_camera": leg["to_camera"], "kind": leg["kind"]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")


def _kml(rows: pd.DataFrame, route: list[dict], path: Path) -> None:
    from lxml import etree

    def el(parent, tag: str, text: str | None = None, **attrs: str):  # type: ignore[no-untyped-def]
        node = etree.SubElement(parent, f"{{{KML_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    kml = etree.Element(f"{{{KML_NS}}}kml", nsmap={None: KML_NS})
    doc = el(kml, "Document")
    el(doc, "name", f"{', '.join(sorted(set(rows['plate'])))} ({len(rows)} sightings)")
    for style_id, colour, width in (("main", "ff2828c6", "4"), ("alternative", "ff757575", "2")):
        line = el(el(doc, "Style", id=style_id), "LineStyle")
        el(line, "color", colour)
        el(line, "width", width)
    sightings = el(doc, "Folder")
    el(sightings, "name", "Sightings")
    for row in rows.to_dict("records"):
        mark = el(sightings, "Placemark")
        if row["sighting_id"]:
            mark.set("id", f"s{row['sighting_id']}")
        el(mark, "name", f"{row['plate_as_read']} {row['camera_id']}")
        el(mark, "description", f"{row['time_brussels']} (Brussels) / {row['time_utc']} (UTC)")
        el(el(mark, "TimeStamp"), "when", row["time_utc"])
        data = el(mark, "ExtendedData")
        for key in COLUMNS:
            el(el(data, "Data", name=key), "value", "" if pd.isna(row[key]) else str(row[key]))
        if pd.notna(row["lon"]) and pd.notna(row["lat"]):
            el(el(mark, "Point"), "coordinates", f"{row['lon']:.6f},{row['lat']:.6f}")
    if route:
        legs = el(doc, "Folder")
        el(legs, "name", "Route")
        for leg in route:
            mark = el(legs, "Placemark")
            el(mark, "name", f"{leg['from_camera']} → {leg['to_camera']} ({leg['kind']})")
            el(mark, "styleUrl", "#main" if leg["kind"] == "main" else "#alternative")
            el(el(mark, "LineString"), "coordinates", " ".join(f"{x},{y}" for x, y in leg["coordinates"]))
    path.write_bytes(etree.tostring(kml, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def i2_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The i2 Analyst's Notebook import table: one link Vehicle -> Camera per sighting (docs/i2-import.md)."""
    local = pd.to_datetime(rows["time_brussels"].str.slice(0, 19))
    return pd.DataFrame({
        "Entity1_Type": "Vehicle", "Entity1_Identity": rows["plate"], "Entity1_Label": rows["plate"],
        "Entity2_Type": "Camera", "Entity2_Identity": rows["camera_id"], "Entity2_Label": rows["camera_id"],
        "Entity2_Latitude": rows["lat"], "Entity2_Longitude": rows["lon"], "Link_Type": "Sighted at",
        "Link_Identity": rows["sighting_id"].where(rows["sighting_id"] != "", rows.index.astype(str)),
        "Link_Label": rows["plate_as_read"], "Link_Date": local.dt.strftime("%Y-%m-%d"),
        "Link_Time": local.dt.strftime("%H:%M:%S"), "Link_DateTime_UTC": rows["time_utc"],
    }, columns=I2_COLUMNS)


def _i2(rows: pd.DataFrame, _route: list[dict], path: Path) -> None:
    i2_rows(rows).to_csv(path, index=False, float_format="%.6f", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


_WRITERS = {"geojson": _geojson, "kml": _kml, "csv": _csv, "i2": _i2}


def render_results(rows: pd.DataFrame, route: list[dict], fmt: str) -> bytes:
    """The file of the exported ``rows`` (and ``route`` legs, for GeoJSON and KML) as ``fmt``, as bytes."""
    if fmt not in _WRITERS:
        raise InvalidInput(f"export format {fmt!r}: one of {', '.join(FORMATS)}")
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / f"results{FORMATS[fmt]}"
        _WRITERS[fmt](rows, route, target)
        return target.read_bytes()


def check_target(path: Path | str) -> Path:
    """Refuse a file that exists already or a folder that does not; the path to write."""
    path = Path(path)
    if path.exists():
        raise InvalidInput(f"{path} exists already: choose another file name")
    if not path.parent.is_dir():
        raise InvalidInput(f"folder {path.parent} does not exist")
    return path


def save(content: bytes, path: Path | str) -> Path:
    """Write an export's ``content`` to ``path`` (through a temporary name: never half a file there)."""
    path = check_target(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
    return path
