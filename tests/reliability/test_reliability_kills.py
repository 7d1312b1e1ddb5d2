"""kill -9 at named fault points and random moments of every kind of write, on SQLite and PostgreSQL.

After each kill the catalogue, the archive, the index, the evidence folder and
the audit chain must agree; a clean re-run must finish the work exactly once.
"""

from __future__ import annotations

from workbench.bench.reliability import kill_campaign, make_lab


def test_every_kill_leaves_a_consistent_store_and_the_rerun_completes_exactly_once(db_url, tmp_path):
    lab = make_lab(tmp_path / "home", db_url)
    report = kill_campaign(lab, tmp_path, seed=7, reads=1200)
    # 24 named fault points, plus 14 kills after a random delay that land only while the work still runs
    # (faster ingest on PostgreSQL often finishes first): most named points must land
    assert report.kills >= 20, f"only {report.kills} kills landed"
    assert report.problems == [] and report.kills_consistent == report.kills
    assert report.final_problems == []
    assert (report.reads_lost, report.reads_doubled) == (0, 0)
