"""``workbench bench frame-scale``: the frame index at a month's size, and index building on 1 and 2 workers.

Timed in one run, on this machine:

* ``frame_query_p95_ms`` (and p50, and the p95 of the CPU time the query
  used, ``frame_query_cpu_p95_ms``, which the load of a shared machine barely
  changes) of ``case.frame_search`` (access layer and
  audit included) over synthetic indexes of 1,000, 10,000 and 100,000
  camera-hours (``--quick``: 100 and 1,000), each in a fresh workbench home:
  cameras of 600 hours (25 days) each, one-hour segments in the catalogue,
  index rows generated (no video decoded) with a known ground truth: exactly
  one red vehicle per camera and day, at a recorded time, and no other red
  object; every colour query's count is checked against it
  (``frame_ground_truth_ok``). A query asks for 8 cameras over 24 hours
  (motion in a region, red vehicles, or people going left), the cameras and
  hours drawn at random;
* the same camera-day read from the previous layout (one ``.npz`` of dense
  arrays per segment) against its Parquet partition (``camera_day_read_ms``);
* ``index_speedup_2_workers``: index build throughput (frames/s) of real
  decoding and analysis on a Dask LocalCluster of 2 worker processes against
  1, over the same rendered street footage (640x360, 25 fps), read through the
  footage source of the embedded mode.

The load of the machine (``os.getloadavg``) is printed with the figures: the
machine is shared. ``measure(quick, progress)`` returns the figures as a dict
(``curve`` holds the points of the query curve) for ``workbench bench scale``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd
import pyarrow as pa

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (100, 1_000)
HOURS_PER_CAMERA = 600          # 25 days
EVENTS_PER_HOUR = 40            # averaged over day and night
BUSY_SHARE = 0.2                # seconds with motion, averaged over day and night
TRACK_POINTS = 8
QUERIES = 40
QUERY_CAMERAS = 8
CLIPS, CLIP_SECONDS = 6, 30.0   # footage indexed for the speed-up (per run)
ROUNDS = 2                      # build runs per worker count, alternated; the best of each counts


def camera_day(rng: np.random.Generator, segment_ids: np.ndarray,
               hours: np.ndarray) -> tuple[dict[str, pa.Table], float]:
    """The index tables of one camera-day made of one-hour ``segment_ids`` starting at ``hours`` (epoch s).

    Returns them with the time of the day's one red vehicle (the ground truth).
    """
    from workbench.footage.index_files import EVENTS, INDEX_VERSION, MOTION, SEGMENTS, binary_column
    from workbench.search.frame_analysis import DESCRIPTOR_BINS, DIRECTIONS, KINDS, PALETTE

    seconds = np.concatenate([h + np.flatnonzero(rng.random(3600) < BUSY_SHARE).astype(np.float64) for h in hours])
    owner = segment_ids[np.searchsorted(hours, seconds, side="right") - 1]
    words = np.left_shift(np.uint64(15), rng.integers(0, 60, len(seconds)).astype(np.uint64))
    first = rng.random(len(seconds)) < 0.5
    motion = pa.table({"segment_id": owner, "time": seconds, "w0": np.where(first, words, np.uint64(0)),
                       "w1": np.where(first, np.uint64(0), words)}, schema=MOTION)
    n = EVENTS_PER_HOUR * len(hours)
    start = np.sort(rng.uniform(hours[0], hours[-1] + 3590, n))
    red = PALETTE.index("red")
    colours = rng.choice([i for i in range(len(PALETTE)) if i != red], n).astype(np.uint8)
    needle = int(rng.integers(0, n))
    colours[needle] = red
    kinds = rng.integers(0, len(KINDS), n).astype(np.uint8)
    kinds[needle] = KINDS.index("vehicle")
    x = rng.uniform(0, 0.7, n).astype(np.float32)
    y = rng.uniform(0, 0.8, n).astype(np.float32)
    track = np.zeros((n, TRACK_POINTS, 5), np.float32)
    track[:, :, 0] = np.arange(TRACK_POINTS, dtype=np.float32) / 4
    track[:, :, 1] = x[:, None] + np.linspace(0, 0.2, TRACK_POINTS, dtype=np.float32)
    track[:, :, 2] = y[:, None]
    track[:, :, 3] = track[:, :, 1] + 0.1
    track[:, :, 4] = y[:, None] + 0.1
    bins = int(np.prod(DESCRIPTOR_BINS))
    descriptors = np.zeros((n, bins), np.float16)   # a colour histogram: a few bins hold the mass
    descriptors[np.arange(n)[:, None], rng.integers(0, bins, (n, 6))] = 1 / 6
    event_segment = segment_ids[np.searchsorted(hours, start, side="right") - 1]
    events = pa.table({
        "segment_id": event_segment, "event_no": np.arange(n, dtype=np.int32), "start": start, "end": start + 3,
        "best": start + 1, "direction_code": rng.integers(0, len(DIRECTIONS), n).astype(np.uint8),
        "colour_code": colours, "kind_code": kinds, "size": rng.uniform(0.01, 0.1, n).astype(np.float32),
        "x0": x, "y0": y, "x1": x + 0.3, "y1": y + 0.1, "descriptor": binary_column(descriptors, np.arange(n + 1)),
        "track": binary_column(track.reshape(-1, 5), np.arange(n + 1) * TRACK_POINTS)}, schema=EVENTS)
    segments = pa.table({"segment_id": segment_ids, "start": hours, "end": hours + 3600,
                         "frames": np.full(len(hours), 90_000), "events": np.bincount(
                             np.searchsorted(segment_ids, event_segment), minlength=len(hours)),
                         "version": np.full(len(hours), INDEX_VERSION, np.int16)}, schema=SEGMENTS)
    return {"segments": segments, "motion": motion, "events": events}, float(start[needle] + 1)


def synthetic_index(store: Any, camera_ids: list[str], hours: int, start: datetime, *, seed: int = 5,
                    progress: Callable[[str], None] = lambda _: None) -> pd.DataFrame:
    """Catalogue rows and index partitions for ``hours`` one-hour segments without footage.

    Camera ``i`` holds hours ``i * HOURS_PER_CAMERA`` onwards of the total from
    ``start`` (UTC midnight). Returns the ground truth: one red vehicle per
    camera-day (camera_id, time as epoch seconds).
    """
    from sqlalchemy import func, insert, select

    from workbench.footage.index_files import DAY_S, partition_dir, write_partition
    from workbench.store.models import FootageSegment

    rng = np.random.default_rng(seed)
    t0 = start.timestamp()
    if t0 % DAY_S:
        raise ValueError("a synthetic index starts at midnight UTC: its partitions are whole days")
    with store.snapshot() as session:
        next_id = int(session.execute(select(func.coalesce(func.max(FootageSegment.id), 0))).scalar_one()) + 1
    truth: list[tuple[str, float]] = []
    for c, camera in enumerate(camera_ids):
        count = min(HOURS_PER_CAMERA, hours - c * HOURS_PER_CAMERA)
        if count <= 0:
            break
        ids = np.arange(next_id, next_id + count, dtype=np.int64)
        starts = t0 + np.arange(count) * 3600.0
        rows = [{"id": int(i), "camera_id": camera, "start": datetime.fromtimestamp(s, timezone.utc),
                 "end": datetime.fromtimestamp(s + 3600, timezone.utc), "fps": 25.0, "codec": "h264",
                 "container": "mp4", "width": 1280, "height": 720, "frame_count": 90_000,
                 "path": f"synthetic/{camera}/{i}.mp4", "sha256": f"{i:064x}", "size_bytes": 0, "keyframes": [0.0],
                 "indexed_at": start, "ingested_at": start} for i, s in zip(ids, starts)]
        with store.session() as session:
            session.execute(insert(FootageSegment), rows)
        next_id += count
        for d in range(0, count, 24):
            tables, needle = camera_day(rng, ids[d:d + 24], starts[d:d + 24])
            write_partition(partition_dir(store.settings.index_dir, camera, int(starts[d] // DAY_S)), tables)
            truth.append((camera, needle))
        if c % 20 == 19:
            progress(f"  {(c + 1) * HOURS_PER_CAMERA:,} camera-hours written")
    return pd.DataFrame(truth, columns=["camera_id", "time"])


def _cameras(n: int, base: int) -> pd.DataFrame:
    ids = [f"CCTV-PZ5339-{base + i}" for i in range(n)]
    return pd.DataFrame({"camera_id": ids, "owner": "PZ5339", "kind": "fixed", "name": "bench", "lon": 4.35,
                         "lat": 50.85, "heading": None, "fov_deg": 70.0, "range_m": 60.0})


def _cpu_s() -> float:
    """CPU seconds of this process so far, every thread counted (a figure the machine's load barely changes)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def query_scale(hours: int, progress: Callable[[str], None], *, queries: int = QUERIES) -> dict[str, Any]:
    """A fresh home with a synthetic index of ``hours`` camera-hours; query latencies and the ground truth."""
    import workbench
    from workbench.config import Settings
    from workbench.samples.world import SAMPLE_CASE, build_world
    from workbench.store import Store

    home = Path(tempfile.mkdtemp(prefix=f"wb-bench-frame-scale-{hours}-"))
    try:
        store = Store(Settings.from_env({}, home=home))
        store.migrate()
        n_cams = -(-hours // HOURS_PER_CAMERA)
        cameras = _cameras(n_cams, 1000)
        today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        start = today - timedelta(days=HOURS_PER_CAMERA // 24 + 2)
        build_world(store, (today - timedelta(days=1)).date(), cameras)
        t = time.perf_counter()
        truth = synthetic_index(store, list(cameras["camera_id"]), hours, start, progress=progress)
        generate_s = time.perf_counter() - t
        index_bytes = sum(p.stat().st_size for p in store.settings.index_dir.rglob("*.parquet"))
        progress(f"{hours:,} camera-hours: index written in {generate_s:.0f} s ({index_bytes / 2**20:,.0f} MiB)")
        ws = workbench.open(home)
        case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
        rng = np.random.default_rng(11)
        latencies, cpu, checked, wrong = [], [], 0, []
        for i in range(queries):
            pool = cameras["camera_id"].iloc[:n_cams].to_numpy()
            chosen = list(rng.choice(pool, min(QUERY_CAMERAS, len(pool)), replace=False))
            span = min(HOURS_PER_CAMERA, hours) - 24
            since = start + timedelta(hours=int(rng.integers(0, max(span, 1))))
            until = since + timedelta(hours=24)
            shape = ["motion", "red", "people"][i % 3]
            shapes: dict[str, dict[str, Any]] = {"motion": {"roi": (0.5, 0.4, 1.0, 1.0)}, "red": {"colour": "red"},
                                                 "people": {"kind": "person", "direction": "left"}}
            criteria = shapes[shape]
            t, c = time.perf_counter(), _cpu_s()
            hits = case.frame_search(cameras=chosen, since=since, until=until, thumbnails=False, **criteria)
            latencies.append((time.perf_counter() - t) * 1000)
            cpu.append((_cpu_s() - c) * 1000)
            if shape == "red":
                inside = truth["camera_id"].isin(chosen) & (truth["time"] >= since.timestamp()) & \
                    (truth["time"] < until.timestamp())
                checked += 1
                if hits.total != int(inside.sum()):
                    wrong.append((i, hits.total, int(inside.sum())))
        ws.store.dispose()
        store.dispose()
        return {"hours": hours, "cameras": n_cams, "generate_s": generate_s, "index_bytes": index_bytes,
                "p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95)),
                "cpu_p95_ms": float(np.percentile(cpu, 95)),
                "first_ms": latencies[0], "truth_checked": checked, "truth_wrong": wrong}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def camera_day_read(progress: Callable[[str], None], repeats: int = 5) -> dict[str, float]:
    """One camera-day read from 24 per-segment ``.npz`` files of dense arrays (the previous layout) and from
    its Parquet partition: milliseconds each (files written here, read warm from the page cache)."""
    from workbench.footage.index_files import DAY_S, PartitionReader, partition_dir, write_partition

    folder = Path(tempfile.mkdtemp(prefix="wb-bench-layout-"))
    try:
        day = 20_000
        hours = day * DAY_S + np.arange(24) * 3600.0
        tables, _ = camera_day(np.random.default_rng(3), np.arange(1, 25, dtype=np.int64), hours)
        write_partition(partition_dir(folder, "CAM", day), tables)
        motion, events = tables["motion"].to_pandas(), tables["events"]
        for k, h in enumerate(hours):   # the previous layout: one file per segment, one row per second
            dense = np.zeros((3600, 2), np.uint64)
            rows = motion[motion["segment_id"] == k + 1]
            dense[(rows["time"].to_numpy() - h).astype(int)] = rows[["w0", "w1"]].to_numpy()
            mine = events.filter(pa.compute.equal(events["segment_id"], k + 1))
            np.savez(folder / f"segment-{k + 1}.npz", motion=dense, ev_start=mine["start"].to_numpy() - h,
                     ev_descriptor=np.frombuffer(mine["descriptor"].combine_chunks().buffers()[2], np.float16),
                     track=np.frombuffer(mine["track"].combine_chunks().buffers()[2], np.float32))

        def npz() -> None:
            for k in range(24):
                with np.load(folder / f"segment-{k + 1}.npz") as z:
                    [z[name] for name in z.files]

        def parquet() -> None:
            reader = PartitionReader(folder, cache_bytes=0)
            for name in ("motion", "events", "segments"):
                reader.read("CAM", day, name)

        out = {}
        for name, fn in (("npz", npz), ("parquet", parquet)):
            fn()
            t = time.perf_counter()
            for _ in range(repeats):
                fn()
            out[name] = (time.perf_counter() - t) / repeats * 1000
        progress(f"one camera-day read: {out['npz']:.1f} ms from 24 .npz files, {out['parquet']:.1f} ms from "
                 "its Parquet partition")
        return out
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _render_clips(folder: Path) -> list[Path]:
    """Street footage to index (cached by name): ``CLIPS`` clips of ``CLIP_SECONDS`` at 640x360, 25 fps."""
    from workbench.samples.street_render import Passage, render_clip

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(CLIPS):
        path = folder / f"street-{i}-{int(CLIP_SECONDS)}s.mp4"
        if not path.exists():
            rng = np.random.default_rng(70 + i)
            passages = [Passage(float(t), str(rng.choice(["white", "red", "blue", "grey"])),
                                str(rng.choice(["car", "van", "person"])), str(rng.choice(["left", "right"])),
                                f"1-ABC-{100 + k}") for k, t in enumerate(np.arange(1.0, CLIP_SECONDS - 3, 2.5))]
            partial = path.with_suffix(".partial.mp4")
            render_clip(partial, passages, duration=CLIP_SECONDS, width=640, height=360, fps=Fraction(25),
                        seed=70 + i)
            partial.replace(path)
        paths.append(path)
    return paths


def build_speedup(progress: Callable[[str], None]) -> dict[str, float]:
    """Index build throughput (frames/s) with 1 and 2 Dask worker processes over the same footage."""
    from workbench.access import audit
    from workbench.config import Settings
    from workbench.footage.footage_ingest import ingest_footage
    from workbench.samples.world import build_world
    from workbench.search.index_build import build_index, local_client, warm_worker
    from workbench.store import Store

    clips = _render_clips(Settings.from_env().cache_dir / "bench-frame-scale")
    home = Path(tempfile.mkdtemp(prefix="wb-bench-build-"))
    try:
        store = Store(Settings.from_env({}, home=home))
        store.migrate()
        now = datetime.now(timezone.utc)
        cams = _cameras(1, 900)
        build_world(store, (now - timedelta(days=1)).date(), cams)
        for i, clip in enumerate(clips):   # segment files differ by their bytes: each clip once
            ingest_footage(store, [clip], camera_id=str(cams["camera_id"].iloc[0]),
                           start=now - timedelta(hours=2) + timedelta(minutes=i), now=now,
                           audit=audit.writer(audit.Actor("system:bench"), time=now))
        rates = {1: 0.0, 2: 0.0}
        for _ in range(ROUNDS):   # alternated, so that a burst of load from elsewhere hits both
            for workers in (1, 2):
                with local_client(workers) as client:
                    client.run(warm_worker)   # a standing cluster's workers: modules and models loaded
                    t = time.perf_counter()
                    summary = build_index(store, rebuild=True, client=client)
                    rate = summary.frames / (time.perf_counter() - t)
                rates[workers] = max(rates[workers], rate)
                progress(f"index build, {workers} worker process(es): {rate:,.0f} frames/s")
        store.dispose()
        return {"index_fps_1_worker": rates[1], "index_fps_2_workers": rates[2],
                "index_speedup_2_workers": rates[2] / rates[1]}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def measure(quick: bool = False, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Every figure of this benchmark (``quick``: the small sizes), with the machine's load before and after."""
    load_before = os.getloadavg()
    sizes = QUICK_SIZES if quick else SIZES
    scales = [query_scale(h, progress) for h in sizes]
    for s in scales:
        progress(f"{s['hours']:>7,} camera-hours ({s['cameras']} cameras): frame query p50 {s['p50_ms']:.0f} ms, "
                 f"p95 {s['p95_ms']:.0f} ms (CPU time p95 {s['cpu_p95_ms']:.0f} ms); "
                 f"ground truth {'exact' if not s['truth_wrong'] else s['truth_wrong']}")
    layout = camera_day_read(progress)
    speed = build_speedup(progress)
    load_after = os.getloadavg()
    progress(f"2 workers against 1: {speed['index_speedup_2_workers']:.2f}x (target 1.8); machine load "
             f"{load_before[0]:.1f} before, {load_after[0]:.1f} after, {os.cpu_count()} cores")
    return {
        "frame_query_p95_ms": {str(s["hours"]): round(s["p95_ms"], 1) for s in scales},
        "frame_query_p50_ms": {str(s["hours"]): round(s["p50_ms"], 1) for s in scales},
        "frame_query_cpu_p95_ms": {str(s["hours"]): round(s["cpu_p95_ms"], 1) for s in scales},
        "frame_ground_truth_ok": all(not s["truth_wrong"] and s["truth_checked"] for s in scales),
        "frame_index_bytes_per_camera_hour": round(scales[-1]["index_bytes"] / scales[-1]["hours"]),
        "frame_index_generate_s": {str(s["hours"]): round(s["generate_s"], 1) for s in scales},
        "camera_day_read_ms_npz": round(layout["npz"], 1), "camera_day_read_ms_parquet": round(layout["parquet"], 1),
        **{k: round(v, 3 if "speedup" in k else 1) for k, v in speed.items()},
        "cores": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "curve": {"camera_hours": [s["hours"] for s in scales], "frame_query_p95_ms": [s["p95_ms"] for s in scales],
                  "frame_query_p50_ms": [s["p50_ms"] for s in scales]},
    }


@click.command()
@click.option("--quick", is_flag=True, help="the small sizes (100 and 1,000 camera-hours), for CI")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def command(quick: bool, as_json: bool) -> None:
    """Frame query latency over 1,000 to 100,000 camera-hours; index build on 1 and 2 Dask workers."""
    result = measure(quick, lambda line: click.echo(line, err=as_json))   # with --json, progress on stderr
    if as_json:
        click.echo(json.dumps(result))
