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

Bad rows are reported with their line number, field and reason; the rest goes
on. One record per line: a quote left open refuses its own line only; a line
longer than ``MAX_LINE`` characters or with more than ``MAX_FIELDS`` fields is
refused before it is split; text values longer than their column (``source``
64, ``read_id`` 128...) are refused, never cut (two ids that differ after the
cut would collide); in JSON Lines the text fields must be JSON strings (a
``true`` plate is refused) and numbers plain numbers.

    >>> batch = parse_feed(Path("reads.csv"), now=now)      # doctest: +SKIP
    >>> batch.reads.columns.tolist()[:5], batch.rejected[:1]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import IngestError, InvalidInput
from workbench.plates.csv_lines import csv_rows, text_lines
from workbench.plates.plate_format import MAX_LENGTH, SEPARATORS, normalise

REQUIRED = ["source", "read_id", "camera_id", "timestamp", "plate"]
OPTIONAL = ["country", "confidence", "direction", "lane", "image_ref"]
MAX_TEXT = {"source": 64, "read_id": 128, "camera_id": 64, "plate": 64, "country": 8, "direction": 16,
            "image_ref": 2048, "timestamp": 40, "confidence": 32, "lane": 8}
"""Longest accepted value per column (the catalogue's column sizes): longer is refused, never cut."""
MAX_LINE = 16_384
MAX_FIELDS = 64
MAX_LANE = 99
EARLIEST_READ = datetime(2000, 1, 1, tzinfo=timezone.utc)
FUTURE_TOLERANCE = timedelta(minutes=5)
_ISO_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?"
                       r"(?:Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)")
_NUMERIC = ("confidence", "lane")
_FAST_PLATE = re.compile(rf"[A-Z0-9]{{1,{MAX_LENGTH}}}")
_SEP_CLASS = "[" + re.escape(SEPARATORS) + "]"
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class FeedBatch:
    """Valid reads of one file (normalised) and the rows refused, with line numbers."""

    path: str
    reads: pd.DataFrame
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _read_rows(path: Path) -> pd.DataFrame:
    """The file as a DataFrame of strings with a ``line`` column; IngestError if it is not a feed.

    Rows refused while splitting are listed in ``frame.attrs["refused"]`` as (line, reason).
    """
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
    lines = text_lines(text)
    is_json = path.suffix.lower() in {".jsonl", ".ndjson", ".json"} or text.lstrip().startswith("{")
    if is_json:
        rows, refused, columns = _json_rows(path, lines)
    else:
        try:
            rows, refused, columns = csv_rows(lines, max_line=MAX_LINE, max_fields=MAX_FIELDS)
        except InvalidInput as exc:
            raise IngestError(f"{path.name}: not an ANPR feed: {exc}") from None
    frame = pd.DataFrame(rows, columns=columns + ["line"]) if rows or columns else pd.DataFrame(columns=["line"])
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise IngestError(f"{path.name}: not an ANPR feed: missing column(s) {', '.join(missing)} "
                          f"(found: {', '.join(c for c in frame.columns if c != 'line')[:200]})")
    frame.attrs["refused"] = refused
    return frame


def _json_rows(path: Path, lines: list[str]) -> tuple[list[dict], list[tuple[int, str]], list[str]]:
    """Parse JSON Lines: each line an object of plain values, text fields as JSON strings."""
    rows: list[dict] = []
    refused: list[tuple[int, str]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            refused.append((n, f"the line is {len(line):,} characters long (at most {MAX_LINE:,})"))
            continue
        try:
            obj = json.loads(line)
        except RecursionError:
            refused.append((n, "not valid JSON: nested too deeply"))
            continue
        except ValueError as exc:
            refused.append((n, f"not valid JSON ({str(exc)[:80]})"))
            continue
        if not isinstance(obj, dict):
            refused.append((n, f"not a JSON object (a {type(obj).__name__})"))
            continue
        if len(obj) > MAX_FIELDS:
            refused.append((n, f"the object has {len(obj):,} fields (at most {MAX_FIELDS})"))
            continue
        row, why = {}, None
        for key, value in obj.items():
            if key not in MAX_TEXT:
                continue   # extra columns are ignored
            if isinstance(value, str) and _SURROGATE.search(value):   # only a JSON escape can make one
                why = f"{key} holds an invalid character (a lone UTF-16 surrogate)"
                break
            if value is None or isinstance(value, str):
                row[key] = value
            elif key in _NUMERIC + ("read_id",) and isinstance(value, (int, float)) and not isinstance(value, bool):
                row[key] = repr(value) if isinstance(value, float) else str(value) if abs(value) < 10 ** 30 \
                    else "9" * 31
            else:
                kind = "true/false" if isinstance(value, bool) else type(value).__name__
                why = f"{key} is a JSON {kind}, not " + ("a number" if key in _NUMERIC else "a string")
                break
        if why:
            refused.append((n, why))
        else:
            rows.append({**row, "line": n})
    return rows, refused, list(dict.fromkeys(k for row in rows for k in row if k != "line"))


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


def parse_feed(path: Path, *, now: datetime, known_cameras: dict[str, str] | None = None) -> FeedBatch:
    """Parse and validate one feed file; raises IngestError only when the whole file is unusable.

    ``known_cameras`` maps camera id to kind: reads of an unknown camera, or of
    a camera that is not an ANPR camera, are refused.
    """
    frame = _read_rows(Path(path))
    rejected: list[tuple[int, str]] = list(frame.attrs.get("refused", []))
    reason = pd.Series(None, index=frame.index, dtype=object)

    def refuse(mask: pd.Series, why: str | pd.Series) -> None:
        mask = mask & reason.isna()
        reason[mask] = why if isinstance(why, str) else why[mask]

    for col in REQUIRED + OPTIONAL:   # text columns, whatever pandas guessed from the values present
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None) if col in frame.columns else None
    for col in REQUIRED:
        refuse(frame[col].isna() | (frame[col].astype(str).str.strip() == ""), f"{col} is missing")
    for col in REQUIRED + OPTIONAL:
        text = frame[col].astype(object).where(frame[col].notna(), "").astype(str)
        refuse(text.str.len() > MAX_TEXT[col], f"{col} is longer than {MAX_TEXT[col]} characters")
        refuse(text.str.contains("[\x00-\x08\x0b-\x1f\x7f]", regex=True), f"{col} holds a control character")
    plates, plate_errors = _normalise_plates(frame["plate"].where(reason.isna()))
    refuse(plate_errors.notna(), "plate: " + plate_errors.fillna(""))
    ts_text = frame["timestamp"].fillna("").astype(str).str.strip()
    well_formed = ts_text.str.fullmatch(_ISO_TIME.pattern)
    refuse(~well_formed & ts_text.str.fullmatch(_ISO_TIME.pattern.rsplit("(?:Z", 1)[0]),
           "timestamp has no time zone (add +01:00 or Z)")
    refuse(~well_formed, "timestamp is not an ISO 8601 date and time with a zone (e.g. 2026-11-20T08:31:07+01:00)")
    times = _parse_times(ts_text.where(reason.isna()))
    refuse(times.isna(), "timestamp is not a valid time")
    refuse(times < pd.Timestamp(EARLIEST_READ), f"timestamp is before {EARLIEST_READ:%Y}: not plausible")
    refuse(times > pd.Timestamp(now + FUTURE_TOLERANCE), "timestamp is in the future")
    confidence = pd.to_numeric(frame["confidence"].where(reason.isna()), errors="coerce")
    refuse(frame["confidence"].notna() & (confidence.isna() | ~np.isfinite(confidence)), "confidence is not a number")
    confidence = confidence.where(confidence <= 1, confidence / 100)
    refuse(confidence.notna() & ((confidence < 0) | (confidence > 1)), "confidence outside 0-1 (or 0-100 %)")
    lane_text = frame["lane"].astype(object).where(frame["lane"].notna(), "").astype(str).str.strip()
    refuse(frame["lane"].notna() & ~lane_text.str.fullmatch(r"[0-9]{1,2}"),
           f"lane is not a whole number from 0 to {MAX_LANE}")
    lane = pd.to_numeric(lane_text.where(reason.isna() & frame["lane"].notna()), errors="coerce")
    if known_cameras is not None:
        kinds = frame["camera_id"].map(known_cameras)
        refuse(kinds.isna(), "unknown camera " + frame["camera_id"].fillna("").astype(str).str[:40])
        refuse(kinds.notna() & (kinds != "anpr"),
               "camera " + frame["camera_id"].fillna("").astype(str).str[:40] + " is not an ANPR camera ("
               + kinds.fillna("").astype(str) + "): it records footage, not plate reads")
    good = reason.isna()
    rejected += list(zip(frame.loc[~good, "line"].astype(int).tolist(), reason[~good].tolist()))
    reads = pd.DataFrame({
        "line": frame.loc[good, "line"].astype(int),
        "source": frame.loc[good, "source"].str.strip(),
        "source_read_id": frame.loc[good, "read_id"].str.strip(),
        "camera_id": frame.loc[good, "camera_id"].str.strip(),
        "time": times[good],
        "plate_raw": frame.loc[good, "plate"],
        "plate": plates[good],
        "country": frame.loc[good, "country"].str.strip().str.upper(),
        "confidence": confidence[good],
        "direction": frame.loc[good, "direction"].str.strip(),
        "lane": lane[good].astype("Int64"),
        "image_ref": frame.loc[good, "image_ref"],
    }).reset_index(drop=True)
    return FeedBatch(str(path), reads, sorted(rejected))


def _parse_times(text: pd.Series) -> pd.Series:
    """ISO 8601 strings to UTC timestamps; NaT where a value is not a valid time."""
    try:
        return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    except (ValueError, OverflowError):   # one value out of range spoils the vector: parse one by one
        return pd.Series([_one_time(t) for t in text], index=text.index, dtype="datetime64[ns, UTC]")


def _one_time(value: object) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value) if isinstance(value, str) and value else pd.NaT
        return stamp.tz_convert("UTC").as_unit("ns") if stamp is not pd.NaT else pd.NaT
    except (ValueError, OverflowError, TypeError):
        return pd.NaT
