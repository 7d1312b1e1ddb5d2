"""A conformance corpus for the video clock, made with FFmpeg from real clips, and its checks.

Each variant (container, codec, B-frames, open GOP, packed bitstream, VFR,
offset start...) is encoded by the ``ffmpeg`` program from pictures of a real
clip (``tests/data/footage``), each picture carrying its own index drawn as a
strip of big black and white blocks (a row of bits over its complement, so it
reads back after lossy coding). The real clips themselves are checked too,
against a plain linear decode. Every check compares what the workbench returns
(probe, exact frame at a time, keyframe steps, exports) with ground truth.

    >>> corpus = build_corpus(Path("/tmp/corpus"))                     # doctest: +SKIP
    >>> result = check_variant(corpus["mpeg4_packed.avi"])             # doctest: +SKIP
    >>> result.exact, result.checks, result.failures[:3]               # doctest: +SKIP

Needs the ``ffmpeg`` program (Debian: ``apt-get install ffmpeg``).
"""

from __future__ import annotations

import bisect
import itertools
import shutil
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from workbench.errors import ConfigurationError
from workbench.evidence.clip_export import clip_suffix, reencode, stream_copy
from workbench.footage.decoding import VideoFile
from workbench.footage.frame_reader import FrameReader
from workbench.footage.probe import probe

WIDTH, HEIGHT = 320, 176
BITS = 10
STRIP = 32            # pixels: a row of bits over a row of their complements
CLIPS = Path(__file__).resolve().parents[2] / "tests" / "data" / "footage"
SOURCE_CLIP = "ahmetozlu_input_video.mp4"
REAL_CLIPS = ("bgs_video02.avi", SOURCE_CLIP)


@dataclass(frozen=True)
class Variant:
    """One file of the corpus: how FFmpeg makes it and when each of its pictures is shown."""

    name: str
    args: tuple[str, ...]
    frames: int = 75
    fps: Fraction = Fraction(25)
    vfr: bool = False            # every third interval doubled
    packed: bool = False         # B-frames packed DivX-style after encoding

    def times(self) -> list[float]:
        """When picture n is shown, seconds from the first."""
        step = 1 / float(self.fps)
        if self.vfr:   # Matroska keeps times to the millisecond
            return [round((n + n // 3) * step, 3) for n in range(self.frames)]
        return [n * step for n in range(self.frames)]


X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-pix_fmt", "yuv420p")
VARIANTS = [
    Variant("h264_baseline.mp4", (*X264, "-profile:v", "baseline", "-g", "12")),
    Variant("h264_high_bframes.mp4", ("-c:v", "libx264", "-preset", "fast", "-profile:v", "high", "-bf", "3",
                                      "-g", "25", "-pix_fmt", "yuv420p")),
    Variant("h264_open_gop.mkv", ("-c:v", "libx264", "-preset", "fast", "-bf", "3", "-pix_fmt", "yuv420p",
                                  "-x264-params", "open-gop=1:keyint=20:min-keyint=20:scenecut=0")),
    Variant("h264_bframes_offset.ts", ("-c:v", "libx264", "-preset", "fast", "-bf", "2", "-g", "15",
                                       "-pix_fmt", "yuv420p", "-output_ts_offset", "10")),
    Variant("h264_edit_list.mov", ("-c:v", "libx264", "-preset", "fast", "-bf", "2", "-g", "15",
                                   "-pix_fmt", "yuv420p", "-output_ts_offset", "3.2")),
    Variant("h264_vfr.mkv", (*X264, "-g", "10", "-fps_mode", "vfr"), fps=Fraction(30), vfr=True),
    Variant("h265.mkv", ("-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                         "-x265-params", "keyint=15:min-keyint=15:bframes=2:log-level=error")),
    Variant("h265.mp4", ("-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-tag:v", "hvc1",
                         "-x265-params", "keyint=20:bframes=3:log-level=error")),
    Variant("mpeg4_bframes.avi", ("-c:v", "mpeg4", "-vtag", "XVID", "-bf", "2", "-q:v", "3", "-g", "15")),
    Variant("mpeg4_packed.avi", ("-c:v", "mpeg4", "-vtag", "XVID", "-bf", "2", "-q:v", "3", "-g", "15"),
            packed=True),
    Variant("mpeg4.mp4", ("-c:v", "mpeg4", "-bf", "2", "-q:v", "3", "-g", "15")),
    Variant("msmpeg4v2.avi", ("-c:v", "msmpeg4v2", "-q:v", "3", "-g", "15"), fps=Fraction(15)),
    Variant("mjpeg.avi", ("-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p")),
    Variant("h264_no_timestamps.h264", ("-c:v", "libx264", "-preset", "fast", "-bf", "2", "-g", "15",
                                        "-pix_fmt", "yuv420p")),
    Variant("mjpeg.mov", ("-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p"), fps=Fraction(12)),
]


def ffmpeg_program() -> str:
    """The ffmpeg program, or a clear error saying how to install it."""
    found = shutil.which("ffmpeg")
    if not found:
        raise ConfigurationError("the conformance corpus needs the ffmpeg program: apt-get install ffmpeg")
    return found


def draw_index(image: np.ndarray, n: int) -> np.ndarray:
    """``image`` with ``n`` drawn in its bottom strip: BITS blocks (white = 1) over their complements."""
    out = image.copy()
    w = out.shape[1] // BITS
    top = out.shape[0] - STRIP
    for b in range(BITS):
        bit = (n >> (BITS - 1 - b)) & 1
        out[top:top + STRIP // 2, b * w:(b + 1) * w] = 255 * bit
        out[top + STRIP // 2:, b * w:(b + 1) * w] = 255 * (1 - bit)
    return out


def read_index(image: np.ndarray) -> int:
    """The index drawn by :func:`draw_index` (RGB or BGR image)."""
    grey = image.mean(axis=2) if image.ndim == 3 else image
    w = grey.shape[1] // BITS
    top = grey.shape[0] - STRIP
    value = 0
    for b in range(BITS):
        x0, x1 = b * w + w // 4, (b + 1) * w - w // 4
        upper = grey[top + STRIP // 8: top + 3 * STRIP // 8, x0:x1].mean()
        lower = grey[top + 5 * STRIP // 8: top + 7 * STRIP // 8, x0:x1].mean()
        value = value * 2 + int(upper > lower)
    return value


def _source_pictures(count: int) -> list[np.ndarray]:
    """The first ``count`` pictures of the real source clip, at the corpus size (BGR)."""
    pictures = []
    with av.open(str(CLIPS / SOURCE_CLIP)) as container:
        for frame in container.decode(video=0):
            pictures.append(cv2.resize(frame.to_ndarray(format="bgr24"), (WIDTH, HEIGHT),
                                       interpolation=cv2.INTER_AREA))
            if len(pictures) == count:
                break
    return pictures


def build_corpus(folder: Path, variants: list[Variant] | None = None) -> dict[str, Path]:
    """Encode every variant into ``folder`` (kept if already there) and copy the real clips; name -> path."""
    ffmpeg = ffmpeg_program()
    folder.mkdir(parents=True, exist_ok=True)
    variants = VARIANTS if variants is None else variants
    pictures = _source_pictures(max(v.frames for v in variants))
    made = {}
    for v in variants:
        target = folder / v.name
        if not target.exists():
            raw = b"".join(draw_index(pictures[n], n).tobytes() for n in range(v.frames))
            timing = ("-vf", f"setpts='(N+floor(N/3))/TB/{v.fps}'") if v.vfr else ()
            partial = target.with_name("partial-" + v.name)
            subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
                            "-s", f"{WIDTH}x{HEIGHT}", "-r", str(v.fps), "-i", "-", *timing, *v.args, str(partial)],
                           input=raw, check=True)
            if v.packed:
                pack_bframes(partial, target)
                partial.unlink()
            else:
                partial.replace(target)
        made[v.name] = target
    for name in REAL_CLIPS:
        made[name] = CLIPS / name
    return made


N_VOP = b"\x00\x00\x01\xb6\x51\xcf"       # a "not coded" VOP: the placeholder of packed B-frames
DIVX_PACKED = b"\x00\x00\x01\xb2DivX503b1393p"   # the user data by which decoders know the bitstream is packed


def pack_bframes(source: Path, target: Path) -> None:
    """Rewrite an MPEG-4 part 2 AVI with B-frames the way DivX and XviD wrote them ("packed B-frames").

    Each anchor (I or P) carries the first B-frame that follows it in decode
    order, each further B-frame moves up one slot, and the slot left over holds
    an N-VOP placeholder: one packet per frame interval, as Video for Windows
    required, and no presentation times.
    """
    with av.open(str(source)) as src:
        stream = src.streams.video[0]
        packets = [bytes(p) for p in src.demux(stream) if p.size]
        keys = [p.is_keyframe for p in av.open(str(source)).demux(video=0) if p.size]
        slots: list[tuple[bytes, bool]] = []
        i = 0
        while i < len(packets):
            bframes = []
            j = i + 1
            while j < len(packets) and _vop_type(packets[j]) == "B":
                bframes.append(packets[j])
                j += 1
            if not bframes:
                slots.append((packets[i], keys[i]))
            else:
                slots.append((packets[i] + bframes[0], keys[i]))
                slots.extend((b, False) for b in bframes[1:])
                slots.append((N_VOP, False))
            i = j
        first = slots[0][0]
        vol_end = first.find(b"\x00\x00\x01\xb6")
        slots[0] = (first[:vol_end] + DIVX_PACKED + first[vol_end:], slots[0][1])
        with av.open(str(target), "w", format="avi") as out:
            clip = out.add_stream_from_template(stream)
            clip.codec_context.extradata = first[:vol_end] + DIVX_PACKED
            for n, (data, key) in enumerate(slots):
                packet = av.Packet(data)
                packet.dts = packet.pts = n
                packet.time_base = stream.time_base or Fraction(1, 25)
                packet.is_keyframe = key
                packet.stream = clip
                out.mux(packet)


def _vop_type(data: bytes) -> str:
    at = data.find(b"\x00\x00\x01\xb6")
    return "IPBS"[data[at + 4] >> 6] if at >= 0 and at + 4 < len(data) else "?"


@dataclass
class VariantResult:
    """How one variant fared: checks passed (``exact``) over ``checks``, and what failed."""

    name: str
    checks: int = 0
    exact: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        self.checks += 1
        self.exact += bool(ok)
        if not ok:
            self.failures.append(what)


class _Truth:
    """Ground truth of a file: the index of the picture shown at any time."""

    def __init__(self, times: list[float], images: list[np.ndarray] | None = None) -> None:
        self.times, self.images = times, images
        self.lossy = False   # identify re-encoded pictures of a real clip by the closest reference

    def index_at(self, t: float) -> int:
        return max(0, int(np.searchsorted(np.asarray(self.times), t + 1e-4, side="right")) - 1)

    def identify(self, image: np.ndarray, near: int) -> int:
        """Which picture ``image`` is: its drawn index, or for a real clip the closest of the reference decode."""
        if self.images is None:
            return read_index(image)
        lo, hi = max(0, near - 3), min(len(self.images), near + 4)
        small = _thumb(image)
        diffs = [float(np.abs(self.images[i] - small).mean()) for i in range(lo, hi)]
        best = int(np.argmin(diffs))
        if self.lossy:   # re-encoded: the expected picture is (one of) the closest references
            expected = diffs[near - lo] if lo <= near < hi else np.inf
            return near if expected <= diffs[best] * 1.05 + 0.05 else lo + best
        return lo + best if diffs[best] < 0.05 else -1


def _truth(path: Path, variant: Variant | None) -> _Truth:
    if variant is not None:
        return _Truth(variant.times())
    times, images = [], []
    with av.open(str(path)) as container:   # a plain linear decode, the container's own times where it has them
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 25)
        counted = container.format.name == "avi"
        first = None
        for n, frame in enumerate(container.decode(stream)):
            first = frame.pts if first is None else first
            times.append(n / rate if counted or frame.pts is None or first is None or stream.time_base is None
                         else float((frame.pts - first) * stream.time_base))
            images.append(_thumb(frame.to_ndarray(format="rgb24")))
    return _Truth(times, images)


def _thumb(image: np.ndarray) -> np.ndarray:
    """A quarter-size copy, as floats: enough to tell two pictures of a real clip apart, quickly."""
    h, w = image.shape[:2]
    return cv2.resize(image, (w // 4, h // 4), interpolation=cv2.INTER_AREA).astype(np.float32)


def check_variant(path: Path, variant: Variant | None = None, *, samples: int = 24, seed: int = 0,
                  workdir: Path | None = None) -> VariantResult:
    """Check probe, exact frames at random times, keyframe steps and exports of ``path`` against ground truth."""
    result = VariantResult(path.name)
    truth = _truth(path, variant)
    facts = probe(path)
    n = len(truth.times)
    fps = facts.fps
    result.check(facts.frame_count == n, f"frame count {facts.frame_count}, truth {n}")
    expected_duration = truth.times[-1] + (truth.times[-1] - truth.times[-2] if n > 1 else 1 / fps)
    result.check(abs(facts.duration - expected_duration) < 0.5 / fps,
                 f"duration {facts.duration:.3f} s, truth {expected_duration:.3f} s")
    with VideoFile(path) as video:   # every picture, in order, at its time
        for k, (t, frame) in enumerate(video.pictures()):
            image = frame.to_ndarray(format="rgb24")
            got = truth.identify(image, k)
            result.check(got == k and k < n and abs(t - truth.times[k]) < 0.25 / fps,
                         f"picture {k} at {t:.3f} s: read {got}")
    reader = FrameReader()
    rng = np.random.default_rng(seed)
    end = truth.times[-1] + 0.5 / fps
    times = list(rng.uniform(0, end, samples)) + [truth.times[i] for i in rng.integers(0, n, samples // 2)]
    for t in times:   # the exact frame at random times, and right on pictures
        image, shown, _ = reader.read(path, float(t), facts.keyframes)
        want = truth.index_at(float(t))
        got = truth.identify(image, want)
        result.check(got == want and abs(shown - truth.times[want]) < 0.25 / fps,
                     f"frame at {t:.3f} s: read {got} at {shown:.3f} s, truth {want}")
    for key in facts.keyframes:   # keyframe steps land on a picture that decodes by itself
        image, shown, is_key = reader.read(path, key, facts.keyframes)
        want = truth.index_at(key)
        result.check(is_key and truth.identify(image, want) == want,
                     f"keyframe {key:.3f} s: read {truth.identify(image, want)}, truth {want}")
    reader.forget(path)
    _check_exports(path, facts, truth, result, rng, workdir or path.parent / "exports")
    return result


def _check_exports(path: Path, facts, truth: _Truth, result: VariantResult,  # type: ignore[no-untyped-def]
                   rng: np.random.Generator, workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    span = truth.times[-1]
    for k in range(2):
        start = float(rng.uniform(0, span * 0.5))
        end = float(min(span, start + rng.uniform(0.5, span * 0.5)))
        copy = workdir / f"{path.stem}-{k}.{clip_suffix(facts.container)}"
        cut = stream_copy(path, copy, start, end, facts.keyframes)
        key = facts.keyframes[max(0, bisect.bisect_right(facts.keyframes, start + 1e-4) - 1)]
        want_first, want_start, want_last = truth.index_at(key), truth.index_at(start), truth.index_at(end - 1e-3)
        indices, dts = _decode_clip(copy, truth, want_first)
        result.check(bool(indices) and indices[0] == want_first,
                     f"copy {start:.2f}-{end:.2f} s: first picture {indices[:1]}, keyframe {want_first}")
        result.check(indices == list(range(want_first, want_first + len(indices))) and len(indices) == cut.frames,
                     f"copy {start:.2f}-{end:.2f} s: pictures {indices[:3]}...{indices[-3:]} "
                     f"({len(indices)}, reported {cut.frames})")
        result.check(bool(indices) and indices[-1] >= want_last and want_first <= want_start,
                     f"copy {start:.2f}-{end:.2f} s: ends at {indices[-1:]}, needs {want_last}")
        result.check(all(b > a for a, b in itertools.pairwise(dts)),
                     f"copy {start:.2f}-{end:.2f} s: dts not increasing")
        encoded = workdir / f"{path.stem}-{k}-reencoded.mp4"
        cut = reencode(path, encoded, start, end, facts.keyframes)
        truth.lossy = True
        indices, _ = _decode_clip(encoded, truth, want_start)
        truth.lossy = False
        wanted = [i for i, t in enumerate(truth.times) if want_start <= i and t < end - 1e-4]
        result.check(indices == wanted and cut.frames == len(wanted),
                     f"re-encode {start:.2f}-{end:.2f} s: {len(indices)} pictures ({indices[:2]}...), "
                     f"{len(wanted)} wanted from {wanted[:1]}")


def _decode_clip(path: Path, truth: _Truth, first: int) -> tuple[list[int], list[int]]:
    """The picture indices a clip shows (by our clock, in order) and its packets' decode timestamps."""
    with av.open(str(path)) as container:
        dts = [p.dts for p in container.demux(video=0) if p.size and p.dts is not None]
    indices = []
    with VideoFile(path) as video:
        for k, (_, frame) in enumerate(video.pictures()):
            indices.append(truth.identify(frame.to_ndarray(format="rgb24"), first + k))
    return indices, dts


def corpus_exact_rate(folder: Path) -> tuple[float, int, list[str]]:
    """Build the corpus in ``folder`` and check all of it: (exact checks / checks, checks, failures)."""
    corpus = build_corpus(folder)
    by_name = {v.name: v for v in VARIANTS}
    exact = checks = 0
    failures: list[str] = []
    for name, path in corpus.items():
        result = check_variant(path, by_name.get(name), workdir=folder / "exports")
        exact, checks = exact + result.exact, checks + result.checks
        failures += [f"{name}: {f}" for f in result.failures]
    return exact / max(1, checks), checks, failures
