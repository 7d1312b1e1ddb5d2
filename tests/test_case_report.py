"""The case report as PDF: map, timeline, sightings, key frames, audit summary; pages checked as pictures and text."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from workbench.errors import InvalidInput, NotFound
from workbench.samples import SAMPLE_CASE
from workbench.timeutil import format_utc

from conftest import sample_workspace


@pytest.fixture(scope="module")
def case(sample_copy):
    with sample_workspace(sample_copy) as ws:
        yield ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")


@pytest.fixture(scope="module")
def suspect(case) -> str:
    hits = case.hits(include_ignored=True)
    return str(hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0])


@pytest.fixture(scope="module")
def report(case, suspect):
    return case.report(suspect, key_frames=2)


@pytest.fixture(scope="module")
def pages(report):
    """Each page rendered to a picture (RGB array) with its text, as a printer would get it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(report.pdf)
    try:
        out = []
        for page in document:
            text = page.get_textpage().get_text_range()
            images = sum(1 for _ in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]))
            out.append((np.asarray(page.render(scale=1).to_pil().convert("RGB")), text, images, page.get_size()))
        return out
    finally:
        document.close()


def test_a4_pages_with_the_case_in_each_header_and_page_numbers(report, pages):
    assert report.pages == len(pages) >= 2 and report.pdf.startswith(b"%PDF-")
    for n, (_picture, text, _images, size) in enumerate(pages, 1):
        assert size == pytest.approx((595.3, 841.9), abs=1)                # A4 in points
        assert SAMPLE_CASE in text and f"Page {n} sur {len(pages)}" in text
        assert "(+0100)" in text and "+00:00" in text                      # Brussels time, UTC stated


def test_the_map_is_drawn_on_the_first_page(pages):
    picture, text, images, _size = pages[0]
    assert "Carte" in text and images >= 2                                 # the map and the timeline
    route = (np.abs(picture.astype(int) - [198, 40, 40]).sum(axis=2) < 60).sum()
    streets = (np.abs(picture.astype(int) - [244, 185, 66]).sum(axis=2) < 40).sum()
    assert route > 500 and streets > 500                                   # the route over the street map


def test_every_sighting_is_in_the_table_with_its_times(case, suspect, pages):
    text = "".join(t for _p, t, _i, _s in pages)
    trip = case.trajectory(suspect)
    for row in trip.sightings.itertuples():
        assert format_utc(row.time) in text and row.camera_id in text
    assert "Images clés" in text and "Journal d'audit du dossier" in text


def test_the_report_is_audited_with_its_sha256(case, report, tmp_path):
    event = case.audit_trail(limit=40).query("action == 'export-report'").iloc[-1]
    resource = event["resource"] if isinstance(event["resource"], dict) else json.loads(event["resource"])
    assert resource["query"]["sha256"] == report.sha256 == hashlib.sha256(report.pdf).hexdigest()
    assert resource["query"]["pages"] == report.pages and event["result_count"] > 3
    saved = report.save(tmp_path)
    assert saved.name == report.filename and hashlib.sha256(saved.read_bytes()).hexdigest() == report.sha256


def test_nothing_to_report_is_said_in_words(case):
    with pytest.raises(NotFound, match="nothing to report"):
        case.report("9-ZZZ-999", key_frames=0)
    with pytest.raises(InvalidInput, match="key_frames"):
        case.report("9-ZZZ-999", key_frames=50)


def test_the_report_speaks_dutch_when_asked(case, suspect):
    import pypdfium2 as pdfium

    report = case.report(suspect, key_frames=0, lang="nl")
    document = pdfium.PdfDocument(report.pdf)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    document.close()
    assert "Dossierrapport" in text and f"Pagina 1 van {report.pages}" in text and "Doorgangen" in text
