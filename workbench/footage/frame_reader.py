"""Exact frames from footage files: seek to the keyframe before, decode forward.

    >>> reader = FrameReader()
    >>> image, offset, is_key = reader.read(Path("cam12.mp4"), 93.52, keyframes)   # doctest: +SKIP

The time of each picture is the one video clock's (``footage.decoding``).

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
from workbench.footage.decoding import EPS, VideoFile


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
    """An open file (with its clock) positioned somewhere in one GOP."""

    def __init__(self, path: Path) -> None:
        # frame threading adds a frame of latency per thread to a seek
        self.video = VideoFile(path, threads="SLICE")
        self.gop: float | None = None   # keyframe time of the GOP being decoded
        self.pictures: Iterator[tuple[float, av.VideoFrame]] | None = None

    def seek(self, key: float, keyframes: list[float]) -> None:
        self.pictures = self.video.pictures(key, keyframes)
        self.gop = key

    def close(self) -> None:
        self.video.close()


class FrameReader:
    """Reads exact frames; holds a few open decoders and the frames of recent GOPs.

    ``max_frames`` bounds the cache (decoded frames kept in their native YUV form).
    """

    def __init__(self, *, max_decoders: int = 8, max_frames: int = 200) -> None:
        self._decoders: OrderedDict[Path, _Decoder] = OrderedDict()
        self._gops: OrderedDict[tuple[Path, float], list[tuple[float, av.VideoFrame]]] = OrderedDict()
        self._ended: set[tuple[Path, float]] = set()   # GOPs decoded to the end of the file
        self._max_decoders, self._max_frames = max_decoders, max_frames
        self._lock = threading.Lock()

    def read(self, path: Path, offset: float, keyframes: list[float]) -> tuple[np.ndarray, float, bool]:
        """The RGB picture on screen at ``offset`` seconds from the file's first picture, its own time, is-keyframe.

        ``keyframes`` are the file's keyframe times as the probe found them.
        """
        if not keyframes:
            raise FootageError(f"{Path(path).name}: the segment has no keyframe index")
        key = keyframes[max(0, bisect.bisect_right(keyframes, offset + EPS) - 1)]
        with self._lock:
            frame_offset, frame = self._find(Path(path), key, offset, keyframes)
            return frame.to_ndarray(format="rgb24"), frame_offset, abs(frame_offset - key) < EPS

    def _find(self, path: Path, key: float, offset: float, keyframes: list[float]) -> tuple[float, av.VideoFrame]:
        cached = self._gops.get((path, key), [])
        best = _shown_at(cached, offset, (path, key) in self._ended)
        if best is not None:
            self._gops.move_to_end((path, key))
            return best
        decoder = self._decoder(path)
        if decoder.gop != key or not cached or cached[-1][0] > offset + EPS or decoder.pictures is None:
            decoder.seek(key, keyframes)
            cached = self._gops[(path, key)] = []
            self._ended.discard((path, key))
        assert decoder.pictures is not None
        for t, frame in decoder.pictures:
            cached.append((t, frame))
            if t > offset + EPS:
                break
        else:
            self._ended.add((path, key))
            decoder.gop = None
        self._trim()
        best = _shown_at(cached, offset, True)
        if best is None:
            raise FootageError(f"{path.name}: no frame at {offset:.2f} s")
        return best

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
            self._ended.discard(self._gops.popitem(last=False)[0])

    def forget(self, path: Path) -> None:
        """Drop what is cached for ``path`` (before the file is moved or purged)."""
        with self._lock:
            decoder = self._decoders.pop(Path(path), None)
            if decoder:
                decoder.close()
            for key in [k for k in self._gops if k[0] == Path(path)]:
                del self._gops[key]
                self._ended.discard(key)


def _shown_at(frames: list[tuple[float, av.VideoFrame]], offset: float,
              complete: bool) -> tuple[float, av.VideoFrame] | None:
    """The cached picture on screen at ``offset``: the last one at or before it, if a later one (or the end) is known."""
    times = [t for t, _ in frames]
    i = bisect.bisect_right(times, offset + EPS) - 1
    if i < 0 or (i + 1 == len(frames) and not complete):
        return None
    return frames[i]
