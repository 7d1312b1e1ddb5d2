"""A disk that fills up, a database that goes away mid-transaction, a Dask worker killed mid-task."""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from workbench.bench.reliability import (
    FOOTAGE_CAMERA,
    _work,
    anpr_cameras,
    consistency_problems,
    make_lab,
    plate_keys,
    render_clips,
    run_work,
    write_feed,
)


def _limited(kind, lab, args, limit, queue):  # type: ignore[no-untyped-def]
    """Run ``kind`` with files limited to ``limit`` bytes; report how it ended."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        _work(kind, lab, args)
        queue.put(("ok", ""))
    except Exception as exc:  # noqa: BLE001 - the test checks which
        from workbench.errors import WorkbenchError

        queue.put(("workbench" if isinstance(exc, WorkbenchError) else type(exc).__name__, str(exc)))


def _run_limited(kind, lab, args, limit):  # type: ignore[no-untyped-def]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    process = ctx.Process(target=_limited, args=(kind, lab, args, limit, queue))
    process.start()
    process.join(300)
    assert process.exitcode == 0, f"{kind} died with {process.exitcode} when the disk filled up"
    return queue.get(timeout=5)


def test_a_full_disk_refuses_in_words_and_leaves_nothing_half_written(tmp_path):
    lab = make_lab(tmp_path / "home")
    clips = render_clips(tmp_path / "clips", 2, seconds=3.0)
    args = {"clips": [str(p) for p in clips], "camera": FOOTAGE_CAMERA, "start": lab.day_start()}
    outcome, message = _run_limited("footage", lab, args, limit=clips[0].stat().st_size // 2)
    assert outcome in ("ok", "workbench"), message   # refused in its report, or the catalogue itself is full
    assert consistency_problems(lab, settled=True) == []
    feed = tmp_path / "feed.csv"
    expected = write_feed(feed, anpr_cameras(lab), reads=20_000, seed=3, start=lab.day_start())
    database = Path(lab.settings.home) / "workbench.db"
    outcome, message = _run_limited("plates", lab, {"files": [str(feed)], "batch": 2000},
                                    limit=database.stat().st_size + 200_000)
    assert outcome == "workbench" and "catalogue" in message and "Traceback" not in message
    assert consistency_problems(lab) == []
    run_work("footage", lab, args)
    run_work("plates", lab, {"files": [str(feed)], "batch": 2000})
    assert consistency_problems(lab, settled=True) == [] and set(plate_keys(lab)) == expected


def _ends_in_words(kind, lab, args, queue):  # type: ignore[no-untyped-def]
    try:
        _work(kind, lab, args)
        queue.put(("ok", ""))
    except Exception as exc:  # noqa: BLE001 - the test checks which
        from workbench.errors import StoreError

        queue.put(("store" if isinstance(exc, StoreError) else type(exc).__name__, str(exc)))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_database_that_goes_away_mid_transaction(db_url, tmp_path):
    lab = make_lab(tmp_path / "home", db_url)
    feed = tmp_path / "feed.csv"
    expected = write_feed(feed, anpr_cameras(lab), reads=40_000, seed=5, start=lab.day_start())
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    process = ctx.Process(target=_ends_in_words, args=("plates", lab, {"files": [str(feed)], "batch": 5000}, queue))
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    process.start()
    killed, deadline = 0, time.time() + 120
    with admin.connect() as conn:
        while process.is_alive() and not killed and time.time() < deadline:
            time.sleep(0.05)
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                "AND query ILIKE ANY (ARRAY['INSERT%', 'COPY%', 'UPDATE%'])")).scalar()
    admin.dispose()
    process.join(300)
    outcome, message = queue.get(timeout=5)
    assert killed and outcome == "store", (outcome, message)
    assert "catalogue" in message and "Traceback" not in message
    assert consistency_problems(lab) == []
    run_work("plates", lab, {"files": [str(feed)], "batch": 5000})
    assert consistency_problems(lab, settled=True) == [] and set(plate_keys(lab)) == expected


def test_a_dask_worker_killed_mid_task_does_not_lose_the_segment_nor_index_it_twice(tmp_path):
    import pyarrow.parquet as pq
    from dask.distributed import Client, LocalCluster

    from workbench.search.index_build import build_index

    lab = make_lab(tmp_path / "home")
    clips = render_clips(tmp_path / "clips", 4, seconds=6.0)
    run_work("footage", lab, {"clips": [str(p) for p in clips], "camera": FOOTAGE_CAMERA,
                              "start": lab.day_start() + timedelta(hours=1)})
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as cluster, Client(cluster) as client:
        victim_address, victim = next(iter(client.run(os.getpid).items()))
        store = lab.store()
        result = {}
        worker = threading.Thread(target=lambda: result.update(summary=build_index(store, client=client)))
        worker.start()
        deadline = time.monotonic() + 120
        while not client.processing().get(victim_address) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.processing().get(victim_address), "no task reached the worker to kill"
        os.kill(victim, signal.SIGKILL)   # a real worker process, killed while it indexes a segment
        worker.join(300)
        store.dispose()
    summary = result["summary"]
    assert summary.indexed == 4 and summary.failed == []
    assert consistency_problems(lab, settled=True) == []
    index = Path(lab.settings.index_dir)
    listed = [i for p in index.rglob("segments.parquet") for i in pq.read_table(p)["segment_id"].to_pylist()]
    events = [(s, n) for p in index.rglob("events.parquet")
              for s, n in zip(*pq.read_table(p, columns=["segment_id", "event_no"]).to_pydict().values())]
    assert len(listed) == len(set(listed)) == 4 and len(events) == len(set(events)) == summary.events
