"""The video clock against ground truth: a corpus of containers and codecs made with FFmpeg from real clips.

Every picture of a generated variant carries its index; the real clips are
checked against a plain linear decode. The target is every check exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.bench._footage_corpus import (
    REAL_CLIPS,
    VARIANTS,
    build_corpus,
    check_variant,
    draw_index,
    read_index,
)
from workbench.errors import FootageError
from workbench.footage import probe
from workbench.footage.decoding import VideoFile

BY_NAME = {v.name: v for v in VARIANTS}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def test_a_drawn_index_reads_back_after_noise_and_blur():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (176, 320, 3), dtype=np.uint8)
    for n in (0, 1, 341, 682, 1023):
        drawn = draw_index(image, n).astype(np.int16) + rng.normal(0, 25, image.shape).astype(np.int16)
        assert read_index(np.clip(drawn, 0, 255).astype(np.uint8)) == n


@pytest.mark.parametrize("name", [v.name for v in VARIANTS] + list(REAL_CLIPS))
def test_every_picture_time_and_export_is_exact(corpus, name, tmp_path):
    result = check_variant(corpus[name], BY_NAME.get(name), workdir=tmp_path)
    assert result.checks > 100
    assert result.exact == result.checks, result.failures[:5]


def test_packed_bframes_placeholders_are_neither_pictures_nor_keyframes(corpus):
    facts = probe(corpus["bgs_video02.avi"])   # XviD: two 1-byte delay frames, then P+B packed with N-VOPs
    assert facts.codec == "mpeg4" and facts.frame_count == 748
    assert facts.keyframes[0] == 0.0 and all(k * 25 == pytest.approx(round(k * 25)) for k in facts.keyframes)
    with VideoFile(corpus["bgs_video02.avi"]) as video:
        assert video.mode == "count"
        assert len(video.key_slots(facts.keyframes)) == len(facts.keyframes)


def test_any_codec_ffmpeg_decodes_is_accepted_and_one_it_cannot_is_refused_with_the_reason(corpus, tmp_path):
    assert probe(corpus["msmpeg4v2.avi"]).codec_label.startswith("MPEG-4 part 2 Microsoft variant version 2")
    unknown = tmp_path / "unknown.avi"   # the same AVI, its codec tag changed to one no decoder knows
    data = corpus["mjpeg.avi"].read_bytes()
    unknown.write_bytes(data[:4096].replace(b"MJPG", b"ZZ99") + data[4096:])
    with pytest.raises(FootageError, match="cannot decode"):
        probe(unknown)


def test_a_recording_whose_clock_starts_again_half_way_is_refused_with_the_reason(corpus, tmp_path):
    twice = tmp_path / "twice.ts"   # two recordings cat'ed together: the clock starts again half way
    data = Path(corpus["h264_bframes_offset.ts"]).read_bytes()
    twice.write_bytes(data + data)
    with pytest.raises(FootageError, match="timestamps go backwards at|damaged packets"):
        probe(twice)


def test_an_avi_with_dropped_frames_keeps_the_recording_times_after_the_drop(tmp_path):
    import subprocess
    from fractions import Fraction

    import av

    from workbench.bench._footage_corpus import ffmpeg_program

    source, target = tmp_path / "gap.mkv", tmp_path / "gap.avi"
    recorded = list(range(10)) + list(range(13, 25))   # the recorder dropped pictures 10, 11 and 12
    with av.open(str(source), "w") as out:
        stream = out.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 176, "yuvj420p"
        for n in recorded:
            frame = av.VideoFrame.from_ndarray(draw_index(np.full((176, 320, 3), 60, np.uint8), n), format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    subprocess.run([ffmpeg_program(), "-loglevel", "error", "-i", str(source), "-c", "copy", str(target)], check=True)
    facts = probe(target)
    assert facts.frame_count == len(recorded) and facts.duration == pytest.approx(2.5)
    with VideoFile(target) as video:
        assert video.mode == "count"
        shown = [(round(t, 6), read_index(frame.to_ndarray(format="rgb24"))) for t, frame in video.pictures()]
        assert shown == [(n / 10, n) for n in recorded]
        after = next(iter(video.pictures(facts.keyframes[12], facts.keyframes)))
        assert (round(after[0], 6), read_index(after[1].to_ndarray(format="rgb24"))) == (1.5, 15)
