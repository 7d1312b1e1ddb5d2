"""Exact frames from footage files: seek to the keyframe before, decode forward.

    >>> reader = FrameReader()
    >>> image, offset, is_key = reader.read(Path("cam12.mp4"), 93.52, keyframes)   # doctest: +SKIP

A small cache keeps the decoded frames of the last groups of pictures (GOPs)
and the open decoders, so that scrubbing (next or previous frame, a few
seconds on) does not seek and decode the same GOP again.
"""

from __future__ import annotations

import bisect
import io
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import av
import numpy as np

from workbench.errors import FootageError

_EPS = 1e-4


@dataclass(frozen=True)
class Frame:
    """One decoded frame of one camera, with its true timestamp.

    ``time`` is when the frame shown at ``requested`` was recorded (they differ
    by less than one frame interval). ``image`` is RGB, uint8, (height, width, 3).
    """

    camera_id: str
    time: datetime
    image: np.ndarray = field(repr=False)
    segment_id: int
    keyframe: bool
    requested: datetime | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.image.shape[1], self.image.shape[0]

    def thumbnail(self, width: int = 320) -> np.ndarray:
        """A reduced copy (RGB) ``width`` pixels wide."""
        return resize_to_width(self.image, width)

    def to_jpeg(self, width: int | None = None, quality: int = 85) -> bytes:
        """The frame (or a thumbnail of ``width``) as JPEG bytes, e.g. for a widget or a report."""
        return encode_image(self.image if width is None else self.thumbnail(width), ".jpg", quality)

    def _repr_png_(self) -> bytes:  # shown inline by Jupyter
        return encode_image(self.thumbnail(640), ".png")


def resize_to_width(image: np.ndarray, width: int) -> np.ndarray:
    """``image`` scaled to ``width`` pixels wide, keeping its aspect (never enlarged)."""
    import cv2

    h, w = image.shape[:2]
    if w <= width:
        return image
    return cv2.resize(image, (width, max(2, round(h * width / w))), interpolation=cv2.INTER_AREA)


def encode_image(rgb: np.ndarray, ext: str = ".jpg", quality: int = 85) -> bytes:
    """Encode an RGB image as JPEG or PNG bytes."""
    import cv2

    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == ".jpg" else []
    ok, data = cv2.imencode(ext, np.ascontiguousarray(rgb[..., ::-1]), params)
    if not ok:
        raise FootageError("the image could not be encoded")
    return io.BytesIO(data.tobytes()).getvalue()


class _Decoder:
    """An open file positioned somewhere in one GOP."""

    def __init__(self, path: Path) -> None:
        try:
            self.container = av.open(str(path), metadata_errors="ignore")
        except (av.FFmpegError, OSError) as exc:
            raise FootageError(f"{path.name}: the footage file cannot be opened ({exc})") from None
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "SLICE"  # frame threading adds a frame of latency per thread to a seek
        base = self.stream.time_base
        self.base = float(base) if base is not None else None
        self.first = (self.stream.start_time or 0) * (self.base or 0)
        # AVI stores no presentation times for reordered frames: count frames from the keyframe instead
        self.counts_frames = self.base is None or self.container.format.name == "avi"
        self.gop: float | None = None   # keyframe offset of the GOP being decoded
        self.frames: Iterator[av.VideoFrame] | None = None   # the decode iterator

    def seek(self, key: float) -> None:
        if self.base:
            self.container.seek(int(round((key + self.first) / self.base)), stream=self.stream, backward=True)
        else:
            self.container.seek(0)
        self.frames = self.container.decode(self.stream)
        self.gop = key

    def close(self) -> None:
        self.container.close()


class FrameReader:
    """Reads exact frames; holds a few open decoders and the frames of recent GOPs.

    ``max_frames`` bounds the cache (decoded frames kept in their native YUV form).
    """

    def __init__(self, *, max_decoders: int = 8, max_frames: int = 200) -> None:
        self._decoders: OrderedDict[Path, _Decoder] = OrderedDict()
        self._gops: OrderedDict[tuple[Path, float], list[tuple[float, av.VideoFrame]]] = OrderedDict()
        self._max_decoders, self._max_frames = max_decoders, max_frames
        self._lock = threading.Lock()

    def read(self, path: Path, offset: float, keyframes: list[float], fps: float) -> tuple[np.ndarray, float, bool]:
        """The RGB frame shown at ``offset`` seconds from the file's first frame, its own offset, is-keyframe."""
        if not keyframes:
            raise FootageError(f"{Path(path).name}: the segment has no keyframe index")
        key = keyframes[max(0, bisect.bisect_right(keyframes, offset + _EPS) - 1)]
        with self._lock:
            frame_offset, frame = self._find(Path(path), key, offset, fps)
            return frame.to_ndarray(format="rgb24"), frame_offset, abs(frame_offset - key) < _EPS

    def _find(self, path: Path, key: float, offset: float, fps: float) -> tuple[float, av.VideoFrame]:
        cached = self._gops.get((path, key), [])
        best = _shown_at(cached, offset, fps)
        if best is not None:
            self._gops.move_to_end((path, key))
            return best
        decoder = self._decoder(path)
        if decoder.gop != key or not cached or cached[-1][0] > offset:
            decoder.seek(key)
            cached = self._gops[(path, key)] = []
        last: tuple[float, av.VideoFrame] | None = cached[-1] if cached else None
        assert decoder.frames is not None   # seek() above, or an earlier read of this GOP, started it
        try:
            for frame in decoder.frames:
                if decoder.counts_frames or frame.pts is None or decoder.base is None:
                    t = key + len(cached) / fps
                else:
                    t = frame.pts * decoder.base - decoder.first
                if t < key - _EPS:   # the seek landed on an earlier keyframe: skip ahead
                    continue
                cached.append((t, frame))
                self._trim()
                if t > offset + _EPS:
                    decoder.gop = None   # we read past the target: the decoder holds the next frame
                    break
                last = (t, frame)
                if t + 1.0 / fps > offset + _EPS:
                    break
        except av.FFmpegError as exc:
            raise FootageError(f"{path.name}: decoding failed near {offset:.2f} s ({exc})") from None
        if last is None:
            raise FootageError(f"{path.name}: no frame at {offset:.2f} s")
        return last

    def _decoder(self, path: Path) -> _Decoder:
        if path in self._decoders:
            self._decoders.move_to_end(path)
            return self._decoders[path]
        decoder = self._decoders[path] = _Decoder(path)
        while len(self._decoders) > self._max_decoders:
            self._decoders.popitem(last=False)[1].close()
        return decoder

    def _trim(self) -> None:
        while sum(len(v) for v in self._gops.values()) > self._max_frames and len(self._gops) > 1:
            self._gops.popitem(last=False)

    def forget(self, path: Path) -> None:
        """Drop what is cached for ``path`` (before the file is moved or purged)."""
        with self._lock:
            decoder = self._decoders.pop(Path(path), None)
            if decoder:
                decoder.close()
            for key in [k for k in self._gops if k[0] == Path(path)]:
                del self._gops[key]


def _shown_at(frames: list[tuple[float, av.VideoFrame]], offset: float,
              fps: float) -> tuple[float, av.VideoFrame] | None:
    """The cached frame on screen at ``offset``, if the cache holds it and the one after it (or it spans it)."""
    times = [t for t, _ in frames]
    i = bisect.bisect_right(times, offset + _EPS) - 1
    if i < 0:
        return None
    if i + 1 < len(frames) or times[i] + 1.0 / fps > offset + _EPS:
        return frames[i]
    return None
