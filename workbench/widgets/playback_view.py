"""Play clips in the browser: a camera and its neighbours in step, one play/pause/scrub control, digital zoom.

    >>> view = PlaybackView(case, "CCTV-PZ5344-102", "2026-11-20T08:29:26Z", seconds=20)   # doctest: +SKIP

The clips come from ``case.playback`` (H.264 MP4, audited). The player is
self-contained HTML in a frame (the clips inline, a few lines of script):
it plays the same in a notebook and in a Voila app, on a closed network.
Drag a rectangle on a picture to enlarge that region; double-click (or the
reset button) to see the whole picture again. The clock reads Brussels time.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import ipywidgets as widgets

from workbench.errors import WorkbenchError
from workbench.timeutil import format_local
from workbench.widgets.case_header import message_html
from workbench.widgets.labels import error_text, text

_STYLE = """
body{margin:0;font:13px sans-serif;color:#222}
.grid{display:flex;flex-wrap:wrap;gap:6px}
figure{margin:0;width:calc(50% - 3px)}
.frame{position:relative;overflow:hidden;background:#111;cursor:crosshair;aspect-ratio:16/9}
.frame video{width:100%;height:100%;display:block;transform-origin:0 0;object-fit:contain}
.frame.idle video{opacity:.25}
.frame .box{position:absolute;border:2px dashed #ffd54f;display:none;pointer-events:none}
.frame.zoomed{outline:3px solid #ffd54f}
figcaption{font-size:12px;padding:2px 0}
.controls{display:flex;align-items:center;gap:8px;margin-top:6px}
.controls input{flex:1}
button{font:13px sans-serif;padding:3px 10px}
.clock{font-variant-numeric:tabular-nums;min-width:150px}
"""

# one clock (seconds from the window's start) drives every video; each video's own time is the clock minus its
# offset; outside its clip a video is dimmed and held
_SCRIPT = """
const cfg = JSON.parse(document.getElementById('cfg').textContent);
const vids = [...document.querySelectorAll('video')];
const scrub = document.getElementById('scrub'), play = document.getElementById('play'),
      clock = document.getElementById('clock');
let t = cfg.initial, playing = false, last = null;
const fmt = s => new Date(cfg.start_ms + s * 1000).toLocaleTimeString(cfg.locale,
  {timeZone: 'Europe/Brussels', hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 1});
function place(seek) {
  for (const v of vids) {
    const local = t - +v.dataset.offset, frame = v.parentElement;
    const inside = local >= 0 && local < +v.dataset.duration;
    frame.classList.toggle('idle', !inside);
    if (!inside) { if (!v.paused) v.pause(); continue; }
    if (seek || Math.abs(v.currentTime - local) > 0.25) v.currentTime = local;
    if (playing && v.paused) v.play().catch(() => {});
    if (!playing && !v.paused) v.pause();
  }
  scrub.value = t;
  clock.textContent = fmt(t) + ' ' + cfg.zone;
}
function tick(now) {
  if (!playing) return;
  if (last !== null) t = Math.min(cfg.duration, t + (now - last) / 1000);
  last = now;
  if (t >= cfg.duration) setPlaying(false);
  place(false);
  requestAnimationFrame(tick);
}
function setPlaying(on) {
  playing = on; last = null;
  play.textContent = on ? cfg.pause : cfg.play;
  place(false);
  if (on) requestAnimationFrame(tick);
}
play.onclick = () => { if (t >= cfg.duration) t = 0; setPlaying(!playing); };
scrub.oninput = () => { t = +scrub.value; place(true); };
function unzoom(frame) {
  frame.classList.remove('zoomed');
  frame.zoom = null;
  frame.querySelector('video').style.transform = '';
}
document.getElementById('unzoom').onclick = () => document.querySelectorAll('.frame').forEach(unzoom);
for (const frame of document.querySelectorAll('.frame')) {
  const box = frame.querySelector('.box'), video = frame.querySelector('video');
  let from = null;
  const at = e => {
    const r = frame.getBoundingClientRect(), clamp = v => Math.min(1, Math.max(0, v));
    return [clamp((e.clientX - r.left) / r.width), clamp((e.clientY - r.top) / r.height)];
  };
  const region = p => [Math.min(from[0], p[0]), Math.min(from[1], p[1]),
                       Math.abs(p[0] - from[0]), Math.abs(p[1] - from[1])];
  frame.onmousedown = e => { e.preventDefault(); from = at(e); };
  frame.onmousemove = e => {
    if (!from) return;
    const [x, y, w, h] = region(at(e));
    Object.assign(box.style, {display: 'block', left: x * 100 + '%', top: y * 100 + '%',
                              width: w * 100 + '%', height: h * 100 + '%'});
  };
  frame.onmouseup = e => {
    if (!from) return;
    const [x, y, w, h] = region(at(e));
    box.style.display = 'none';
    from = null;
    if (w < 0.03 || h < 0.03) return;
    const z = frame.zoom || {x: 0, y: 0, s: 1};   // a region of what is shown, in shares of the whole picture
    const s = Math.max(1 / 8, Math.max(w, h) * z.s);
    frame.zoom = {x: Math.min(1 - s, z.x + x * z.s), y: Math.min(1 - s, z.y + y * z.s), s: s};
    video.style.transform = `scale(${1 / s}) translate(${-frame.zoom.x * 100}%, ${-frame.zoom.y * 100}%)`;
    frame.classList.add('zoomed');
  };
  frame.ondblclick = () => unzoom(frame);
}
window.wbPlayer = {seek: s => { t = s; place(true); }, play: () => setPlaying(true), pause: () => setPlaying(false),
                   time: () => t};
vids.forEach(v => v.addEventListener('loadeddata', () => place(true)));
place(true);
"""

_LOCALES = {"fr": "fr-BE", "nl": "nl-BE", "en": "en-GB"}


def _seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def player_html(playback: Any, lang: str = "fr", *, height: int = 560) -> str:
    """The synchronised player of a :class:`~workbench.case_footage.Playback` as a self-contained frame."""
    duration = _seconds(playback.start, playback.end)
    cells = []
    for clip in playback.clips:
        offset = _seconds(playback.start, clip.start)
        label = f"{clip.camera_id}" + (f" · {clip.distance_m:.0f} m" if clip.camera_id != playback.camera_id else "")
        cells.append(
            f"<figure><div class='frame' data-camera='{html.escape(clip.camera_id)}'>"
            f"<video muted playsinline preload='auto' data-offset='{offset:.3f}' "
            f"data-duration='{_seconds(clip.start, clip.end):.3f}' "
            f"src='data:video/mp4;base64,{base64.b64encode(clip.mp4).decode()}'></video><div class='box'></div>"
            f"</div><figcaption>{html.escape(label)}</figcaption></figure>")
    cfg = {"start_ms": playback.start.timestamp() * 1000, "duration": duration,
           "initial": min(duration, max(0.0, _seconds(playback.start, playback.at))),
           "locale": _LOCALES.get(lang, "fr-BE"), "zone": text("brussels_zone", lang),
           "play": "▶ " + text("play", lang), "pause": "⏸ " + text("pause", lang)}
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{_STYLE}</style></head><body>"
            f"<div class='grid'>{''.join(cells)}</div>"
            f"<div class='controls'><button id='play'>{html.escape(cfg['play'])}</button>"
            f"<input id='scrub' type='range' min='0' max='{duration:.3f}' step='0.04' "
            f"aria-label='{html.escape(text('scrub', lang))}'>"
            f"<span id='clock' class='clock'></span>"
            f"<button id='unzoom' title='{html.escape(text('zoom_hint', lang))}'>{html.escape(text('unzoom', lang))}"
            f"</button></div><p style='font-size:11px;color:#555'>{html.escape(text('zoom_hint', lang))}</p>"
            f"<script type='application/json' id='cfg'>{json.dumps(cfg)}</script><script>{_SCRIPT}</script>"
            f"</body></html>")
    return (f"<iframe class='wb-player' srcdoc=\"{html.escape(page, quote=True)}\" "
            f"style='width:100%;height:{height}px;border:0'></iframe>")


class PlaybackView(widgets.VBox):
    """Play ``camera`` around ``at`` with its neighbours in step (``case.playback``), or say why not."""

    def __init__(self, case: Any, camera: str, at: datetime | str, *, seconds: float = 20.0, radius: float = 250.0,
                 lang: str = "fr") -> None:
        self.playback: Any = None
        title = widgets.HTML(f"<b class='wb-playback-title'>{html.escape(text('playback', lang))}</b> — "
                             f"{html.escape(camera)} {html.escape(format_local(at, with_utc=True))}")
        try:
            self.playback = case.playback(camera, at, seconds=seconds, radius=radius)
        except WorkbenchError as exc:
            super().__init__([title, widgets.HTML(message_html(error_text(exc, lang), "warning"))])
            return
        super().__init__([title, widgets.HTML(player_html(self.playback, lang))])


class RouteFootage(widgets.VBox):
    """The footage along a trajectory: each camera of the case that could have seen the vehicle and has footage
    then, with a button that plays it at the moment the vehicle was expected there (``on_play(camera, at)``)."""

    def __init__(self, case: Any, trip: Any, on_play: Callable[[str, datetime], None], *, lang: str = "fr") -> None:
        self.moments: list[tuple[str, datetime]] = []
        try:
            cameras = case.cameras()
            windows = trip.cctv_windows(cameras[cameras["kind"] != "anpr"])
            footage = case.footage(cameras=sorted(set(windows["camera_id"])), since=windows["start"].min(),
                                   until=windows["end"].max()) if len(windows) else None
        except WorkbenchError as exc:
            super().__init__([widgets.HTML(message_html(error_text(exc, lang), "warning"))])
            return
        buttons = []
        for row in windows.itertuples():
            middle = row.start + (row.end - row.start) / 2
            assert footage is not None
            seg = footage[(footage["camera_id"] == row.camera_id) & (footage["start"] < row.end)
                          & (footage["end"] > row.start)]
            if seg.empty:
                continue
            at = min(max(middle, seg["start"].min()), seg["end"].max())
            self.moments.append((row.camera_id, at))
            button = widgets.Button(description=f"▶ {row.camera_id} {format_local(at, with_date=False)}",
                                    layout={"width": "auto"})
            button.add_class("wb-play-route")
            button.on_click(lambda _b, c=row.camera_id, t=at: on_play(c, t))
            buttons.append(button)
        title = widgets.HTML(f"<b>{html.escape(text('route_footage', lang))}</b>")
        super().__init__([title, widgets.HBox(buttons, layout={"flex_flow": "row wrap"})] if buttons else
                         [title, widgets.HTML(message_html(text("no_route_footage", lang), "info"))])
