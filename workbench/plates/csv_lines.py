"""CSV split line by line, with bounds: a hostile line costs its own refusal, never a hang or its neighbours.

One record per line (feeds and hotlists have no multi-line fields): a quote
left open refuses its own line only, instead of swallowing the lines after it;
a line longer than ``max_line`` characters or with ``max_fields`` fields or
more is refused before it is split (a 10 MB row of millions of fields costs one
``str.count``).

    >>> csv_rows(["plate,priority", "1ABC234,1", '"open,2', "2XYZ987,3"], max_line=100, max_fields=8)
    ([{'plate': '1ABC234', 'priority': '1', 'line': 2}, {'plate': '2XYZ987', 'priority': '3', 'line': 4}], \
[(3, 'the line is not valid CSV (unexpected end of data): a quote left open?')], ['plate', 'priority'])
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable

from workbench.errors import InvalidInput

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    r"""Split on line breaks only (``str.splitlines`` also splits on record separators and U+2028 inside fields).

    >>> text_lines("a,b\r\nc\x1ed\n")
    ['a,b', 'c\x1ed', '']
    """
    return text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)   # the common case at C speed


def csv_rows(lines: list[str], *, max_line: int,
             max_fields: int) -> tuple[list[dict], list[tuple[int, str]], list[str]]:
    """Rows (a dict per line, with its ``line`` number), refused lines (line, reason) and the header's columns.

    Raises InvalidInput when the header itself is unusable. Empty fields become None.
    """
    header = csv_header(lines[0] if lines else "", max_line=max_line, max_fields=max_fields)
    rows, refused = csv_records(header, enumerate(lines[1:], 2), max_line=max_line, max_fields=max_fields)
    return rows, refused, list(dict.fromkeys(h for h in header if h != "line"))


def csv_header(line: str, *, max_line: int, max_fields: int) -> list[str]:
    """The header line's column names (stripped); InvalidInput when it is missing or too long."""
    if not line or too_long(line, max_line, max_fields):
        raise InvalidInput("the header line is missing or too long")
    try:
        return [h.strip() for h in _split(line)]
    except csv.Error as exc:
        raise InvalidInput(f"the header line is not valid CSV ({exc})") from None


def csv_records(header: list[str], numbered: Iterable[tuple[int, str]], *, max_line: int,
                max_fields: int) -> tuple[list[dict], list[tuple[int, str]]]:
    """The rows of (line number, line) pairs under ``header``, and the lines refused with their reason."""
    rows: list[dict] = []
    refused: list[tuple[int, str]] = []
    for n, line in numbered:
        if not line.strip():
            continue
        why = too_long(line, max_line, max_fields)
        if why is None:
            try:
                fields = _split(line)
            except csv.Error as exc:
                why = f"the line is not valid CSV ({exc}): a quote left open?"
            else:
                if len(fields) > len(header):
                    why = f"the line has {len(fields)} fields, the header {len(header)}"
        if why is not None:
            refused.append((n, why))
            continue
        rows.append({**{h: (f.strip() or None) for h, f in zip(header, fields)}, "line": n})
    return rows, refused


def too_long(line: str, max_line: int, max_fields: int) -> str | None:
    """Why ``line`` is refused before splitting (too long, too many fields), or None."""
    if len(line) > max_line:
        return f"the line is {len(line):,} characters long (at most {max_line:,})"
    if line.count(",") >= max_fields:
        return f"the line has {line.count(',') + 1:,} fields (at most {max_fields})"
    return None


def _split(line: str) -> list[str]:
    if '"' not in line:
        return line.split(",")
    return next(csv.reader([line], strict=True, skipinitialspace=True))
