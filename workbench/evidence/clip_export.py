"""Cut a clip out of an archived segment: stream copy, or decode-redact-encode.

A stream copy keeps the original compressed pictures bit for bit, in the
source's own container. It starts at the keyframe before the requested start
(a clip cannot start elsewhere without re-encoding; the leading pictures of an
open GOP, which need the GOP before, are left out) and keeps every packet
decoded before the last picture shown before the requested end, so the last
pictures keep their references. Timestamps are shifted to start at zero and
stay in decode order. Where the container has no presentation times (AVI),
whole groups of pictures are copied. The true start, end and picture count
are reported, read with the one video clock (``footage.decoding``).

A redacted clip is decoded, blurred and encoded again (H.264, the pictures'
own times kept), so it starts at the exact picture.

    >>> cut = stream_copy(Path("seg.mp4"), Path("clip.mp4"), 93.0, 113.0, keyframes)   # doctest: +SKIP
    >>> cut.start, cut.end, cut.frames                                                 # doctest: +SKIP
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from workbench.errors import FootageError
from workbench.footage.decoding import EPS, Slot, VideoFile, reason

Transform = Callable[[Iterator[tuple[np.ndarray, float]]], Iterable[np.ndarray]]   # pictures in, pictures out

CLIP_TIME_BASE = Fraction(1, 90000)   # a re-encoded clip keeps each picture's time to 1/90,000 s


@dataclass(frozen=True)
class Cut:
    """What was written: seconds from the segment's first picture, and the picture count."""

    start: float
    end: float
    frames: int


def clip_suffix(container: str) -> str:
    """The file suffix of a stream-copied clip: the source's own container (Matroska for the unusual ones).

    A source without presentation times (AVI, a raw stream) gives a clip without them too: giving its
    packets made-up times in another container would show the pictures out of order.
    """
    return container if container in ("mp4", "mkv", "avi", "ts", "mov", "h264", "hevc", "m4v") else "mkv"


def _keyframe_before(keyframes: list[float], t: float) -> int:
    return max(0, bisect.bisect_right(keyframes, t + EPS) - 1)


def stream_copy(source: Path, target: Path, start: float, end: float, keyframes: list[float]) -> Cut:
    """Copy the packets from the keyframe at or before ``start`` to the last picture before ``end`` into ``target``."""
    with VideoFile(source) as video:
        try:
            with av.open(str(target), "w", options={"avoid_negative_ts": "make_non_negative"}) as out:
                clip = out.add_stream_from_template(video.stream)
                copy = _copy_timed if video.mode == "pts" else _copy_counted
                cut = copy(video, out, clip, start, end, keyframes)
            if video.mode == "count" and cut.frames:   # whole GOPs: count the pictures the clip shows
                with VideoFile(target) as written:
                    frames = sum(1 for _ in written.pictures())
                cut = Cut(cut.start, cut.start + frames / video.fps, frames)
        except av.FFmpegError as exc:
            target.unlink(missing_ok=True)
            raise FootageError(f"{source.name}: the clip could not be written ({reason(exc)})") from None
    if cut.frames == 0:
        target.unlink(missing_ok=True)
        raise FootageError(f"{source.name}: no picture between {start:.2f} s and {end:.2f} s")
    return cut


def _copy_timed(video: VideoFile, out: av.container.OutputContainer, clip: av.VideoStream, start: float,
                end: float, keyframes: list[float]) -> Cut:
    first = _keyframe_before(keyframes, start)
    key_pts = video.pts_of_time(keyframes[first])
    end_pts = video.pts_of_time(end)
    if first == 0:   # from the file's first keyframe, whatever its time (an edit list may hide it)
        key_pts = min(key_pts, video.zero)
    origin: int | None = None
    shown: list[int] = []
    pending: list[av.Packet[Any]] = []   # pictures after the end, kept only if a picture before it follows them
    for packet in video.packets_from(keyframes[first] if first else None):
        if packet.size == 0 or video.is_placeholder(packet) or packet.pts is None:
            continue
        if origin is None:
            origin = packet.pts
        if packet.dts is not None and packet.dts >= end_pts:
            break          # decode order: no picture shown before the end comes later
        if packet.pts < key_pts:
            continue       # a leading picture of an open GOP: it needs the GOP before
        pending.append(packet)
        if packet.pts < end_pts:
            for held in pending:
                assert held.pts is not None and origin is not None   # packets without pts were skipped
                shown.append(held.pts)
                held.pts -= origin
                if held.dts is not None:
                    held.dts -= origin
                held.stream = clip
                out.mux(held)
            pending = []
    if not shown:
        return Cut(start, start, 0)
    return Cut(video.time_of_pts(min(shown)), video.time_of_pts(max(shown)) + 1.0 / video.fps, len(shown))


def _copy_counted(video: VideoFile, out: av.container.OutputContainer, clip: av.VideoStream, start: float,
                  end: float, keyframes: list[float]) -> Cut:
    """No presentation times: whole groups of pictures, from the keyframe before ``start`` to the one after ``end``."""
    slots = video.key_slots(keyframes)
    first = _keyframe_before(keyframes, start) if slots else 0
    after = bisect.bisect_left(keyframes, end - EPS)
    begin = slots[first] if slots else Slot(0, None)
    stop = slots[after].rank if slots and after < len(slots) else None
    packets = 0
    for rank, packet in enumerate(video.packets_at(begin), begin.rank):
        if stop is not None and rank >= stop:
            break
        if packet.dts is not None:
            packet.dts -= begin.dts or 0
        packet.pts = packet.dts
        packet.stream = clip
        out.mux(packet)
        packets += 1
    at = keyframes[first] if slots else 0.0
    return Cut(at, at, packets)


def reencode(source: Path, target: Path, start: float, end: float, keyframes: list[float],
             transform: Transform | None = None, *, crf: int = 18,
             container_options: dict[str, str] | None = None) -> Cut:
    """Decode from the keyframe before ``start``, keep the pictures on screen in [start, end), pass them through
    ``transform`` and encode them as H.264, each at its own time.

    ``transform`` takes the (RGB image, time) pairs in order and gives back one image for each, in the same order
    (it may hold a few back, e.g. to blur a picture with what the detector finds in the pictures after it).
    ``crf`` is x264's quality (18: visually lossless); ``container_options`` go to the muxer
    (``{"movflags": "+faststart"}`` puts an MP4's index first, so a browser plays it while it loads).
    """
    times: deque[float] = deque()   # the times of the pictures handed to ``transform`` and not yet encoded
    frames, t0, t1 = 0, None, start
    with VideoFile(source) as video:
        key = keyframes[_keyframe_before(keyframes, start)]

        def shown() -> Iterator[tuple[np.ndarray, float]]:
            held: tuple[float, av.VideoFrame] | None = None   # the picture on screen at ``start``
            for t, frame in video.pictures(key, keyframes):
                if t < start - EPS:
                    held = (t, frame)
                    continue
                if t >= end - EPS:
                    break
                for shown_at, picture in ([held] if held and t > start + EPS else []) + [(t, frame)]:
                    times.append(shown_at)
                    yield picture.to_ndarray(format="rgb24"), shown_at
                held = None

        with av.open(str(target), "w", options=container_options or {}) as out:
            clip = out.add_stream("libx264", rate=Fraction(video.fps).limit_denominator(1001))
            clip.width, clip.height = video.stream.codec_context.width, video.stream.codec_context.height
            clip.pix_fmt = "yuv420p"
            clip.codec_context.time_base = CLIP_TIME_BASE
            clip.options = {"crf": str(crf), "preset": "veryfast"}
            pictures = shown()
            for image in (transform(pictures) if transform else (image for image, _ in pictures)):
                shown_at = times.popleft()
                new = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
                t0 = shown_at if t0 is None else t0
                new.pts, new.time_base = round((shown_at - t0) / CLIP_TIME_BASE), CLIP_TIME_BASE
                for packet in clip.encode(new):
                    out.mux(packet)
                frames += 1
                t1 = shown_at
            for packet in clip.encode():
                out.mux(packet)
        fps = video.fps
    if frames == 0:
        target.unlink(missing_ok=True)
        raise FootageError(f"{source.name}: no picture between {start:.2f} s and {end:.2f} s")
    return Cut(t0 if t0 is not None else start, t1 + 1.0 / fps, frames)


def playable(source: Path, target: Path, start: float, end: float, keyframes: list[float]) -> Cut:
    """A clip for a browser to play: H.264 in MP4 with its index first (faststart), starting at the exact picture.

    Whatever the archive's codec and container, every browser plays it; the pictures keep their own times, so
    clips of several cameras cut at one moment play in step.
    """
    return reencode(source, target, start, end, keyframes, crf=23,
                    container_options={"movflags": "+faststart"})
