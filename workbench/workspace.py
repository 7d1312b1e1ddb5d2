"""The facade: a case with the analysis cores attached.

``workbench.open()`` returns a :class:`~workbench.access.Workspace` whose
``open_case`` yields :class:`Case`: the access layer's :class:`CaseScope`
(authorised, audited reads) plus the analyses of the cores, each of which
obtains its data through the audited reads of ``CaseScope``.

    >>> trip = case.trajectory("6-GGM-833", since="2026-11-20")
    >>> len(trip), trip.sightings["camera_id"].iloc[0]
    (7, 'ANPR-BM-023')
    >>> case.convoy("6-GGM-833", since="2026-11-20")["plate"].iloc[0]
    '1RHK149'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import report_pdf, result_export
from workbench.access import Grant, Workspace
from workbench.access.session import Clock, _utcnow
from workbench.case_footage import FootageCase, boxed_jpeg
from workbench.config import LANGUAGES, Settings
from workbench.errors import AccessDenied, InvalidInput, NotFound
from workbench.maps.static_map import map_png
from workbench.plates import normalise
from workbench.report_pdf import CaseReport, KeyFrame, ReportContent
from workbench.result_export import route_lines
from workbench.trajectories import vehicle_analyses
from workbench.trajectories.camera_network import CameraNetwork
from workbench.trajectories.road_graph import RoadGraph
from workbench.trajectories.trajectory import Trajectory, reconstruct

When = datetime | str | None
_NETWORKS: dict[tuple[str, tuple[str, ...]], CameraNetwork] = {}


class ResultsExport:
    """``export_results`` on top of ``results_file``: the same for the embedded case and the service's client."""

    results_file: Callable[..., bytes]   # the audited part: Case.results_file, or its proxy on the client

    def export_results(self, what: Trajectory | pd.DataFrame, *, format: str, path: Path | str) -> Path:
        """Write a trajectory (sightings and route) or sightings as ``geojson``, ``kml``, ``csv`` or ``i2``.

        The rows must be ones this case may see now (each camera and time
        inside the grant, else AccessDenied); the export is audited as
        ``export-results`` with the format, the number of rows, the file's
        name and its SHA-256. Served, the service checks and audits the
        export and the file is written where the caller asked.

        >>> case.export_results(trip, format="kml", path="suspect.kml")      # doctest: +SKIP
        PosixPath('suspect.kml')
        """
        path = result_export.check_target(path)   # before anything is read
        return result_export.save(self.results_file(what, format=format, name=path.name), path)


class Case(FootageCase, ResultsExport):
    """An open case: cameras, plate reads, trajectories, vehicle analyses, footage and evidence."""

    def camera_network(self) -> CameraNetwork:
        """The ANPR cameras this case may see, placed on the region's road network (cached)."""
        cams = self.cameras(kind="anpr")
        key = (str(self.settings.cache_dir), tuple(sorted(cams["camera_id"])))
        if key not in _NETWORKS:
            _NETWORKS[key] = CameraNetwork(RoadGraph.load(self.settings.cache_dir), pd.DataFrame(cams),
                                           cache_dir=self.settings.cache_dir)
        return _NETWORKS[key]

    def trajectory(self, plate: str, *, since: When = None, until: When = None, fuzzy: bool = True,
                   max_distance: float = 0.5) -> Trajectory:
        """Reconstruct a vehicle's movements from its sightings (misreads merged where they fit).

        With ``fuzzy`` the plates within ``max_distance`` are candidates for a
        misread: the default 0.5 admits up to two look-alike confusions (B/8,
        O/0...) and no other difference, so another car's plate is not merged.
        """
        reads = self.plate_reads(plate, since=since, until=until, fuzzy=fuzzy, max_distance=max_distance)
        return reconstruct(reads, self.camera_network(), plate=normalise(plate))

    def convoy(self, plate: str, *, since: When = None, until: When = None, window_s: float = 60,
               min_cameras: int = 2) -> pd.DataFrame:
        """Vehicles seen at several of the plate's cameras within ``window_s`` seconds of it."""
        target = self.plate_reads(plate, since=since, until=until)
        if target.empty:
            return vehicle_analyses.convoy(target, target, window_s=window_s, min_cameras=min_cameras)
        margin = pd.Timedelta(seconds=window_s)
        around = self.sightings(None, cameras=sorted(set(target["camera_id"])), since=target["time"].min() - margin,
                                until=target["time"].max() + margin, action="convoy", with_sources=False,
                                query={"plate": plate, "window_s": window_s},
                                within=[(c, t - margin, t + margin)
                                        for c, t in zip(target["camera_id"], target["time"])])
        return vehicle_analyses.convoy(target, around, window_s=window_s, min_cameras=min_cameras)

    def stakeout(self, cameras: Iterable[str], *, since: When, until: When) -> pd.DataFrame:
        """Every plate seen at the given cameras in a window."""
        return vehicle_analyses.stakeout(self.sightings(None, cameras=cameras, since=since, until=until,
                                                        action="stakeout", with_sources=False))

    def common_plates(self, places: list[tuple[Iterable[str], When, When]], *, min_places: int = 2) -> pd.DataFrame:
        """Plates present in several (cameras, since, until) windows."""
        frames = [self.sightings(None, cameras=c, since=s, until=u, action="common-plates", with_sources=False)
                  for c, s, u in places]
        return vehicle_analyses.common_plates(frames, min_places=min_places)

    def locate(self, plate: str, *, since: When = None, until: When = None,
               top: int = 5) -> tuple[pd.Series, pd.DataFrame]:
        """The plate's last sighting and the cameras it most likely reaches next."""
        target = self.plate_reads(plate, since=since, until=until)
        everyone = self.sightings(None, since=since, until=until, action="locate-statistics", with_sources=False)
        return vehicle_analyses.locate(target, everyone, top=top)

    def cloned_plates(self, *, since: When = None, until: When = None) -> pd.DataFrame:
        """Plates seen in two places no car could link in the time between: cloned or misread."""
        everyone = self.sightings(None, since=since, until=until, action="cloned-plates", with_sources=False)
        return vehicle_analyses.cloned_plates(everyone, self.camera_network())

    def check_training(self, question: str, answer: Any) -> bool:
        """Judge a training exercise's answer against this training case's own key, record the result
        (``training-check``, for the trainer's view) and return whether it is right.

        ``answer`` None means not answered yet; a package exercise takes the
        package's files (:func:`~workbench.samples.training.package_copy`).
        Served, the service judges: a trainee records only the answers they
        gave. Training cases only (anything else is refused, audited).

        >>> case.check_training("stolen_plate", "7-BXX-035")      # doctest: +SKIP
        True
        """
        from workbench.samples.training import QUESTIONS, TrainingKey, shown  # the course sits with the tools

        if not isinstance(question, str) or question not in QUESTIONS:
            raise InvalidInput(f"unknown question {question!r}: one of {', '.join(QUESTIONS)}")
        module = QUESTIONS[question].module
        text = None if answer is None else shown(answer)
        self._training_only({"module": module, "question": question, "answer": text})
        right = answer is not None and TrainingKey(self, self._user_session).judge(question, answer)
        self._record_training_check(module, question, answered=answer is not None, correct=right, answer=text)
        return right

    def results_file(self, what: Trajectory | pd.DataFrame, *, format: str, name: str) -> bytes:
        """The export file's content for :meth:`export_results` (checked against a fresh grant, audited).

        The rows must be ones this case may see now (each camera and time
        inside the grant, else AccessDenied); the export is audited as
        ``export-results`` with the format, the number of rows, the file's
        name and its SHA-256.
        """
        sightings = what.sightings if isinstance(what, Trajectory) else what
        route = route_lines(what.route) if isinstance(what, Trajectory) and format in {"geojson", "kml"} else []
        with self._refusals("export-results", {"query": {"format": str(format)[:20], "file": str(name)[:200]}}):
            if format not in result_export.FORMATS:
                raise InvalidInput(f"export format {format!r}: one of {', '.join(result_export.FORMATS)}")
            rows = result_export.export_rows(sightings)
            if rows.empty:
                raise InvalidInput("nothing to export: no sightings")
        times = pd.to_datetime(sightings["time"], utc=True)
        query: dict[str, object] = {"format": format, "file": str(name)[:200], "rows": len(rows)}
        with self.access("plates", cameras=sorted(set(rows["camera_id"])), since=times.min(),
                         until=times.max() + pd.Timedelta(seconds=1), action="export-results", query=query) as grant:
            _all_granted(grant, rows, times)
            content = result_export.render_results(rows, route, format)
            query["sha256"] = hashlib.sha256(content).hexdigest()   # recorded when the block ends
            grant.count = len(rows)
        return content

    def report(self, plate: str, *, since: When = None, until: When = None, key_frames: int = 4,
               lang: str | None = None) -> CaseReport:
        """A case report as PDF on a plate's trajectory: the street map with its route, a timeline, the
        sightings table, key frames of the vehicle in the footage, the case's audit summary (A4, page headers
        with the case, page numbers, Brussels time with UTC). ``report.save(path)`` writes it.

        ``lang`` (fr, nl, en) defaults to the settings' language. Every part is read through the case's
        audited access; the report is audited as ``export-report``
        with its pages and the file's SHA-256, after a check that every row is still one this case may see.

        >>> report = case.report("6-GGM-833", since="2026-11-20")       # doctest: +SKIP
        >>> report.save("rapport.pdf")                                  # doctest: +SKIP
        """
        with self._refusals("export-report", {"plate": str(plate)[:40], "key_frames": key_frames}):
            if not 0 <= key_frames <= 12:
                raise InvalidInput("key_frames: from 0 to 12")
        trip = self.trajectory(plate, since=since, until=until)
        rows = result_export.export_rows(trip.sightings)
        if rows.empty:
            raise NotFound(f"no sighting of {plate} this case may see: nothing to report")
        lang = lang if lang in LANGUAGES else self.settings.lang
        created = self.now()
        content = ReportContent(
            self.reference, self.info.title, self.purpose, self.info.legal_basis, self.user.name, created, trip.plate,
            rows, map_png(self.settings.cache_dir, trip.sightings, route_lines(trip.route), lang=lang),
            report_pdf.timeline_png(trip.sightings, lang), self._key_frames(trip, key_frames), self.audit_summary())
        times = pd.to_datetime(trip.sightings["time"], utc=True)
        query: dict[str, object] = {"plate": trip.plate, "rows": len(rows), "key_frames": len(content.key_frames)}
        with self.access("plates", cameras=sorted(set(rows["camera_id"])), since=times.min(),
                         until=times.max() + pd.Timedelta(seconds=1), action="export-report", query=query) as grant:
            _all_granted(grant, rows, times)
            pdf, pages = report_pdf.render_report(content, lang)
            query.update(pages=pages, sha256=report_pdf.sha256(pdf))   # recorded when the block ends
            grant.count = len(rows)
        return CaseReport(self.reference, trip.plate, created, pages, report_pdf.sha256(pdf), pdf)

    def _key_frames(self, trip: Trajectory, count: int) -> list[KeyFrame]:
        """The best view of a vehicle in each footage camera along the trajectory (frame search), at most
        ``count``, each with the object's box drawn."""
        if count == 0:
            return []
        try:
            hits = self.frame_search(near=trip, kind="vehicle", order="score", per_page=count * 5, thumbnails=False)
        except NotFound:   # no footage camera along the way
            return []
        best = hits.table.drop_duplicates("camera_id").head(count).sort_values("best_time")
        frames = []
        for hit in best.itertuples():
            frame = self.frame(hit.camera_id, hit.best_time)
            words = " ".join(str(v) for v in (hit.colour, hit.kind, hit.direction) if isinstance(v, str))
            frames.append(KeyFrame(hit.camera_id, frame.time, boxed_jpeg(frame.image, hit), words))
        return frames


def _all_granted(grant: Grant, rows: pd.DataFrame, times: pd.Series) -> None:
    """Refuse (AccessDenied) an export with a row outside what ``grant`` lets the case see."""
    outside = [f"{c} {t:%Y-%m-%d %H:%M:%S} UTC" for c, t in zip(rows["camera_id"], times)
               if not any(s <= t <= e for s, e in grant.windows.get(c, ()))]
    if outside:
        raise AccessDenied(f"{len(outside)} rows are outside what this case may see (first: {outside[0]})")


def open_workspace(settings: Settings, *, clock: Clock | None = None, sample: bool = False) -> Workspace:
    """A workspace whose cases are facade :class:`Case` objects.

    With ``sample=True`` the sample world is built first if the catalogue has
    none (what notebooks and trainers use on a fresh machine).
    """
    if sample:
        from workbench.samples import build_sample

        build_sample(settings)
    return Workspace(settings, clock=clock or _utcnow, case_class=Case)
