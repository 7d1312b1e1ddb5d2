"""Synthetic CCTV footage of a street: a fixed background and vehicles crossing it.

Used for the sample case (vehicles from the simulated traffic, with their
colours and plates, at the times the simulation says) and by the frame
benchmark (an archive of any size). Deterministic for a given seed.

    >>> passages = [Passage(t=4.0, colour="red", kind="car", direction="right", plate="1-ABC-234")]
    >>> render_clip(Path("cam.mp4"), passages, duration=20, start=start)   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import cv2
import numpy as np

from workbench.footage.frame_reader import encode_image

BGR = {"white": (235, 235, 232), "black": (28, 28, 30), "grey": (120, 122, 125), "silver": (185, 188, 190),
       "red": (35, 30, 190), "blue": (160, 70, 25), "green": (50, 130, 40), "yellow": (30, 200, 235),
       "orange": (20, 120, 240)}
# length and height of each kind, as shares of the image width
SHAPES = {"car": (0.24, 0.085), "van": (0.28, 0.12), "truck": (0.42, 0.16), "motorbike": (0.1, 0.075),
          "person": (0.028, 0.085)}
CROSSING_S = {"car": 3.2, "van": 3.6, "truck": 4.5, "motorbike": 2.6, "person": 12.0}


@dataclass(frozen=True)
class Passage:
    """Something crossing the view: ``t`` is when it is in the middle, seconds from the clip start."""

    t: float
    colour: str
    kind: str
    direction: str      # "right" or "left" in the image
    plate: str = ""


class StreetView:
    """One camera's view of a street; :meth:`frame` draws what is there at a given time."""

    def __init__(self, width: int = 640, height: int = 360, *, seed: int = 0) -> None:
        self.width, self.height = width, height
        rng = np.random.default_rng(seed)
        self.background = self._background(rng)
        self._noise = [rng.normal(0, 2.2, (height, width, 1)).astype(np.int16) for _ in range(6)]

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        w, h = self.width, self.height
        img = np.zeros((h, w, 3), np.uint8)
        img[:] = (150, 160, 170)
        x = 0
        while x < w:   # facades with windows
            bw = int(rng.integers(w // 8, w // 4))
            tone = tuple(int(v) for v in rng.integers(90, 200, 3))
            top = int(rng.integers(0, h // 8))
            cv2.rectangle(img, (x, top), (x + bw, int(h * 0.5)), tone, -1)
            for wy in range(top + h // 20, int(h * 0.45), h // 9):
                for wx in range(x + bw // 10, x + bw - bw // 8, max(8, bw // 4)):
                    cv2.rectangle(img, (wx, wy), (wx + max(4, bw // 9), wy + h // 18), (70, 60, 55), -1)
            x += bw
        cv2.rectangle(img, (0, int(h * 0.5)), (w, int(h * 0.56)), (175, 178, 180), -1)     # far sidewalk
        cv2.rectangle(img, (0, int(h * 0.56)), (w, int(h * 0.9)), (82, 84, 86), -1)        # road
        cv2.rectangle(img, (0, int(h * 0.9)), (w, h), (170, 172, 175), -1)                 # near sidewalk
        for dx in range(0, w, w // 8):
            cv2.rectangle(img, (dx, int(h * 0.725)), (dx + w // 16, int(h * 0.735)), (225, 225, 225), -1)
        texture = rng.normal(0, 5, (h, w, 1))
        return np.clip(img.astype(np.float32) + texture, 0, 255).astype(np.uint8)

    def _place(self, p: Passage, t: float) -> tuple[int, int, int, int] | None:
        length, height = (int(s * self.width) for s in SHAPES.get(p.kind, SHAPES["car"]))
        progress = (t - p.t) / CROSSING_S.get(p.kind, 3.2)   # -0.5 .. 0.5 while in view
        if abs(progress) > 0.5 + length / self.width:
            return None
        sign = 1 if p.direction == "right" else -1
        cx = self.width / 2 + sign * progress * (self.width + length)
        if p.kind == "person":
            base = self.height * (0.985 if p.direction == "right" else 0.545)
        else:
            base = self.height * (0.86 if p.direction == "right" else 0.71)
        return int(cx - length / 2), int(base - height), length, height

    def _draw(self, img: np.ndarray, p: Passage, box: tuple[int, int, int, int]) -> None:
        x, y, w, h = box
        colour = BGR.get(p.colour, BGR["grey"])
        if p.kind == "person":
            cv2.rectangle(img, (x, y + h // 4), (x + w, y + h), colour, -1)
            cv2.circle(img, (x + w // 2, y + h // 8), max(2, w // 2), (150, 170, 205), -1)
            return
        cv2.ellipse(img, (x + w // 2, y + h), (w // 2, max(2, h // 10)), 0, 0, 360, (50, 50, 52), -1)  # shadow
        roof = y + h // 3 if p.kind in ("car", "motorbike") else y
        cv2.rectangle(img, (x, roof), (x + w, y + h - h // 6), colour, -1)
        if p.kind in ("car", "motorbike"):
            cab = np.array([[x + w // 5, roof], [x + w // 3, y], [x + 2 * w // 3, y], [x + 4 * w // 5, roof]])
            cv2.fillConvexPoly(img, cab, colour)
            cv2.fillConvexPoly(img, cab + [[w // 30, h // 12], [w // 40, h // 8], [-w // 40, h // 8],
                                           [-w // 30, h // 12]], (60, 50, 40))
        else:
            front = x + w - w // 6 if p.direction == "right" else x
            cv2.rectangle(img, (front, y + h // 8), (front + w // 6, y + h // 2), (60, 50, 40), -1)
        shade = tuple(int(c * 0.7) for c in colour)
        cv2.line(img, (x, y + int(h * 0.62)), (x + w, y + int(h * 0.62)), shade, max(1, h // 25))
        r = max(3, h // 5)
        for wx in (x + w // 5, x + 4 * w // 5):
            cv2.circle(img, (wx, y + h - h // 6), r, (20, 20, 20), -1)
            cv2.circle(img, (wx, y + h - h // 6), r // 2, (150, 150, 150), -1)
        if p.plate:
            pw, ph = max(20, w // 4), max(7, h // 7)
            px = x + (w - pw if p.direction == "right" else 0) - (2 if p.direction == "right" else -2)
            py = y + h - h // 6 - ph - r // 2
            cv2.rectangle(img, (px, py), (px + pw, py + ph), (245, 245, 245), -1)
            cv2.rectangle(img, (px, py), (px + pw, py + ph), (160, 40, 40), 1)
            scale = ph / 30
            cv2.putText(img, p.plate, (px + 2, py + ph - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (150, 30, 30), 1,
                        cv2.LINE_AA)

    def frame(self, t: float, passages: list[Passage], index: int = 0) -> np.ndarray:
        """The BGR picture at ``t`` seconds (far lane first, then near lane, then pedestrians)."""
        img = self.background.copy()
        order = sorted(passages, key=lambda p: (p.kind == "person", p.direction == "right"))
        for p in order:
            if abs(t - p.t) < 8.0:
                box = self._place(p, t)
                if box is not None:
                    self._draw(img, p, box)
        noisy = img.astype(np.int16) + self._noise[index % len(self._noise)]
        return np.clip(noisy, 0, 255).astype(np.uint8)


def render_clip(path: Path, passages: list[Passage], *, duration: float, start: datetime | None = None,
                width: int = 640, height: int = 360, fps: Fraction = Fraction(25, 2), seed: int = 0,
                crf: int = 28, codec: str = "libx264", preset: str = "veryfast", bitrate: int | None = None) -> Path:
    """Render and encode a clip (H.264 in MP4 by default, a keyframe every second), ``start`` in its metadata.

    ``bitrate`` (bits/s) encodes at a constant rate like a camera does, instead of a constant quality ``crf``.
    """
    view = StreetView(width, height, seed=seed)
    with av.open(str(path), "w") as out:
        if start is not None:
            out.metadata["creation_time"] = start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        stream = cast(av.VideoStream, out.add_stream(codec, rate=fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p" if codec != "mjpeg" else "yuvj420p"
        gop = str(max(1, round(float(fps))))
        if codec == "libx264":
            rate = {"crf": str(crf)} if bitrate is None else \
                {"b": str(bitrate), "maxrate": str(bitrate), "bufsize": str(2 * bitrate)}
            stream.options = {**rate, "preset": preset, "g": gop, "keyint_min": gop, "sc_threshold": "0",
                              "bf": "0", "threads": "2"}
        elif codec == "libx265":
            stream.options = {"crf": str(crf), "preset": "ultrafast", "x265-params": f"keyint={gop}:log-level=error"}
        else:
            stream.options = {"g": gop}
        for n in range(int(duration * float(fps))):
            frame = av.VideoFrame.from_ndarray(view.frame(n / float(fps), passages, n), format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def still(view: StreetView, passages: list[Passage], t: float) -> bytes:
    """One rendered picture as PNG bytes (for documentation and training material)."""
    return encode_image(view.frame(t, passages)[..., ::-1], ".png")
