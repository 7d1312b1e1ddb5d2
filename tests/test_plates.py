"""Plates: normalisation, formats, OCR-aware search, feed ingest, hotlist hits."""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st
from sqlalchemy import func, select

from workbench.access import audit
from workbench.errors import IngestError, InvalidInput
from workbench.plates import PlateIndex, display, normalise, ocr_distance, recognise
from workbench.plates.hotlist import load_hotlist
from workbench.plates.plate_search import CONFUSIONS
from workbench.plates.read_ingest import ingest_files
from workbench.samples import SAMPLE_CASE
from workbench.store.models import PlateRead, Sighting

from conftest import NOW, OPS

PURPOSE = "judicial-investigation"
plates_st = st.from_regex(r"[1-9][A-Z]{3}[0-9]{3}", fullmatch=True)


@pytest.mark.parametrize("raw,norm", [(" 1-abc-234 ", "1ABC234"), ("1.ABC.234", "1ABC234"),
                                      ("１ＡＢＣ２３４", "1ABC234"), ("1·АВС·234", "1ABC234"),
                                      ("ab-123-cd", "AB123CD")])
def test_normalise_folds_separators_case_and_lookalikes(raw, norm):
    assert normalise(raw) == norm


@pytest.mark.parametrize("bad,why", [("", "empty"), ("1ABC\x00234", "control"), ("x" * 1000, "at most"),
                                     ("1ABC23€", "no plate has"), (None, "text"), ("1ABC\u200b234", "control")])
def test_normalise_refuses_what_cannot_be_a_plate(bad, why):
    with pytest.raises(InvalidInput, match=why):
        normalise(bad)


@given(plates_st, st.sampled_from(["-", " ", ".", ""]))
def test_normalise_is_idempotent(plate, sep):
    shown = sep.join([plate[0], plate[1:4], plate[4:]]).lower()
    assert normalise(shown) == plate and normalise(normalise(shown)) == plate


@pytest.mark.parametrize("plate,country,fmt", [("1ABC234", "BE", "current"),
                                               ("ABC123", "BE", "1973-2008 letters first"),
                                               ("AB123CD", "FR", "SIV"), ("12ABC3", "NL", "sidecode 4-11"),
                                               ("5AU5341", "CZ", "since 2001"), ("1234BCD", "ES", "since 2000"),
                                               ("AB12CDE", "GB", "since 2001"), ("WX12345", "PL", "district + vehicle"),
                                               ("B123ABC", "RO", "county + digits + letters")])
def test_recognise_formats(plate, country, fmt):
    assert (country, fmt) in recognise(plate)


@pytest.mark.parametrize("words", ["PARKING", "ABCDEFG", "STATION", "1234AEI"])
def test_words_and_vowel_series_fit_no_plate_format(words):
    assert recognise(words) == []


def test_display_uses_the_country_separators():
    assert display("1ABC234") == "1-ABC-234" and display("AB123CD", "FR") == "AB-123-CD"


@hsettings(max_examples=60, deadline=None)
@given(st.lists(plates_st, min_size=1, max_size=200, unique=True), st.data())
def test_fuzzy_finds_every_single_confusion_variant(plates, data):
    index = PlateIndex(plates)
    target = data.draw(st.sampled_from(plates))
    positions = [i for i, ch in enumerate(target) if any(ch in g for g in CONFUSIONS)]
    if not positions:
        return
    i = data.draw(st.sampled_from(positions))
    group = next(g for g in CONFUSIONS if target[i] in g)
    variant = target[:i] + data.draw(st.sampled_from([c for c in group if c != target[i]])) + target[i + 1:]
    found = dict(index.fuzzy(variant, max_distance=0.5))
    assert target in found and found[target] == pytest.approx(0.2 if variant != target else 0.0)


@hsettings(max_examples=60, deadline=None)
@given(st.lists(plates_st, min_size=1, max_size=100, unique=True), st.from_regex(r"[1-9A-Z?*]{1,8}", fullmatch=True))
def test_wildcard_equals_a_regex_reference(plates, pattern):
    regex = re.compile(pattern.replace("?", ".").replace("*", ".*"))
    assert PlateIndex(plates).wildcard(pattern) == sorted(p for p in plates if regex.fullmatch(p))


@hsettings(max_examples=40, deadline=None)
@given(st.lists(plates_st, min_size=0, max_size=120, unique=True), st.lists(plates_st, max_size=120),
       st.integers(1, 40), st.data())
def test_an_index_grown_day_by_day_answers_like_one_built_at_once(first, later, step, data):
    grown = PlateIndex(first)
    for i in range(0, len(later), step):
        grown.add(later[i:i + step])
    whole = PlateIndex(first + later)
    assert len(grown) == len(whole) == len(set(first + later))
    assert list(grown.plates) == list(whole.plates) == sorted(set(first + later))
    query = data.draw(plates_st)
    assert grown.fuzzy(query) == whole.fuzzy(query) and grown.exact(query) == whole.exact(query)
    assert grown.wildcard(query[:2] + "*") == whole.wildcard(query[:2] + "*")


def test_the_plate_index_holds_about_eighty_bytes_a_plate():
    rng = np.random.default_rng(5)
    plates = {f"{rng.integers(1, 9)}{''.join(rng.choice(list('ABCDEFGHJKLMNPRSTVWXYZ'), 3))}{rng.integers(0, 999):03d}"
              for _ in range(50_000)}
    index = PlateIndex(plates)
    assert len(index) == len(plates)
    assert index.nbytes() / len(plates) < 100   # fixed-width bytes, 32-bit hashes: no Python string per plate
    assert index.fuzzy(next(iter(plates)))[0][1] == 0.0


def test_fuzzy_ranks_and_bounds_by_ocr_distance():
    index = PlateIndex(["1ABC234", "1A8C234", "1ABC284", "9ZZZ999", "1ABC2345"])
    ranked = index.fuzzy("1ABC234", max_distance=1.0)
    assert [p for p, _ in ranked] == ["1ABC234", "1A8C234", "1ABC2345", "1ABC284"]
    assert ocr_distance("1ABC234", "1ABC284") == 1.0 and ocr_distance("O0", "0O") == pytest.approx(0.4)


@pytest.mark.parametrize("pattern", ["'; DROP TABLE x; --", "1AB%", "€*"])
def test_wildcard_refuses_sql_and_junk(pattern):
    with pytest.raises(InvalidInput):
        PlateIndex(["1ABC234"]).wildcard(pattern)


def _feed(tmp_path: Path, rows: list[dict], name: str = "reads.csv") -> Path:
    cols = ["source", "read_id", "camera_id", "timestamp", "plate", "country", "confidence", "direction", "lane",
            "image_ref"]
    path = tmp_path / name
    if name.endswith(".jsonl"):
        path.write_text("\n".join(json.dumps(r) for r in rows))
    else:
        path.write_text(",".join(cols) + "\n" + "\n".join(",".join(str(r.get(c, "")) for c in cols) for r in rows))
    return path


def _read(i: int, plate: str = "1-ABC-234", camera: str = "ANPR-BM-001", seconds: float = 0, **kw) -> dict:
    t = NOW - timedelta(hours=3) + timedelta(seconds=seconds)
    return {"source": "BM-ANPR", "read_id": f"r{i}", "camera_id": camera, "timestamp": t.isoformat(),
            "plate": plate, "country": "BE", "confidence": 0.9, "direction": "in", "lane": 1, **kw}


def test_ingest_is_idempotent_merges_double_and_late_reads_and_reports_bad_rows(sample_ws, tmp_path):
    store = sample_ws.store
    rows = [_read(1), _read(2, seconds=2), _read(3, seconds=600), _read(4, camera="ANPR-BM-002", seconds=300),
            _read(5, camera="NOPE"), _read(6, plate="x" * 200), _read(7, timestamp="2026-11-20T10:00:00"),
            _read(8, timestamp=(NOW + timedelta(days=2)).isoformat()), _read(9, confidence="high"), _read(1)]
    first = ingest_files(store, [_feed(tmp_path, rows)], now=NOW, audit=OPS)[0]
    assert (first.loaded, first.duplicates, len(first.rejected)) == (4, 1, 5)
    reasons = dict(first.rejected)
    assert "unknown camera NOPE" in reasons[6] and "longer than 64" in reasons[7] and "no time zone" in reasons[8]
    assert "future" in reasons[9] and "not a number" in reasons[10]
    late = [_read(20, seconds=-30), _read(2)]  # a late read of the same passage, and a re-delivery
    second = ingest_files(store, [_feed(tmp_path, late, "late.jsonl")], now=NOW, audit=OPS)[0]
    assert (second.loaded, second.duplicates, second.merged, second.sightings) == (1, 1, 1, 0)
    with store.session() as s:
        assert s.execute(select(func.count()).select_from(PlateRead)).scalar_one() == 5
        sightings = s.execute(select(Sighting).order_by(Sighting.first_time)).scalars().all()
    assert [x.n_reads for x in sightings] == [3, 1, 1]
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    reads = case.plate_reads("1-ABC-234")
    assert len(reads) == 3 and reads.iloc[0]["source_ids"] == ["BM-ANPR:r1", "BM-ANPR:r2", "BM-ANPR:r20"]


def test_a_late_read_bridging_two_sightings_joins_the_earlier_and_leaves_the_later(sample_ws, tmp_path):
    store, plate = sample_ws.store, "1-BRG-075"
    ingest_files(store, [_feed(tmp_path, [_read(31, plate, seconds=0), _read(32, plate, seconds=150)])],
                 now=NOW, audit=OPS)
    bridge = ingest_files(store, [_feed(tmp_path, [_read(33, plate, seconds=75)], "bridge.csv")], now=NOW,
                          audit=OPS)[0]
    assert (bridge.loaded, bridge.merged, bridge.sightings) == (1, 1, 0)
    with store.session() as s:
        sightings = s.execute(select(Sighting).where(Sighting.plate == normalise(plate))
                              .order_by(Sighting.first_time)).scalars().all()
    assert [x.n_reads for x in sightings] == [2, 1]      # stored sightings are never merged away
    assert sightings[0].last_time < sightings[1].first_time


def test_reads_of_a_wanted_plate_on_several_days_each_become_a_hit(sample_ws, tmp_path):
    import pandas as pd

    wanted = pd.DataFrame({"plate": ["1-WNT-204"], "priority": [1], "reason": ["stolen"]})
    load_hotlist(sample_ws.store, wanted, name="stolen", owner="FEDPOL", scope="national", now=NOW, audit=OPS,
                 valid_from=NOW - timedelta(days=5))
    rows = [_read(40 + d, "1-WNT-204", seconds=-86_400 * d) for d in range(3)]    # today, yesterday, the day before
    report = ingest_files(sample_ws.store, [_feed(tmp_path, rows)], now=NOW, audit=OPS)[0]
    assert (report.sightings, report.hits) == (3, 3)


def test_a_file_that_is_not_a_feed_is_skipped_and_the_rest_loads(sample_ws, tmp_path):
    junk = tmp_path / "photo.csv"
    junk.write_bytes(bytes(range(256)) * 10)
    wrong = tmp_path / "other.csv"
    wrong.write_text("a,b\n1,2\n")
    good = _feed(tmp_path, [_read(1)])
    reports = ingest_files(sample_ws.store, [junk, wrong, good, tmp_path / "missing.csv"], now=NOW, audit=OPS)
    assert [r.error is None for r in reports] == [False, False, True, False]
    assert "binary" in reports[0].error and "missing column" in reports[1].error and reports[2].loaded == 1
    assert "SKIPPED" in str(reports[0])


def test_plate_search_through_the_case_is_audited_and_fuzzy(sample_ws, tmp_path):
    rows = [_read(1, plate="1ABC234"), _read(2, plate="1A8C234", camera="ANPR-BM-002", seconds=400),
            _read(3, plate="2XYZ987", seconds=50)]
    ingest_files(sample_ws.store, [_feed(tmp_path, rows)], now=NOW, audit=OPS)
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    assert case.plate_reads("1ABC234")["plate"].tolist() == ["1ABC234"]
    fuzzy = case.plate_reads("1ABC234", fuzzy=True)
    assert fuzzy["plate"].tolist() == ["1ABC234", "1A8C234"] and fuzzy["distance"].tolist() == [0.0, 0.2]
    assert case.plate_reads("1-ABC-23?")["plate"].tolist() == ["1ABC234"]
    last = audit.events_frame(sample_ws.store, user_name="inspector.dupont").iloc[-1]
    assert last["action"] == "plate-reads" and last["resource"]["query"]["plate_query"] == "1-ABC-23?"


def test_hotlist_hits_follow_the_zone_policy(sample_ws, tmp_path):
    import pandas as pd

    rows = [_read(i, plate=p, seconds=i * 10) for i, p in enumerate(["1AAA111", "1BBB222", "1CCC333", "1DDD444"])]
    ingest_files(sample_ws.store, [_feed(tmp_path, rows)], now=NOW, audit=OPS)
    national = pd.DataFrame({"plate": ["1-AAA-111", "1BBB222", "1CCC333", "1DDD444"], "priority": [1, 2, 2, 4],
                             "reason": ["stolen", "wanted", "wanted", "info"]})
    assert load_hotlist(sample_ws.store, national, name="national", owner="FEDPOL", scope="national", now=NOW,
                        audit=OPS, valid_from=NOW - timedelta(days=1)) == (4, 4)
    own = pd.DataFrame({"plate": ["1CCC333"], "priority": [2], "reason": ["zone interest"]})
    load_hotlist(sample_ws.store, own, name="zone 5339", owner="PZ5339", scope="zone", now=NOW, audit=OPS,
                 valid_from=NOW - timedelta(days=1))
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    acted = case.hits()
    assert sorted(set(acted["plate"])) == ["1AAA111", "1CCC333"]
    everything = case.hits(include_ignored=True)
    assert set(everything.loc[everything["decision"] == "ignore", "plate"]) == {"1BBB222", "1DDD444"}


def test_ingest_speed_path_handles_many_reads(sample_ws, tmp_path):
    rng = random.Random(3)
    rows = [_read(i, plate=f"{rng.randint(1, 9)}ABC{rng.randint(100, 999)}",
                  camera=f"ANPR-BM-{rng.randint(1, 14):03d}", seconds=rng.randint(0, 9000)) for i in range(3000)]
    report = ingest_files(sample_ws.store, [_feed(tmp_path, rows)], now=NOW, audit=OPS)[0]
    assert report.loaded == 3000 and report.error is None
    with sample_ws.store.session() as s:
        n_sightings = s.execute(select(func.count()).select_from(Sighting)).scalar_one()
    assert 0 < n_sightings <= 3000 and report.merged == 3000 - n_sightings


@pytest.mark.slow
def test_cli_ingest_reports_and_is_idempotent(tmp_path):
    import subprocess
    import sys

    env = {"WORKBENCH_HOME": str(tmp_path / "h"), "PATH": "/usr/bin:/bin"}

    def run(*args):
        return subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", *args], env=env,
                              capture_output=True, text=True)

    assert run("sample", "build", "--day", "2026-11-20").returncode == 0
    good = _feed(tmp_path, [_read(1), _read(2, plate="1-XYZ-987", seconds=30), _read(3, camera="NOPE")])
    first = run("plates", "ingest", str(good))
    assert first.returncode == 0 and "2 loaded" in first.stdout and "line 4: unknown camera NOPE" in first.stdout
    again = run("plates", "ingest", str(good))
    assert "0 loaded, 2 duplicates" in again.stdout
    bad = tmp_path / "x.csv"
    bad.write_text("hello")
    failed = run("plates", "ingest", str(bad))
    assert failed.returncode == 1 and "SKIPPED" in failed.stdout and "Traceback" not in failed.stderr
    hot = tmp_path / "hot.csv"
    hot.write_text("plate,priority,reason\n1-ABC-234,1,stolen\n")
    loaded = run("hotlist", "load", str(hot), "--owner", "FEDPOL", "--scope", "national")
    assert loaded.returncode == 0 and "1 entries loaded" in loaded.stdout


def test_hotlist_entries_start_at_their_own_valid_from(sample_ws, tmp_path):
    """A CSV entry wanted since last week hits last week's sightings, without a valid_from argument."""
    rows = [_read(i, plate="1EEE555", seconds=i * 10) for i in range(2)]
    ingest_files(sample_ws.store, [_feed(tmp_path, rows)], now=NOW, audit=OPS)
    listed = tmp_path / "wanted.csv"
    week_ago = (NOW - timedelta(days=7)).isoformat()
    listed.write_text(f"plate,priority,reason,valid_from\n1-EEE-555,1,stolen,{week_ago}\n", encoding="utf-8")
    assert load_hotlist(sample_ws.store, listed, name="since last week", owner="FEDPOL", scope="national",
                        now=NOW, audit=OPS) == (1, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("plate,priority,reason,valid_from\n1EEE555,1,stolen,yesterday-ish\n", encoding="utf-8")
    with pytest.raises(IngestError, match="line 2"):
        load_hotlist(sample_ws.store, bad, name="bad", owner="FEDPOL", scope="national", now=NOW, audit=OPS)
