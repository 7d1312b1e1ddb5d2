"""Ingest ANPR reads into the catalogue: idempotent, transactional, sightings merged.

* Idempotent on (source, read_id): a re-delivered read is counted as a
  duplicate and nothing is written twice.
* Reads of the same plate at the same camera less than ``MERGE_WINDOW`` apart
  (double reads, re-deliveries under a new id) collapse into one sighting
  that keeps every source id; a late read joins the sighting it belongs to,
  whatever order the reads arrive in (one bridging two stored sightings joins
  the earlier: stored sightings are never merged away, hits and bookmarks may
  name them).
* Bounded transactions: a file commits in batches of at most ``BATCH_READS``
  reads, each with the audit event saying who loaded which lines (a crash
  leaves whole batches with their events; a re-run loads the rest, nothing
  twice), so that analysts' audited reads never wait long for the write lock.
  A file that is not a feed is reported (and audited) and skipped, the others
  go on.
* Sightings whose plate is on an active hotlist become hits.

    >>> report = ingest_files(store, [Path("reads.csv")], now=now, audit=writer)   # doctest: +SKIP
    >>> print(report)                                                # doctest: +SKIP
    reads.csv: 10,000 loaded, 12 duplicates, 420 merged, 3 rejected
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar, cast

import numpy as np
import pandas as pd
from sqlalchemy import Table, func, select, tuple_, update
from sqlalchemy.orm import Session

from workbench import faults
from workbench.errors import StoreError, WorkbenchError
from workbench.plates import read_copy
from workbench.plates.anpr_feed import CHUNK_BYTES, FeedBatch, iter_feed
from workbench.plates.hotlist import match_hits
from workbench.store import AuditWriter, Store, counters, partitions
from workbench.store.models import Camera, HotlistEntry, PlateRead, Sighting

MERGE_WINDOW = timedelta(seconds=90)
BATCH_READS = 2_000
"""Reads per transaction on SQLite: the write lock is held about a second per batch."""
PG_BATCH_READS = 100_000
"""Reads per transaction on PostgreSQL (readers never wait for a writer there; the audit head is locked only
from the batch's event to its commit)."""
SQLITE_CEILING_READS = 10_000_000
"""Beyond this many reads the embedded SQLite catalogue is out of its depth (docs/capacity-plan.md)."""
PG_CONNECTIONS = 1
"""Connections a PostgreSQL ingest loads each batch on at once by default: one, so that a batch is one
transaction with its audit event and a failure (a full disk) leaves nothing of it. With more
(:func:`_write_in_shards`, ``--connections N`` for back-loads on a server with cores to spare) the server's work
of a batch runs in as many backends, but each shard commits alone: a failed shard leaves the others' passages
loaded until a re-run loads the rest (idempotently)."""
PG_SHARD_MIN_READS = 20_000
"""A batch smaller than this loads on one connection (its shards would cost more statements than they save)."""
PG_CHUNK_BYTES = 8 << 20
"""Bytes of a feed parsed at a time on PostgreSQL (about a batch of reads): the next chunk is parsed while the
current one loads (:func:`read_ahead`)."""
SIGHTING_SPAN = timedelta(days=1)
"""Late reads join a sighting that started at most this long before them (bounds the partitions looked at)."""
ACTION = "plates-ingest"
T = TypeVar("T")
_END = object()
_CHUNK = 900
_log = logging.getLogger(__name__)


class CapacityWarning(UserWarning):
    """The catalogue holds more than its backend is meant for."""


@dataclass
class FileReport:
    """What happened to one file."""

    path: str
    loaded: int = 0
    duplicates: int = 0
    merged: int = 0
    sightings: int = 0
    hits: int = 0
    batches: int = 0
    days: Counter[date] = field(default_factory=Counter)
    """Reads of its batches per UTC day (PostgreSQL: the partitions to analyse after the load)."""
    rejected: list[tuple[int, str]] = field(default_factory=list)
    error: str | None = None

    def __str__(self) -> str:
        name = Path(self.path).name
        if self.error:
            return f"{name}: SKIPPED, {self.error}"
        text = (f"{name}: {self.loaded:,} loaded, {self.duplicates:,} duplicates, {self.merged:,} merged into "
                f"existing sightings or with each other, {len(self.rejected):,} rejected, {self.hits:,} hotlist hits")
        return text + "".join(f"\n  line {n}: {why}" for n, why in self.rejected[:20]) + \
            (f"\n  ... {len(self.rejected) - 20} more" if len(self.rejected) > 20 else "")


def _existing_keys(session: Session, reads: pd.DataFrame) -> set[tuple[str, str]]:
    keys = list(zip(reads["source"], reads["source_read_id"]))
    found: set[tuple[str, str]] = set()
    for i in range(0, len(keys), _CHUNK // 2):
        chunk = keys[i:i + _CHUNK // 2]
        found.update((row[0], row[1]) for row in session.execute(select(PlateRead.source, PlateRead.source_read_id)
                                     .where(tuple_(PlateRead.source, PlateRead.source_read_id).in_(chunk))).all())
    return found


def _nearby_sightings(session: Session, reads: pd.DataFrame) -> pd.DataFrame:
    """Existing sightings that new reads could join (same camera and plate, within the window)."""
    lo, hi = reads["time"].min() - MERGE_WINDOW, reads["time"].max() + MERGE_WINDOW
    rows = session.execute(select(Sighting.id, Sighting.camera_id, Sighting.plate, Sighting.first_time,
                                  Sighting.last_time, Sighting.n_reads, Sighting.confidence)
                           .where(Sighting.first_time <= hi.to_pydatetime(),
                                  Sighting.first_time >= (lo - SIGHTING_SPAN).to_pydatetime(),
                                  Sighting.last_time >= lo.to_pydatetime())).all()
    frame = pd.DataFrame(rows, columns=["id", "camera_id", "plate", "first_time", "last_time", "n_reads",
                                        "confidence"])
    frame = frame.merge(reads[["camera_id", "plate"]].drop_duplicates(), on=["camera_id", "plate"])
    for col in ("first_time", "last_time"):
        frame[col] = pd.to_datetime(frame[col], utc=True).astype("datetime64[ns, UTC]")
    return frame


def _cluster(reads: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Give every read a cluster key; clusters that touch an existing sighting carry its id.

    Reads and existing sightings (anchors) are sorted by (camera, plate) pair
    and time; an item joins the cluster before it when it is of the same pair
    and starts at most ``MERGE_WINDOW`` after the latest end seen so far in
    the pair. A cluster carries the id of its first anchor. Pairs are
    numbered and times taken as integers (ns) first: the sort and the running
    maxima work on numbers, not strings. Clusters are numbered in (camera,
    plate, time) order: new sightings are written in that order (measured
    the cheapest for their b-trees, docs/capacity-plan.md).
    """
    n = len(reads)
    keys = pd.concat([reads[["camera_id", "plate"]], existing[["camera_id", "plate"]]], ignore_index=True)
    pair = keys.groupby(["camera_id", "plate"]).ngroup().to_numpy()   # numbered in (camera, plate) order
    start = np.concatenate([_ns(reads["time"]), _ns(existing["first_time"])])
    end = np.concatenate([start[:n], _ns(existing["last_time"])])
    order = np.lexsort((start, pair))   # stable: reads before anchors at the same time, as they were given
    pair, start, end = pair[order], start[order], end[order]
    reach = pd.Series(end).groupby(pair, sort=False).cummax().to_numpy()
    joins = np.zeros(len(order), dtype=bool)
    joins[1:] = (pair[1:] == pair[:-1]) & (start[1:] - reach[:-1] <= MERGE_WINDOW // pd.Timedelta(1, "ns"))
    cluster = np.cumsum(~joins)
    anchor = np.concatenate([np.full(n, np.nan), existing["id"].to_numpy(dtype=float)])[order]
    anchor = pd.Series(anchor).groupby(cluster, sort=False).transform("first").to_numpy()
    read = order < n
    clusters, anchors = np.empty(n, dtype=np.int64), np.empty(n)
    clusters[order[read]], anchors[order[read]] = cluster[read], anchor[read]
    return reads.assign(cluster=clusters, existing_id=anchors)


def _ns(times: pd.Series) -> np.ndarray:
    """UTC times as integer nanoseconds since 1970."""
    return times.astype("datetime64[ns, UTC]").astype("int64").to_numpy()


def ingest_batch(store: Store, batch: FeedBatch, *, now: datetime, audit: AuditWriter,
                 batch_reads: int | None = None, report: FileReport | None = None,
                 connections: int | None = None) -> FileReport:
    """Write one parsed file (or chunk of a file) in transactions of at most ``batch_reads`` reads, each
    with its audit event; adds to ``report`` when given (the chunks of one file).

    ``batch_reads`` defaults to :data:`BATCH_READS` on SQLite (the write lock
    is held per batch) and :data:`PG_BATCH_READS` on PostgreSQL. On
    PostgreSQL a batch of :data:`PG_SHARD_MIN_READS` reads or more loads on
    ``connections`` connections at once (default :data:`PG_CONNECTIONS`; 1:
    one transaction per batch).
    """
    postgres = store.dialect == "postgresql"
    batch_reads = batch_reads or (PG_BATCH_READS if postgres else BATCH_READS)
    connections = connections or (PG_CONNECTIONS if postgres else 1)
    report = report or FileReport(batch.path)
    report.rejected += batch.rejected
    reads = batch.reads.drop_duplicates(["source", "source_read_id"], keep="first")
    report.duplicates += len(batch.reads) - len(reads)
    for start in range(0, len(reads), batch_reads) if len(reads) else [0]:
        part = reads.iloc[start:start + batch_reads].reset_index(drop=True)
        loaded_before = report.loaded
        report.batches += 1
        if report.batches > 1:
            store.let_others_write()
        lo, hi = (part["time"].min().to_pydatetime(), part["time"].max().to_pydatetime()) if len(part) else (now, now)
        if postgres and len(part):
            with store.engine.begin() as connection:   # a short transaction of its own: never inside the load
                partitions.ensure(connection, lo, hi)
            report.days.update({day.date(): n for day, n in part["time"].dt.floor("D").value_counts().items()})
        if postgres and connections > 1 and len(part) >= PG_SHARD_MIN_READS:
            _write_in_shards(store, batch.path, part, report, now=now, audit=audit, shards=connections)
            continue
        with store.session() as session, read_copy.partition_errors(lo, hi):
            _write_reads(session, part, report, now=now, postgres=postgres)
            faults.point("plates.before-commit")
            lines = [int(part["line"].min()), int(part["line"].max())] if len(part) else []
            audit(session, ACTION, resource={"file": batch.path, "batch": report.batches, "lines": lines,
                                             "duplicates": report.duplicates, "rejected": len(report.rejected)},
                  result_count=report.loaded - loaded_before)
        faults.point("plates.after-commit")
    return report


def _write_in_shards(store: Store, path: str, part: pd.DataFrame, report: FileReport, *, now: datetime,
                     audit: AuditWriter, shards: int) -> None:
    """PostgreSQL: one batch written on ``shards`` connections at once, a transaction with its audit event each.

    A lead transaction holds the sightings' counter, finds the batch's
    re-deliveries and the passages its reads make or join (:func:`_merge`,
    once for the whole batch: the statements whose cost follows the days'
    partitions run once), then the shards write disjoint passages with
    their reads (:meth:`_Merge.shard`) in parallel: the COPYs, b-tree inserts
    and hits, most of the server's work. The lead raises the counter after
    they all committed and commits last, so loaders still commit sighting
    ids in increasing order, as the plate index needs (a shard that failed
    rolls back alone; the counter then names the newest id of those that
    committed, and the error is raised; a re-run loads what is missing).
    """
    lo, hi = part["time"].min().to_pydatetime(), part["time"].max().to_pydatetime()
    batch = report.batches

    def write(number: int, merge: _Merge) -> tuple[FileReport, int]:
        mine, lines = FileReport(path), merge.clustered["line"]
        with store.session() as session, read_copy.partition_errors(lo, hi):
            newest = _write_merge(session, merge, mine, now=now, postgres=True, counter=False)
            faults.point("plates.before-commit")
            audit(session, ACTION, resource={"file": path, "batch": batch + number, "shard": f"{number + 1}/{shards}",
                                             "lines": [int(lines.min()), int(lines.max())],
                                             "duplicates": report.duplicates, "rejected": len(report.rejected)},
                  result_count=mine.loaded)
        return mine, newest

    futures: list[Future[tuple[FileReport, int]]] = []
    with store.session() as lead, read_copy.partition_errors(lo, hi):
        counters.hold(lead, counters.SIGHTINGS)
        merge = _merge(lead, part, report, postgres=True)
        if merge is None:   # nothing new: the batch's event alone
            audit(lead, ACTION, resource={"file": path, "batch": batch, "lines": [int(part["line"].min()),
                                          int(part["line"].max())], "duplicates": report.duplicates,
                                          "rejected": len(report.rejected)}, result_count=0)
        else:
            report.batches += shards - 1
            with ThreadPoolExecutor(max_workers=shards, thread_name_prefix="plate-shard") as pool:
                futures = [pool.submit(write, number, piece) for number in range(shards)
                           if len((piece := merge.shard(number, shards)).clustered)]
                wait(futures)
        done = [f.result() for f in futures if f.exception() is None]
        newest = max((n for _, n in done), default=0)
        if newest:
            counters.raise_to(lead, counters.SIGHTINGS, newest)
    for mine, _ in done:
        for name in ("loaded", "sightings", "hits"):
            setattr(report, name, getattr(report, name) + getattr(mine, name))
    for future in futures:
        if future.exception() is not None:
            raise cast(BaseException, future.exception())
    faults.point("plates.after-commit")


@dataclass
class _Merge:
    """What a batch's reads not loaded yet make: each read's passage (``cluster``), the new passages and the
    existing ones late reads joined (both indexed by cluster), and those existing passages as they were."""

    clustered: pd.DataFrame
    new: pd.DataFrame
    joined: pd.DataFrame
    existing: pd.DataFrame

    def shard(self, number: int, shards: int) -> _Merge:
        """The passages of clusters ``number`` modulo ``shards`` with their reads (a passage and its reads, new or
        joined, are in one shard only: the shards write disjoint rows)."""
        return _Merge(self.clustered[self.clustered["cluster"] % shards == number],
                      self.new[self.new.index % shards == number], self.joined[self.joined.index % shards == number],
                      self.existing)


def _write_reads(session: Session, reads: pd.DataFrame, report: FileReport, *, now: datetime,
                 postgres: bool) -> None:
    """Insert the reads not loaded yet, merged into sightings; adds to ``report``'s counts."""
    merge = _merge(session, reads, report, postgres=postgres)
    if merge is not None:
        _write_merge(session, merge, report, now=now, postgres=postgres)


def _merge(session: Session, reads: pd.DataFrame, report: FileReport, *, postgres: bool) -> _Merge | None:
    """The reads not loaded yet clustered into passages, new or joining existing ones (None: nothing new); adds
    to ``report``'s duplicates and merged reads. Writes nothing but the staging table."""
    if reads.empty:
        return None
    if postgres:
        read_copy.stage(session, reads)
        fresh = read_copy.drop_known(session, reads)
    else:
        already = _existing_keys(session, reads)
        fresh = reads[[k not in already for k in zip(reads["source"], reads["source_read_id"])]]
    report.duplicates += len(reads) - len(fresh)
    if fresh.empty:
        return None
    existing = read_copy.nearby_sightings(session, fresh, MERGE_WINDOW, SIGHTING_SPAN) if postgres \
        else _nearby_sightings(session, fresh)
    clustered = _cluster(fresh, existing)
    per_cluster = clustered.groupby("cluster").agg(
        camera_id=("camera_id", "first"), plate=("plate", "first"), first_time=("time", "min"),
        last_time=("time", "max"), n_reads=("time", "size"), confidence=("confidence", "max"),
        country=("country", "first"), direction=("direction", "first"), existing_id=("existing_id", "first"))
    report.merged += len(fresh) - int(per_cluster["existing_id"].isna().sum())
    return _Merge(clustered, per_cluster[per_cluster["existing_id"].isna()].drop(columns="existing_id"),
                  per_cluster[per_cluster["existing_id"].notna()], existing)


def _write_merge(session: Session, merge: _Merge, report: FileReport, *, now: datetime, postgres: bool,
                 counter: bool = True) -> int:
    """Write a merge's new sightings, widen the joined ones, insert the reads and record the hits; adds to
    ``report``'s counts and returns the newest sighting id made (0: none).

    With ``counter`` it holds and raises the sightings' counter itself; without, the caller does
    (:func:`_write_in_shards`).
    """
    clustered, new, joined, existing = merge.clustered, merge.new, merge.joined, merge.existing
    if len(new) and counter:   # ids in commit order: loaders take them in turn (the plate index reads newer ids)
        counters.hold(session, counters.SIGHTINGS)
    if postgres:
        ids = read_copy.insert_sightings(session, new)
        read_copy.extend_sightings(session, pd.DataFrame({
            "id": joined["existing_id"].astype("int64"),
            "was_first": existing.set_index(existing["id"].astype("int64"))["first_time"]
                                 .reindex(joined["existing_id"].astype("int64")).to_numpy(),
            "first_time": joined["first_time"], "last_time": joined["last_time"], "n": joined["n_reads"],
            "confidence": joined["confidence"]}))
    else:
        ids = np.asarray(_insert_sightings(session, new), dtype=np.int64)
        _extend_sightings(session, joined)
    if len(ids) and counter:
        counters.raise_to(session, counters.SIGHTINGS, int(ids.max()))
    sighting_of = pd.concat([pd.Series(ids, index=new.index, dtype="int64"), joined["existing_id"].astype("int64")])
    assigned = clustered["cluster"].map(sighting_of).astype("int64")
    if postgres:
        read_copy.insert_reads(session, clustered.assign(sighting_id=assigned), now)
    else:
        _insert_reads(session, clustered.assign(sighting_id=assigned), now)
    report.loaded += len(clustered)
    report.sightings += len(new)
    hot = set(session.execute(select(HotlistEntry.plate).distinct()).scalars())
    wanted = new["plate"].isin(list(hot)).to_numpy()
    if wanted.any():
        times = new.loc[wanted, "first_time"]
        report.hits += match_hits(session, [int(i) for i in ids[wanted]], now=now,
                                  within=(times.min().to_pydatetime(), times.max().to_pydatetime()))
    return int(ids.max()) if len(ids) else 0


def _insert_sightings(session: Session, new: pd.DataFrame) -> list[int]:
    """SQLite: insert new sightings, returning their ids in order."""
    rows = [{"camera_id": r.camera_id, "plate": r.plate, "first_time": r.first_time.to_pydatetime(),
             "last_time": r.last_time.to_pydatetime(), "n_reads": int(r.n_reads),
             "confidence": None if pd.isna(r.confidence) else float(r.confidence),
             "country": None if pd.isna(r.country) else r.country,
             "direction": None if pd.isna(r.direction) else r.direction} for r in new.itertuples()]
    table = cast(Table, Sighting.__table__)
    return list(session.connection().execute(table.insert().returning(table.c.id, sort_by_parameter_order=True),
                                             rows).scalars().all()) if rows else []


def _extend_sightings(session: Session, joined: pd.DataFrame) -> None:
    """SQLite: widen the sightings late reads joined."""
    for r in joined.itertuples():
        current = session.get(Sighting, int(r.existing_id))
        assert current is not None
        session.execute(update(Sighting).where(Sighting.id == current.id).values(
            first_time=min(current.first_time, r.first_time.to_pydatetime()),
            last_time=max(current.last_time, r.last_time.to_pydatetime()),
            n_reads=current.n_reads + int(r.n_reads),
            confidence=max(filter(lambda v: v is not None and not pd.isna(v),
                                  [current.confidence, r.confidence]), default=None)))


def _insert_reads(session: Session, reads: pd.DataFrame, now: datetime) -> None:
    """SQLite: insert the reads with their sighting ids."""
    session.connection().execute(cast(Table, PlateRead.__table__).insert(), [
        {"source": r.source, "source_read_id": r.source_read_id, "camera_id": r.camera_id,
         "time": r.time.to_pydatetime(), "plate_raw": r.plate_raw, "plate": r.plate,
         "country": None if pd.isna(r.country) else r.country,
         "confidence": None if pd.isna(r.confidence) else float(r.confidence),
         "direction": None if pd.isna(r.direction) else r.direction,
         "lane": None if pd.isna(r.lane) else int(r.lane),
         "image_ref": None if pd.isna(r.image_ref) else r.image_ref,
         "sighting_id": int(r.sighting_id), "ingested_at": now} for r in reads.itertuples()])


def ingest_files(store: Store, paths: Iterable[Path], *, now: datetime, audit: AuditWriter,
                 progress: bool = False, batch_reads: int | None = None,
                 connections: int | None = None) -> list[FileReport]:
    """Ingest several feed files in bounded, audited transactions; a bad file is reported, not fatal.

    ``batch_reads`` and ``connections`` as :func:`ingest_batch` takes them.

    Only a catalogue that cannot be written (StoreError) stops the files that follow.
    """
    from tqdm.auto import tqdm

    with store.snapshot() as session:
        cameras = {camera_id: kind for camera_id, kind in session.execute(select(Camera.id, Camera.kind))}
    reports = []
    chunk_bytes = PG_CHUNK_BYTES if store.dialect == "postgresql" else CHUNK_BYTES
    for path in tqdm(list(paths), desc="plate reads", unit="file", disable=not progress):
        report = FileReport(str(path))
        try:
            for chunk in read_ahead(iter_feed(Path(path), now=now, known_cameras=cameras, chunk_bytes=chunk_bytes)):
                ingest_batch(store, chunk, now=now, audit=audit, batch_reads=batch_reads, report=report,
                             connections=connections)
            reports.append(report)
        except StoreError:
            raise
        except WorkbenchError as exc:
            reports.append(_skipped(store, audit, path, str(exc).split(": ", 1)[-1], report))
        except Exception as exc:  # a bug must not stop the files that follow: reported, logged, audited
            _log.exception("unexpected error while ingesting %s", path)
            reports.append(_skipped(store, audit, path, f"internal error ({type(exc).__name__}), see the log", report))
    if store.dialect == "sqlite":
        _warn_past_ceiling(store)
    else:
        with store.engine.begin() as connection:
            partitions.analyse(connection, sum((r.days for r in reports), Counter()))
    return reports


def read_ahead(chunks: Iterator[T]) -> Iterator[T]:
    """``chunks``, the next one made in a thread of its own while the caller works on the current one.

    The feed's next chunk is parsed and validated while the current one is
    written (the database works meanwhile: client and server overlap). At
    most one chunk waits; an error of the feed is raised where the
    iteration would have raised it, after the chunks before it.

        >>> list(read_ahead(iter([1, 2, 3])))
        [1, 2, 3]
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-ahead") as pool:
        pending = pool.submit(next, chunks, _END)
        while (item := pending.result()) is not _END:
            pending = pool.submit(next, chunks, _END)
            yield cast(T, item)


def _warn_past_ceiling(store: Store) -> None:
    """Warn (in words, once per ingest) when the embedded catalogue holds more reads than it is meant for."""
    with store.snapshot() as session:
        reads = session.execute(select(func.max(PlateRead.id))).scalar() or 0
    if reads > SQLITE_CEILING_READS:
        message = (f"the embedded SQLite catalogue holds about {reads:,} plate reads, more than the "
                   f"{SQLITE_CEILING_READS:,} it is meant for (one person's demos and training): queries and "
                   "ingest slow down; use PostgreSQL for a team or a region (docs/capacity-plan.md)")
        _log.warning(message)
        warnings.warn(message, CapacityWarning, stacklevel=3)


def _skipped(store: Store, audit: AuditWriter, path: Path, why: str, report: FileReport | None = None) -> FileReport:
    """Report and audit a file that could not be ingested (at all, or past the chunks already loaded)."""
    with store.session() as session:
        audit(session, ACTION, outcome="error", reason=why, resource={"file": str(path)}, result_count=0)
    report = report or FileReport(str(path))
    report.error = why
    return report
