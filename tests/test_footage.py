"""Footage: ingest (formats, idempotence, bad files), exact frames, frame search, evidence packages."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import AccessDenied, InvalidInput, NotFound
from workbench.evidence.custody import verify_with_store
from workbench.footage import ingest_footage, probe
from workbench.samples import SAMPLE_CASE, ground_truth_dir
from workbench.samples.street_render import Passage, render_clip
from workbench.search import build_index

from conftest import NOW, OPS, TEST_DATA, sample_workspace

OWN_CAMERA = "CCTV-PZ5339-001"       # a camera of the investigator's own zone
START = datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc)
CARS = [Passage(1.5, "red", "car", "right", "1-ABC-234"), Passage(3.0, "blue", "van", "left", "2-XYZ-987")]


@pytest.fixture(scope="module")
def world(sample_copy):
    """The sample world with its traffic and footage, the clock fixed the day after."""
    with sample_workspace(sample_copy) as ws:
        yield ws


@pytest.fixture(scope="module")
def case(world):
    return world.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Tiny clips in every supported container and codec, rendered from NumPy arrays."""
    folder = tmp_path_factory.mktemp("clips")
    specs = {"h264.mp4": "libx264", "h265.mkv": "libx265", "mpeg4.avi": "mpeg4", "h264.ts": "libx264",
             "mjpeg.mkv": "mjpeg"}
    return {name: render_clip(folder / name, CARS, duration=4, width=320, height=180, fps=Fraction(25, 2),
                              codec=codec) for name, codec in specs.items()}


def test_every_supported_container_and_codec_is_probed(clips):
    facts = {name: probe(path) for name, path in clips.items()}
    assert {n: (f.container, f.codec) for n, f in facts.items()} == {
        "h264.mp4": ("mp4", "h264"), "h265.mkv": ("mkv", "hevc"), "mpeg4.avi": ("avi", "mpeg4"),
        "h264.ts": ("ts", "h264"), "mjpeg.mkv": ("mkv", "mjpeg")}
    for f in facts.values():
        assert (f.width, f.height) == (320, 180) and f.fps == 12.5 and abs(f.duration - 4.0) < 0.2
        assert f.keyframes[0] == 0.0 and len(f.keyframes) >= 4


def test_ingest_is_idempotent_reports_bad_files_and_goes_on(world, clips, tmp_path):
    store = world.store
    empty, text = tmp_path / "empty.mp4", tmp_path / "notes.mp4"
    empty.touch()
    text.write_text("procès-verbal, pas une vidéo")
    truncated = tmp_path / "truncated.avi"
    truncated.write_bytes(clips["mpeg4.avi"].read_bytes()[:-3000])
    files = [clips["h264.mp4"], empty, text, truncated, clips["mpeg4.avi"]]
    reports = ingest_footage(store, files, camera_id=OWN_CAMERA, start=START, now=NOW, audit=OPS)
    by_name = {Path(r.path).name: r for r in reports}
    assert by_name["h264.mp4"].segment_id and by_name["mpeg4.avi"].segment_id
    assert "empty" in by_name["empty.mp4"].error
    assert "not a readable video" in by_name["notes.mp4"].error
    assert "truncated" in by_name["truncated.avi"].error or "damaged" in by_name["truncated.avi"].error
    again = ingest_footage(store, [clips["h264.mp4"]], camera_id=OWN_CAMERA, start=START, now=NOW, audit=OPS)[0]
    assert again.duplicate_of == by_name["h264.mp4"].segment_id and "already in the archive" in str(again)
    copy = tmp_path / "copy.mkv"
    shutil.copy(clips["h265.mkv"], copy)
    overlap = ingest_footage(store, [copy], camera_id=OWN_CAMERA, start=START + timedelta(seconds=2), now=NOW,
                             audit=OPS)[0]
    assert overlap.error and "overlaps segment" in overlap.error
    future = ingest_footage(store, [copy], camera_id=OWN_CAMERA, start=NOW + timedelta(days=2), now=NOW, audit=OPS)[0]
    assert "not plausible" in future.error
    unknown = ingest_footage(store, [copy], camera_id="CCTV-NOWHERE", start=START, now=NOW, audit=OPS)[0]
    assert "no camera" in unknown.error
    assert not list(store.settings.footage_dir.rglob("*.partial"))   # nothing half-written


def test_exact_frame_true_timestamp_and_audit(world, case, clips):
    ingest_footage(world.store, [clips["h264.ts"]], camera_id="CCTV-PZ5339-002", start=START, now=NOW, audit=OPS)
    keys = probe(clips["h264.ts"]).keyframes
    before = len(case.audit_trail(limit=1000))
    for offset in (0.0, 0.05, 1.33, 2.0, 3.9):
        at = START + timedelta(seconds=offset)
        frame = case.frame("CCTV-PZ5339-002", at)
        assert frame.time <= at < frame.time + timedelta(seconds=0.08)
        assert frame.image.shape == (180, 320, 3)
        shown = (frame.time - START).total_seconds()
        assert frame.keyframe == any(abs(shown - k) < 1e-3 for k in keys)
    trail = case.audit_trail(limit=1000)
    assert (trail["action"] == "frame").sum() >= 5 and len(trail) >= before + 5
    with pytest.raises(NotFound):
        case.frame("CCTV-PZ5339-002", START + timedelta(minutes=5))


def test_footage_of_a_camera_without_agreement_is_refused_and_audited(case):
    refused = case.camera_access().query("granted == False and data == 'footage'")["camera_id"].iloc[0]
    with pytest.raises(AccessDenied):
        case.frame(refused, START)
    last = case.audit_trail(limit=5).iloc[-1]
    assert (last["action"], last["outcome"]) == ("frame", "denied") and refused in last["reason"]


def test_real_footage_is_indexed_and_its_moving_objects_found(world, case):
    real = sorted((TEST_DATA / "footage").glob("*.[am][vp][i4]"))   # the two real clips, not their NOTICE
    start = START + timedelta(hours=1)
    reports = ingest_footage(world.store, real, camera_id="CCTV-PZ5339-003", start=start, now=NOW, audit=OPS)
    assert all(r.segment_id for r in reports), [str(r) for r in reports]
    summary = build_index(world.store, workers=2)
    assert summary.failed == [] and summary.indexed >= 2
    span = dict(cameras=["CCTV-PZ5339-003"], since=start, until=start + timedelta(minutes=2))
    objects = case.frame_search(**span, kind="vehicle", per_page=100)
    assert objects.total >= 10 and objects.table["colour"].notna().all()
    motion = case.frame_search(**span, roi=(0.0, 0.5, 1.0, 1.0))
    assert motion.total >= 1 and isinstance(motion[0]["thumbnail"], bytes)
    assert case.frame("CCTV-PZ5339-003", start + timedelta(seconds=40)).size == (320, 240)  # the AVI follows
    with pytest.raises(InvalidInput, match="outside the image"):
        case.frame_search(**span, roi=(0.5, 0.5, 1.4, 1.0))
    with pytest.raises(InvalidInput, match="unknown colour"):
        case.frame_search(**span, colour="plaid")


def test_the_suspect_is_found_in_the_footage_from_its_trajectory(world, case):
    truth = pd.read_csv(ground_truth_dir(world.settings) / "footage-passages.csv", parse_dates=["time"])
    suspect = truth[truth["role"] == "suspect"]
    visible = set(case.footage()["camera_id"])
    expected = suspect[suspect["camera_id"].isin(visible)]
    assert len(expected) >= 1
    trip = case.trajectory(str(expected["plate"].iloc[0]))
    hits = case.frame_search(near=trip, colour="red", kind="vehicle")
    assert hits.total >= 1
    for passage in expected.itertuples():
        seen = hits.table[(hits.table["camera_id"] == passage.camera_id)
                          & ((hits.table["best_time"] - passage.time).abs() < pd.Timedelta(seconds=3))]
        assert len(seen) >= 1, f"the suspect's passage at {passage.camera_id} {passage.time} was not found"
    around = case.frames_at(hits[0]["best_time"], near=hits[0]["camera_id"], radius=300)
    assert around and around[0].camera_id == hits[0]["camera_id"]


def _first_picture_sharpness(clip: Path) -> float:
    import av
    import cv2

    with av.open(str(clip)) as video:
        grey = next(video.decode(video=0)).to_ndarray(format="gray")
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def test_evidence_package_verifies_and_tampering_is_detected(world, case):
    street = sorted(c for c in set(case.footage()["camera_id"]) if c.endswith(("-101", "-102", "-103", "-104")))
    hit = case.frame_search(cameras=street, kind="vehicle", colour="red")[0]
    package = case.export_clip(hit, seconds=6)
    report = verify_with_store(world.store, package.folder)
    assert report.ok, report.problems
    assert package.manifest["case"]["reference"] == SAMPLE_CASE and package.manifest["items"][0]["frames"] > 0
    clip = package.clips[0]
    clip.write_bytes(clip.read_bytes() + b"\0")
    assert not verify_with_store(world.store, package.folder).ok
    redacted = case.export_clip(hit, seconds=2, redact=True)   # the detectors run every half second: short
    assert verify_with_store(world.store, redacted.folder).ok and redacted.manifest["redaction"] is not None
    press = case.export_clip(hit, seconds=2, redact="press")    # everything but the hit's region blurred
    assert _first_picture_sharpness(press.clips[0]) < 0.75 * _first_picture_sharpness(redacted.clips[0])
    trail = case.audit_trail(limit=20)
    assert {"export-clip", "evidence-package"} <= set(trail["action"])


def test_a_redacted_export_without_its_face_model_is_refused_and_leaves_nothing(world, case, tmp_path, monkeypatch):
    from workbench.errors import ConfigurationError
    from workbench.evidence import redaction

    street = sorted(c for c in set(case.footage()["camera_id"]) if c.endswith(("-101", "-102", "-103", "-104")))
    hit = case.frame_search(cameras=street, kind="vehicle")[0]
    monkeypatch.setattr(redaction, "mtcnn_folder", lambda: tmp_path / "nowhere")
    with pytest.raises(ConfigurationError, match="refuses"):
        case.export_clip(hit, seconds=4, redact=True, folder=tmp_path / "out")
    assert not any((tmp_path / "out").glob("*"))
    with pytest.raises(InvalidInput, match="press"):
        case.export_clip(street[0], hit["best_time"], hit["best_time"] + timedelta(seconds=2), redact="press")


def test_exports_outside_the_footage_or_by_an_analyst_are_refused(world, case):
    camera = sorted(set(case.footage()["camera_id"]))[0]
    with pytest.raises(NotFound, match="does not cover"):
        case.export_clip(camera, "2026-11-20T03:00:00Z", "2026-11-20T03:01:00Z")
    analyst = world.login("analyst.peeters").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    with pytest.raises(AccessDenied, match="investigator"):
        analyst.export_clip(camera, "2026-11-20T03:00:00Z", "2026-11-20T03:01:00Z")


def _plate_clip(path: Path, plate: str, *, width: int = 480, height: int = 270, fps: int = 12) -> Path:
    """A street of a few seconds: a textured car with a legible plate drives across after 4 s (the background
    model has learnt the empty street by then)."""
    import av
    import cv2
    import numpy as np

    rng = np.random.default_rng(1)
    texture = cv2.resize(rng.integers(-40, 40, (11, 18)).astype(np.float32), (180, 110),
                         interpolation=cv2.INTER_NEAREST).astype(int)[..., None]
    body = np.clip(np.array((40, 40, 170)) + texture, 0, 255).astype(np.uint8)
    (tw, th), _ = cv2.getTextSize(plate, cv2.FONT_HERSHEY_SIMPLEX, 0.55, 1)
    cv2.rectangle(body, (86 - tw // 2, 75), (94 + tw // 2, 85 + th), (250, 250, 250), -1)
    cv2.putText(body, plate, (90 - tw // 2, 80 + th), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (30, 30, 30), 1, cv2.LINE_AA)
    background = np.full((height, width, 3), 110, np.uint8)
    background[:height // 3] = (160, 150, 140)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for n in range(7 * fps):
            img = background.copy()
            x = int(-180 + (n / fps - 4) * 220)
            x0, x1 = max(0, x), min(width, x + 180)
            if n / fps >= 4 and x1 > x0:
                img[110:220, x0:x1] = body[:, x0 - x:x1 - x]
            img = np.clip(img.astype(int) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_plates_read_on_footage_become_sightings_with_the_crop_that_was_read(world, case, tmp_path):
    from types import SimpleNamespace

    import cv2
    import numpy as np

    from workbench import maps
    from workbench.search.plate_reading import PlateReader

    start = START + timedelta(hours=3)
    [report] = ingest_footage(world.store, [_plate_clip(tmp_path / "plate.mp4", "7-QRT-582")], camera_id=OWN_CAMERA,
                              start=start, now=NOW, audit=OPS)
    summary = build_index(world.store, segment_ids=[report.segment_id], workers=1)
    assert summary.plate_reads >= 1 and not summary.missing, str(summary)
    found = case.plate_reads("7-QRT-582", since=start, until=start + timedelta(minutes=1))
    assert len(found) == 1 and found.iloc[0]["camera_id"] == OWN_CAMERA, found
    assert all(s.startswith(f"FOOTAGE-OCR:segment-{report.segment_id}@") for s in found.iloc[0]["source_ids"])
    assert 0.6 <= found.iloc[0]["confidence"] <= 1
    crops = case.plate_crops(found)
    crop = cv2.imdecode(np.frombuffer(crops[int(found.iloc[0]["sighting_id"])], np.uint8), cv2.IMREAD_COLOR)
    assert [p.plate for p in PlateReader().read(crop)] == ["7QRT582"]   # the crop shown is the plate that was read
    again = build_index(world.store, segment_ids=[report.segment_id], workers=1)
    assert again.plate_reads == 0   # the same reads again: nothing written twice
    trip = SimpleNamespace(plate="7QRT582", route=pd.DataFrame(columns=["kind", "geometry"]),
                           sightings=found.assign(plate_as_read=found["plate"]))
    html = maps.add_trajectory(maps.base_map(), trip, crops=crops).get_root().render()
    assert "data:image/jpeg;base64," in html


def test_a_plate_reader_without_its_model_refuses_and_the_index_says_what_is_missing(monkeypatch, tmp_path):
    from workbench.errors import ConfigurationError
    from workbench.search import index_build, plate_reading

    monkeypatch.setattr(plate_reading, "MODELS", {"det": "PP-OCRv6_det_small.onnx", "rec": "missing.onnx"})
    with pytest.raises(ConfigurationError, match="missing.onnx"):
        plate_reading.PlateReader()
    monkeypatch.setattr(index_build, "shared_reader", lambda: (None, "the plate reader's rec model is missing"))
    index = index_build.index_video(_plate_clip(tmp_path / "plate.mp4", "7-QRT-582"))
    assert index.events and index.missing == ["plate reading: the plate reader's rec model is missing"]
    assert all(e.plates == [] for e in index.events)
