"""Field values as test-result files write them: durations, timestamps, coloured text.

Shared by every parser; pure functions of one value each. Times are also
given as integer microseconds since the Unix epoch (UTC), the form the
columnar rows (:class:`whyloop.ingest.tests.contract.ResultColumns`) keep them in.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "NO_TIME",
    "micros",
    "micros_of",
    "parse_seconds",
    "parse_timestamp",
    "strip_ansi",
]

#: "No time" in integer-microsecond columns: numpy's NaT (the smallest int64).
NO_TIME = -(2**63)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$")
_UNIT = re.compile(r"\s*(?:s|secs?|seconds?)$")
# an ANSI escape: CSI (colours, cursor), OSC (titles, links) or a two-byte one;
# ESC itself may be written as pytest's "#x1B" text
_ANSI = re.compile(
    r"(?:\x1b|#x1[bB])(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])"
)


def parse_seconds(text: str) -> float | None:
    """Read a duration in seconds written the odd ways tools write them.

    Accepts ``"1.5"``, ``"1,234.5"`` (thousands separators), ``"1,5"``
    (decimal comma), ``"1.5s"``, ``"00:01:02.5"`` (a .NET TimeSpan). Returns
    ``None`` when nothing sensible can be read, including negative values.
    """
    t = _UNIT.sub("", text.strip().lower())
    if "," in t:
        t = t.replace(",", "") if "." in t or t.count(",") > 1 else t.replace(",", ".")
    span = _TIMESPAN.match(t)
    try:
        if span:
            days, hours, minutes, secs = span.groups()
            value = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(secs)
        else:
            value = float(t)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse_timestamp(text: str | None) -> datetime | None:
    """An ISO-8601-ish timestamp as a UTC-aware datetime; naive values are taken as UTC.

    Returns ``None`` for empty, unreadable and zero (year 1, Go's zero time) values.
    """
    if not text:
        return None
    t = text.strip().replace("T ", "T")
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return None
    if dt.year < 1970:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def micros(seconds: float) -> int:
    """Whole microseconds in ``seconds``, rounded exactly as ``timedelta(seconds=...)`` does."""
    return timedelta(seconds=seconds) // _ONE_US


def micros_of(when: datetime | None) -> int | None:
    """A UTC-aware datetime as microseconds since the Unix epoch (``None`` stays ``None``)."""
    return None if when is None else (when - _EPOCH) // _ONE_US


def strip_ansi(text: str) -> str:
    """Remove ANSI colour/cursor escape sequences (raw, or written as ``#x1B``)."""
    return _ANSI.sub("", text) if "\x1b" in text or "#x1" in text else text
