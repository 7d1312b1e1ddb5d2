"""``workbench bench scale``: how ingest and queries grow with the data, as curves (JSON and a PNG plot).

Each group of measurements is a function ``(quick, options) -> ScaleGroup``
named in :data:`GROUPS` (``plates``, ``frames``; ``--group`` picks some): their
keys join the JSON and their curves the plot. The ``frames`` group is
:mod:`workbench.bench.frame_scale` (frame queries over 1,000 to 100,000
camera-hours, the index built on 1 and 2 Dask workers).

The plate group loads synthetic reads (:mod:`workbench.samples.synthetic_reads`,
a year's time span, planted vehicles with known answers) into a new
PostgreSQL database on the server ``--db-url`` names, growing step by step (1M, 10M[, 100M] reads; ``--quick``: 100k,
1M), and at each step times, through the audited facade like an investigator:

* ``ingest_reads_per_s`` -- a day's feed loaded into the catalogue of that size, parse + validate +
  merge + COPY, each batch on ``--connections`` connections (``ingest_connections``; default the ingest's: 1)
  (``bulk_reads_per_s``: the year's feed that grew it, each batch spread over many days);
  ``ingest_client_cpu_us_per_read`` and ``ingest_server_cpu_us_per_read`` -- the CPU time of that day's
  load per read, in this process and in the PostgreSQL server's processes (when it runs on this machine):
  on a shared machine they say more than the wall time;
* ``one_plate_year_s`` -- one plate's sightings over 365 days (exact lookup);
* ``fuzzy_p95_ms`` -- OCR-aware fuzzy lookups in the plate index (p95);
* ``convoy_week_s`` -- the planted convoy over the last 7 days (found or not);
* ``stakeout_week_s`` -- every plate seen at one camera over 7 days (the convoy's leader among them);
* ``common_plates_s`` -- plates seen around two of the leader's passages, days apart (its follower found);
* ``hits_day_s`` -- the day's hotlist hits;
* ``plate_index_mb`` -- memory of the plate index (distinct plates).

With ``--sqlite`` the same runs on an SQLite file (to 10M reads: its ceiling).

    workbench bench scale --json --quick
    workbench bench scale --sizes 1000000,10000000 --plot scale.png
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import click
import numpy as np

from workbench.bench import frame_scale
from workbench.bench._processes import CHILDREN_SYSTEM, CHILDREN_USER, PARENT, TICKS_PER_S, every_pid, own_ticks, stat

QUICK_SIZES = (50_000, 200_000)
DAY_READS = 500_000
"""At each step the data grows by a year's feed, then a day's feed (a fifth of the step, at most this) is
loaded and timed: ``ingest_reads_per_s`` is the daily load into a catalogue of that size."""
FULL_SIZES = (1_000_000, 10_000_000)
CURVES = ("ingest_reads_per_s", "one_plate_year_s", "fuzzy_p95_ms", "convoy_week_s", "stakeout_week_s",
          "common_plates_s", "hits_day_s", "plate_index_mb")


@dataclass
class ScaleOptions:
    """What the command was asked: sizes, database server, backend, working folder."""

    sizes: tuple[int, ...]
    server_url: str | None
    sqlite: bool
    work: Path
    say: Callable[[str], None] = print
    connections: int | None = None
    """Connections each PostgreSQL batch loads on (None: the ingest's default, ``PG_CONNECTIONS``)."""


@dataclass
class ScaleGroup:
    """One group's flat JSON keys and its curves (name -> [(size, value)]) against ``x_label``."""

    name: str
    x_label: str
    keys: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _misread(plate: str, rng: np.random.Generator) -> str:
    """The plate with one look-alike confusion (or one character changed): a fuzzy query."""
    swaps = {"B": "8", "8": "B", "O": "0", "0": "O", "S": "5", "5": "S", "G": "6", "6": "G", "Z": "2", "2": "Z",
             "I": "1", "1": "I"}
    spots = [i for i, ch in enumerate(plate) if ch in swaps]
    i = int(rng.choice(spots)) if spots else int(rng.integers(len(plate)))
    return plate[:i] + swaps.get(plate[i], "X") + plate[i + 1:]


def plate_scale(quick: bool, options: ScaleOptions) -> ScaleGroup:
    """The plate reads' curves, step by step up to the largest size (see the module's docstring)."""
    import pandas as pd

    import workbench
    from workbench.access import audit
    from workbench.config import Settings
    from workbench.plates.hotlist import load_hotlist
    from workbench.samples import SAMPLE_CASE, build_sample
    from workbench.samples.synthetic_reads import FOLLOWER, LEADER, TARGET, write_feed
    from workbench.store.database import scratch_database

    group = ScaleGroup("plates", "plate reads")
    backend = "sqlite" if options.sqlite else "postgresql"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    end = now - timedelta(minutes=10)
    rng = np.random.default_rng(7)
    if not options.sqlite and not options.server_url:
        raise click.UsageError("a PostgreSQL server is needed: --db-url postgresql+psycopg://... (or --sqlite)")
    home = options.work / backend
    with (scratch_database(options.server_url, "wb_scale") if not options.sqlite   # type: ignore[arg-type]
          else _sqlite_url(home)) as url:
        settings = Settings.from_env({}, home=home, db_url=url)
        build_sample(settings, traffic=False)
        _keep_plates_a_year(settings)
        ws = workbench.open(home, db_url=url, clock=lambda: now)
        case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
        cameras = sorted(case.cameras(kind="anpr")["camera_id"])
        ops = audit.writer(audit.Actor("system:bench"), time=now)
        loaded, steps = 0, []   # type: ignore[var-annotated]
        for step, size in enumerate(options.sizes):
            day_reads = max(2_000, min(DAY_READS, (size - loaded) // 5))
            feeds = [(options.work / f"year-{step}.csv", size - loaded - day_reads, 364, end - timedelta(days=1)),
                     (options.work / f"day-{step}.csv", day_reads, 1, end)]
            rates = []
            for n, (feed, reads, days, until) in enumerate(feeds):
                truth = write_feed(feed, reads=reads, days=days, end=until, cameras=cameras, seed=2 * step + n,
                                   first_id=sum(t.reads for t in steps))
                cpu = time.process_time(), server_cpu_s(ws.store)
                ingest_s, report = _timed(partial(_ingest, ws.store, feed, now, ops, options.connections))
                server = server_cpu_s(ws.store)
                cpu_us = ((time.process_time() - cpu[0]) / report.loaded * 1e6,
                          None if server is None or cpu[1] is None else (server - cpu[1]) / report.loaded * 1e6)
                options.say(f"{backend} {loaded + report.loaded:>12,} reads: {report.loaded:,} loaded over {days} "
                            f"day(s) at {report.loaded / ingest_s:,.0f} reads/s (CPU per read: client "
                            f"{cpu_us[0]:.1f} us, server {'-' if cpu_us[1] is None else f'{cpu_us[1]:.1f}'} us)")
                feed.unlink()
                loaded += report.loaded
                steps.append(truth)
                rates.append(round(report.loaded / ingest_s))
            point: dict[str, Any] = {"reads": loaded, "ingest_reads_per_s": rates[1], "bulk_reads_per_s": rates[0],
                                     "ingest_client_cpu_us_per_read": round(cpu_us[0], 1),
                                     "ingest_server_cpu_us_per_read": None if cpu_us[1] is None
                                     else round(cpu_us[1], 1)}
            if step == 0:   # wanted plates of both feeds; the sightings already there become hits
                hot = sorted({p for t in steps for p in t.hot_plates})
                load_hotlist(ws.store, pd.DataFrame({"plate": hot, "priority": 1, "reason": "bench"}), name="bench",
                             owner="FEDPOL", scope="national", now=now, audit=ops, valid_from=now - timedelta(days=400))
            case.plate_reads(TARGET, since=now - timedelta(days=365))   # builds the plate index after the load
            year_s, year = _timed(lambda: case.plate_reads(TARGET, since=now - timedelta(days=365)))
            point["one_plate_year_s"] = round(year_s, 3)
            point["one_plate_year_exact"] = len(year) == sum(t.target_sightings for t in steps)
            index = ws.plate_index()
            plates = [str(p) for p in rng.choice(index.plates, 40)]
            fuzzy = [_timed(partial(index.fuzzy, _misread(p, rng)))[0] for p in plates]
            point["fuzzy_p95_ms"] = round(float(np.percentile(fuzzy, 95)) * 1000, 2)
            point["distinct_plates"] = len(index)
            point["plate_index_mb"] = round(index.nbytes() / 1e6, 1)
            convoy_s, convoy = _timed(lambda: case.convoy(LEADER, since=now - timedelta(days=7)))
            point["convoy_week_s"] = round(convoy_s, 3)
            point["convoy_found"] = FOLLOWER in set(convoy.get("plate", []))
            leader = case.plate_reads(LEADER, since=now - timedelta(days=7)).sort_values("time")
            spot = str(leader["camera_id"].iloc[0])
            stakeout_s, seen = _timed(partial(case.stakeout, [spot], since=now - timedelta(days=7), until=now))
            point["stakeout_week_s"] = round(stakeout_s, 3)
            point["stakeout_found"] = LEADER in set(seen["plate"])
            places = [([str(r.camera_id)], r.time - timedelta(minutes=2), r.time + timedelta(minutes=2))
                      for r in leader.iloc[[0, -1]].itertuples()]
            common_s, common = _timed(partial(case.common_plates, places))
            point["common_plates_s"] = round(common_s, 3)
            point["common_plates_found"] = FOLLOWER in set(common["plate"])
            hits_s, hits = _timed(lambda: case.hits(since=now - timedelta(days=1), include_ignored=True))
            point["hits_day_s"] = round(hits_s, 3)
            point["hits_day"] = len(hits)
            options.say(f"{backend} {loaded:>12,} reads: " + ", ".join(f"{k} {v}" for k, v in point.items()
                                                                     if k != "reads"))
            for name in CURVES:
                group.curves.setdefault(f"{backend}:{name}", []).append((loaded, point[name]))
            for key, value in point.items():
                if key != "reads":
                    group.keys[f"{backend}_{key}_{_label(size)}"] = value
            group.keys[f"{backend}_ingest_reads_per_s"] = point["ingest_reads_per_s"]
        ws.store.dispose()
    return group


def server_cpu_s(store: Any) -> float | None:
    """CPU seconds used so far by the PostgreSQL server's processes (the postmaster, its live children and those
    it reaped), read from ``/proc`` when the server runs on this machine; None elsewhere (or on SQLite).

    Approximate: a child that exits between two readings counts its earlier seconds twice.
    """
    if store.dialect != "postgresql":
        return None
    from sqlalchemy import text

    with store.connect() as conn:
        backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def postgres(pid: int) -> list[str] | None:
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return None
        return stat(pid) if comm.startswith("postgres") else None

    mine = postgres(backend)
    master = postgres(int(mine[PARENT])) if mine else None
    if mine is None or master is None:
        return None
    postmaster = int(mine[PARENT])
    ticks = own_ticks(master) + int(master[CHILDREN_USER]) + int(master[CHILDREN_SYSTEM])
    for pid in every_pid():
        child = postgres(pid)
        if child is not None and int(child[PARENT]) == postmaster:
            ticks += own_ticks(child)
    return ticks / TICKS_PER_S


def _ingest(store: Any, feed: Path, now: datetime, ops: Any, connections: int | None) -> Any:
    from workbench.plates.read_ingest import ingest_files

    return ingest_files(store, [feed], now=now, audit=ops, connections=connections)[0]


def _keep_plates_a_year(settings: Any) -> None:
    """Every partner keeps plate reads 365 days (the configuration the region's year of reads assumes)."""
    from sqlalchemy import delete, select

    from workbench.store import Store
    from workbench.store.models import Partner, Retention

    store = Store(settings)
    with store.session() as session:
        session.execute(delete(Retention).where(Retention.data_kind == "plates"))
        session.add_all(Retention(partner_id=pid, data_kind="plates", days=365)
                        for pid in session.execute(select(Partner.id)).scalars())
    store.dispose()


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


class _sqlite_url:
    """An SQLite file under ``home`` as a context manager, like ``scratch_database``."""

    def __init__(self, home: Path) -> None:
        self.url = f"sqlite:///{home / 'workbench.db'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *_: object) -> None:
        return None


def frame_scale_group(quick: bool, options: ScaleOptions) -> ScaleGroup:
    """The frame index's figures (:func:`workbench.bench.frame_scale.measure`) as a group of this benchmark."""
    keys = frame_scale.measure(quick, options.say)
    curve = keys.pop("curve")
    hours = curve.pop("camera_hours")
    return ScaleGroup("frames", "camera-hours", keys=keys,
                      curves={name: list(zip(hours, values)) for name, values in curve.items()})


GROUPS: dict[str, Callable[[bool, ScaleOptions], ScaleGroup]] = {"plates": plate_scale, "frames": frame_scale_group}
"""The groups measured by ``workbench bench scale``, in order."""


def collect(groups: list[ScaleGroup]) -> dict[str, Any]:
    """The groups' keys in one flat object, and their curves under ``curves`` as ``group:curve``."""
    out: dict[str, Any] = {"curves": {}}
    for group in groups:
        out.update(group.keys)
        out["curves"].update({f"{group.name}:{name}": points for name, points in group.curves.items()})
    return out


def plot(groups: list[ScaleGroup], path: Path) -> Path:
    """One PNG: a panel per curve, size on a log axis, one line per backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels: dict[str, dict[str, list[tuple[float, float]]]] = {}
    labels: dict[str, str] = {}
    for group in groups:
        for name, points in group.curves.items():
            series, _, metric = name.rpartition(":")
            panels.setdefault(metric, {})[series or group.name] = points
            labels[metric] = group.x_label
    columns = 3
    rows = max(1, -(-len(panels) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for ax, (metric, lines) in zip(axes.flat, sorted(panels.items())):
        for label, points in lines.items():
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o", label=label)
        ax.set_xscale("log")
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel(labels[metric], fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


@click.command("scale")
@click.option("--quick", is_flag=True, help=f"small sizes ({', '.join(map(_label, QUICK_SIZES))} reads), for CI")
@click.option("--sizes", default=None, help="reads at each step, comma-separated (default 1M,10M; add 100M "
                                            "if you have the hour)")
@click.option("--db-url", default=None, help="a PostgreSQL server: the data goes into a new database there")
@click.option("--sqlite", is_flag=True, help="measure the embedded SQLite catalogue instead")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="where to write the PNG of the curves (default: scale.png in the current folder)")
@click.option("--group", "names", multiple=True, type=click.Choice(list(GROUPS)),
              help="measure only this group (repeatable; default: every group)")
@click.option("--connections", type=click.IntRange(1, 16), default=None,
              help="PostgreSQL: connections each ingest batch loads on (default: the ingest's, 1: a batch is "
                   "one transaction)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def command(quick: bool, sizes: str | None, db_url: str | None, sqlite: bool, plot_path: Path | None,
            names: tuple[str, ...], connections: int | None, as_json: bool) -> None:
    """Ingest and query times as the plate reads grow, as curves (and a PNG plot)."""
    steps = tuple(int(s) for s in sizes.split(",")) if sizes else QUICK_SIZES if quick else FULL_SIZES
    server = db_url
    say = (lambda text: click.echo(text, err=True)) if as_json else click.echo   # progress: stderr beside JSON
    with tempfile.TemporaryDirectory(prefix="wb-scale-") as tmp:
        options = ScaleOptions(steps, server, sqlite, Path(tmp), say, connections)
        groups = [GROUPS[name](quick, options) for name in names or GROUPS]
    out = {"sizes": list(steps), **collect(groups)}
    if "plates" in (names or GROUPS) and not sqlite:
        from workbench.plates.read_ingest import PG_CONNECTIONS

        out["ingest_connections"] = connections or PG_CONNECTIONS
    out["plot"] = str(plot(groups, plot_path or Path("scale.png")))
    if as_json:
        click.echo(json.dumps(out))
    else:
        say(f"curves plotted in {out['plot']}")
