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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import IngestError, InvalidInput
from workbench.plates.csv_lines import csv_header, csv_records, text_lines
from workbench.plates.plate_format import MAX_LENGTH, SEPARATORS, normalise

REQUIRED = ["source", "read_id", "camera_id", "timestamp", "plate"]
OPTIONAL = ["country", "confidence", "direction", "lane", "image_ref"]
MAX_TEXT = {"source": 64, "read_id": 128, "camera_id": 64, "plate": 64, "country": 8, "direction": 16,
            "image_ref": 2048, "timestamp": 40, "confidence": 32, "lane": 8}
"""Longest accepted value per column (the catalogue's column sizes): longer is refused, never cut."""
CHUNK_BYTES = 64 << 20
"""Bytes of a feed parsed at a time (whole lines): memory stays bounded whatever the file's size."""
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


def iter_feed(path: Path, *, now: datetime, known_cameras: dict[str, str] | None = None,
              chunk_bytes: int = CHUNK_BYTES) -> Iterator[FeedBatch]:
    """Parse and validate a feed in chunks of whole lines of about ``chunk_bytes``: a feed larger than memory
    streams through, a chunk at a time.

    Raises IngestError when the file is not a feed (before the first chunk) or
    turns out unreadable further on (the chunks before it stay valid).
    """
    path = Path(path)
    for frame in _read_chunks(path, chunk_bytes):
        yield _validate(path, frame, now=now, known_cameras=known_cameras)


def parse_feed(path: Path, *, now: datetime, known_cameras: dict[str, str] | None = None) -> FeedBatch:
    """Parse and validate one whole feed file; raises IngestError only when the whole file is unusable.

    ``known_cameras`` maps camera id to kind: reads of an unknown camera, or of
    a camera that is not an ANPR camera, are refused.
    """
    parts = list(iter_feed(path, now=now, known_cameras=known_cameras))
    reads = pd.concat([p.reads for p in parts], ignore_index=True) if len(parts) != 1 else parts[0].reads
    return FeedBatch(str(path), reads, sorted(r for p in parts for r in p.rejected))


def _blocks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    """Blocks of whole lines (cut after a line feed) of about ``size`` bytes; the last one as the file ends, with
    its final line whether or not a line feed ends it (never a block of that line alone)."""
    rest, data = b"", handle.read(size)
    while data:
        ahead = handle.read(size)
        data = rest + data
        if not ahead:
            yield data
            return
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            yield data[:cut]
        data = ahead


def _read_chunks(path: Path, chunk_bytes: int) -> Iterator[pd.DataFrame]:
    """The file as DataFrames of strings with a ``line`` column, chunk by chunk; IngestError if it is not a feed.

    Rows refused while splitting are listed in ``frame.attrs["refused"]`` as (line, reason).
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    with handle:
        header: list[str] | None = None
        is_json = path.suffix.lower() in {".jsonl", ".ndjson", ".json"}
        line_no, offset, content = 0, 0, False
        try:
            for number, block in enumerate(_blocks(handle, chunk_bytes)):
                if number == 0:
                    if b"\x00" in block[:4096]:
                        raise IngestError(f"{path.name}: this is a binary file, not a CSV or JSON Lines feed")
                    is_json = is_json or block.lstrip().lstrip(b"\xef\xbb\xbf").startswith(b"{")
                try:
                    text = block.decode("utf-8-sig" if number == 0 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise IngestError(f"{path.name}: not UTF-8 text (byte {offset + exc.start})") from None
                offset += len(block)
                lines = text_lines(text)
                if block.endswith(b"\n"):
                    lines.pop()
                first, line_no = line_no + 1, line_no + len(lines)
                if not content and not text.strip():
                    continue
                checked = content
                content = True
                if is_json:
                    frame = _json_frame(list(enumerate(lines, first)))
                else:
                    if header is None:
                        try:
                            header = csv_header(lines[0], max_line=MAX_LINE, max_fields=MAX_FIELDS)
                        except InvalidInput as exc:
                            raise IngestError(f"{path.name}: not an ANPR feed: {exc}") from None
                        lines, first = lines[1:], first + 1
                    frame = _csv_frame(header, lines, first)
                if not checked:
                    _check_columns(path, frame, header)
                yield frame
        except OSError as exc:
            raise IngestError(f"{path.name}: cannot be read ({exc.strerror})") from exc
        if not content:
            raise IngestError(f"{path.name}: the file is empty")


def _check_columns(path: Path, frame: pd.DataFrame, header: list[str] | None) -> None:
    """IngestError when the first chunk lacks a required column (the header's, or the JSON rows' keys)."""
    missing = [c for c in REQUIRED if c not in (header if header is not None else frame.columns)]
    if missing:
        found = [c for c in (header or frame.columns) if c != "line"]
        raise IngestError(f"{path.name}: not an ANPR feed: missing column(s) {', '.join(missing)} "
                          f"(found: {', '.join(found)[:200]})")


def _csv_frame(header: list[str], lines: list[str], first: int) -> pd.DataFrame:
    """CSV lines numbered from ``first``: plain lines split at once (Arrow), the others one by one.

    A plain line is printable ASCII without quotes with exactly the header's
    number of fields: splitting it at its commas is what the line-by-line
    reader would do. Anything else (quotes, other characters, too many or too
    few fields, too long) goes through :func:`csv_records` and its refusals.
    """
    columns = {name: i for i, name in enumerate(header) if name in MAX_TEXT}   # the last of duplicate names
    numbers = np.arange(first, first + len(lines))
    arr = pa.array(lines, pa.string())
    plain = pc.and_(pc.and_(pc.less_equal(pc.utf8_length(arr), MAX_LINE),
                            pc.equal(pc.count_substring(arr, ","), len(header) - 1)),
                    pc.invert(pc.match_substring_regex(arr, r'[^\x20\x21\x23-\x7e]'))).to_numpy(zero_copy_only=False)
    fast = arr.filter(pa.array(plain))
    values = pc.list_flatten(pc.split_pattern(fast, ","))
    positions = np.arange(len(fast)) * len(header)
    data: dict[str, Any] = {}
    for name, i in columns.items():
        column = pc.utf8_trim_whitespace(values.take(pa.array(positions + i)))
        data[name] = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    frame = pa.table(data).to_pandas() if data else pd.DataFrame(index=range(len(fast)))
    frame["line"] = numbers[plain]
    frame["plain"] = True
    rows, refused = csv_records(header, ((int(n), lines[n - first]) for n in numbers[~plain]),
                                max_line=MAX_LINE, max_fields=MAX_FIELDS)
    if rows:
        slow = pd.DataFrame(rows, columns=list(columns) + ["line"]).assign(plain=False)
        frame = pd.concat([frame, slow.astype({c: "str" for c in columns})], ignore_index=True)
        frame = frame.sort_values("line", kind="stable", ignore_index=True)
    frame.attrs["refused"] = refused
    return frame


def _json_frame(numbered: list[tuple[int, str]]) -> pd.DataFrame:
    rows, refused, columns = _json_rows(numbered)
    frame = pd.DataFrame(rows, columns=columns + ["line"]) if rows or columns else pd.DataFrame(columns=["line"])
    frame.attrs["refused"] = refused
    return frame


def _json_rows(numbered: list[tuple[int, str]]) -> tuple[list[dict], list[tuple[int, str]], list[str]]:
    """Parse JSON Lines: each line an object of plain values, text fields as JSON strings."""
    rows: list[dict] = []
    refused: list[tuple[int, str]] = []
    for n, line in numbered:
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


def _validate(path: Path, frame: pd.DataFrame, *, now: datetime, known_cameras: dict[str, str] | None) -> FeedBatch:
    """The valid reads of one chunk, normalised, and its refused lines with their reasons (vectorised)."""
    rejected: list[tuple[int, str]] = list(frame.attrs.get("refused", []))
    reason = pd.Series(None, index=frame.index, dtype=object)

    def refuse(mask: pd.Series, why: str | Callable[[], pd.Series]) -> None:
        """Give the rows of ``mask`` not refused yet the reason ``why`` (a per-row reason is made only when some
        row is refused: most chunks have none)."""
        mask = mask & reason.isna()
        if mask.any():
            reason[mask] = why if isinstance(why, str) else why()[mask]

    plain = frame["plain"].eq(True) if "plain" in frame.columns else pd.Series(False, index=frame.index)
    for col in REQUIRED + OPTIONAL:   # text columns, whatever pandas guessed from the values present
        frame[col] = frame[col].astype("str") if col in frame.columns else pd.Series(None, index=frame.index,
                                                                                        dtype="str")
    for col in REQUIRED:
        refuse(frame[col].fillna("").str.strip() == "", f"{col} is missing")
    odd = not plain.all()   # a plain line is printable ASCII: no control character to look for
    for col in REQUIRED + OPTIONAL:
        text = frame[col].fillna("")
        refuse(text.str.len() > MAX_TEXT[col], f"{col} is longer than {MAX_TEXT[col]} characters")
        if odd:
            refuse(~plain & text.str.contains("[\x00-\x08\x0b-\x1f\x7f]", regex=True),
                   f"{col} holds a control character")
    plates, plate_errors = _normalise_plates(frame["plate"].where(reason.isna()))
    refuse(plate_errors.notna(), lambda: "plate: " + plate_errors.fillna(""))
    ts_text = frame["timestamp"].fillna("").astype(str).str.strip()
    well_formed = ts_text.str.fullmatch(_ISO_TIME.pattern)
    if not well_formed.all():
        refuse(~well_formed & ts_text.str.fullmatch(_ISO_TIME.pattern.rsplit("(?:Z", 1)[0]),
               "timestamp has no time zone (add +01:00 or Z)")
    refuse(~well_formed, "timestamp is not an ISO 8601 date and time with a zone (e.g. 2026-11-20T08:31:07+01:00)")
    times = _parse_times(ts_text.where(reason.isna()))
    refuse(times.isna(), "timestamp is not a valid time")
    refuse(times < pd.Timestamp(EARLIEST_READ), f"timestamp is before {EARLIEST_READ:%Y}: not plausible")
    refuse(times > pd.Timestamp(now + FUTURE_TOLERANCE), "timestamp is in the future")
    confidence = _numbers(frame["confidence"].where(reason.isna()))
    refuse(frame["confidence"].notna() & (confidence.isna() | ~np.isfinite(confidence)), "confidence is not a number")
    confidence = confidence.where(confidence <= 1, confidence / 100)
    refuse(confidence.notna() & ((confidence < 0) | (confidence > 1)), "confidence outside 0-1 (or 0-100 %)")
    lane_text = frame["lane"].fillna("").str.strip()
    refuse(frame["lane"].notna() & ~lane_text.str.fullmatch(r"[0-9]{1,2}"),
           f"lane is not a whole number from 0 to {MAX_LANE}")
    lane = _numbers(lane_text.where(reason.isna() & frame["lane"].notna()))
    if known_cameras is not None:
        kinds = frame["camera_id"].map(pd.Series(known_cameras, dtype="str"))

        def camera() -> pd.Series:
            return frame["camera_id"].fillna("").astype(str).str[:40]

        refuse(kinds.isna(), lambda: "unknown camera " + camera())
        refuse(kinds.notna() & (kinds != "anpr"), lambda: "camera " + camera() + " is not an ANPR camera ("
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


def _numbers(text: pd.Series) -> pd.Series:
    """Decimal strings to floats (NaN where a value is not a number): Arrow's cast at once, else one by one."""
    try:
        values = pa.array(text.str.strip(), pa.string(), from_pandas=True)
        return pd.Series(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), index=text.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(text, errors="coerce")


def _parse_times(text: pd.Series) -> pd.Series:
    """ISO 8601 strings to UTC timestamps; NaT where a value is not a valid time."""
    try:   # Arrow's ISO 8601 cast, for a whole chunk at once; it refuses the whole vector for one bad value
        values = pa.array(text.str.replace(",", ".", regex=False), pa.string(), from_pandas=True)
        return pd.Series(pc.cast(values, pa.timestamp("ns", "UTC")).to_pandas(), index=text.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
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
