"""What a video file holds: container, codec, size, rate, duration, keyframes.

    >>> facts = probe(Path("cam12.mp4"))                       # doctest: +SKIP
    >>> facts.codec, facts.width, facts.fps, len(facts.keyframes)  # doctest: +SKIP
    ('h264', 1280, 25.0, 600)

Probing demuxes every packet so that a truncated or damaged file is caught
here, before it reaches the archive, with its name and the reason in words.
Times come from the one video clock (``footage.decoding``): read from the
packets' presentation times where the container has them (nothing is decoded
but the first and the last group of pictures), by decoding every picture
where it has none (AVI, raw streams).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import av

from workbench.errors import FootageError
from workbench.footage.decoding import EPS, VideoFile, codec_label, reason
from workbench.timeutil import as_utc

CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "mkv", "avi": "avi", "mpegts": "ts"}


@dataclass(frozen=True)
class VideoFacts:
    """The facts of one video file; times are seconds from its first picture (see ``footage.decoding``)."""

    container: str
    codec: str
    width: int
    height: int
    fps: float
    duration: float
    frame_count: int
    keyframes: list[float] = field(repr=False)
    recorded_at: datetime | None = None  # start time written in the file's metadata, if any

    @property
    def codec_label(self) -> str:
        """The codec's name for people (FFmpeg's long name)."""
        return codec_label(self.codec)


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def probe(path: Path) -> VideoFacts:
    """Read the facts of ``path``; raises :class:`FootageError` for an unreadable, damaged or undecodable file.

    Any codec FFmpeg decodes is accepted; a file whose first picture does not
    decode is refused with FFmpeg's reason.
    """
    path = Path(path)
    if not path.is_file():
        raise FootageError(f"{path.name}: no such file")
    if path.stat().st_size == 0:
        raise FootageError(f"{path.name}: the file is empty (0 bytes)")
    with VideoFile(path, threads="AUTO") as video:
        packets = _demux(video)
        if not packets:
            raise FootageError(f"{path.name}: no video frame could be read (truncated or damaged file)")
        _decodes(video)
        times, keyframes, tail = _pts_pictures(video, packets) if video.mode == "pts" else _decoded_pictures(video)
        if not times:
            raise FootageError(f"{path.name}: no picture could be decoded")
        if video.mode == "pts":
            _check_tail(video, keyframes)
        ctx = video.stream.codec_context
        recorded = video.container.metadata.get("creation_time") or video.stream.metadata.get("creation_time")
        return VideoFacts(CONTAINERS.get(video.format, video.format.split(",")[0]), video.codec, ctx.width,
                          ctx.height, video.fps, round(times[-1] + tail, 6), len(times), keyframes,
                          _parse_time(recorded))


def _demux(video: VideoFile) -> list[tuple[int | None, int | None, bool, int]]:
    """(pts, dts, keyframe, duration) of every packet that holds a picture; damaged packets refused."""
    packets, corrupt = [], 0
    try:
        for packet in video.container.demux(video.stream):
            if packet.size == 0 or packet.is_discard or video.is_placeholder(packet):
                continue
            corrupt += packet.is_corrupt
            packets.append((packet.pts, packet.dts, video.is_key_packet(packet), packet.duration or 0))
    except av.FFmpegError as exc:
        raise FootageError(f"{video.path.name}: the file is damaged after {len(packets)} frames "
                           f"({reason(exc)})") from None
    if corrupt:
        raise FootageError(f"{video.path.name}: {corrupt} damaged packets (the file is truncated or corrupt)")
    return packets


def _decodes(video: VideoFile) -> None:
    """The first picture decodes, or the file is refused with the decoder's reason."""
    try:
        video.zero  # noqa: B018 - decodes the first picture
    except (av.FFmpegError, FootageError) as exc:
        raise FootageError(f"{video.path.name}: the {codec_label(video.codec)} pictures cannot be decoded here "
                           f"({reason(exc)})") from None


def _pts_pictures(video: VideoFile, packets: list[Any]) -> tuple[list[float], list[float], float]:
    """Picture times and keyframes from the packets' presentation times; the last picture's duration."""
    if any(pts is None for pts, *_ in packets):   # missing timestamps: the decoder's times, counted where absent
        return _decoded_pictures(video)
    dts = [d for _, d, _, _ in packets if d is not None]
    for i in range(1, len(dts)):
        if dts[i] <= dts[i - 1]:
            raise FootageError(f"{video.path.name}: the timestamps go backwards at "
                               f"{max(0.0, video.time_of_pts(dts[i - 1])):.2f} s (a damaged or concatenated "
                               "recording: split it at that point or re-mux it)")
    zero = video.zero
    shown = sorted((pts, key, duration) for pts, _, key, duration in packets if pts >= zero)
    times = [video.time_of_pts(pts) for pts, _, _ in shown]
    keyframes = [0.0] + [t for t, (_, key, _) in zip(times, shown) if key and t > EPS]
    tail = shown[-1][2] * video.base if shown and shown[-1][2] else 1.0 / video.fps
    return times, keyframes, tail


def _decoded_pictures(video: VideoFile) -> tuple[list[float], list[float], float]:
    """Picture times and keyframes by decoding the whole file (no presentation times to read)."""
    times, keyframes = [], [0.0]
    for t, frame in video.pictures():
        times.append(t)
        if frame.key_frame and t > EPS:
            keyframes.append(t)
    return times, keyframes, video.slot_seconds if video.mode == "count" else 1.0 / video.fps


def _check_tail(video: VideoFile, keyframes: list[float]) -> None:
    """The last group of pictures decodes: a damaged end shows up here."""
    if next(iter(video.pictures(keyframes[-1], keyframes)), None) is None:
        raise FootageError(f"{video.path.name}: the last part of the file cannot be decoded (truncated?)")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None
