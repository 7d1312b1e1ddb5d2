"""``workbench bench service``: the facade served against the facade embedded, on the sample world.

Timed in one run, on this machine, with the service in its own process on a
loopback port (``workbench serve``) and the sample world of the given day:

* ``embedded_plate_p50_ms`` / ``served_plate_p50_ms``: one plate's sightings
  (``case.plate_reads``), median over ``--repeat`` calls; ``served_overhead_ms``
  is their difference (target: under 20 ms);
* ``served_trajectory_ratio``: one plate's trajectory, served over embedded
  (target: under 1.5). The served Trajectory carries its route (computed by
  the service, which holds the road network), so the embedded side is timed
  with its route built too: the same object, complete;
* ``transfer_1m_sightings_s``: one million synthetic sightings (the columns
  of ``case.sightings``) through the real path: encoded by the wire format in
  a served handler, sent over HTTP, decoded into a GeoDataFrame on the client
  (target: under 3 s);
* ``served_frame_p50_ms``: ``case.frame`` at times spread over the archive;
* ``concurrent_p95_ms``: 8 clients, each with its own token and connection,
  querying plates while a plates ingest runs in another process (target: p95
  under 5 times the idle p50, no error).

With ``--db-url postgresql+psycopg://...`` the world is built into a new
database on that server (dropped afterwards), as in a deployment; by default
it is SQLite in a temporary home (or a copy of ``--home``).
"""

from __future__ import annotations

import json
import os
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

PURPOSE = "judicial-investigation"
USER = "inspector.dupont"
CLIENTS = 8


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


def _shifted_feed(home: Path, target: Path) -> Path:
    """The sample's ANPR feed again, one day earlier and under another source: new reads for an ingest."""
    feed = next((home / "sample").glob("anpr-reads-*.csv"))
    reads = pd.read_csv(feed, dtype=str)
    reads["timestamp"] = (pd.to_datetime(reads["timestamp"], utc=True) - pd.Timedelta(days=1)) \
        .dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    reads["source"] = reads["source"] + "-bench"
    reads.to_csv(target, index=False)
    return target


def _concurrent(url: str, tokens: dict[str, str], plates: list[str], home: Path, feed: Path, per_client: int,
                db_url: str | None) -> tuple[list[float], int, float]:
    """Latencies of ``CLIENTS`` clients querying plates during an ingest; errors; the ingest's seconds."""
    import workbench
    from workbench.samples import SAMPLE_CASE

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "JUPYTERHUB_"))}
    env["WORKBENCH_HOME"] = str(home)
    if db_url:
        env["WORKBENCH_DB_URL"] = db_url
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
            except Exception as exc:  # noqa: BLE001 (each error counted and reported: the target is none)
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - start)

    ingest_start = time.perf_counter()
    ingest = subprocess.Popen([sys.executable, "-m", "workbench.cli", "plates", "ingest", str(feed)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ingest.wait()
    return latencies, len(errors), time.perf_counter() - ingest_start


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
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def command(home: Path | None, repeat: int, sightings: int, db_url: str | None, as_json: bool) -> None:
    """The served facade against the embedded one: per-call overhead, trajectory, transfer, frames, load."""
    import workbench
    from workbench.config import Settings
    from workbench.samples import SAMPLE_CASE, build_sample, ground_truth_dir
    from workbench.samples.simulated_traffic import GroundTruth
    from workbench.service.identity import issue_token
    from workbench.service.process import served

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
        with served(world, tokens_file, now=now.isoformat(), db_url=database) as url:
            client = workbench.open(service=url, token=tokens["client-0"]).login() \
                .open_case(SAMPLE_CASE, purpose=PURPOSE)
            embedded_plate = _timed(lambda: embedded.plate_reads(plate), repeat)
            served_plate = _timed(lambda: client.plate_reads(plate), repeat)
            embedded_trip = _timed(lambda: embedded.trajectory(plate).route, max(5, repeat // 3))
            served_trip = _timed(lambda: client.trajectory(plate), max(5, repeat // 3))
            segments = client.footage()
            rng = np.random.default_rng(1)
            moments = [(s.camera_id, s.start + (s.end - s.start) * float(rng.random()))
                       for s in segments.sample(repeat, replace=True, random_state=1).itertuples()]
            frames = iter(moments * 2)
            served_frame = _timed(lambda: client.frame(*next(frames)), repeat)
            plates = sorted(set(embedded.sightings(None)["plate"]))[:2000]
            feed = _shifted_feed(world, Path(tmp) / "feed.csv")
            latencies, errors, ingest_s = _concurrent(url, tokens, plates, world, feed, repeat, database)
        embedded_ws.store.dispose()
    transfer = _transfer(sightings)
    idle = _p(served_plate, 50)
    result = {
        "embedded_plate_p50_ms": round(_p(embedded_plate, 50), 2), "served_plate_p50_ms": round(idle, 2),
        "served_overhead_ms": round(idle - _p(embedded_plate, 50), 2),
        "served_trajectory_ratio": round(statistics.median(served_trip) / statistics.median(embedded_trip), 3),
        "embedded_trajectory_p50_ms": round(_p(embedded_trip, 50), 1),
        "served_trajectory_p50_ms": round(_p(served_trip, 50), 1),
        "transfer_1m_sightings_s": round(transfer * 1_000_000 / sightings, 3), "transfer_rows": sightings,
        "served_frame_p50_ms": round(_p(served_frame, 50), 2),
        "concurrent_p95_ms": round(_p(latencies, 95), 2) if latencies else None,
        "concurrent_p95_over_idle_p50": round(_p(latencies, 95) / idle, 2) if latencies else None,
        "concurrent_errors": errors, "concurrent_calls": len(latencies), "ingest_during_s": round(ingest_s, 1),
        "store": "postgresql" if db_url else "sqlite", "load_average": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if as_json:
        click.echo(json.dumps(result))
        return
    for key, value in result.items():
        click.echo(f"{key:32s} {value}")
    click.echo("targets: overhead < 20 ms, trajectory ratio < 1.5, 1M sightings < 3 s, "
               "concurrent p95 < 5x idle p50 with no error")

