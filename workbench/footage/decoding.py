"""The one video clock: when each decoded picture of a file was recorded, defined once.

Every module that turns pictures or packets into times (probe, frame reader,
index build, clip export) opens the file through :class:`VideoFile` and asks
it. Times are seconds from the file's first picture, the first picture the
decoder actually returns (not the container's start time, not the first
packet): a non-zero start (``-output_ts_offset``), an MP4 edit list or a
transport stream's clock all give 0.0 for that picture.

Two ways of reading the time of a picture, chosen per container:

* ``pts``: the container carries presentation times (MP4, MOV, Matroska,
  MPEG-TS...). A picture's time is its presentation timestamp minus the first
  picture's; B-frames, open GOPs and variable frame rates come out right. A
  picture without a timestamp gets the previous picture's time plus one frame.
* ``count``: the container has no presentation times (AVI, raw elementary
  streams). Pictures come out of the decoder in presentation order, one frame
  interval apart: a picture's time is its rank. AVI slots are not pictures:
  XviD's 1-byte delay frames and the N-VOP placeholders of packed B-frames
  carry none, so the rank of a keyframe is only known by decoding (the probe
  does it once); after a seek the reader starts at the keyframe packet and
  counts from the first keyframe picture the decoder returns.

A recorder that drops frames leaves their AVI slots empty (or leaves them
out, the next chunk's index one further): the count then skips those slots, so
the pictures after a drop keep their recording times (exactly without
B-frames; with B-frames, a picture reordered across a drop may be one slot
off).

Known limits: a transport stream whose clock starts again half way (two recordings cat'ed
together) is refused by the probe rather than given two pictures at one time.

    >>> with VideoFile(Path("cam12.avi")) as video:                     # doctest: +SKIP
    ...     for t, frame in video.pictures():
    ...         print(t, frame.pict_type)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

import av

from workbench.errors import FootageError

EPS = 1e-4
# demuxers whose packets carry no presentation time worth reading
COUNTED_FORMATS = {"avi", "h264", "hevc", "m4v", "mjpeg", "mpegvideo", "rawvideo", "h263", "ivf"}
PLACEHOLDER_BYTES = 7   # packets this small carry no picture (XviD delay frames, N-VOPs)


def reason(exc: BaseException) -> str:
    """A library error in a few words."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.split(":")[-1].strip() if ":" in text and len(text) > 80 else text


LABELS = {"h264": "H.264", "hevc": "H.265", "mpeg4": "MPEG-4 part 2", "mjpeg": "Motion JPEG"}


def codec_label(name: str) -> str:
    """A codec's name for people (``h264`` -> "H.264"; others as FFmpeg names them)."""
    if name in LABELS:
        return LABELS[name]
    try:
        return av.codec.Codec(name, "r").long_name
    except (av.FFmpegError, ValueError):
        return name


@dataclass(frozen=True)
class Slot:
    """Where a keyframe packet is (count mode): its rank among the file's non-empty packets and its dts."""

    rank: int
    dts: int | None


class VideoFile:
    """An open video file and its clock (close it, or use it as a context manager).

    ``threads`` is PyAV's thread type: "AUTO" to decode a whole file on every
    core, "SLICE" for random access (frame threading delays each output).
    """

    def __init__(self, path: Path, *, threads: str = "SLICE") -> None:
        self.path = Path(path)
        self._threads = threads
        self._open()
        self.codec = self.stream.codec_context.name
        self.fps = float(self.stream.average_rate or self.stream.guessed_rate or 0) or 25.0
        base = self.stream.time_base
        self.base = float(base) if base else 0.0
        self.mode: Literal["pts", "count"] = \
            "count" if not self.base or self.container.format.name in COUNTED_FORMATS else "pts"
        self._zero: int | None = None            # pts of the first picture (pts mode)
        self._key_slots: list[Slot] | None = None  # the keyframe packets (count mode)
        self._dropped: list[int] | None = None     # slots dropped before each non-empty packet (count mode)
        self._slot_s = 1.0 / self.fps                # seconds of one slot (count mode)

    def _open(self) -> None:
        try:
            self.container = av.open(str(self.path), metadata_errors="ignore")
        except (av.FFmpegError, OSError) as exc:
            raise FootageError(f"{self.path.name}: not a readable video file ({reason(exc)})") from None
        if not self.container.streams.video:
            self.container.close()
            raise FootageError(f"{self.path.name}: the file holds no video stream")
        self.stream = self.container.streams.video[0]
        if self.stream.codec_context is None:
            self.container.close()
            raise FootageError(f"{self.path.name}: the video is coded in a form that FFmpeg here cannot decode "
                               "(no decoder for its codec): convert it where it was recorded, or install an FFmpeg "
                               "build with that decoder")
        self.stream.thread_type = self._threads

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self.container.close()

    @property
    def format(self) -> str:
        """The demuxer's name (``avi``, ``matroska,webm``...)."""
        return self.container.format.name

    # -- the clock --------------------------------------------------------------------------------
    @property
    def zero(self) -> int:
        """The presentation timestamp of the first picture the decoder returns (pts mode)."""
        if self._zero is None:
            self.rewind()
            first = next(self._decoded(self.container.demux(self.stream)), None)
            if first is None:
                raise FootageError(f"{self.path.name}: no picture could be decoded")
            self._zero = first.pts if first.pts is not None else 0
            self.rewind()
        return self._zero

    def time_of_pts(self, pts: int) -> float:
        """Seconds from the first picture of a presentation timestamp (pts mode)."""
        return (pts - self.zero) * self.base

    def pts_of_time(self, t: float) -> int:
        """The presentation timestamp of ``t`` seconds from the first picture (pts mode)."""
        return self.zero + round(t / self.base)

    def is_placeholder(self, packet: av.Packet[Any]) -> bool:
        """A packet that holds no picture of its own (empty, XviD delay frame, N-VOP)."""
        return packet.size <= (PLACEHOLDER_BYTES if self.mode == "count" else 0)

    def is_key_packet(self, packet: av.Packet[Any]) -> bool:
        """A packet that starts a group of pictures (a placeholder flagged as keyframe is not one)."""
        return bool(packet.is_keyframe) and not self.is_placeholder(packet)

    # -- pictures ----------------------------------------------------------------------------------
    def pictures(self, start: float = 0.0,
                 keyframes: list[float] | None = None) -> Iterator[tuple[float, av.VideoFrame]]:
        """(time, frame) of each picture from the keyframe at ``start`` (a time of ``keyframes``) to the end.

        Pictures before ``start`` (the leading pictures of an open GOP) are
        not returned. ``start`` 0.0 decodes from the beginning of the file.
        """
        try:
            if self.mode == "pts":
                yield from self._pictures_pts(start)
            else:
                yield from self._pictures_counted(start, keyframes or [0.0])
        except av.FFmpegError as exc:
            raise FootageError(f"{self.path.name}: decoding failed ({reason(exc)})") from None

    def _pictures_pts(self, start: float) -> Iterator[tuple[float, av.VideoFrame]]:
        zero = self.zero
        for landing in self._landings(start):
            previous: float | None = None
            for frame in self._decoded(self.container.demux(self.stream)):
                if frame.pts is not None:
                    t = (frame.pts - zero) * self.base
                else:
                    t = (previous + 1.0 / self.fps) if previous is not None else start
                if previous is None and t > start + EPS and landing:
                    break    # the seek landed after the keyframe (an imprecise index): land earlier
                previous = t
                if t >= start - EPS:
                    yield t, frame
            else:
                if previous is not None or not landing:
                    return

    def _landings(self, start: float) -> Iterator[bool]:
        """Put the demuxer before the keyframe at ``start``: a seek, one 5 s earlier, then the file's start.

        Yields whether the position is a seek (that may have landed too late) or the start of the file.
        """
        if start > EPS:
            for margin in (0.0, 5.0):
                if start - margin > EPS:
                    self.seek(self.pts_of_time(start - margin))
                    yield True
        self.rewind()
        yield False

    def packets_from(self, start: float | None) -> Iterator[av.Packet[Any]]:
        """Pts mode: the packets in decode order from the keyframe packet shown at ``start`` (None: the first one)."""
        key = None if start is None else self.pts_of_time(start)
        for landing in self._landings(start or 0.0):
            began = False
            for packet in self.container.demux(self.stream):
                if not began:
                    if packet.size == 0 or packet.pts is None or not self.is_key_packet(packet):
                        continue
                    if key is not None and packet.pts < key - 1:
                        continue
                    if key is not None and packet.pts > key + 1 and landing:
                        break   # landed after that keyframe
                    began = True
                yield packet
            else:
                if began or not landing:
                    return

    def _pictures_counted(self, start: float, keyframes: list[float]) -> Iterator[tuple[float, av.VideoFrame]]:
        self.dropped_slots()   # demuxes the whole file once: before decoding starts
        slots = self.key_slots(keyframes)
        rank = min(range(len(keyframes)), key=lambda i: abs(keyframes[i] - start))
        if start <= EPS or slots is None or abs(keyframes[rank] - start) > EPS:
            self.rewind()
            for n, frame in enumerate(self._decoded(self.container.demux(self.stream))):
                t = self.counted_time(n)
                if t >= start - EPS:
                    yield t, frame
            return
        count: int | None = None
        first = self.counted_rank(start)
        for frame in self._decoded(self.packets_at(slots[rank])):
            if count is None and not frame.key_frame:
                continue   # pictures before the keyframe (undecodable leading pictures)
            count = 0 if count is None else count + 1
            yield self.counted_time(first + count), frame

    def dropped_slots(self) -> list[int]:
        """Count mode: for each non-empty packet, how many slots before it the recorder left empty (or out)."""
        if self._dropped is None:
            self.rewind()
            dts = [p.dts for p in self.container.demux(self.stream) if p.size]
            self.rewind()
            steps = [b - a for a, b in zip(dts, dts[1:]) if a is not None and b is not None and b > a]
            if not steps or any(d is None for d in dts):
                self._dropped = []
            else:
                step, missing, dropped = min(steps), 0, []
                for k, d in enumerate(dts):
                    missing = max(missing, round((d - dts[0]) / step) - k)   # type: ignore[operator]  # no None
                    dropped.append(missing)
                self._dropped = dropped if missing else []
                if self.base and abs(step * self.base * self.fps - 1) > 0.01:
                    self._slot_s = step * self.base   # every other slot empty: the rate the pictures come at
        return self._dropped

    @property
    def slot_seconds(self) -> float:
        """Count mode: the seconds between two pictures with no drop between them."""
        self.dropped_slots()
        return self._slot_s

    def counted_time(self, rank: int) -> float:
        """Count mode: the time of the picture of presentation rank ``rank`` (dropped slots before it skipped)."""
        dropped = self.dropped_slots()
        return (rank + (dropped[min(rank, len(dropped) - 1)] if dropped else 0)) * self._slot_s

    def counted_rank(self, t: float) -> int:
        """Count mode: the presentation rank of the picture at ``t`` (a picture's time)."""
        rank = round(t / self._slot_s)
        while rank > 0 and self.counted_time(rank) > t + EPS:
            rank -= 1
        return rank

    def key_slots(self, keyframes: list[float]) -> list[Slot] | None:
        """Count mode: where the packet of each keyframe of ``keyframes`` is (None if they do not pair)."""
        if self._key_slots is None:
            self.rewind()
            packets = (p for p in self.container.demux(self.stream) if p.size)
            self._key_slots = [Slot(rank, p.dts) for rank, p in enumerate(packets) if self.is_key_packet(p)]
        if len(self._key_slots) == len(keyframes):
            return self._key_slots
        if len(self._key_slots) == len(keyframes) - 1 and keyframes[0] == 0.0:   # 0.0 stands for the file start
            return [Slot(0, None), *self._key_slots]
        return None

    def packets_at(self, slot: Slot) -> Iterator[av.Packet[Any]]:
        """Count mode: the non-empty packets from the keyframe packet at ``slot`` on (sought, or counted from
        the start)."""
        if slot.dts is not None and slot.rank:
            self.seek(slot.dts)
            yield from (p for p in self.container.demux(self.stream) if p.size and p.dts is not None
                        and p.dts >= slot.dts)
            return
        self.rewind()
        packets = (p for p in self.container.demux(self.stream) if p.size)
        yield from (p for rank, p in enumerate(packets) if rank >= slot.rank)

    def _decoded(self, packets: Iterator[av.Packet[Any]]) -> Iterator[av.VideoFrame]:
        """Decode ``packets`` (empty ones, which would end the decoding, left out), then drain the decoder."""
        for packet in packets:
            if packet.size == 0:
                continue
            yield from packet.decode()
        yield from self.stream.codec_context.decode(None)

    def rewind(self) -> None:
        """Put the demuxer and the decoder back at the start of the file (open it again if it cannot seek)."""
        try:
            self.container.seek(0, backward=True)
            self.stream.codec_context.flush_buffers()
        except av.FFmpegError:   # a raw stream: no seeking
            self.container.close()
            self._open()

    def seek(self, timestamp: int) -> None:
        """Put the demuxer at the keyframe at or before ``timestamp`` (in the stream's time base)."""
        self.container.seek(timestamp, stream=self.stream, backward=True)
        self.stream.codec_context.flush_buffers()
