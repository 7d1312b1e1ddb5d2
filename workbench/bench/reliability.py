"""``workbench bench reliability``: kill -9, hostile input and load, measured on one backend.

Three campaigns on a small lab world (the sample partners and cameras, a few
clips, feeds of generated reads), each on the catalogue of ``--db-url``
(default: SQLite in a temporary folder):

* kills: plates ingest, footage ingest, index build, evidence export and
  retention purge run in forked processes that are killed with SIGKILL at
  named fault points (:mod:`workbench.faults`) or after a random delay; after
  each kill the catalogue, the files and the audit chain must be consistent,
  and a final re-run must complete the work exactly once (reads counted);
* hostile input: a generated corpus over every input path (feeds in CSV and
  JSON Lines, hotlists, video files, evidence manifests, query windows); each
  must end in a refusal in words, never a traceback, and never load what it
  should refuse;
* load: 8 analysts query plates, trajectories and frames in threads while a
  day of reads is ingested in another process; errors and latencies counted,
  against the same queries on an idle workbench.

    workbench bench reliability --json
    workbench bench reliability --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres --json

The test suite (tests/reliability/) runs the same campaigns on both backends.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

FOOTAGE_CAMERA = "CCTV-PZ5339-001"   # a fixed camera of the investigator's own zone
OLD_FOOTAGE_CAMERA = "CCTV-PZ5339-002"
ANALYST = "inspector.dupont"
PURPOSE = "judicial-investigation"
ACTOR = "system:reliability"


@dataclass
class Lab:
    """A workbench home and catalogue for the campaigns."""

    home: Path
    db_url: str
    day: date

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        from workbench.config import Settings

        return Settings.from_env({}, home=self.home, db_url=self.db_url)

    def store(self):  # type: ignore[no-untyped-def]
        from workbench.store import Store

        return Store(self.settings)

    def day_start(self) -> datetime:
        return datetime.combine(self.day, datetime.min.time(), tzinfo=timezone.utc)


def make_lab(home: Path, db_url: str | None = None) -> Lab:
    """The sample partners, cameras and cases (no traffic) in ``home``, for two days ago."""
    from workbench.samples import build_sample

    day = datetime.now(timezone.utc).date() - timedelta(days=2)
    lab = Lab(home, db_url or f"sqlite:///{home / 'workbench.db'}", day)
    build_sample(lab.settings, day=day, traffic=False)
    return lab


def anpr_cameras(lab: Lab) -> list[str]:
    from sqlalchemy import select

    from workbench.store.models import Camera

    store = lab.store()
    with store.snapshot() as session:
        cameras = sorted(session.execute(select(Camera.id).where(Camera.kind == "anpr")).scalars())
    store.dispose()
    return cameras


def write_feed(path: Path, cameras: list[str], *, reads: int, seed: int, start: datetime) -> set[tuple[str, str]]:
    """A CSV feed of ``reads`` reads with unique ids; returns their (source, read_id) keys."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("ABCDEFGHJKLMNPRSTVWXYZ"))
    plates = [f"{rng.integers(1, 9)}-{''.join(rng.choice(letters, 3))}-{rng.integers(0, 1000):03d}"
              for _ in range(max(10, reads // 20))]
    offsets = np.sort(rng.uniform(0, 86_000, reads))
    frame = pd.DataFrame({
        "source": "REL-ANPR", "read_id": [f"{seed}-{i}" for i in range(reads)],
        "camera_id": rng.choice(cameras, reads),
        "timestamp": [(start + timedelta(seconds=float(s))).isoformat() for s in offsets],
        "plate": rng.choice(plates, reads), "confidence": np.round(rng.uniform(0.6, 1.0, reads), 2)})
    frame.to_csv(path, index=False)
    return set(zip(frame["source"], frame["read_id"]))


def render_clips(folder: Path, n: int, seconds: float = 2.0) -> list[Path]:
    """``n`` small clips with a car driving through (320x180, 12.5 fps)."""
    from workbench.samples.street_render import Passage, render_clip

    folder.mkdir(parents=True, exist_ok=True)
    return [render_clip(folder / f"clip-{i}.mp4", [Passage(0.5, "red", "car", "right", "1-ABC-234")],
                        duration=seconds, width=320, height=180, fps=Fraction(25, 2), seed=i) for i in range(n)]


# -- the work, run in a forked process that may be killed -------------------------------------------
def _work(kind: str, lab: Lab, args: dict[str, Any]) -> None:
    from workbench.access import audit
    from workbench.store import Store

    now = datetime.now(timezone.utc)
    store = Store(lab.settings)
    ops = audit.writer(audit.Actor(ACTOR), time=now)
    if kind == "plates":
        from workbench.plates.read_ingest import ingest_files

        ingest_files(store, [Path(p) for p in args["files"]], now=now, audit=ops, batch_reads=args["batch"])
    elif kind == "footage":
        from workbench.footage.footage_ingest import ingest_footage

        ingest_footage(store, args["clips"], camera_id=args["camera"], start=args["start"], now=now, audit=ops)
    elif kind == "index":
        from workbench.search.index_build import build_index

        build_index(store, workers=1, now=now)
    elif kind == "purge":
        from workbench.access.retention import purge

        purge(store, lab.settings, now=now, actor=audit.Actor(ACTOR))
    elif kind == "export":
        import workbench

        case = workbench.open(lab.home, db_url=lab.db_url).login(ANALYST).open_case(
            "PV-BR-2026-001234", purpose=PURPOSE)
        case.export_clip(args["camera"], args["start"], args["end"])
    store.dispose()


def _child(kind: str, lab: Lab, args: dict[str, Any], fault: str | None) -> None:
    if fault:
        os.environ["WORKBENCH_FAULT"] = fault
    _work(kind, lab, args)


def run_work(kind: str, lab: Lab, args: dict[str, Any], *, fault: str | None = None, delay: float | None = None,
             timeout: float = 300) -> bool:
    """Run one piece of work in a forked process; True when it was killed (by its fault point or the delay)."""
    process = multiprocessing.get_context("fork").Process(target=_child, args=(kind, lab, args, fault))
    process.start()
    if delay is not None:
        process.join(delay)
        if process.is_alive():
            process.kill()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        raise RuntimeError(f"{kind} did not finish within {timeout:.0f} s")
    if process.exitcode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"{kind} failed with exit code {process.exitcode}")
    return process.exitcode == -signal.SIGKILL


# -- consistency ---------------------------------------------------------------------------------
def consistency_problems(lab: Lab, *, settled: bool = False) -> list[str]:
    """What is inconsistent between the catalogue, the files and the audit trail (empty when all agree).

    Right after a kill, a file may wait in a recoverable place (a purge's
    ``.purging`` folder, a ``.partial`` copy, an export's staging folder);
    with ``settled`` (after a clean re-run) nothing may be left there.
    """
    from sqlalchemy import func, select

    from workbench.access import audit
    from workbench.evidence.custody import verify_with_store
    from workbench.footage.index_files import day_number, indexed_segments
    from workbench.store.models import AuditEvent, FootageSegment, PlateRead, Sighting

    settings, store, problems = lab.settings, lab.store(), []
    check = audit.verify(store)
    if not check.ok:
        problems.append(str(check))
    with store.snapshot() as session:
        reads = session.execute(select(func.count()).select_from(PlateRead)).scalar_one()
        in_sightings = session.execute(select(func.coalesce(func.sum(Sighting.n_reads), 0))).scalar_one()
        events = session.execute(select(AuditEvent.action, AuditEvent.outcome, AuditEvent.resource,
                                        AuditEvent.result_count)).all()
        segments = session.execute(select(FootageSegment.id, FootageSegment.path, FootageSegment.size_bytes,
                                          FootageSegment.indexed_at, FootageSegment.camera_id,
                                          FootageSegment.start)).all()
    ok = [e for e in events if e.outcome == "ok"]
    audited = sum(e.result_count or 0 for e in ok if e.action == "plates-ingest")
    purged_reads = sum(int(e.resource.get("plate_reads", 0)) for e in ok if e.action == "retention-purge")
    if reads != audited - purged_reads:
        problems.append(f"{reads} plate reads in the catalogue, {audited - purged_reads} loaded according to "
                        "the audit trail")
    if in_sightings != reads:
        problems.append(f"sightings count {in_sightings} reads, the catalogue holds {reads}")
    ingested = {e.resource.get("segment") for e in ok if e.action == "footage-ingest"} - {None}
    purged = {s for e in ok if e.action == "retention-purge" for s in e.resource.get("segments", [])}
    alive = {s.id for s in segments}
    if alive != ingested - purged:
        problems.append(f"segments {sorted(alive)} in the catalogue, {sorted(ingested - purged)} according to "
                        "the audit trail")
    archive, trash = Path(settings.footage_dir), Path(settings.footage_dir) / ".purging"
    for s in segments:
        places = [archive / s.path] + ([] if settled else [trash / s.path])
        if not any(p.is_file() and p.stat().st_size == s.size_bytes for p in places):
            problems.append(f"segment {s.id}: its file {s.path} is missing or cut short")
        if s.indexed_at is not None and \
                s.id not in indexed_segments(settings.index_dir, s.camera_id, day_number(s.start.timestamp())):
            problems.append(f"segment {s.id} is marked indexed but is not in its camera's index")
    evidence = Path(settings.evidence_dir)
    for package in sorted(p for p in evidence.glob("*/*") if p.is_dir() and not p.name.startswith(".")):
        report = verify_with_store(store, package)
        if not report.ok:
            problems.append(f"evidence package {package.name}: {report.problems[0]}")
    if settled:
        known = {s.path for s in segments}
        strays = [p for p in archive.rglob("*") if p.is_file() and p.relative_to(archive).as_posix() not in known]
        strays += [p for p in Path(settings.index_dir).rglob("*partial*")]
        strays += [p for p in evidence.glob("*/.*") if p.is_dir()]
        problems += [f"stray file left behind: {p}" for p in strays]
    store.dispose()
    return problems


def plate_keys(lab: Lab) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from workbench.store.models import PlateRead

    store = lab.store()
    with store.snapshot() as session:
        keys = [tuple(r) for r in session.execute(select(PlateRead.source, PlateRead.source_read_id))]
    store.dispose()
    return keys  # type: ignore[return-value]


@dataclass
class KillReport:
    """Figures of a kill campaign."""

    kills: int = 0
    kills_consistent: int = 0
    reads_lost: int = 0
    reads_doubled: int = 0
    final_problems: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _campaign(report: KillReport, lab: Lab, kind: str, args: dict[str, Any], faults: list[str],
              delays: list[float]) -> None:
    """Kill ``kind`` at every fault point and after every delay, check after each kill, then run it cleanly."""
    for fault, delay in [(f, None) for f in faults] + [(None, d) for d in delays]:
        if run_work(kind, lab, args, fault=fault, delay=delay):
            report.kills += 1
            problems = consistency_problems(lab)
            report.kills_consistent += not problems
            report.problems += [f"{kind} killed at {fault or f'{delay:.2f} s'}: {p}" for p in problems]
    run_work(kind, lab, args)
    report.final_problems += [f"after {kind} ran again: {p}" for p in consistency_problems(lab, settled=True)]


def kill_campaign(lab: Lab, work: Path, *, seed: int = 1, reads: int = 1500, quick: bool = False) -> KillReport:
    """Kill every kind of work at named points and random moments; see :class:`KillReport`."""
    rng = random.Random(seed)
    report = KillReport()
    cameras = anpr_cameras(lab)
    feeds, expected = [], set()
    for n in range(3):
        path = work / f"feed-{n}.csv"
        expected |= write_feed(path, cameras, reads=reads, seed=seed * 100 + n, start=lab.day_start())
        feeds.append(str(path))
    plates_args = {"files": feeds, "batch": max(100, reads // 4)}
    batches = 3 * 4
    plate_faults = [f"plates.before-commit:{k}" for k in range(1, batches + 1, 2 if quick else 1)]
    plate_faults += [f"plates.after-commit:{k}" for k in (2, 7)]
    _campaign(report, lab, "plates", plates_args, plate_faults,
              [rng.uniform(0.2, 3.0) for _ in range(3 if quick else 6)])
    present = plate_keys(lab)
    report.reads_lost = len(expected - set(present))
    report.reads_doubled = len(present) - len(set(present)) + len(set(present) - expected)

    clips = [str(p) for p in render_clips(work / "clips", 3)]
    start = lab.day_start() + timedelta(hours=8)
    footage_args = {"clips": clips, "camera": FOOTAGE_CAMERA, "start": start}
    _campaign(report, lab, "footage", footage_args,
              ["footage.file-in-place:1", "footage.before-commit:1", "footage.file-in-place:2",
               "footage.before-commit:3"], [rng.uniform(0.1, 1.5) for _ in range(2)])
    _break_archive(lab)   # a file lost behind the workbench's back: the re-run heals it
    run_work("footage", lab, footage_args)
    report.final_problems += [f"after healing: {p}" for p in consistency_problems(lab, settled=True)]

    _campaign(report, lab, "index", {}, ["index.before-mark:1", "index.before-mark:2"],
              [rng.uniform(0.1, 2.0) for _ in range(2)])
    export_args = {"camera": FOOTAGE_CAMERA, "start": start + timedelta(seconds=1), "end": start + timedelta(seconds=3)}
    _campaign(report, lab, "export", export_args, ["export.before-custody", "export.after-custody"],
              [rng.uniform(0.1, 2.0) for _ in range(2)])

    old = datetime.now(timezone.utc) - timedelta(days=45)
    run_work("footage", lab, {"clips": [str(p) for p in render_clips(work / "old", 2)], "camera": OLD_FOOTAGE_CAMERA,
                              "start": old})
    old_feed = work / "old.csv"
    write_feed(old_feed, cameras, reads=200, seed=seed * 100 + 99, start=old - timedelta(days=400))
    run_work("plates", lab, {"files": [str(old_feed)], "batch": 100})
    _campaign(report, lab, "purge", {}, ["purge.before-commit", "purge.after-commit"],
              [rng.uniform(0.05, 1.0) for _ in range(2)])
    return report


def _break_archive(lab: Lab) -> None:
    from sqlalchemy import select

    from workbench.store.models import FootageSegment

    store = lab.store()
    with store.snapshot() as session:
        path = session.execute(select(FootageSegment.path).order_by(FootageSegment.id)).scalars().first()
    store.dispose()
    if path:
        (Path(lab.settings.footage_dir) / path).unlink()


# -- hostile input -------------------------------------------------------------------------------
def _constant(value: str) -> Callable[[Path], str]:
    """A maker that ignores its folder and gives ``value`` (hostile time windows are plain strings)."""
    return lambda _folder: value


@dataclass(frozen=True)
class Hostile:
    """One hostile input: where it goes, how it is made, and how many of its reads are valid."""

    path: str          # feed, hotlist, video, manifest, window
    name: str
    make: Callable[[Path], Any]
    valid_reads: int = 1


_FEED_COLUMNS = ["source", "read_id", "camera_id", "timestamp", "plate", "country", "confidence", "direction",
                 "lane", "image_ref"]
_SURROGATE = "\ud800"
_BAD_VALUES: dict[str, list[Any]] = {
    "source": ["s" * 65, "a" + _SURROGATE, "bell\x07", None, True],
    "read_id": ["r" * 129, "id" + _SURROGATE, True, {"a": 1}, [1, 2], None],
    "camera_id": ["ANPR-NOWHERE", FOOTAGE_CAMERA, "c" * 100, "cam" + _SURROGATE, 42],
    "timestamp": ["0001-01-01T00:00:00Z", "2026-11-26", "2026-11-26T10:00:00", "9999-12-31T23:59:59Z",
                  "2026-13-45T10:00:00Z", "2026-11-20T25:61:00Z", "yesterday", "2099-01-01T00:00:00Z", "1e400",
                  "2026-11-20T10:00:00+99:99", 1764000000, "1999-12-31T23:00:00Z"],
    "plate": ["", "!!!", "x" * 200, "AB" + _SURROGATE, True, 1234567, ["1ABC234"], {"p": 1}, "1ABC\x00234"],
    "country": ["x" * 9, "B" + _SURROGATE, False],
    "confidence": ["high", "-0.5", "150", "1e400", "nan", "inf", "-inf", True, "0x10"],
    "direction": ["d" * 17, "in" + _SURROGATE, {"deg": 90}],
    "lane": ["1.5", "1e30", "-1", "100", "9" * 30, "NaN", "inf", "0x10", "\u0661", 1.5, 10 ** 40, True],
    "image_ref": ["i" * 3000, "ref" + _SURROGATE],
}


def _read(lab_day: date, n: int, camera: str, **values: Any) -> dict[str, Any]:
    base = {"source": "HOSTILE", "read_id": f"h-{n}", "camera_id": camera,
            "timestamp": f"{lab_day.isoformat()}T10:{n % 60:02d}:00+01:00", "plate": f"1-HST-{n % 1000:03d}",
            "country": "BE", "confidence": "0.9", "direction": "in", "lane": "1", "image_ref": "img"}
    return {**base, **values}


def _feed_file(folder: Path, name: str, rows: list[dict[str, Any]], fmt: str) -> Path:
    path = folder / f"{name}.{fmt}"
    if fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        return path
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_FEED_COLUMNS)
    for r in rows:
        writer.writerow(["" if r[c] is None else r[c] for c in _FEED_COLUMNS])
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    return path


def hostile_corpus(day: date, camera: str) -> list[Hostile]:
    """The generated corpus: at least 300 inputs over every input path."""
    corpus: list[Hostile] = []
    counter = iter(range(1, 10 ** 6))

    def feed(name: str, value_field: str, value: Any, fmt: str, where: str) -> Hostile:
        def make(folder: Path) -> Path:
            good = _read(day, next(counter), camera)
            bad = _read(day, next(counter), camera, **{value_field: value})
            rows = [bad, good] if where == "first" else [good, bad]
            return _feed_file(folder, name, rows, fmt)
        unreadable = fmt == "csv" and isinstance(value, str) and (_SURROGATE in value or "\x00" in value)
        return Hostile("feed", name, make, valid_reads=0 if unreadable else 1)   # not UTF-8 or binary: file refused

    for column, values in _BAD_VALUES.items():
        for k, value in enumerate(values):
            for fmt in ("csv", "jsonl"):
                if fmt == "csv" and not isinstance(value, str) and value is not None:
                    continue   # CSV holds text only
                for where in ("first", "last"):
                    corpus.append(feed(f"feed-{column}-{k}-{fmt}-{where}", column, value, fmt, where))
    corpus += _whole_line_feeds(day, camera, counter)
    corpus += _hostile_hotlists()
    corpus += _hostile_videos()
    corpus += _hostile_manifests()
    corpus += [Hostile("window", f"window-{v}", _constant(v), 0)
               for v in ["2262-04-12", "2300-01-01", "9999-12-31T00:00:00Z", "0001-01-01", "1800-01-01T00:00Z",
                         "not a date", "2026-11-20T08:30:00", "2026-02-30", "", "2026-11-20T10:00+25:00"]]
    return corpus


def _whole_line_feeds(day: date, camera: str, counter) -> list[Hostile]:  # type: ignore[no-untyped-def]
    header = ",".join(_FEED_COLUMNS)

    def good_line() -> str:
        r = _read(day, next(counter), camera)
        return ",".join(str(r[c]) for c in _FEED_COLUMNS)

    def text_feed(name: str, body: Callable[[], list[str]], valid: int, suffix: str = "csv") -> Hostile:
        def make(folder: Path) -> Path:
            path = folder / f"{name}.{suffix}"
            path.write_text("\n".join(body()) + "\n", encoding="utf-8")
            return path
        return Hostile("feed", name, make, valid)

    huge_row = lambda: ",".join(["x"] * 2_500_000)   # noqa: E731 - 10 MB, 2.5 million fields
    return [
        text_feed("row-2.5M-fields", lambda: [header, good_line(), huge_row(), good_line()], 2),
        text_feed("unclosed-quote", lambda: [header, good_line(), good_line()[:-3] + ',"open', good_line(),
                                             good_line()], 3),
        text_feed("field-over-csv-limit", lambda: [header, good_line(), good_line() + "x" * 200_000, good_line()], 2),
        text_feed("more-fields-than-header", lambda: [header, good_line() + ",extra,more", good_line()], 1),
        text_feed("json-deep-nesting", lambda: ["[" * 100_000 + "]" * 100_000, json.dumps(_read(day, next(counter),
                                                                                               camera))], 1, "jsonl"),
        text_feed("json-object-deep", lambda: ['{"plate": ' + "[" * 50_000 + "]" * 50_000 + "}",
                                               json.dumps(_read(day, next(counter), camera))], 1, "jsonl"),
        text_feed("json-huge-int", lambda: ['{"lane": ' + "9" * 5000 + "}", json.dumps(_read(day, next(counter),
                                                                                           camera))], 1, "jsonl"),
        text_feed("json-1e999", lambda: [json.dumps(_read(day, next(counter), camera)).replace('"lane": "1"',
                                                                                             '"lane": 1e999'),
                                         json.dumps(_read(day, next(counter), camera))], 1, "jsonl"),
        text_feed("json-array-line", lambda: ["[1, 2, 3]", json.dumps(_read(day, next(counter), camera))], 1,
                  "jsonl"),
        text_feed("json-garbage", lambda: ["{not json", json.dumps(_read(day, next(counter), camera))], 1, "jsonl"),
        text_feed("empty-file", lambda: [""], 0),
        text_feed("header-only", lambda: [header], 0),
        text_feed("not-a-feed", lambda: ["hello, world", "1,2"], 0),
        text_feed("wide-json", lambda: [json.dumps({f"k{i}": i for i in range(100_000)}),
                                        json.dumps(_read(day, next(counter), camera))], 1, "jsonl"),
    ] + [Hostile("feed", "binary", lambda f: _write(f / "binary.csv", bytes(range(256)) * 64), 0),
         Hostile("feed", "latin-1", lambda f: _write(f / "latin1.csv", (header + "\nsource,é\n").encode("latin-1")),
                 0),
         Hostile("feed", "missing-file", lambda f: f / "does-not-exist.csv", 0)]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _hostile_hotlists() -> list[Hostile]:
    rows = {
        "bad-priority": "plate,priority,reason\n1ABC234,9,x\n",
        "word-priority": "plate,priority,reason\n1ABC234,high,x\n",
        "float-priority": "plate,priority,reason\n1ABC234,1.5,x\n", "huge-priority": "plate,priority,reason\n1ABC234,"
        + "9" * 5000 + ",x\n", "bad-plate": "plate,priority,reason\n!!!,1,x\n", "long-plate": "plate,priority,reason\n"
        + "A" * 300 + ",1,x\n", "no-columns": "hello\n1\n", "empty": "", "binary": "\x00\x01\x02",
        "bad-valid-from": "plate,priority,reason,valid_from\n1ABC234,1,x,yesterday\n",
        "naive-valid-from": "plate,priority,reason,valid_from\n1ABC234,1,x,2026-11-20T10:00:00\n",
        "far-valid-until": "plate,priority,reason,valid_until\n1ABC234,1,x,2262-04-12\n",
        "year-1-valid-from": "plate,priority,reason,valid_from\n1ABC234,1,x,0001-01-01T00:00Z\n",
        "unclosed-quote": 'plate,priority,reason\n"1ABC234,1,x\n2XYZ987,1,y\n',
        "negative-priority": "plate,priority,reason\n1ABC234,-1,x\n",
        "surrogate-plate": "plate,priority,reason\n1AB\ud800,1,x\n",
        "long-reason": "plate,priority,reason\n1ABC234,1," + "r" * 100_000 + "\n",
        "many-fields": "plate,priority,reason\n1ABC234,1,x" + ",y" * 100_000 + "\n",
    }

    def make(name: str, text: str) -> Callable[[Path], Path]:
        return lambda folder: _write(folder / f"hotlist-{name}.csv", text.encode("utf-8", "surrogatepass"))
    return [Hostile("hotlist", f"hotlist-{n}", make(n, t), 0) for n, t in rows.items()]


def _hostile_videos() -> list[Hostile]:
    def clip_variant(name: str, transform: Callable[[bytes], bytes]) -> Hostile:
        def make(folder: Path) -> Path:
            source = render_clips(folder / f"src-{name}", 1)[0].read_bytes()
            return _write(folder / f"{name}.mp4", transform(source))
        return Hostile("video", name, make, 0)

    return [
        Hostile("video", "empty-video", lambda f: _write(f / "empty.mp4", b""), 0),
        Hostile("video", "text-video", lambda f: _write(f / "notes.mp4", "procès-verbal".encode()), 0),
        Hostile("video", "random-bytes", lambda f: _write(f / "random.mkv", os.urandom(50_000)), 0),
        Hostile("video", "jpeg-header-only", lambda f: _write(f / "x.avi", b"RIFF\x00\x00\x00\x00AVI LIST"), 0),
        Hostile("video", "missing-video", lambda f: f / "nowhere.mp4", 0),
        clip_variant("truncated-half", lambda b: b[: len(b) // 2]),
        clip_variant("truncated-tail", lambda b: b[:-2000]),
        clip_variant("header-only", lambda b: b[:64]),
        clip_variant("zeroed-head", lambda b: bytes(len(b) // 3) + b[len(b) // 3:]),
        clip_variant("shuffled", lambda b: bytes(reversed(b))),
    ]


def _hostile_manifests() -> list[Hostile]:
    from workbench.evidence.package import FORMAT, MANIFEST

    good_item = {"file": "clip-1.mp4", "sha256": "0" * 64, "bytes": 10, "source": {"sha256": "1" * 64}}
    variants: dict[str, Any] = {
        "item-string": {"format": FORMAT, "items": ["clip-1.mp4"]},
        "item-null": {"format": FORMAT, "items": [None]},
        "items-null": {"format": FORMAT, "items": None}, "items-dict": {"format": FORMAT, "items": {"a": 1}},
        "no-items": {"format": FORMAT}, "manifest-list": [1, 2], "manifest-string": "manifest",
        "manifest-null": None, "deep": "DEEP",
        "path-escape": {"format": FORMAT, "items": [{**good_item, "file": "../../etc/passwd"}]},
        "absolute-path": {"format": FORMAT, "items": [{**good_item, "file": "/etc/passwd"}]},
        "dot-file": {"format": FORMAT, "items": [{**good_item, "file": ".."}]},
        "empty-name": {"format": FORMAT, "items": [{**good_item, "file": ""}]},
        "source-null": {"format": FORMAT, "items": [{**good_item, "source": None}]},
        "source-no-sha": {"format": FORMAT, "items": [{**good_item, "source": {}}]},
        "bytes-bool": {"format": FORMAT, "items": [{**good_item, "bytes": True}]},
        "wrong-format": {"format": "something-else", "items": []},
    }
    for key in ("file", "sha256", "bytes", "source"):
        variants[f"missing-{key}"] = {"format": FORMAT, "items": [{k: v for k, v in good_item.items() if k != key}]}
        for k, wrong in enumerate([None, 12.5, ["x"], {"x": 1}, "text", 10 ** 30]):
            if not isinstance(wrong, type(good_item[key])) or isinstance(wrong, bool):
                variants[f"wrong-{key}-{k}"] = {"format": FORMAT, "items": [{**good_item, key: wrong}]}
    variants["hash-mismatch"] = {"format": FORMAT, "items": [good_item]}

    def make(name: str, manifest: Any) -> Callable[[Path], Path]:
        def build(folder: Path) -> Path:
            package = folder / f"package-{name}"
            package.mkdir()
            (package / "clip-1.mp4").write_bytes(b"0123456789")
            text = "[" * 100_000 + "]" * 100_000 if manifest == "DEEP" else json.dumps(manifest)
            (package / MANIFEST).write_text(text, encoding="utf-8")
            return package
        return build
    return [Hostile("manifest", f"manifest-{n}", make(n, m), 0) for n, m in variants.items()]


@dataclass
class HostileReport:
    """Figures of the hostile-input campaign."""

    hostile_inputs: int = 0
    hostile_tracebacks: int = 0
    hostile_accepted_wrongly: int = 0
    valid_reads_lost: int = 0
    slowest_s: float = 0.0
    slowest: str = ""
    failures: list[str] = field(default_factory=list)


def hostile_campaign(lab: Lab, work: Path, corpus: list[Hostile] | None = None) -> HostileReport:
    """Feed every hostile input to its path; count tracebacks, wrong acceptances and lost valid reads."""
    import workbench
    from workbench.access import audit
    from workbench.errors import WorkbenchError
    from workbench.evidence.package import verify_package
    from workbench.footage.footage_ingest import ingest_footage
    from workbench.plates.hotlist import load_hotlist
    from workbench.plates.read_ingest import ingest_files

    corpus = corpus if corpus is not None else hostile_corpus(lab.day, anpr_cameras(lab)[0])
    report = HostileReport(hostile_inputs=len(corpus))
    now = datetime.now(timezone.utc)
    ops = audit.writer(audit.Actor(ACTOR), time=now)
    ws = workbench.open(lab.home, db_url=lab.db_url)
    case = ws.login(ANALYST).open_case("PV-BR-2026-001234", purpose=PURPOSE)
    for n, item in enumerate(corpus):
        folder = work / f"hostile-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        try:
            made = item.make(folder)
            if item.path == "feed":
                result = ingest_files(ws.store, [made], now=now, audit=ops)[0]
                if result.loaded > item.valid_reads:
                    report.hostile_accepted_wrongly += 1
                    report.failures.append(f"{item.name}: {result.loaded} loaded, {item.valid_reads} valid")
                lost = max(0, item.valid_reads - result.loaded - result.duplicates)
                if lost:
                    report.valid_reads_lost += lost
                    report.failures.append(f"{item.name}: {lost} valid reads lost ({result})")
            elif item.path == "hotlist":
                try:
                    load_hotlist(ws.store, made, name=item.name, owner="FEDPOL", scope="national", now=now, audit=ops)
                except WorkbenchError:
                    pass
                else:
                    report.hostile_accepted_wrongly += 1
                    report.failures.append(f"{item.name}: loaded")
            elif item.path == "video":
                footage = ingest_footage(ws.store, [made], camera_id=FOOTAGE_CAMERA, now=now, audit=ops,
                                         start=now - timedelta(hours=1))[0]
                if footage.error is None:
                    report.hostile_accepted_wrongly += 1
                    report.failures.append(f"{item.name}: archived")
            elif item.path == "manifest":
                if verify_package(made).ok:
                    report.hostile_accepted_wrongly += 1
                    report.failures.append(f"{item.name}: verified")
            elif item.path == "window":
                try:
                    case.plate_reads("1ABC234", until=made)
                except WorkbenchError:
                    pass
                else:
                    report.hostile_accepted_wrongly += 1
                    report.failures.append(f"{item.name}: answered")
        except WorkbenchError:
            pass   # a refusal in words is the expected answer
        except Exception as exc:  # noqa: BLE001 - counted: this is what the campaign looks for
            report.hostile_tracebacks += 1
            report.failures.append(f"{item.name}: {type(exc).__name__}: {str(exc)[:200]}")
        elapsed = time.perf_counter() - t0
        if elapsed > report.slowest_s:
            report.slowest_s, report.slowest = elapsed, item.name
    ws.store.dispose()
    return report


# -- load ----------------------------------------------------------------------------------------
@dataclass
class LoadReport:
    """Figures of the load campaign (milliseconds)."""

    queries: int = 0
    concurrent_errors: int = 0
    concurrent_p95_ms: float = 0.0
    idle_p50_ms: float = 0.0
    idle_p95_ms: float = 0.0
    ingest_s: float = 0.0
    errors: list[str] = field(default_factory=list)


def _analyst_queries(lab: Lab, plates: list[str], frame_at: datetime, seconds: float, seed: int,
                     latencies: list[float], errors: list[str], stop: threading.Event) -> None:
    import workbench

    rng = random.Random(seed)
    try:
        ws = workbench.open(lab.home, db_url=lab.db_url)
        case = ws.login(ANALYST).open_case("PV-BR-2026-001234", purpose=PURPOSE)
    except Exception as exc:  # noqa: BLE001 - counted
        errors.append(f"open: {type(exc).__name__}: {exc}")
        return
    since, until = lab.day_start(), lab.day_start() + timedelta(days=1)
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline and not stop.is_set():
        plate = rng.choice(plates)
        query = n % 3
        t0 = time.perf_counter()
        try:
            if query == 0:
                case.plate_reads(plate, since=since, until=until)
            elif query == 1:
                case.trajectory(plate, since=since, until=until)
            else:
                case.frame(FOOTAGE_CAMERA, frame_at)
            latencies.append((time.perf_counter() - t0) * 1000)
        except Exception as exc:  # noqa: BLE001 - counted
            errors.append(f"{['plate_reads', 'trajectory', 'frame'][query]}: {type(exc).__name__}: {exc}")
        n += 1
    ws.store.dispose()


def _analysts(lab: Lab, plates: list[str], frame_at: datetime, seconds: float, n: int = 8,
              until_done: Callable[[], bool] | None = None) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    stop = threading.Event()
    threads = [threading.Thread(target=_analyst_queries, args=(lab, plates, frame_at, seconds, i, latencies, errors,
                                                               stop)) for i in range(n)]
    for t in threads:
        t.start()
    if until_done is not None:
        while not until_done() and any(t.is_alive() for t in threads):
            time.sleep(0.2)
        stop.set()
    for t in threads:
        t.join()
    return latencies, errors


def load_campaign(lab: Lab, work: Path, *, reads: int = 60_000, idle_s: float = 10.0) -> LoadReport:
    """8 analysts query while a day of ``reads`` reads is ingested; the same queries idle first."""
    from sqlalchemy import select

    from workbench.plates.read_ingest import BATCH_READS
    from workbench.store.models import FootageSegment, Sighting

    report = LoadReport()
    cameras = anpr_cameras(lab)
    store = lab.store()
    with store.snapshot() as session:
        plates = sorted(set(session.execute(select(Sighting.plate).limit(500)).scalars())) or ["1ABC234"]
        first = session.execute(select(FootageSegment.start).where(FootageSegment.camera_id == FOOTAGE_CAMERA)
                                .order_by(FootageSegment.start)).scalars().first()
    store.dispose()
    if first is None:
        raise click.ClickException(f"the lab has no footage of {FOOTAGE_CAMERA}: run the kill campaign first")
    frame_at = first + timedelta(seconds=0.5)
    _analysts(lab, plates, frame_at, 3.0, n=1)   # warm caches (road network, camera matrices)
    idle, idle_errors = _analysts(lab, plates, frame_at, idle_s)
    feed = work / "day.csv"
    write_feed(feed, cameras, reads=reads, seed=4242, start=lab.day_start())
    process = multiprocessing.get_context("fork").Process(
        target=_child, args=("plates", lab, {"files": [str(feed)], "batch": BATCH_READS}, None))
    t0 = time.perf_counter()
    process.start()
    busy, busy_errors = _analysts(lab, plates, frame_at, 600.0, until_done=lambda: not process.is_alive())
    process.join()
    report.ingest_s = round(time.perf_counter() - t0, 1)
    report.queries = len(busy)
    report.errors = idle_errors + busy_errors
    report.concurrent_errors = len(busy_errors) + (process.exitcode != 0)
    report.concurrent_p95_ms = round(float(np.percentile(busy, 95)), 1) if busy else float("nan")
    report.idle_p50_ms = round(float(np.percentile(idle, 50)), 1) if idle else float("nan")
    report.idle_p95_ms = round(float(np.percentile(idle, 95)), 1) if idle else float("nan")
    return report


@click.command("reliability")
@click.option("--db-url", help="catalogue to test (default: SQLite in a temporary folder); PostgreSQL: an empty "
                               "database, which the campaign fills")
@click.option("--reads", default=60_000, show_default=True, help="reads of the day ingested during the load test")
@click.option("--seed", default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def command(db_url: str | None, reads: int, seed: int, as_json: bool) -> None:
    """Kill -9 during every kind of write, a hostile-input corpus, 8 analysts during an ingest."""
    say = (lambda *_: None) if as_json else click.echo
    with tempfile.TemporaryDirectory(prefix="workbench-reliability-") as tmp:
        work = Path(tmp)
        lab = make_lab(work / "home", db_url)
        t0 = time.perf_counter()
        kills = kill_campaign(lab, work, seed=seed)
        say(f"kills: {kills.kills}, consistent after the kill: {kills.kills_consistent}; reads lost "
            f"{kills.reads_lost}, doubled {kills.reads_doubled} ({time.perf_counter() - t0:.0f} s)")
        for problem in (kills.problems + kills.final_problems)[:20]:
            say(f"  {problem}")
        t0 = time.perf_counter()
        hostile = hostile_campaign(lab, work)
        say(f"hostile inputs: {hostile.hostile_inputs}, tracebacks {hostile.hostile_tracebacks}, accepted wrongly "
            f"{hostile.hostile_accepted_wrongly}, valid reads lost {hostile.valid_reads_lost}; slowest "
            f"{hostile.slowest_s:.1f} s ({time.perf_counter() - t0:.0f} s)")
        for failure in hostile.failures[:20]:
            say(f"  {failure}")
        load = load_campaign(lab, work, reads=reads)
        say(f"load: 8 analysts, {load.queries} queries during an ingest of {reads:,} reads ({load.ingest_s} s): "
            f"{load.concurrent_errors} errors, p95 {load.concurrent_p95_ms} ms; idle p50 {load.idle_p50_ms} ms, "
            f"p95 {load.idle_p95_ms} ms -> p95 under load / idle {load.concurrent_p95_ms / load.idle_p95_ms:.1f}x")
        for error in load.errors[:10]:
            say(f"  {error}")
    out = {"backend": lab.db_url.split(":")[0].split("+")[0], "kills": kills.kills,
           "kills_consistent": kills.kills_consistent, "reads_lost": kills.reads_lost + hostile.valid_reads_lost,
           "reads_doubled": kills.reads_doubled, "final_problems": len(kills.final_problems),
           "hostile_inputs": hostile.hostile_inputs, "hostile_tracebacks": hostile.hostile_tracebacks,
           "hostile_accepted_wrongly": hostile.hostile_accepted_wrongly, "concurrent_errors": load.concurrent_errors,
           "concurrent_queries": load.queries, "concurrent_p95_ms": load.concurrent_p95_ms,
           "idle_p50_ms": load.idle_p50_ms, "idle_p95_ms": load.idle_p95_ms, "ingest_reads": reads,
           "ingest_s": load.ingest_s}
    if as_json:
        click.echo(json.dumps(out))
