"""Time values as the workbench wants them: timezone-aware UTC inside, Brussels time on screens.

    >>> as_utc("2026-11-20T08:30:00+01:00")
    datetime.datetime(2026, 11, 20, 7, 30, tzinfo=datetime.timezone.utc)
    >>> as_utc("2026-11-20")            # a bare date is midnight UTC
    datetime.datetime(2026, 11, 20, 0, 0, tzinfo=datetime.timezone.utc)

Screens (widgets, map tooltips, the timeline) show the time people read in
Brussels; evidence and exports keep UTC with its offset:

    >>> format_local("2026-07-01T08:30:00Z")
    '2026-07-01 10:30:00 CEST'
    >>> format_local("2026-11-20T08:30:00Z", with_date=False, with_utc=True)
    '09:30:00 CET (08:30:00 UTC)'
    >>> format_local("2026-11-20T08:30:00.25Z", with_date=False, with_utc=True, ms=True)
    '09:30:00.250 CET (08:30:00.250 UTC)'
    >>> format_utc("2026-11-20T08:30:00.250+01:00")
    '2026-11-20T07:30:00+00:00'
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pandas as pd

from workbench.errors import InvalidInput

EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)
"""Times outside [EARLIEST, LATEST) are refused: no workbench data is there, and nanosecond clocks overflow."""
LOCAL_ZONE = ZoneInfo("Europe/Brussels")


def as_utc(value: datetime | date | str | pd.Timestamp) -> datetime:
    """Parse or convert a time to an aware UTC datetime; a naive time with a clock part is refused.

    >>> as_utc("2262-04-12")
    Traceback (most recent call last):
    workbench.errors.InvalidInput: 2262-04-12 00:00 UTC is out of range: the workbench handles times from 1900 to 2199
    """
    try:
        result = _as_utc(value)
    except InvalidInput:
        raise
    except (ValueError, OverflowError) as exc:   # e.g. a year pandas parses but datetime cannot hold
        raise InvalidInput(f"{value!r} is not a time the workbench can use ({exc})") from None
    if not EARLIEST <= result < LATEST:
        raise InvalidInput(f"{result:%Y-%m-%d %H:%M} UTC is out of range: the workbench handles times from "
                           f"{EARLIEST.year} to {LATEST.year - 1}")
    return result


def _as_utc(value: datetime | date | str | pd.Timestamp) -> datetime:
    if isinstance(value, str):
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"{value!r} is not a date or time (use ISO 8601, e.g. 2026-11-20T08:30+01:00)") \
                from exc
        if stamp is pd.NaT:
            raise InvalidInput(f"{value!r} is not a date or time (use ISO 8601, e.g. 2026-11-20T08:30+01:00)")
        if stamp.tzinfo is None:
            if stamp != stamp.normalize():
                raise InvalidInput(f"time {value!r} has no time zone: add one, e.g. {value}+01:00 or {value}Z")
            stamp = stamp.tz_localize("UTC")
        return stamp.tz_convert("UTC").to_pydatetime()
    if isinstance(value, pd.Timestamp):
        value = value.floor("us").to_pydatetime()   # datetime has no nanoseconds
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput(f"time {value.isoformat()} has no time zone")
        return value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    raise InvalidInput(f"{value!r} is not a time")


def local(value: datetime | date | str | pd.Timestamp) -> datetime:
    """The time in Brussels (CET/CEST) of an aware time (or of anything :func:`as_utc` accepts)."""
    return as_utc(value).astimezone(LOCAL_ZONE)


def format_local(value: datetime | date | str | pd.Timestamp, *, with_date: bool = True,
                 with_utc: bool = False, ms: bool = False) -> str:
    """Brussels time as people read it, with its zone name; ``with_utc`` adds the UTC clock in brackets,
    ``ms`` the milliseconds (video frames)."""
    moment, utc = local(value), as_utc(value)
    clock = "%H:%M:%S.%f" if ms else "%H:%M:%S"

    def cut(text: str) -> str:
        return text[:-3] if ms else text

    shown = f"{cut(moment.strftime(('%Y-%m-%d ' if with_date else '') + clock))} {moment:%Z}"
    return f"{shown} ({cut(utc.strftime(clock))} UTC)" if with_utc else shown


def format_utc(value: datetime | date | str | pd.Timestamp) -> str:
    """UTC with its offset, to the second, for evidence and exports (ISO 8601)."""
    return as_utc(value).replace(microsecond=0).isoformat()
