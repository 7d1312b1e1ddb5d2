"""A generated hostile-input corpus over every input path, and property tests of the parsers."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from workbench.bench.reliability import hostile_campaign, hostile_corpus, make_lab
from workbench.errors import InvalidInput, WorkbenchError
from workbench.evidence.package import manifest_problem
from workbench.plates.anpr_feed import MAX_FIELDS, MAX_LINE, parse_feed
from workbench.plates.csv_lines import csv_rows, text_lines
from workbench.timeutil import as_utc

NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)
HEADER = "source,read_id,camera_id,timestamp,plate,country,confidence,direction,lane,image_ref"


def test_every_hostile_input_is_refused_in_words(tmp_path):
    lab = make_lab(tmp_path / "home")
    corpus = hostile_corpus(lab.day, "ANPR-BM-001")
    assert len(corpus) >= 300 and {h.path for h in corpus} == {"feed", "hotlist", "video", "manifest", "window"}
    report = hostile_campaign(lab, tmp_path, corpus)
    assert report.failures == []
    assert (report.hostile_tracebacks, report.hostile_accepted_wrongly, report.valid_reads_lost) == (0, 0, 0)


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
_cell = st.one_of(_text, st.sampled_from(['"', '""', ",", "\\", "2026-11-20T08:00:00Z", "1-ABC-234", "1e999",
                                          "0001-01-01T00:00:00Z", "9" * 40, "\u0661"]))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=1, max_size=12), max_size=8))
def test_a_csv_feed_of_anything_is_parsed_or_refused_in_words(tmp_path, rows):
    path = tmp_path / "feed.csv"
    path.write_text("\n".join([HEADER] + [",".join(r) for r in rows]) + "\n", encoding="utf-8")
    try:
        batch = parse_feed(path, now=NOW, known_cameras={"ANPR-BM-001": "anpr"})
    except WorkbenchError:
        return
    lines = text_lines(path.read_text(encoding="utf-8"))[1:]
    assert len(batch.reads) + len(batch.rejected) == sum(1 for line in lines if line.strip())
    assert all(isinstance(n, int) and isinstance(why, str) and why for n, why in batch.rejected)


_json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _text),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
                           max_leaves=10)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objects=st.lists(st.dictionaries(st.sampled_from(HEADER.split(",") + ["extra"]), _json_value, max_size=10),
                        min_size=1, max_size=6))
def test_a_json_lines_feed_of_anything_is_parsed_or_refused_in_words(tmp_path, objects):
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(json.dumps(o) for o in objects) + "\n", encoding="utf-8")
    try:
        batch = parse_feed(path, now=NOW, known_cameras={"ANPR-BM-001": "anpr"})
    except WorkbenchError:
        return
    for read in batch.reads.itertuples():
        assert isinstance(read.plate, str) and isinstance(read.source_read_id, str)


@given(lines=st.lists(st.text(max_size=200), min_size=1, max_size=10))
def test_csv_lines_never_hang_and_never_lose_a_line_silently(lines):
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    try:
        rows, refused, _ = csv_rows(lines, max_line=MAX_LINE, max_fields=MAX_FIELDS)
    except InvalidInput:
        return
    accounted = {r["line"] for r in rows} | {n for n, _ in refused}
    assert accounted == {n for n, line in enumerate(lines[1:], 2) if line.strip()}


@given(value=st.one_of(st.text(max_size=40), st.datetimes(timezones=st.just(timezone.utc))))
def test_times_parse_or_are_refused_in_words(value):
    try:
        parsed = as_utc(value)
    except InvalidInput:
        return
    assert parsed.tzinfo is not None and 1900 <= parsed.year < 2200


@given(manifest=_json_value)
def test_any_manifest_structure_gets_a_reason_not_an_exception(manifest):
    problem = manifest_problem(manifest)
    assert problem is None or isinstance(problem, str)
