"""8 analysts query while a day of reads is ingested; SQLite reads never take the write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import workbench
from workbench.bench.reliability import (
    ANALYST,
    FOOTAGE_CAMERA,
    PURPOSE,
    load_campaign,
    make_lab,
    render_clips,
    run_work,
)
from workbench.errors import StoreError
from workbench.store.models import Camera


def test_eight_analysts_work_during_an_ingest_without_errors(db_url, tmp_path):
    lab = make_lab(tmp_path / "home", db_url)
    run_work("footage", lab, {"clips": [str(p) for p in render_clips(tmp_path / "clips", 1)],
                              "camera": FOOTAGE_CAMERA, "start": lab.day_start() + timedelta(hours=8)})
    report = load_campaign(lab, tmp_path, reads=20_000, idle_s=3.0)
    print(f"8 analysts during an ingest: {report.queries} queries, p95 {report.concurrent_p95_ms} ms "
          f"(idle p50 {report.idle_p50_ms} ms, p95 {report.idle_p95_ms} ms)")
    assert report.errors == [] and report.concurrent_errors == 0 and report.queries > 0


def _hold_write_lock(path, seconds, held):  # type: ignore[no-untyped-def]
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    connection.execute("ROLLBACK")
    connection.close()


def test_sqlite_reads_do_not_take_the_write_lock(tmp_path):
    lab = make_lab(tmp_path / "home")
    case = workbench.open(lab.home).login(ANALYST).open_case("PV-BR-2026-001234", purpose=PURPOSE)
    store = case.workspace.store
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(str(lab.home / "workbench.db"), 3.0, held))
    holder.start()
    held.wait(10)
    t0 = time.perf_counter()
    with store.snapshot() as session:
        cameras = session.execute(select(func.count()).select_from(Camera)).scalar_one()
    read_s = time.perf_counter() - t0
    still_held = holder.is_alive()
    frame = case.plate_reads("1ABC234")   # its audit event waits for the lock, then the answer comes
    holder.join()
    assert cameras > 0 and still_held and read_s < 2.5
    assert len(frame) == 0


def test_a_busy_store_is_an_error_in_words_after_a_bounded_wait(tmp_path, monkeypatch):
    from workbench.store import database

    lab = make_lab(tmp_path / "home")
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 1)
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(str(lab.home / "workbench.db"), 4.0, held))
    holder.start()
    held.wait(10)
    try:
        with pytest.raises(StoreError, match="is busy") as caught:
            workbench.open(lab.home).login(ANALYST)
    finally:
        holder.join()
    assert "locked" not in str(caught.value).split("busy")[0]
