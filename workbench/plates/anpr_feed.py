"""ANPR feeds: parse and validate CSV or JSON Lines files of plate reads.

Columns (CSV header or JSON keys; extra columns are ignored):

=============  ========  ===============================================================
column         required  meaning
=============  ========  ===============================================================
source         yes       the delivering system (``ANPR@GPI``, ``BM-ANPR``...)
read_id        yes       the read's id at the source; (source, read_id) is unique
camera_id      yes       the workbench camera id (``ANPR-BM-001``)
timestamp      yes       ISO 8601 with a zone: ``2026-11-20T08:31:07.250+01:00`` or ``...Z``
plate          yes       the plate as read (any separators; normalised on ingest)
country        no        ISO country code as read (``BE``, ``NL``...)
confidence     no        0 to 1 (a value over 1 is taken as a percentage)
direction      no        ``in`` / ``out`` or a compass direction, as the camera reports it
lane           no        lane number
image_ref      no        reference of the plate image at the source
=============  ========  ===============================================================

Bad rows are reported with their line number and reason; the rest goes on.

    >>> batch = parse_feed(Path("reads.csv"), now=now)      # doctest: +SKIP
    >>> batch.reads.columns.tolist()[:5], batch.rejected[:1]  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import IngestError, InvalidInput
from workbench.plates.plate_format import MAX_LENGTH, SEPARATORS, normalise

REQUIRED = ["source", "read_id", "camera_id", "timestamp", "plate"]
OPTIONAL = ["country", "confidence", "direction", "lane", "image_ref"]
FUTURE_TOLERANCE = timedelta(minutes=5)
_ZONE = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$")
_FAST_PLATE = re.compile(rf"[A-Z0-9]{{1,{MAX_LENGTH}}}")
_SEP_CLASS = "[" + re.escape(SEPARATORS) + "]"


@dataclass
class FeedBatch:
    """Valid reads of one file (normalised) and the rows refused, with line numbers."""

    path: str
    reads: pd.DataFrame
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _read_rows(path: Path) -> pd.DataFrame:
    """The file as a DataFrame of strings with a ``line`` column; IngestError if it is not a feed."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    if not raw.strip():
        raise IngestError(f"{path.name}: the file is empty")
    if b"\x00" in raw[:4096]:
        raise IngestError(f"{path.name}: this is a binary file, not a CSV or JSON Lines feed")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} or text.lstrip().startswith("{"):
        rows, bad = [], []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
                rows.append({**{k: None if v is None else str(v) for k, v in obj.items()}, "line": n})
            except ValueError:
                bad.append(n)
        frame = pd.DataFrame(rows)
        frame.attrs["bad_lines"] = bad
    else:
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                                skipinitialspace=True, on_bad_lines="skip", engine="python")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
            raise IngestError(f"{path.name}: not a CSV file ({exc})") from exc
        frame["line"] = np.arange(2, len(frame) + 2)
        frame.attrs["bad_lines"] = []
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise IngestError(f"{path.name}: not an ANPR feed: missing column(s) {', '.join(missing)} "
                          f"(found: {', '.join(c for c in frame.columns if c != 'line')[:200]})")
    return frame


def _normalise_plates(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Vectorised normalisation with a per-row fallback that explains refusals."""
    fast = raw.fillna("").str.upper().str.replace(_SEP_CLASS, "", regex=True)
    ok = fast.str.fullmatch(_FAST_PLATE.pattern)
    plates, errors = fast.where(ok), pd.Series(None, index=raw.index, dtype=object)
    for i in raw.index[~ok]:
        try:
            plates[i] = normalise(raw[i] if isinstance(raw[i], str) else "")
        except InvalidInput as exc:
            errors[i] = str(exc)
    return plates, errors


def parse_feed(path: Path, *, now: datetime, known_cameras: set[str] | None = None) -> FeedBatch:
    """Parse and validate one feed file; raises IngestError only when the whole file is unusable."""
    frame = _read_rows(Path(path))
    rejected: list[tuple[int, str]] = [(n, "not a JSON object") for n in frame.attrs.get("bad_lines", [])]
    reason = pd.Series(None, index=frame.index, dtype=object)

    def refuse(mask: pd.Series, why: str | pd.Series) -> None:
        mask = mask & reason.isna()
        reason[mask] = why if isinstance(why, str) else why[mask]

    for col in REQUIRED:
        refuse(frame[col].isna() | (frame[col].astype(str).str.strip() == ""), f"{col} is missing")
    for col in OPTIONAL:
        if col not in frame.columns:
            frame[col] = None
    plates, plate_errors = _normalise_plates(frame["plate"])
    refuse(plate_errors.notna(), plate_errors)
    ts_text = frame["timestamp"].fillna("").str.strip()
    refuse(~ts_text.str.contains(_ZONE.pattern, regex=True), "timestamp has no time zone")
    times = pd.to_datetime(ts_text.where(reason.isna()), utc=True, errors="coerce", format="ISO8601")
    refuse(times.isna(), "timestamp is not an ISO 8601 time")
    refuse(times > pd.Timestamp(now + FUTURE_TOLERANCE), "timestamp is in the future")
    confidence = pd.to_numeric(frame["confidence"], errors="coerce")
    refuse(frame["confidence"].notna() & confidence.isna(), "confidence is not a number")
    confidence = confidence.where(confidence <= 1, confidence / 100)
    refuse(confidence.notna() & ((confidence < 0) | (confidence > 1)), "confidence outside 0-1 (or 0-100 %)")
    lane = pd.to_numeric(frame["lane"], errors="coerce")
    refuse(frame["lane"].notna() & lane.isna(), "lane is not a number")
    if known_cameras is not None:
        unknown = ~frame["camera_id"].isin(known_cameras)
        refuse(unknown, "unknown camera " + frame["camera_id"].fillna("").astype(str).str[:40])
    good = reason.isna()
    rejected += list(zip(frame.loc[~good, "line"].astype(int).tolist(), reason[~good].tolist()))
    reads = pd.DataFrame({
        "line": frame.loc[good, "line"].astype(int),
        "source": frame.loc[good, "source"].str.strip().str[:64],
        "source_read_id": frame.loc[good, "read_id"].str.strip().str[:128],
        "camera_id": frame.loc[good, "camera_id"].str.strip(),
        "time": times[good],
        "plate_raw": frame.loc[good, "plate"].str[:64],
        "plate": plates[good],
        "country": frame.loc[good, "country"].str.strip().str.upper().str[:8],
        "confidence": confidence[good],
        "direction": frame.loc[good, "direction"].str.strip().str[:16],
        "lane": lane[good].astype("Int64"),
        "image_ref": frame.loc[good, "image_ref"],
    }).reset_index(drop=True)
    return FeedBatch(str(path), reads, sorted(rejected))
