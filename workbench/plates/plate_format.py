"""Licence plates: normalisation and format recognition (Belgium, its neighbours, and the current formats of
other countries whose vehicles are common in Brussels: IT, ES, GB, PL, CZ, RO, BG, CH).

A plate is kept normalised: upper case, letters A-Z and digits only, no
separators. Unicode look-alikes (Cyrillic and Greek capitals, full-width
forms) fold to their Latin letters; anything else is refused.

    >>> normalise(" 1-abc-234 ")
    '1ABC234'
    >>> normalise("1·АВС·234")        # Cyrillic А, В, С
    '1ABC234'
    >>> recognise("1ABC234")
    [('BE', 'current')]
    >>> display("1ABC234", "BE")
    '1-ABC-234'
"""

from __future__ import annotations

import re
import unicodedata

from workbench.errors import InvalidInput

MAX_LENGTH = 12
SEPARATORS = " -._·/\u00a0\u2010\u2011\u2012\u2013\u2014"
_LOOKALIKES = str.maketrans({
    # Cyrillic capitals and lower case that print like Latin letters
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "а": "A", "е": "E", "о": "O", "р": "P", "с": "C",
    "х": "X", "у": "Y", "і": "I",
    # Greek capitals
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})
_VALID = re.compile(r"[A-Z0-9]+")

# (country, format name, regex on the normalised plate, display groups)
FORMATS: list[tuple[str, str, re.Pattern[str], tuple[int, ...]]] = [
    ("BE", "current", re.compile(r"[1-9][A-Z]{3}[0-9]{3}"), (1, 3, 3)),
    ("BE", "1973-2008 letters first", re.compile(r"[A-Z]{3}[0-9]{3}"), (3, 3)),
    ("BE", "1962-1973 digits first", re.compile(r"[0-9]{3}[A-Z]{3}"), (3, 3)),
    ("BE", "motorcycle", re.compile(r"[1-9][A-Z]{2,3}[0-9]{2}"), (1, 3, 2)),
    ("BE", "diplomatic (CD)", re.compile(r"CD[A-Z][0-9]{3}"), (2, 1, 3)),
    ("BE", "trade / temporary", re.compile(r"[ZQ][A-Z]{2}[0-9]{3}"), (3, 3)),
    ("NL", "sidecode 4-11", re.compile(r"[0-9]{2}[A-Z]{3}[0-9]|[0-9][A-Z]{3}[0-9]{2}|[A-Z]{2}[0-9]{3}[A-Z]"
                                       r"|[A-Z][0-9]{3}[A-Z]{2}|[A-Z]{3}[0-9]{2}[A-Z]|[A-Z][0-9]{2}[A-Z]{3}"
                                       r"|[0-9][A-Z]{2}[0-9]{3}|[0-9]{3}[A-Z]{2}[0-9]"), ()),
    ("NL", "sidecode 1-3, 5-6", re.compile(r"[A-Z]{2}[0-9]{4}|[0-9]{4}[A-Z]{2}|[0-9]{2}[A-Z]{2}[0-9]{2}"
                                           r"|[A-Z]{2}[0-9]{2}[A-Z]{2}|[A-Z]{4}[0-9]{2}|[0-9]{2}[A-Z]{4}"), (2, 2, 2)),
    ("FR", "SIV", re.compile(r"[A-Z]{2}[0-9]{3}[A-Z]{2}"), (2, 3, 2)),
    ("DE", "district + letters + digits", re.compile(r"[A-Z]{1,3}[A-Z]{1,2}[0-9]{1,4}[EH]?"), ()),
    ("LU", "letters + digits", re.compile(r"[A-Z]{2}[0-9]{4}"), (2, 4)),
    ("LU", "digits", re.compile(r"[0-9]{4,6}"), ()),
    # further countries whose vehicles are common in Brussels (commuters, hauliers, tourists): current formats
    ("IT", "since 1994", re.compile(r"[A-Z]{2}[0-9]{3}[A-Z]{2}"), (2, 3, 2)),
    ("ES", "since 2000", re.compile(r"[0-9]{4}[BCDFGHJKLMNPRSTVWXYZ]{3}"), (4, 3)),
    ("GB", "since 2001", re.compile(r"[A-Z]{2}[0-9]{2}[A-Z]{3}"), (4, 3)),
    ("PL", "district + vehicle", re.compile(r"[A-Z]{2}[0-9][A-Z0-9]{3,4}|[A-Z]{3}(?=[A-Z]{0,2}[0-9])[A-Z0-9]{4,5}"),
     ()),
    ("CZ", "since 2001", re.compile(r"[0-9][A-Z][A-Z0-9][0-9]{4}"), (3, 4)),
    ("RO", "county + digits + letters", re.compile(r"[A-Z]{1,2}[0-9]{2,3}[A-Z]{3}"), ()),
    ("BG", "province + digits + letters", re.compile(r"[A-Z]{1,2}[0-9]{4}[A-Z]{2}"), ()),
    ("CH", "canton + digits", re.compile(r"(?:AG|AI|AR|BE|BL|BS|FR|GE|GL|GR|JU|LU|NE|NW|OW|SG|SH|SO|SZ|TG|TI|UR"
                                         r"|VD|VS|ZG|ZH)[0-9]{1,6}"), ()),
]


def normalise(plate: object) -> str:
    """The normalised form of a plate as read or typed; InvalidInput if it cannot be a plate."""
    if not isinstance(plate, str):
        raise InvalidInput(f"a plate is text, not {type(plate).__name__}")
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in plate):
        raise InvalidInput(f"plate {plate[:20]!r} contains control characters")
    if len(plate) > 4 * MAX_LENGTH:
        raise InvalidInput(f"plate of {len(plate)} characters: a plate has at most {MAX_LENGTH}")
    folded = unicodedata.normalize("NFKC", plate).translate(_LOOKALIKES).upper()
    folded = "".join(ch for ch in folded if ch not in SEPARATORS)
    if not folded:
        raise InvalidInput("empty plate")
    if len(folded) > MAX_LENGTH:
        raise InvalidInput(f"plate {folded[:20]!r}… is {len(folded)} characters long: at most {MAX_LENGTH}")
    if not _VALID.fullmatch(folded):
        bad = sorted({ch for ch in folded if not ("A" <= ch <= "Z" or "0" <= ch <= "9")})
        raise InvalidInput(f"plate {plate!r} contains characters no plate has: {''.join(bad)!r}")
    return folded


def recognise(plate: str) -> list[tuple[str, str]]:
    """Every (country, format) whose pattern the normalised plate matches, most specific first."""
    return [(country, name) for country, name, pattern, _ in FORMATS if pattern.fullmatch(plate)]


def display(plate: str, country: str | None = None) -> str:
    """The plate with the separators its country prints (``1-ABC-234``); as is when unknown."""
    for c, _, pattern, groups in FORMATS:
        if (country is None or c == country) and groups and pattern.fullmatch(plate) \
                and sum(groups) == len(plate):
            parts, i = [], 0
            for n in groups:
                parts.append(plate[i:i + n])
                i += n
            return "-".join(parts)
    return plate
