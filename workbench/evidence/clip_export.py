"""Cut a clip out of an archived segment: stream copy, or decode-redact-encode.

A stream copy keeps the original compressed pictures bit for bit; it starts
at the keyframe before the requested start (a clip cannot start elsewhere
without re-encoding), and the true start is reported. A redacted clip is
decoded, blurred and encoded again (H.264), so it starts at the exact frame.

    >>> cut = stream_copy(Path("seg.mp4"), Path("clip.mp4"), 93.0, 113.0)   # doctest: +SKIP
    >>> cut.start, cut.end, cut.frames                                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from workbench.errors import FootageError

# containers that take the codec's packets as they are
CLIP_CONTAINER = {"h264": "mp4", "hevc": "mp4", "mpeg4": "mkv", "mjpeg": "mkv"}


@dataclass(frozen=True)
class Cut:
    """What was written: seconds from the segment's first frame, and the frame count."""

    start: float
    end: float
    frames: int


def _open(path: Path) -> tuple[av.container.InputContainer, av.VideoStream, float]:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError) as exc:
        raise FootageError(f"{path.name}: the archived footage cannot be opened ({exc})") from None
    stream = container.streams.video[0]
    return container, stream, float(stream.time_base) if stream.time_base else 0.0


def stream_copy(source: Path, target: Path, start: float, end: float, keyframe: float) -> Cut:
    """Copy the packets from ``keyframe`` (the one at or before ``start``) up to ``end`` into ``target``."""
    container, stream, base = _open(source)
    first = (stream.start_time or 0) * base
    fps = float(stream.average_rate or stream.guessed_rate or 25)
    frames, origin, last = 0, None, keyframe
    with container, av.open(str(target), "w") as out:
        clip = out.add_stream_from_template(stream)
        if base:
            container.seek(int(round((keyframe + first) / base)), stream=stream, backward=True)
        for index, packet in enumerate(container.demux(stream)):
            if packet.size == 0:
                continue
            stamp = packet.pts if packet.pts is not None else packet.dts
            t = (stamp * base - first) if stamp is not None and base else keyframe + index / fps
            if origin is None:
                if t < keyframe - 1e-4 or not packet.is_keyframe:
                    continue
                origin = stamp if stamp is not None else 0
            if t >= end - 1e-4 and packet.is_keyframe or t >= end + 1.0:
                break
            if t >= end - 1e-4:
                continue   # pictures after the end that are not needed to decode the ones before
            if packet.pts is not None:
                packet.pts -= origin
            if packet.dts is not None:
                packet.dts -= origin
            packet.stream = clip
            out.mux(packet)
            frames += 1
            last = max(last, t)
    if frames == 0:
        target.unlink(missing_ok=True)
        raise FootageError(f"{source.name}: no picture between {start:.2f} s and {end:.2f} s")
    return Cut(keyframe, last + 1.0 / fps, frames)


def reencode(source: Path, target: Path, start: float, end: float, keyframe: float,
             transform: Callable[[np.ndarray, float], np.ndarray]) -> Cut:
    """Decode from ``keyframe``, keep the frames in [start, end), pass each through ``transform``, encode H.264."""
    container, stream, base = _open(source)
    first = (stream.start_time or 0) * base
    fps = stream.average_rate or stream.guessed_rate or 25
    frames, t0, t1 = 0, None, start
    counting = not base or container.format.name == "avi"
    with container, av.open(str(target), "w") as out:
        clip = out.add_stream("libx264", rate=fps)
        clip.width, clip.height = stream.codec_context.width, stream.codec_context.height
        clip.pix_fmt = "yuv420p"
        clip.options = {"crf": "18", "preset": "veryfast"}
        if base:
            container.seek(int(round((keyframe + first) / base)), stream=stream, backward=True)
        for n, frame in enumerate(container.decode(stream)):
            t = keyframe + n / float(fps) if counting or frame.pts is None else frame.pts * base - first
            if t < start - 1e-4:
                continue
            if t >= end - 1e-4:
                break
            image = transform(frame.to_ndarray(format="rgb24"), t)
            new = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            new.pts = frames
            for packet in clip.encode(new):
                out.mux(packet)
            frames += 1
            t0 = t if t0 is None else t0
            t1 = t
        for packet in clip.encode():
            out.mux(packet)
    if frames == 0:
        target.unlink(missing_ok=True)
        raise FootageError(f"{source.name}: no picture between {start:.2f} s and {end:.2f} s")
    return Cut(t0 if t0 is not None else start, t1 + 1.0 / float(fps), frames)
