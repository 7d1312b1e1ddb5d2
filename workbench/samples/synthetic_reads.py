"""Synthetic ANPR feeds of any size, fast (NumPy, Arrow), with their ground truth.

For the scale benchmark and the tests of ingest at volume: reads spread over
``days`` days and the given ANPR cameras, plates drawn from a pool (a few
plates are seen often, most rarely), a share of double reads (the same passage
read again 1-5 s later under another read id), and planted vehicles whose
answers are known in advance:

* ``TARGET`` passes once a day at a random camera: its year is ``days`` sightings;
* ``LEADER`` and ``FOLLOWER`` drive in convoy (the follower 5-25 s behind) at
  ``CONVOY_STOPS`` cameras a day over the last week;
* ``hot_plates`` are pool plates a hotlist can name (hits).

The feed is written in parts of at most ``part_reads`` lines, so a feed larger
than memory never sits whole in memory here either.

    >>> truth = write_feed(Path("feed.csv"), reads=100_000, days=7, end=end, cameras=cams)  # doctest: +SKIP
    >>> truth.sightings                                                                  # doctest: +SKIP
    95012
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from workbench.plates.read_ingest import MERGE_WINDOW

TARGET = "1TGT001"
LEADER, FOLLOWER = "1CNV001", "1CNV002"
CONVOY_STOPS = 6
DOUBLE_READ_SHARE = 0.05
COLUMNS = ["source", "read_id", "camera_id", "timestamp", "plate", "country", "confidence", "direction", "lane"]
_LETTERS = np.frombuffer(b"ABCDEFGHJKLMNPRSTVWXYZ", dtype=np.uint8)


@dataclass
class FeedTruth:
    """What the feed holds, computed apart from the ingest (NumPy): what a correct ingest must give."""

    reads: int
    sightings: int
    distinct_plates: int
    start: datetime
    end: datetime
    target_sightings: int
    convoy_passages: int
    hot_plates: list[str] = field(default_factory=list)


def plate_pool(n: int, seed: int = 0) -> np.ndarray:
    """``n`` distinct Belgian-format plates (``1ABC234``), as an array of str."""
    rng = np.random.default_rng(seed)
    size = int(n * 1.1) + 16
    digit1 = rng.integers(1, 10, size)
    letters = rng.integers(0, len(_LETTERS), (size, 3))
    digits = rng.integers(0, 1000, size)
    text = (pd.Series(digit1.astype(str)) + pd.Series([bytes(row).decode() for row in _LETTERS[letters]])
            + pd.Series(digits).map("{:03d}".format))
    plates = text.drop_duplicates()
    plates = plates[~plates.isin([TARGET, LEADER, FOLLOWER])]
    return plates.to_numpy()[:n].astype(str)


def _draw(rng: np.random.Generator, n: int, pool: int) -> np.ndarray:
    """Plate indexes: a skewed draw (a few plates often, most rarely) over ``pool`` plates."""
    return np.minimum((rng.pareto(1.2, n) * pool / 20).astype(np.int64), pool - 1)


def _planted(rng: np.random.Generator, cameras: np.ndarray, start: np.datetime64,
             days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The target's daily passage and the convoy's passages: (camera index, time in µs, plate), passages."""
    day_us = np.int64(86_400_000_000)
    t_day = start.astype("datetime64[us]").astype(np.int64) + np.arange(days) * day_us
    cams = [rng.integers(0, len(cameras), days)]
    times = [t_day + rng.integers(6 * 3600, 22 * 3600, days) * 1_000_000]
    plates = [np.full(days, TARGET)]
    convoy_days = min(days, 7)
    stops = convoy_days * CONVOY_STOPS
    base = np.repeat(t_day[-convoy_days:], CONVOY_STOPS) + rng.integers(7 * 3600, 20 * 3600, stops) * 1_000_000
    route = rng.integers(0, len(cameras), stops)
    cams += [route, route]
    times += [base, base + rng.integers(5, 26, stops) * 1_000_000]
    plates += [np.full(stops, LEADER), np.full(stops, FOLLOWER)]
    return np.concatenate(cams), np.concatenate(times), np.concatenate(plates), stops


def count_sightings(camera: np.ndarray, plate: np.ndarray, time_us: np.ndarray) -> int:
    """Passages: reads of one plate at one camera chained less than the merge window apart (NumPy, apart
    from the ingest's own code)."""
    order = np.lexsort((time_us, plate, camera))
    c, p, t = camera[order], plate[order], time_us[order]
    window = int(MERGE_WINDOW.total_seconds() * 1_000_000)
    new = np.ones(len(t), dtype=bool)
    new[1:] = (c[1:] != c[:-1]) | (p[1:] != p[:-1]) | (t[1:] - t[:-1] > window)
    return int(new.sum())


def write_feed(path: Path, *, reads: int, days: int, end: datetime, cameras: list[str], seed: int = 0,
               part_reads: int = 2_000_000, distinct_plates: int | None = None,
               hotlist_size: int = 50, first_id: int = 0) -> FeedTruth:
    """Write a CSV feed of about ``reads`` reads ending at ``end`` (UTC) and return its ground truth.

    Reads are in time order within each part, parts follow each other in time
    (like a day's files), and double reads follow their first read. Read ids
    count from ``first_id`` (feeds meant to add up must not share ids).
    """
    rng = np.random.default_rng(seed)
    cams = np.array(sorted(cameras))
    start = np.datetime64(pd.Timestamp(end).tz_convert("UTC").tz_localize(None) - pd.Timedelta(days=days), "us")
    pool = plate_pool(distinct_plates or max(1_000, reads // 8), seed)
    p_cam, p_time, p_plate, stops = _planted(rng, cams, start, days)
    span_us = np.int64(days) * 86_400_000_000
    n_parts = max(1, -(-reads // part_reads))
    all_c: list[np.ndarray] = []
    all_p: list[np.ndarray] = []
    all_t: list[np.ndarray] = []
    next_id = first_id
    start_us = start.astype(np.int64)
    with path.open("wb") as out:
        for part in range(n_parts):
            n = min(part_reads, reads - part * part_reads)
            firsts = n - int(n * DOUBLE_READ_SHARE)
            lo, hi = start_us + span_us * part // n_parts, start_us + span_us * (part + 1) // n_parts
            cam = rng.integers(0, len(cams), firsts)
            tim = np.sort(rng.integers(lo, hi, firsts))
            pla = pool[_draw(rng, firsts, len(pool))]
            twice = rng.choice(firsts, n - firsts, replace=False)
            cam = np.concatenate([cam, cam[twice]])
            pla = np.concatenate([pla, pla[twice]])
            tim = np.concatenate([tim, tim[twice] + rng.integers(1_000_000, 5_000_000, len(twice))])
            planted = (p_time >= lo) & (p_time < hi)
            cam, pla = np.concatenate([cam, p_cam[planted]]), np.concatenate([pla, p_plate[planted]])
            tim = np.concatenate([tim, p_time[planted]])
            order = np.argsort(tim, kind="stable")
            cam, pla, tim = cam[order], pla[order], tim[order]
            ids = np.arange(next_id, next_id + len(tim))
            next_id += len(tim)
            all_c.append(cam.astype(np.int32))
            all_p.append(pla)
            all_t.append(tim)
            stamps = np.datetime_as_string(tim.astype("datetime64[us]"), unit="ms", timezone="UTC")
            table = pa.table({
                "source": pa.array(np.full(len(tim), "SYNTH-ANPR")),
                "read_id": pa.array(ids).cast(pa.string()),
                "camera_id": pa.array(cams[cam]),
                "timestamp": pa.array(stamps),
                "plate": pa.array(pla),
                "country": pa.array(np.full(len(tim), "BE")),
                "confidence": pa.array(np.round(rng.uniform(0.6, 1.0, len(tim)), 3)),
                "direction": pa.array(np.where(rng.random(len(tim)) < 0.5, "in", "out")),
                "lane": pa.array(rng.integers(1, 4, len(tim))),
            })
            pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=part == 0, quoting_style="none"))
    c, p, t = np.concatenate(all_c), np.concatenate(all_p), np.concatenate(all_t)
    hot = list(pool[_draw(np.random.default_rng(seed + 1), hotlist_size * 4, len(pool))][:hotlist_size])
    return FeedTruth(reads=len(t), sightings=count_sightings(c, p, t), distinct_plates=len(np.unique(p)),
                     start=pd.Timestamp(start, tz="UTC").to_pydatetime(), end=end,
                     target_sightings=days, convoy_passages=stops, hot_plates=sorted({str(p) for p in hot}))


def day_bounds(end: datetime, days_back: int = 1) -> tuple[datetime, datetime]:
    """The window of the ``days_back`` days before ``end``."""
    return end - timedelta(days=days_back), end
