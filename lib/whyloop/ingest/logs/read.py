"""``read_logs``: service logs from files, commands or URLs into one pandas DataFrame.

The pipeline reads as its steps: resolve the sources (:mod:`.sources`), detect
each one's format, parse it (:mod:`.json`, :mod:`.text`), stack the
tables, keep the time window, and convert to pandas once at the end.

Example::

    import whyloop
    logs = whyloop.read_logs("logs/*.jsonl.gz", since="2026-11-24T10:00Z")
    logs[logs.level.isin(["ERROR", "CRITICAL"])].groupby("service").size()
    logs.attrs["warnings"]      # ["app.log:57: invalid JSON (...); line skipped", ...]
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.errors import IngestError
from whyloop.ingest.logs.encoding import bom_codec, check_text, utf8_head, utf8_pieces
from whyloop.ingest.logs.frame import STR, LogFormat, ParsedLogs, finish_table, to_frame
from whyloop.ingest.logs.json import parse_json_logs
from whyloop.ingest.logs.sources import LogSource, SourceSpec, open_sources
from whyloop.ingest.logs.text import parse_text_logs
from whyloop.redact import redact_table

__all__ = ["FORMATS", "TimeBound", "parse_source", "read_logs"]

#: Values of ``read_logs(format=...)``.
FORMATS: tuple[str, ...] = ("auto", *(f.value for f in LogFormat))

_DURATION = re.compile(r"\d+(\.\d+)?\s*[a-zA-Z]+")

TimeBound = dt.datetime | dt.date | pd.Timestamp | dt.timedelta | str


def read_logs(
    source: SourceSpec | Sequence[SourceSpec] | None = None,
    *,
    format: str = "auto",
    command: str | Sequence[str] | None = None,
    url: str | None = None,
    since: TimeBound | None = None,
    until: TimeBound | None = None,
    max_bytes: int | None = None,
    line_format: str | None = None,
    regex: str | None = None,
    service: str | None = None,
    timeout: float = 30.0,
) -> pd.DataFrame:
    """Read logs into a DataFrame whose first columns are ``LOG_COLUMNS`` and ``level_raw``.

    Args:
        source: a path, a glob (``logs/*.jsonl.gz``; several files stack, the
            ``source`` column tells them apart), an ``http(s)://`` URL, log
            content as ``bytes``, or a list of these.
        format: ``auto`` (detected per source from its first bytes), ``json``,
            ``cloud-logging``, ``journald``, ``docker``, ``cri`` or ``text``.
        command: a command whose stdout is the log, as a list or a string
            (``["kubectl", "logs", "deploy/api"]``); run without a shell.
        url: an HTTP(S) endpoint whose body is the log.
        since, until: keep records with ``since <= timestamp < until``. A
            datetime or ISO string (naive means UTC), or a duration before now
            (``timedelta(hours=1)`` or ``"1h"``). Records without a timestamp
            are dropped then, with a warning.
        max_bytes: read at most this many bytes from each source (cut at a
            line end, with a warning).
        line_format: for text: a built-in name (see
            :data:`~whyloop.ingest.logs.formats.LINE_FORMATS`:
            ``python-logging``, ``tornado``, ``nginx-error``, ``combined``,
            ``syslog``, ``logfmt``, ``klog``, ``cri``, …) or a template such
            as ``"<Date> <Time> [<Level>] <Component>: <Content>"``, whose
            characters outside ``<Token>`` are literal (a loghub format
            string, which escapes them, ``\\[``, works too). Without one,
            the format is recognised per source from its first lines.
        regex: for text: a regular expression with named groups instead.
        service: the ``service`` of records whose source names none.
        timeout: seconds allowed for a command or a URL.

    Returns:
        The records, one per row, with every field the source had (dotted
        names for nested JSON). ``level`` is null where a record carries no
        level that can be read. ``df.attrs["format"]`` is the detected format
        (``"mixed"`` if sources differ), ``df.attrs["line_format"]`` the line
        format text was read with (a built-in name such as ``nginx-error``,
        ``line-format``, ``regex``; None for JSON and for text in which none
        was recognised), ``df.attrs["warnings"]`` one-line problems such as
        skipped lines or replaced bytes, ``df.attrs["sources"]`` what each
        source gave (its ``format`` and ``line_format`` too).

    Raises:
        IngestError: nothing readable (with one source: a binary file, for
            one), or no source at all; with several sources, one that fails
            becomes a warning.
    """
    if format not in FORMATS:
        raise IngestError(f"unknown log format {format!r}; use one of {', '.join(FORMATS)}")
    sources = open_sources(source, command=command, url=url, max_bytes=max_bytes, timeout=timeout)
    if not sources:
        raise IngestError("no log source: give a path, a glob, command= or url=")
    parsed: list[tuple[LogSource, ParsedLogs]] = []
    warnings: list[str] = []
    errors: list[IngestError] = []
    for src in sources:
        warnings += src.warnings
        try:
            result = parse_source(src, format=format, line_format=line_format, regex=regex)
        except IngestError as err:
            if len(sources) == 1:
                raise
            errors.append(err.at(src.name))
            warnings.append(f"{err}; source skipped")
            continue
        parsed.append((src, result))
        warnings += result.warnings
    if not parsed:
        raise errors[0]
    table = _stack([p.table for _, p in parsed])
    if service is not None:
        table = table.set_column(
            table.column_names.index("service"),
            "service",
            pc.fill_null(table.column("service"), service),
        )
    table = _window(table, since, until, warnings)
    frame = to_frame(redact_table(table))
    formats = {p.format.value for _, p in parsed}
    frame.attrs["format"] = formats.pop() if len(formats) == 1 else "mixed"
    line_formats = {p.line_format for _, p in parsed}
    frame.attrs["line_format"] = line_formats.pop() if len(line_formats) == 1 else "mixed"
    frame.attrs["warnings"] = warnings
    frame.attrs["sources"] = [
        {
            "source": s.name,
            "format": p.format.value,
            "line_format": p.line_format,
            "records": p.table.num_rows,
        }
        for s, p in parsed
    ]
    return frame


def parse_source(
    src: LogSource,
    *,
    format: str = "auto",
    line_format: str | None = None,
    regex: str | None = None,
) -> ParsedLogs:
    """Parse one resolved source, detecting JSON or text from its first bytes when ``format="auto"``.

    A source whose first bytes are not text is refused (:class:`IngestError`:
    ``looks binary, not a log``); UTF-16/32 with a byte-order mark is decoded.
    """
    data = src.path if src.data is None else src.data
    assert data is not None
    raw = src.head()
    check_text(raw, src.name)
    head = utf8_head(raw)
    if not head.strip():
        raise IngestError("empty: no log records", path=src.name)
    codec = bom_codec(raw)
    as_text = format in (LogFormat.TEXT, LogFormat.CRI) or (
        format == "auto" and (line_format or regex or not _looks_like_json(head))
    )
    if codec is not None and not as_text:
        # DuckDB reads JSON from UTF-8 files: decode it whole (text is decoded as it is read)
        data = b"".join(utf8_pieces(data, codec, 1 << 22))
    result = _parse(src, data, head, format=format, line_format=line_format, regex=regex)
    if not result.table.num_rows:
        raise IngestError("no log records", path=src.name)
    return result


def _parse(
    src: LogSource,
    data: Path | bytes,
    head: bytes,
    *,
    format: str,
    line_format: str | None,
    regex: str | None,
) -> ParsedLogs:
    if format == "auto":
        if line_format is not None or regex is not None or not _looks_like_json(head):
            return parse_text_logs(data, name=src.name, line_format=line_format, regex=regex)
        try:
            return parse_json_logs(data, name=src.name)
        except IngestError:  # braces, but not JSON: read it as text
            return parse_text_logs(data, name=src.name)
    if format == LogFormat.TEXT:
        return parse_text_logs(data, name=src.name, line_format=line_format, regex=regex)
    if format == LogFormat.CRI:
        return parse_text_logs(data, name=src.name, line_format="cri")
    return parse_json_logs(data, name=src.name, shape=LogFormat(format))


def _looks_like_json(head: bytes) -> bool:
    """A JSON object per line, or an array of objects (``[2024-…] INFO`` is text)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return True
    return text.startswith(b"[") and text[1:].lstrip()[:1] in (b"{", b"]")


def _stack(tables: list[pa.Table]) -> pa.Table:
    """Concatenate tables with different columns; a column typed differently becomes text."""
    if len(tables) == 1:
        return tables[0]
    types: dict[str, set[pa.DataType]] = {}
    for t in tables:
        for f in t.schema:
            if not pa.types.is_null(f.type):
                types.setdefault(f.name, set()).add(f.type)
    clash = {name for name, seen in types.items() if len(seen) > 1}
    if clash:
        tables = [
            t.cast(pa.schema([pa.field(f.name, STR) if f.name in clash else f for f in t.schema]))
            for t in tables
        ]
    return finish_table(pa.concat_tables(tables, promote_options="permissive"))


def _bound(value: TimeBound) -> pd.Timestamp:
    if isinstance(value, str) and _DURATION.fullmatch(value.strip()):
        value = pd.Timedelta(value.strip())  # "90m", "1h", "2d": that long before now
    if isinstance(value, dt.timedelta):
        return pd.Timestamp.now(tz="UTC") - value
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise IngestError(f"cannot read {value!r} as a time or a duration") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _window(
    table: pa.Table, since: TimeBound | None, until: TimeBound | None, warnings: list[str]
) -> pa.Table:
    """Keep ``since <= timestamp < until``; records without a time are dropped, with a count."""
    if since is None and until is None:
        return table
    stamp = table.column("timestamp")
    keep = pc.is_valid(stamp)
    if since is not None:
        keep = pc.and_(
            keep, pc.greater_equal(stamp, pa.scalar(_bound(since).to_pydatetime(), stamp.type))
        )
    if until is not None:
        keep = pc.and_(keep, pc.less(stamp, pa.scalar(_bound(until).to_pydatetime(), stamp.type)))
    missing = stamp.null_count
    if missing:
        warnings.append(f"{missing} records without a timestamp dropped by since/until")
    return table.filter(pc.fill_null(keep, False))
