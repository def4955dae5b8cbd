"""What the JSON result parsers share: loading, times, paths, and building a row.

The JSON formats (Go ``test2json``, Jest, Playwright, Mocha and mochawesome,
Dart, RSpec, CTRF, Allure) each have a module of their own; this one holds
the pieces they have in common, so each parser reads as its format's rules.
Times are never invented: a row gets a ``start`` only when the format gives
that test's own start (a run's start is not a test's).
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from whyloop.errors import IngestError
from whyloop.ingest.tests.dotnet import make_row
from whyloop.ingest.tests.values import parse_timestamp, strip_ansi
from whyloop.schema import Outcome

__all__ = [
    "as_count",
    "clean_text",
    "common_dir",
    "epoch_ms",
    "first_line",
    "iso_time",
    "load_document",
    "load_lines",
    "relative",
    "result_row",
    "seconds",
]


def load_document(stream: BinaryIO, path: str, what: str) -> dict[str, Any]:
    """The file as one JSON object; :class:`IngestError` with the line when it is not one."""
    try:
        doc = json.load(stream)
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON ({exc.msg})", path=path, line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text ({exc.reason})", path=path) from None
    if not isinstance(doc, dict):
        raise IngestError(f"not a {what} document (not a JSON object)", path=path)
    return doc


def load_lines(stream: BinaryIO, path: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """JSON lines: ``(line number, object)`` for each readable line, and a warning per other line.

    Unreadable lines are counted in one warning naming the first of them, so a
    log full of non-JSON text does not give a warning per line.
    """
    records: list[tuple[int, dict[str, Any]]] = []
    bad: list[int] = []
    for lineno, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            bad.append(lineno)
            continue
        if isinstance(obj, dict):
            records.append((lineno, obj))
        else:
            bad.append(lineno)
    warnings = []
    if bad:
        warnings.append(
            f"{path}:{bad[0]}: {len(bad)} line(s) not a JSON object (first here); skipped"
        )
    return records, warnings


def epoch_ms(value: Any) -> datetime | None:
    """Milliseconds since the Unix epoch as a UTC datetime; ``None`` for anything else or 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return None
    if not math.isfinite(value):
        return None
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)
    except OverflowError:
        return None


def iso_time(value: Any) -> datetime | None:
    """An ISO-8601 string as a UTC datetime (``Z`` and offsets understood); else ``None``."""
    if not isinstance(value, str):
        return None
    return parse_timestamp(value.replace("Z", "+00:00") if value.endswith("Z") else value)


def seconds(value: Any, scale: float = 1.0) -> float | None:
    """A number of seconds (``value * scale``); ``None`` when missing, not a number or negative."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    out = float(value) * scale
    return out if math.isfinite(out) and out >= 0 else None


def as_count(value: Any) -> int | None:
    """A count from a tool's summary; ``None`` when it is not a whole number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() and value >= 0 else None


def clean_text(value: Any) -> str:
    """Text from a JSON value (``None`` -> ``""``), stripped, ANSI colour codes removed."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return strip_ansi(text).strip()


def first_line(text: str) -> str:
    """The first non-blank line of ``text``."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def common_dir(paths: list[str]) -> str:
    """The directory all ``paths`` share (``""`` when none or nothing in common).

    Used to give test files as paths relative to the run's root, so test ids
    do not change with the checkout's location; forward and back slashes alike.
    """
    dirs = [p.replace("\\", "/").rsplit("/", 1)[0] + "/" for p in paths if "/" in p or "\\" in p]
    if not dirs or len(dirs) != len(paths):
        return ""
    common = os.path.commonpath(dirs) if len({d[:1] == "/" for d in dirs}) == 1 else ""
    return common.rstrip("/") + "/" if common else ""


def relative(path: str, root: str) -> str:
    """``path`` without the leading ``root`` (see :func:`common_dir`), forward slashes."""
    path = path.replace("\\", "/")
    return path[len(root) :] if root and path.startswith(root) else path


def result_row(
    suite: str,
    classname: str,
    name: str,
    outcome: Outcome,
    *,
    test_id: str | None = None,
    rerun: int = 0,
    duration: float | None = None,
    start: datetime | None = None,
    stop: datetime | None = None,
    **text: Any,
) -> dict[str, Any]:
    """One row; ``text`` holds any of message, failure_type, details, stdout, stderr,
    markers and properties. ``stop`` defaults to start + duration when both are known."""
    row = make_row(suite, classname, name, outcome, duration, start, stop, **text)
    if test_id is not None:
        row["test_id"] = test_id
    row["rerun"] = rerun
    return row
