"""``workbench bench service``: the facade served against the facade embedded, on the sample world.

Timed in one run, on this machine, with the service in its own process on a
loopback port (``workbench serve``) and the sample world of the given day:

* ``embedded_plate_p50_ms`` / ``served_plate_p50_ms``: one plate's sightings
  (``case.plate_reads``), median over ``--repeat`` calls; ``served_overhead_ms``
  is their difference (target: under 20 ms);
* ``served_trajectory_ratio``: one plate's trajectory, served over embedded
  (target: under 1.5). The served Trajectory carries its route (computed by
  the service, which holds the road network), so the embedded side is timed
  with its route built too: the same object, complete. The two are timed in
  alternation (``TRAJECTORY_PAIRS`` pairs, or ``--repeat`` if more, the order
  swapped every pair) and the key is the median of the pairs' ratios: each
  ratio compares two runs a moment apart, so a burst of load on the shared
  machine moves both sides of a pair rather than one side of the figure.
  ``served_trajectory_ratio_of_medians`` is the earlier figure's formula
  (median served over median embedded; it was timed as two blocks of 10 runs
  one after the other, and swung from 1.07 to 1.66 between two quiet runs),
  computed on the same alternated runs;
* ``transfer_1m_sightings_s``: one million synthetic sightings (the columns
  of ``case.sightings``) through the real path: encoded by the wire format in
  a served handler, sent over HTTP, decoded into a GeoDataFrame on the client
  (target: under 3 s);
* ``served_frame_p50_ms``: ``case.frame`` at times spread over the archive;
* ``served_call_client_cpu_ms`` / ``served_call_service_cpu_ms`` /
  ``served_call_database_cpu_ms``: CPU time per served ``plate_reads`` call
  in the idle loop above, of this process (the client: encode, HTTP, decode),
  of the service's process and of the PostgreSQL server's processes (read
  from ``/proc`` when the server runs on this machine, else None): whether a
  call got cheaper, whatever else loads the machine;
* ``concurrent_p95_ms`` (target: under 5 times the idle p50, no error): 8
  users, each in a process and a session of its own (each investigator's kernel is one;
  threads of one process would share one interpreter lock and inflate the
  client's decoding), each with its own token, querying plates with a pause
  drawn uniformly in ``THINK_S`` (0.5-1.5 s, seeded per user) between two
  calls, for ``--duration`` seconds while plates ingests run the whole time
  (a new feed is started as soon as one is done, in a session of its own as a
  systemd unit or cron starts it; ``concurrent_ingest_overlap``
  is the part of the window during which an ingest ran, and
  ``concurrent_ingested_reads`` what they wrote in it). Also reported: the
  offered load (``concurrent_calls_per_s``), the errors with their text
  (``concurrent_error_texts``), and the CPU per call of the clients and the
  service during the window;
* ``concurrent_saturated_p95_ms``: the earlier figure, kept under its own
  key: 8 threads of this process in a closed loop with no pause (``--repeat``
  calls each) during one ingest: the machine saturated.

Why two figures. By Little's law a closed loop of N clients with think time
Z and response time R completes X = N / (R + Z) calls per second. A served
call costs about D = 18 ms of CPU on a quiet machine (client decode, service,
PostgreSQL: the ``served_call_*_cpu_ms`` keys; more on a loaded one); on
c = 2 cores the throughput cannot exceed c / D = 111 calls/s, so with Z = 0
the mean response is at least N * D / c = 8 * 18 / 2 = 72 ms, four times an
idle call (~18 ms) before any ingest or any other work, whatever the
service does: the saturated figure measures the machine, not the service.
With Z = 1 s the 8 users offer about 8 calls/s, 8 * 18 ms = 0.15 core: the
figure then shows how the service treats each user's call while the ingest
takes the rest of the machine. A pause of 0.5-1.5 s is conservative for a
person: reading a table of sightings or a map, or editing the next cell,
takes several seconds (interactive benchmarks such as TPC-C use 5-12 s), so
8 such users offer the load of some 50-100 real ones.

With ``--db-url postgresql+psycopg://...`` the world is built into a new
database on that server (dropped afterwards), as in a deployment; by default
it is SQLite in a temporary home (or a copy of ``--home``).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from workbench.bench._processes import process_cpu_s

PURPOSE = "judicial-investigation"
USER = "inspector.dupont"
CLIENTS = 8
THINK_S = (0.5, 1.5)   # seconds a user pauses between two queries (uniform, seeded per user)
TRAJECTORY_PAIRS = 40   # embedded and served trajectories timed in alternation


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def _timed(call: Callable[[], Any], repeat: int) -> list[float]:
    call()   # warm: caches, connections
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _paired(first: Callable[[], Any], second: Callable[[], Any], pairs: int) -> tuple[list[float], list[float]]:
    """Seconds of ``first`` and ``second`` timed in alternation, ``pairs`` times each (after one warm call of
    each): both see the same moments of a shared machine, so the ratio of a pair is not a moment's load."""
    first(), second()
    a: list[float] = []
    b: list[float] = []
    for k in range(pairs):
        for call, out in ((first, a), (second, b)) if k % 2 == 0 else ((second, b), (first, a)):
            start = time.perf_counter()
            call()
            out.append(time.perf_counter() - start)
    return a, b


def synthetic_sightings(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """``n`` sightings with the columns and types of ``case.sightings`` (random plates, cameras, times)."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    cameras = np.array([f"ANPR-SYN-{i:03d}" for i in range(120)], dtype=object)
    plates = np.array([f"{d}ABC{k:03d}" for d in range(1, 10) for k in range(1000)], dtype=object)
    time0 = pd.Timestamp("2026-11-20T00:00Z")
    times = time0 + pd.to_timedelta(np.sort(rng.integers(0, 86_400_000, n)), unit="ms")
    lon, lat = 4.25 + rng.random(n) * 0.2, 50.76 + rng.random(n) * 0.15
    frame = pd.DataFrame({
        "sighting_id": np.arange(1, n + 1, dtype=np.int64), "camera_id": cameras[rng.integers(0, len(cameras), n)],
        "time": times, "last_time": times + pd.to_timedelta(rng.integers(0, 3000, n), unit="ms"),
        "plate": plates[rng.integers(0, len(plates), n)], "country": np.full(n, "BE", dtype=object),
        "confidence": rng.random(n), "direction": np.where(rng.random(n) < 0.5, "in", "out").astype(object),
        "n_reads": rng.integers(1, 3, n), "source_ids": np.full(n, None, dtype=object), "lon": lon, "lat": lat})
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _transfer(n: int) -> float:
    """Seconds from the request to a GeoDataFrame of ``n`` sightings on the client (median of three)."""
    import httpx
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from workbench.service import wire
    from workbench.service.process import free_port

    frame = synthetic_sightings(n)

    async def sightings(request):  # type: ignore[no-untyped-def]
        return Response(wire.encode(frame), media_type=wire.MEDIA_TYPE)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/sightings", sightings)]), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        times = []
        with httpx.Client(timeout=120) as http:
            for _ in range(3):
                start = time.perf_counter()
                received = wire.decode(http.get(f"http://127.0.0.1:{port}/sightings").content)
                times.append(time.perf_counter() - start)
                assert len(received) == n and received.crs == frame.crs
    finally:
        server.should_exit = True
        thread.join(10)
    return statistics.median(times)


def _shifted_feed(home: Path, target: Path, days: range = range(1, 2)) -> Path:
    """The sample's ANPR feed again, shifted ``days`` back (one copy per day) under another source: new reads."""
    feed = next((home / "sample").glob("anpr-reads-*.csv"))
    reads = pd.read_csv(feed, dtype=str)
    times = pd.to_datetime(reads["timestamp"], utc=True)
    copies = []
    for day in days:
        copy = reads.copy()
        copy["timestamp"] = (times - pd.Timedelta(days=day)).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        copy["source"] = copy["source"] + ("-bench" if day == 1 else f"-bench-{day}")
        copies.append(copy)
    pd.concat(copies).to_csv(target, index=False)
    return target


def _ingest_env(home: Path, db_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "JUPYTERHUB_"))}
    env["WORKBENCH_HOME"] = str(home)
    if db_url:
        env["WORKBENCH_DB_URL"] = db_url
    return env


def _ingest(feed: Path, env: dict[str, str]) -> subprocess.Popen:
    """``workbench plates ingest FEED`` in a process and a session of its own, as a deployment runs it (a batch
    job of a systemd unit or cron, at its default ``--nice``); what it writes on stderr goes to FEED.log."""
    with open(feed.with_suffix(".log"), "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "workbench.cli", "plates", "ingest", str(feed)], env=env,
                                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


def _failure(ingest: subprocess.Popen, feed: Path) -> str | None:
    """The end of the log of the ingest of ``feed`` if it failed, else None."""
    if not ingest.returncode:
        return None
    return f"ingest failed ({ingest.returncode}): " + feed.with_suffix(".log").read_text(errors="replace")[-500:]


def _error_texts(errors: list[str]) -> dict[str, int]:
    """Each distinct error text (the first 300 characters) with how often it came, most frequent first."""
    counts: dict[str, int] = {}
    for error in errors:
        counts[error[:300]] = counts.get(error[:300], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:20])


def _saturated(url: str, tokens: dict[str, str], plates: list[str], home: Path, feed: Path, per_client: int,
               db_url: str | None) -> dict[str, Any]:
    """``CLIENTS`` threads of this process in a closed loop (no pause) querying plates during an ingest."""
    import workbench
    from workbench.samples import SAMPLE_CASE

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        case = workbench.open(service=url, token=tokens[f"client-{n}"]).login() \
            .open_case(SAMPLE_CASE, purpose=PURPOSE)
        rng = np.random.default_rng(n)
        for _ in range(per_client):
            plate = plates[int(rng.integers(0, len(plates)))]
            start = time.perf_counter()
            try:
                case.plate_reads(plate)
            except Exception as exc:  # noqa: BLE001 (each error reported: the target is none)
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - start)

    ingest_start = time.perf_counter()
    ingest = _ingest(feed, _ingest_env(home, db_url))
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    clients_s = time.perf_counter() - ingest_start
    ingest.wait()
    failure = _failure(ingest, feed)
    return {"latencies": latencies, "errors": errors + ([failure] if failure else []),
            "calls_per_s": (len(latencies) + len(errors)) / clients_s,
            "ingest_s": time.perf_counter() - ingest_start}


def _investigator(url: str, token: str, plates: list[str], seed: int, think: tuple[float, float],
                  ready: Any, results: Any, window: Any) -> None:
    """One user in a process and a session of its own (as each kernel is: Jupyter starts a kernel in a new
    session): log in, wait for the window, query and pause in it.

    Puts ``{"latencies", "errors", "cpu_s", "calls"}`` on ``results``; ``window`` is a pipe end that brings
    the window's (start, end) on the monotonic clock, which every process of the machine shares.
    """
    import workbench
    from workbench.samples import SAMPLE_CASE

    os.setsid()
    case = workbench.open(service=url, token=token).login().open_case(SAMPLE_CASE, purpose=PURPOSE)
    rng = np.random.default_rng(seed)
    case.plate_reads(plates[int(rng.integers(0, len(plates)))])   # warm: connection, first decode
    ready.put(seed)
    start, end = window.recv()
    latencies: list[float] = []
    errors: list[str] = []
    time.sleep(max(0.0, start - time.monotonic()) + float(rng.uniform(0, think[1])))   # users do not start in step
    cpu = time.process_time()
    while time.monotonic() < end:
        plate = plates[int(rng.integers(0, len(plates)))]
        began = time.perf_counter()
        try:
            case.plate_reads(plate)
            latencies.append(time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001 (each error reported with its text: the target is none)
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(float(rng.uniform(*think)))
    results.put({"latencies": latencies, "errors": errors, "cpu_s": time.process_time() - cpu,
                 "calls": len(latencies) + len(errors)})


def _covered(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of [start, end] during which at least one of ``spans`` (sequential, not overlapping) ran."""
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans)


def _check_alive(users: list[Any]) -> None:
    if any(u.exitcode not in (None, 0) for u in users):
        raise click.ClickException("a user's process stopped during the measurement: see its traceback above")


class _Ingests:
    """Plates ingests one after the other, each of a new feed (``FEED_DAYS`` days of the sample shifted back);
    the next feed is written while the current one loads, so one starts as soon as the other ends."""

    FEED_DAYS = 2

    def __init__(self, home: Path, tmp: Path, db_url: str | None) -> None:
        self.home, self.tmp, self.env = home, tmp, _ingest_env(home, db_url)
        self.spans: list[tuple[float, float]] = []   # each run's (start, end) on the monotonic clock
        self.failures: list[str] = []
        self._next = self._feed(0)
        self._start_next()

    def _feed(self, k: int) -> Path:
        days = range(2 + self.FEED_DAYS * k, 2 + self.FEED_DAYS * (k + 1))   # day 1: the saturated run's feed
        return _shifted_feed(self.home, self.tmp / f"users-feed-{k}.csv", days)

    def _start_next(self) -> None:
        self.feed = self._next
        self.running, self.began = _ingest(self.feed, self.env), time.monotonic()
        self._next = self._feed(len(self.spans) + 1)

    def keep_going(self) -> None:
        """Start the next ingest if the current one is done."""
        if self.running.poll() is not None:
            self.spans.append((self.began, time.monotonic()))
            self.failures += [f for f in [_failure(self.running, self.feed)] if f]
            self._start_next()

    def stop(self) -> None:
        self.spans.append((self.began, time.monotonic()))
        if self.running.poll() is None:
            self.running.terminate()   # its open batch is rolled back: nothing half-written
        self.running.wait()


def _users(url: str, tokens: dict[str, str], plates: list[str], home: Path, tmp: Path, duration: float,
           think: tuple[float, float], db_url: str | None, store: Any, service_cpu: Callable[[], float]
           ) -> dict[str, Any]:
    """``CLIENTS`` users, each in its own process with its own token, pausing ``think`` s between calls, for
    ``duration`` s while plates ingests run the whole time (a new feed as soon as one is done)."""
    import multiprocessing

    from sqlalchemy import func, select

    from workbench.store.models import PlateRead

    def reads() -> int:
        with store.snapshot() as session:
            return int(session.execute(select(func.count()).select_from(PlateRead)).scalar_one())

    spawn = multiprocessing.get_context("spawn")   # fresh interpreters, as kernels are
    ready, results = spawn.Queue(), spawn.Queue()
    pipes = [spawn.Pipe(duplex=False) for _ in range(CLIENTS)]
    users = [spawn.Process(target=_investigator, args=(url, tokens[f"client-{n}"], plates, n, think, ready, results,
                                                      pipes[n][0]), daemon=True) for n in range(CLIENTS)]
    ingests = _Ingests(home, tmp, db_url)
    try:
        for user in users:
            user.start()
        waiting = len(users)
        while waiting:
            try:
                ready.get(timeout=0.05)
                waiting -= 1
            except queue.Empty:
                _check_alive(users)
            ingests.keep_going()
        before = reads()
        start = time.monotonic() + 0.2
        end = start + duration
        for _, sender in pipes:
            sender.send((start, end))
        cpu = service_cpu()
        while time.monotonic() < end:
            ingests.keep_going()
            time.sleep(0.05)
        ingested = reads() - before
        while results.qsize() < len(users):   # the calls begun before ``end`` finish: the ingest goes on
            _check_alive(users)
            ingests.keep_going()
            time.sleep(0.05)
        cpu = service_cpu() - cpu
    finally:
        ingests.stop()
    done = [results.get(timeout=60) for _ in users]
    for user in users:
        user.join(30)
    latencies = [x for d in done for x in d["latencies"]]
    errors = [x for d in done for x in d["errors"]] + ingests.failures
    calls = sum(d["calls"] for d in done)
    return {"latencies": latencies, "errors": errors, "calls": calls, "calls_per_s": calls / duration,
            "client_cpu_ms": 1000 * sum(d["cpu_s"] for d in done) / max(calls, 1),
            "service_cpu_ms": 1000 * cpu / max(calls, 1),
            "ingest_overlap": _covered(ingests.spans, start, end) / duration, "ingest_runs": len(ingests.spans),
            "ingested_reads": ingested}


@contextmanager
def _database(server: str | None) -> Iterator[str | None]:
    """A new, empty database on the PostgreSQL ``server`` (dropped on exit), or None for SQLite."""
    from workbench.store.database import scratch_database

    if server is None:
        yield None
        return
    with scratch_database(server, "wb_bench") as url:
        yield url


@click.command()
@click.option("--home", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="a sample world already built (copied first); default: build one")
@click.option("--repeat", default=30, show_default=True, help="calls per timing")
@click.option("--sightings", default=1_000_000, show_default=True, help="rows of the transfer test")
@click.option("--db-url", default=None, help="a PostgreSQL server: the world goes into a new database there")
@click.option("--duration", default=40.0, show_default=True, help="seconds the 8 users query during the ingest")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def command(home: Path | None, repeat: int, sightings: int, db_url: str | None, duration: float,
            as_json: bool) -> None:
    """The served facade against the embedded one: per-call overhead and CPU, trajectory, transfer, frames, load."""
    import workbench
    from workbench.bench.scale import server_cpu_s
    from workbench.config import Settings
    from workbench.samples import SAMPLE_CASE, build_sample, ground_truth_dir
    from workbench.samples.simulated_traffic import GroundTruth
    from workbench.service.identity import issue_token
    from workbench.service.process import served

    service_pid: list[int] = []
    with tempfile.TemporaryDirectory(prefix="workbench-bench-service-") as tmp, _database(db_url) as database:
        world = Path(tmp) / "home"
        if home is not None and database is None:
            shutil.copytree(home, world)
        else:
            build_sample(Settings.from_env({}, home=world, db_url=database))
        settings = Settings.from_env({}, home=world, db_url=database)
        truth = GroundTruth.load(ground_truth_dir(settings))
        plate = truth.scenario["suspect"]
        day = pd.Timestamp(truth.passages["time"].min()).tz_convert("UTC").normalize()
        now = (day + pd.Timedelta(days=1, hours=10)).to_pydatetime()
        embedded_ws = workbench.open(world, db_url=database, clock=lambda: now)
        embedded = embedded_ws.login(USER).open_case(SAMPLE_CASE, purpose=PURPOSE)
        tokens_file = Path(tmp) / "tokens.json"
        tokens = {f"client-{n}": issue_token(tokens_file, USER) for n in range(CLIENTS)}
        with served(world, tokens_file, now=now.isoformat(), db_url=database, started=service_pid.append) as url:
            def service_cpu() -> float:
                return process_cpu_s(service_pid[0])

            client = workbench.open(service=url, token=tokens["client-0"]).login() \
                .open_case(SAMPLE_CASE, purpose=PURPOSE)
            embedded_plate = _timed(lambda: embedded.plate_reads(plate), repeat)
            client.plate_reads(plate)
            cpu = time.process_time(), service_cpu(), server_cpu_s(embedded_ws.store)
            served_plate = _timed(lambda: client.plate_reads(plate), repeat)
            cpu_ms = [1000 * (after - before) / (repeat + 1) if before is not None and after is not None else None
                      for before, after in zip(cpu, (time.process_time(), service_cpu(),
                                                     server_cpu_s(embedded_ws.store)), strict=True)]
            embedded_trip, served_trip = _paired(lambda: embedded.trajectory(plate).route,
                                                 lambda: client.trajectory(plate), max(TRAJECTORY_PAIRS, repeat))
            segments = client.footage()
            rng = np.random.default_rng(1)
            moments = [(s.camera_id, s.start + (s.end - s.start) * float(rng.random()))
                       for s in segments.sample(repeat, replace=True, random_state=1).itertuples()]
            frames = iter(moments * 2)
            served_frame = _timed(lambda: client.frame(*next(frames)), repeat)
            plates = sorted(set(embedded.sightings(None)["plate"]))[:2000]
            feed = _shifted_feed(world, Path(tmp) / "feed.csv")
            saturated = _saturated(url, tokens, plates, world, feed, repeat, database)
            users = _users(url, tokens, plates, world, Path(tmp), duration, THINK_S, database, embedded_ws.store,
                           service_cpu)
        embedded_ws.store.dispose()
    transfer = _transfer(sightings)
    idle = _p(served_plate, 50)

    def ratio(latencies: list[float]) -> float | None:
        return round(_p(latencies, 95) / idle, 2) if latencies else None

    def p95(latencies: list[float]) -> float | None:
        return round(_p(latencies, 95), 2) if latencies else None

    result = {
        "embedded_plate_p50_ms": round(_p(embedded_plate, 50), 2), "served_plate_p50_ms": round(idle, 2),
        "served_overhead_ms": round(idle - _p(embedded_plate, 50), 2),
        "served_call_client_cpu_ms": _round(cpu_ms[0]), "served_call_service_cpu_ms": _round(cpu_ms[1]),
        "served_call_database_cpu_ms": _round(cpu_ms[2]),
        "served_trajectory_ratio": round(statistics.median([s / e for s, e in zip(served_trip, embedded_trip)]), 3),
        "served_trajectory_ratio_of_medians": round(statistics.median(served_trip) / statistics.median(embedded_trip),
                                                    3),
        "trajectory_pairs": len(served_trip),
        "embedded_trajectory_p50_ms": round(_p(embedded_trip, 50), 1),
        "served_trajectory_p50_ms": round(_p(served_trip, 50), 1),
        "transfer_1m_sightings_s": round(transfer * 1_000_000 / sightings, 3), "transfer_rows": sightings,
        "served_frame_p50_ms": round(_p(served_frame, 50), 2),
        "concurrent_p95_ms": p95(users["latencies"]), "concurrent_p95_over_idle_p50": ratio(users["latencies"]),
        "concurrent_p50_ms": round(_p(users["latencies"], 50), 2) if users["latencies"] else None,
        "concurrent_errors": len(users["errors"]), "concurrent_error_texts": _error_texts(users["errors"]),
        "concurrent_calls": users["calls"], "concurrent_calls_per_s": round(users["calls_per_s"], 2),
        "concurrent_clients": CLIENTS, "concurrent_think_s": list(THINK_S), "concurrent_window_s": duration,
        "concurrent_client_cpu_ms_per_call": round(users["client_cpu_ms"], 2),
        "concurrent_service_cpu_ms_per_call": round(users["service_cpu_ms"], 2),
        "concurrent_ingest_overlap": round(users["ingest_overlap"], 3), "concurrent_ingest_runs": users["ingest_runs"],
        "concurrent_ingested_reads": users["ingested_reads"],
        "concurrent_saturated_p95_ms": p95(saturated["latencies"]),
        "concurrent_saturated_p95_over_idle_p50": ratio(saturated["latencies"]),
        "concurrent_saturated_errors": len(saturated["errors"]),
        "concurrent_saturated_error_texts": _error_texts(saturated["errors"]),
        "concurrent_saturated_calls": len(saturated["latencies"]),
        "concurrent_saturated_calls_per_s": round(saturated["calls_per_s"], 2),
        "concurrent_saturated_ingest_s": round(saturated["ingest_s"], 1),
        "store": "postgresql" if db_url else "sqlite", "load_average": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if as_json:
        click.echo(json.dumps(result))
        return
    for key, value in result.items():
        click.echo(f"{key:40s} {value}")
    click.echo("targets: overhead < 20 ms, trajectory ratio < 1.5, 1M sightings < 3 s, "
               "concurrent p95 < 5x idle p50 with no error")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
