"""``workbench bench frames``: a 720p H.264 archive, our index and queries against decoding everything.

Timed in one run, on this machine:

* the raw decode rate of the archive with PyAV (every frame, luma touched,
  segments spread over the cores): the physical limit of indexing;
* our index build rate over the same archive and the same workers, and the CPU seconds per second of footage of
  both (``decode_cpu_s_per_clip_s``, ``index_cpu_s_per_clip_s``: the workers' and this process's, which a loaded
  machine inflates less than the wall time); both run on one cluster whose workers loaded the index's modules and
  models first, as a standing cluster's have (``cluster_start_s``: that start, timed apart);
* a straightforward baseline for a region-of-interest motion query: decode
  every frame with OpenCV and difference the region (timed on the first
  ``BASELINE_SECONDS`` of each segment and scaled to the archive);
* our query latency (p50, p95) on that archive through ``case.frame_search``,
  and on a synthetic index of ``--synthetic-hours`` camera-hours;
* the median latency of ``case.frame`` at random times;
* ``corpus_exact_rate``: the share of exact answers over the footage conformance corpus
  (``bench._footage_corpus``: probe, frames at random times, keyframe steps, exports against ground truth);
* ``colour_accuracy``, ``kind_accuracy``, ``object_precision_real`` on the labelled real events
  and ``motion_precision_vegetation`` over labelled foliage (``bench._labelled_events``; in sample: the rules
  were set on them), ``kind_accuracy_heldout`` on the events of a clip added afterwards;
* ``face_redaction_recall`` and ``face_redaction_precision`` on the faces labelled in real photographs,
  ``plate_redaction_recall``, ``plate_redaction_precision`` and ``plate_read_exact_rate`` on the plates
  labelled in real photographs (``bench._labelled_images``; the sets' sizes beside them), and
  ``face_redaction_recall_heldout`` / ``face_redaction_precision_heldout`` on a crowd photograph labelled after
  the detectors were set (never tuned on), ``face_redaction_recall_small_heldout`` /
  ``face_redaction_precision_small_heldout`` on small heads in a dim lecture hall labelled before the search of
  stills at twice their size was written (at their own size only), ``plate_redaction_recall_heldout``,
  ``plate_redaction_recall_frames_heldout``, ``plate_redaction_precision_heldout`` and
  ``plate_read_exact_rate_heldout`` on plates of other pictures of the same sources set apart by file name
  (never tuned on); ``colour_accuracy_by_clip`` beside
  ``colour_accuracy``;
* ``redaction_cpu_s_per_clip_s`` of a redacted re-encode of real clips against the old cadence (detectors on
  every third picture: ``..._every_3``, ratio ``redaction_cost_ratio``), and ``carry_coverage``: the share of
  what the detectors find on every picture that the blurred regions cover between detections
  (``bench._redaction_cost``).

``--index-only`` measures the first two alone (decoding and the index build, with their CPU per second of
footage and the moving objects and plates found): a few minutes instead of the whole run.

The archive is synthetic street footage (workbench.samples.street_render),
1280x720, 25 fps, encoded at 4 Mb/s like a typical camera stream, kept in the
cache folder so that a second run does not render it again.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import click
import numpy as np
import pandas as pd

CAMERAS = 3
BASELINE_SECONDS = 60
RENDERED_SECONDS = 60   # drawn per camera; the rest of the archive repeats it


def _render_one(path: str, seconds: float, seed: int) -> str:
    """Worker task: one camera's footage with random traffic (cached by name).

    A stretch of at most ``RENDERED_SECONDS`` is drawn and encoded, then its
    packets are repeated with shifted timestamps up to ``seconds``: the file
    decodes like a long recording, and the first run takes minutes, not tens.
    """
    from workbench.samples.street_render import Passage, render_clip

    target = Path(path)
    if target.exists():
        return path
    rendered = min(seconds, RENDERED_SECONDS)
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(6.0, int(rendered / 3)))
    passages = [Passage(float(t), str(rng.choice(["white", "black", "grey", "red", "blue", "green", "yellow"])),
                        str(rng.choice(["car", "car", "car", "van", "truck", "motorbike", "person"])),
                        str(rng.choice(["left", "right"])), f"{rng.integers(1, 9)}-ABC-{rng.integers(100, 999)}")
                for t in times if t < rendered]
    stretch = target.with_suffix(".stretch.mp4")
    render_clip(stretch, passages, duration=rendered, width=1280, height=720, fps=Fraction(25), seed=seed,
                preset="ultrafast", bitrate=4_000_000)
    partial = target.with_suffix(".partial.mp4")
    _repeat(stretch, partial, seconds)
    stretch.unlink()
    partial.replace(target)
    return path


def _repeat(source: Path, target: Path, seconds: float) -> None:
    """Copy the packets of ``source`` again and again, timestamps shifted, until ``seconds`` are filled."""
    with av.open(str(source)) as probe:
        packets = [(p.pts or 0, p.dts or 0, p.is_keyframe, bytes(p)) for p in probe.demux(video=0) if p.size]
        stream = probe.streams.video[0]
        base = stream.time_base or Fraction(1, 90_000)
        rate = stream.average_rate or Fraction(25)
        length = max(p[0] for p in packets) + round(1 / (rate * base))   # last frame's end
    with av.open(str(source)) as template, av.open(str(target), "w") as out:
        clip = out.add_stream_from_template(template.streams.video[0])
        shift = 0
        while shift * base < seconds:
            for pts, dts, key, data in packets:
                if (pts + shift) * base >= seconds:
                    break
                packet = av.Packet(data)
                packet.pts, packet.dts, packet.time_base, packet.stream = pts + shift, dts + shift, base, clip
                packet.is_keyframe = key
                out.mux(packet)
            shift += length


def _baseline_roi_motion(path: str, roi: tuple[float, float, float, float], seconds: float) -> tuple[int, int]:
    """Decode frames with OpenCV and difference the region: (frames decoded, frames with motion)."""
    import cv2

    cap = cv2.VideoCapture(path)
    previous, frames, moving = None, 0, 0
    limit = int(seconds * (cap.get(cv2.CAP_PROP_FPS) or 25))
    while frames < limit:
        ok, image = cap.read()
        if not ok:
            break
        h, w = image.shape[:2]
        grey = cv2.cvtColor(image[int(roi[1] * h):int(roi[3] * h), int(roi[0] * w):int(roi[2] * w)],
                            cv2.COLOR_BGR2GRAY)
        if previous is not None and (cv2.absdiff(grey, previous) > 20).mean() > 0.01:
            moving += 1
        previous, frames = grey, frames + 1
    cap.release()
    return frames, moving


def _latencies(fn, n: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """(cold, p50, p95) in milliseconds of ``fn(i)`` over ``n`` calls after a first, cold one."""
    t = time.perf_counter()
    fn(0)
    cold = (time.perf_counter() - t) * 1000
    times = []
    for i in range(1, n + 1):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    return cold, float(np.percentile(times, 50)), float(np.percentile(times, 95))


@click.command()
@click.option("--minutes", default=30, show_default=True, help="minutes of 720p footage in the archive (all cameras)")
@click.option("--synthetic-hours", default=1000, show_default=True, help="camera-hours of the synthetic index")
@click.option("--workers", default=None, type=int, help="worker processes (default: one per core)")
@click.option("--index-only", is_flag=True,
              help="measure only the index build against raw decoding (the keys of both; minutes, not the whole run)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def command(minutes: int, synthetic_hours: int, workers: int | None, index_only: bool, as_json: bool) -> None:
    """Index build against raw decoding, ROI queries against decoding every frame, random frame access."""
    say = (lambda *a: None) if as_json else click.echo
    with tempfile.TemporaryDirectory(prefix="wb-bench-frames-") as home:
        result = _measure(Path(home), minutes, synthetic_hours, workers, index_only, say)
    if as_json:
        click.echo(json.dumps(result))


def _tree_cpu_s() -> float:
    """CPU seconds of this process and every process under it, living (the cluster's workers) or ended."""
    from workbench.bench._processes import cpu_below, self_and_ended_children_cpu_s

    return self_and_ended_children_cpu_s() + cpu_below(os.getpid())


@contextmanager
def _standing_cluster(workers: int | None) -> Iterator[Any]:
    """A Dask client of ``workers`` processes (default: one per core) whose workers have loaded the index's
    modules and models, as a standing cluster's have: the timed runs then measure the work, not the start-up
    (reported apart). With one worker, None: the jobs run in this process, warmed the same way."""
    from workbench.search.index_build import local_client, warm_worker

    workers = workers or os.cpu_count() or 1
    if workers == 1:
        warm_worker()
        yield None
        return
    with local_client(workers) as client:
        client.run(warm_worker)
        yield client


def _measure(home: Path, minutes: int, synthetic_hours: int, workers: int | None, index_only: bool,
             say: Callable[..., None]) -> dict[str, Any]:
    """The run of :func:`command` in the fresh home ``home``: its keys (the first two measurements alone if
    ``index_only``)."""
    import workbench
    from workbench.access import audit
    from workbench.bench.frame_scale import HOURS_PER_CAMERA, synthetic_index
    from workbench.config import Settings
    from workbench.footage.footage_ingest import ingest_footage
    from workbench.samples.world import SAMPLE_CASE, build_world
    from workbench.search.index_build import build_index, decode_only, map_segments
    from workbench.store import Store

    day = date.today() - timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 6, tzinfo=timezone.utc)
    settings = Settings.from_env({}, home=home)
    cache = Settings.from_env().cache_dir / "bench-frames"
    cache.mkdir(parents=True, exist_ok=True)
    store = Store(settings)
    store.migrate()
    cams = [f"CCTV-PZ5339-{900 + i}" for i in range(CAMERAS)]
    synth = [f"CCTV-PZ5339-{700 + i}" for i in range(-(-synthetic_hours // HOURS_PER_CAMERA))]
    build_world(store, day, pd.DataFrame({"camera_id": cams + synth, "owner": "PZ5339", "kind": "fixed",
                                          "name": "bench", "lon": 4.35, "lat": 50.85, "heading": None,
                                          "fov_deg": 70.0, "range_m": 60.0}))
    seconds = minutes * 60 / CAMERAS
    say(f"rendering the archive ({minutes} min of 720p, cached in {cache})...")
    jobs = [(str(cache / f"cam{i}-{int(seconds)}s-from{RENDERED_SECONDS}s.mp4"), seconds, 40 + i)
            for i in range(CAMERAS)]
    paths = list(map_segments(_render_one, jobs, workers=workers, unit="camera"))
    paths.sort()
    for cam, path in zip(cams, paths):
        ingest_footage(store, [Path(path)], camera_id=cam, start=start, now=datetime.now(timezone.utc),
                       audit=audit.writer(audit.Actor("system:bench"), time=datetime.now(timezone.utc)))

    t = time.perf_counter()
    with _standing_cluster(workers) as client:
        cluster_start_s = time.perf_counter() - t
        t, cpu = time.perf_counter(), _tree_cpu_s()
        frames = sum(map_segments(decode_only, [(p,) for p in paths], workers=workers, client=client))
        decode_s, decode_cpu = time.perf_counter() - t, _tree_cpu_s() - cpu
        t, cpu = time.perf_counter(), _tree_cpu_s()
        summary = build_index(store, workers=workers, client=client)
        index_s, index_cpu = time.perf_counter() - t, _tree_cpu_s() - cpu
    decode_fps, index_fps = frames / decode_s, summary.frames / index_s
    say(f"raw decode (PyAV): {decode_fps:,.0f} frames/s; index build: {index_fps:,.0f} frames/s "
        f"-> {index_fps / decode_fps:.2f} of raw decode ({summary.events:,} moving objects); CPU s per second of "
        f"footage: {decode_cpu / (seconds * CAMERAS):.4f} decoding, {index_cpu / (seconds * CAMERAS):.4f} indexing "
        f"(the workers' start and models' load before both: {cluster_start_s:.1f} s)")
    speed = {"decode_fps": round(decode_fps, 1), "index_fps": round(index_fps, 1),
             "cluster_start_s": round(cluster_start_s, 2),
             "index_vs_decode": round(index_fps / decode_fps, 3),
             "decode_cpu_s_per_clip_s": round(decode_cpu / (seconds * CAMERAS), 4),
             "index_cpu_s_per_clip_s": round(index_cpu / (seconds * CAMERAS), 4),
             "archive_minutes": minutes, "archive_frames": frames, "moving_objects": summary.events,
             "plate_reads": summary.plate_reads}
    if index_only:
        store.dispose()
        return speed

    roi = (0.5, 0.55, 1.0, 1.0)
    t = time.perf_counter()
    base_frames = sum(_baseline_roi_motion(p, roi, BASELINE_SECONDS)[0] for p in paths)
    baseline_s = (time.perf_counter() - t) / base_frames * frames
    say(f"baseline ROI query (OpenCV decode of every frame): {baseline_s:,.1f} s for the archive "
        f"(timed on {base_frames:,} frames, scaled to {frames:,})")

    ws = workbench.open(home)
    case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    rng = np.random.default_rng(3)
    rois = [(float(a), float(b), float(a) + 0.3, float(b) + 0.3) for a, b in rng.uniform(0, 0.7, (60, 2))]
    until = start + timedelta(seconds=seconds)
    cold, p50, p95 = _latencies(lambda i: case.frame_search(cameras=cams, since=start, until=until, roi=rois[i],
                                                            thumbnails=False), 50)
    say(f"our ROI query: p50 {p50:.1f} ms, p95 {p95:.1f} ms (first, cold: {cold:.0f} ms) "
        f"-> {baseline_s / (p50 / 1000):,.0f}x faster than the baseline")

    say(f"building a synthetic index of {synthetic_hours:,} camera-hours...")
    synth_start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) - timedelta(days=HOURS_PER_CAMERA // 24)
    synthetic_index(store, synth, synthetic_hours, synth_start)
    synth_until = synth_start + timedelta(hours=HOURS_PER_CAMERA)
    kinds = ["motion", "colour"]
    cold_1000, p50_1000, p95_1000 = _latencies(
        lambda i: case.frame_search(cameras=synth, since=synth_start, until=synth_until, roi=rois[i],
                                    colour="red" if kinds[i % 2] == "colour" else None, thumbnails=False), 40)
    say(f"query on {synthetic_hours:,} camera-hours: p50 {p50_1000:.1f} ms, p95 {p95_1000:.1f} ms "
        f"(first, loading the index: {cold_1000 / 1000:.1f} s)")

    offsets = rng.uniform(0, seconds - 1, 60)
    _, frame_p50, frame_p95 = _latencies(
        lambda i: case.frame(cams[i % len(cams)], start + timedelta(seconds=float(offsets[i]))), 50)
    say(f"random frame at 720p: p50 {frame_p50:.1f} ms, p95 {frame_p95:.1f} ms")

    from workbench.bench._footage_corpus import corpus_exact_rate
    from workbench.bench._labelled_events import HELD_OUT, evaluate_labelled_events
    from workbench.bench._labelled_images import (
        HELD_OUT_FACES,
        HELD_OUT_PLATES,
        HELD_OUT_SMALL_FACES,
        evaluate_labelled_images,
        evaluate_labelled_plates,
    )
    from workbench.bench._redaction_cost import redaction_cost

    exact_rate, corpus_checks, corpus_failures = corpus_exact_rate(home / "corpus")
    real = evaluate_labelled_events()
    held_out = evaluate_labelled_events(HELD_OUT)
    faces = evaluate_labelled_images()
    faces_held_out = evaluate_labelled_images(HELD_OUT_FACES, None)
    small_faces = evaluate_labelled_images(HELD_OUT_SMALL_FACES, None, (1.0,))
    plates_held_out = evaluate_labelled_plates(HELD_OUT_PLATES)
    cost = redaction_cost()
    say(f"labelled real events ({real['labelled_objects']}): colour {real['colour_accuracy']:.3f}, "
        f"kind {real['kind_accuracy']:.3f}, moving objects that are real {real['object_precision_real']:.3f}")
    say(f"held-out real events ({held_out['labelled_objects']}, pedestrians): kind {held_out['kind_accuracy']:.3f}")
    say(f"labelled real faces ({faces['labelled_faces']}): redaction recall {faces['face_redaction_recall']}, "
        f"precision {faces['face_redaction_precision']}; plates ({faces['labelled_plates']}): redaction recall "
        f"{faces['plate_redaction_recall']}, precision {faces['plate_redaction_precision']}, read exactly "
        f"{faces['plate_read_exact_rate']} of {faces['labelled_plate_texts']} legible")
    say(f"held-out real faces ({faces_held_out['labelled_faces']}, a crowd): redaction recall "
        f"{faces_held_out['face_redaction_recall']}, precision {faces_held_out['face_redaction_precision']}; "
        f"small heads ({small_faces['labelled_faces']}, a lecture hall): redaction recall "
        f"{small_faces['face_redaction_recall']}, precision {small_faces['face_redaction_precision']}")
    held = plates_held_out
    say(f"held-out real plates ({held['labelled_plates']}): redaction recall {held['plate_redaction_recall']} (as "
        f"a clip's frame {held['plate_redaction_recall_frames']}), precision {held['plate_redaction_precision']}, "
        f"read exactly {held['plate_read_exact_rate']} of {held['labelled_plate_texts']} legible")
    say(f"redacted clip: {cost['redaction_cpu_s_per_clip_s']} CPU s per clip second (detectors on every third "
        f"picture: {cost['redaction_cpu_s_per_clip_s_every_3']}, x{cost['redaction_cost_ratio']}); what the "
        f"detectors find on every picture covered {cost['carry_coverage']} (every third: "
        f"{cost['carry_coverage_every_3']}, {cost['carry_boxes']} boxes)")
    say(f"conformance corpus: {exact_rate:.4f} exact over {corpus_checks:,} checks"
        + "".join(f"\n  {f}" for f in corpus_failures[:10]))
    result = {**speed, "baseline_query_s": round(baseline_s, 2),
              "query_p50_ms": round(p50, 2), "query_p95_ms": round(p95, 2),
              "query_speedup": round(baseline_s / (p50 / 1000), 1), "query_p95_ms_1000h": round(p95_1000, 2),
              "query_p50_ms_1000h": round(p50_1000, 2), "query_cold_s_1000h": round(cold_1000 / 1000, 2),
              "frame_p50_ms": round(frame_p50, 2), "synthetic_camera_hours": synthetic_hours,
              "corpus_exact_rate": round(exact_rate, 4), "corpus_checks": corpus_checks, **real, **faces, **cost,
              "kind_accuracy_heldout": held_out["kind_accuracy"],
              "labelled_objects_heldout": held_out["labelled_objects"],
              **{f"{key}_heldout": value for key, value in faces_held_out.items()},
              **{f"{key}_small_heldout": value for key, value in small_faces.items()},
              **{f"{key}_heldout": value for key, value in plates_held_out.items()}}
    ws.store.dispose()
    store.dispose()
    return result
