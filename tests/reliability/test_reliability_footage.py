"""Footage edge cases: a segment where nothing moves, a one-frame clip, a row whose file went missing."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from workbench.bench.reliability import FOOTAGE_CAMERA, consistency_problems, make_lab
from workbench.footage.footage_ingest import ingest_footage
from workbench.samples.street_render import render_clip
from workbench.search.index_build import build_index

from conftest import OPS


def test_still_and_one_frame_clips_are_archived_and_indexed_and_a_lost_file_heals(tmp_path):
    lab = make_lab(tmp_path / "home")
    still = render_clip(tmp_path / "still.mp4", [], duration=3, width=320, height=180, fps=Fraction(25, 2))
    one = render_clip(tmp_path / "one.mp4", [], duration=0.08, width=320, height=180, fps=Fraction(25, 2), seed=3)
    store = lab.store()
    start = lab.day_start() + timedelta(hours=2)
    reports = ingest_footage(store, [still, one], camera_id=FOOTAGE_CAMERA, start=start, now=start + timedelta(days=1),
                             audit=OPS)
    assert [r.error for r in reports] == [None, None]
    summary = build_index(store, workers=1)
    assert summary.indexed == 2 and summary.failed == [] and summary.events == 0
    assert build_index(store, workers=1).indexed == 0   # nothing left stuck for the next run
    lost = next(lab.settings.footage_dir.rglob("*.mp4"))
    lost.unlink()
    assert consistency_problems(lab) != []
    again = ingest_footage(store, [still, one], camera_id=FOOTAGE_CAMERA,
                           start=start, now=start + timedelta(days=1), audit=OPS)
    assert any(r.healed for r in again) and "copied again" in str(next(r for r in again if r.healed))
    assert consistency_problems(lab, settled=True) == []
    store.dispose()
