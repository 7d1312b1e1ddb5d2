"""What a video file holds: container, codec, size, rate, duration, keyframes.

    >>> facts = probe(Path("cam12.mp4"))                       # doctest: +SKIP
    >>> facts.codec, facts.width, facts.fps, len(facts.keyframes)  # doctest: +SKIP
    ('h264', 1280, 25.0, 600)

Probing demuxes every packet (fast: nothing is decoded but the first and the
last group of pictures) so that a truncated or damaged file is caught here,
before it reaches the archive, with its name and the reason in words.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import av

from workbench.errors import FootageError
from workbench.timeutil import as_utc

SUPPORTED_CODECS = {"h264": "H.264", "hevc": "H.265", "mpeg4": "MPEG-4 part 2", "mjpeg": "Motion JPEG"}
CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "mkv", "avi": "avi", "mpegts": "ts"}


@dataclass(frozen=True)
class VideoFacts:
    """The facts of one video file; times are seconds from its first frame."""

    container: str
    codec: str
    width: int
    height: int
    fps: float
    duration: float
    frame_count: int
    keyframes: list[float] = field(repr=False)
    recorded_at: datetime | None = None  # start time written in the file's metadata, if any


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def open_video(path: Path) -> av.container.InputContainer:
    """Open a video file for reading, turning library errors into a :class:`FootageError` that names it."""
    path = Path(path)
    if not path.is_file():
        raise FootageError(f"{path.name}: no such file")
    if path.stat().st_size == 0:
        raise FootageError(f"{path.name}: the file is empty (0 bytes)")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise FootageError(f"{path.name}: not a readable video file ({_reason(exc)})") from None
    if not container.streams.video:
        container.close()
        raise FootageError(f"{path.name}: the file holds no video stream")
    return container


def probe(path: Path) -> VideoFacts:
    """Read the facts of ``path``; raises :class:`FootageError` for an unreadable, damaged or unsupported file."""
    path = Path(path)
    with open_video(path) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec not in SUPPORTED_CODECS:
            raise FootageError(f"{path.name}: the {codec} codec is not supported (supported: "
                               f"{', '.join(SUPPORTED_CODECS.values())})")
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        keyframes, frames, first, last, corrupt = _demux(container, stream, fps, path)
        if frames == 0:
            raise FootageError(f"{path.name}: no video frame could be read (truncated or damaged file)")
        if corrupt:
            raise FootageError(f"{path.name}: {corrupt} damaged packets (the file is truncated or corrupt)")
        _check_decodes(path, first, keyframes[-1] + first if keyframes else first)
        width, height = stream.codec_context.width, stream.codec_context.height
        recorded = container.metadata.get("creation_time") or stream.metadata.get("creation_time")
        return VideoFacts(CONTAINERS.get(container.format.name, container.format.name), codec, width, height, fps,
                          round(last - first + 1.0 / fps, 6), frames, keyframes, _parse_time(recorded))


def _demux(container: av.container.InputContainer, stream: av.VideoStream, fps: float,
           path: Path) -> tuple[list[float], int, float, float, int]:
    """Keyframe times (from the first frame), frame count, first and last time, damaged packets."""
    times, keys, corrupt = [], [], 0
    base = stream.time_base
    try:
        for index, packet in enumerate(container.demux(stream)):
            if packet.size == 0:
                continue
            stamp = packet.pts if packet.pts is not None else packet.dts
            t = float(stamp * base) if stamp is not None and base is not None else index / fps
            times.append(t)
            corrupt += packet.is_corrupt
            if packet.is_keyframe:
                keys.append(t)
    except av.FFmpegError as exc:
        raise FootageError(f"{path.name}: the file is damaged after {len(times)} frames ({_reason(exc)})") from None
    if not times:
        return [], 0, 0.0, 0.0, corrupt
    first, last = min(times), max(times)
    return sorted(k - first for k in keys), len(times), first, last, corrupt


def _check_decodes(path: Path, first: float, last_key: float) -> None:
    """Decode the first frame and the last group of pictures: a damaged end shows up here."""
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        try:
            next(container.decode(stream))
            seek = last_key > first and stream.time_base is not None
            if seek:
                container.seek(int(last_key / stream.time_base), stream=stream, backward=True)
            tail = (0 if seek else 1) + sum(1 for _ in container.decode(stream))   # a one-frame clip is whole
        except (av.FFmpegError, StopIteration) as exc:
            raise FootageError(f"{path.name}: frames cannot be decoded ({_reason(exc)})") from None
    if tail == 0:
        raise FootageError(f"{path.name}: the last part of the file cannot be decoded (truncated?)")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.split(":")[-1].strip() if ":" in text and len(text) > 80 else text
