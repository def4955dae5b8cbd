"""Plain-text logs into the normalised logs table (pure: data in, table out).

A line format names the parts of a line (:mod:`.formats`): a built-in name
(``python-logging``, ``tornado``, ``nginx-error``, ``combined``, ``syslog``,
``logfmt``, ``klog``, ``cri``, …), a template whose ``<Token>`` parts become
named groups (``<Date> <Time> [<Level>] <Component>: <Content>``; loghub's
``formats.json`` works unchanged), or a regular expression with named groups.
Without one, the format is recognised among the built-ins from the first
lines of each source and recorded as its ``line_format``; a source in which
none is recognised is read as one message per non-blank line, without a
time or a level.

Tokens map to canonical columns case-insensitively: ``Content``/``Message``
→ message, ``Level``/``Severity`` → level (or a syslog ``Pri``: its
severity), ``Component``/``Service``/``Logger``/``Program`` → service,
``Date`` + ``Time`` (or ``Datetime``, ``Timestamp``, …) → timestamp; every
other token is kept as a column of its own. A line format without a level
gives records without one (null), never an invented ``INFO``.

A line that does not match the format continues the record before it (a
traceback, a stack trace, a wrapped message): it is appended to that
record's message after a newline, not dropped and not warned about. Lines
before the first match are kept as message-only records, with one counted
warning.

Extraction runs as RE2 regular expressions in DuckDB (vectorised and
parallel); a pattern RE2 cannot compile (look-arounds, back-references) falls
back to Python's ``re``. Kubernetes/CRI container lines
(``2016-10-06T00:17:09.669794202Z stdout F message``) are a built-in format
whose partial lines (``P``) are joined and whose JSON messages are lifted;
logfmt lines are read by :mod:`.logfmt`.

The text goes through a block of lines at a time, so that peak memory is the
result plus a few blocks, not several copies of the file: lines are read and
matched per block (:mod:`.lines`), records are joined across block ends
(:mod:`.records`) and times read per block
(:class:`~.logs_times.BlockTimes`); the result does not depend on the block
size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.errors import IngestError
from whyloop.ingest.logs.encoding import Decoding
from whyloop.ingest.logs.formats import (
    LINE_FORMATS,
    detect_line_format,
    line_format_regex,
    named_only,
    resolve_format,
)
from whyloop.ingest.logs.frame import (
    FRAME_COLUMNS,
    STR,
    LogFormat,
    ParsedLogs,
    apply_levels,
    constant,
    finish_table,
    release_unused,
)
from whyloop.ingest.logs.json import lift_json_messages
from whyloop.ingest.logs.lines import LineMatcher, head_bytes, line_blocks, split_lines
from whyloop.ingest.logs.logfmt import parse_logfmt_logs
from whyloop.ingest.logs.records import CriRecords, TextRecords
from whyloop.ingest.logs.times import BlockTimes

__all__ = [
    "LINE_FORMATS",
    "detect_line_format",
    "line_format_regex",
    "parse_text_logs",
    "split_lines",
]

_MESSAGE = ("content", "message", "msg")
_LEVEL = ("level", "severity", "levelname", "lvl", "loglevel")
_SERVICE = ("service", "component", "logger", "program", "app", "application")
_REVISION = ("revision", "version")
_TRACE = ("trace", "traceid", "trace_id")
_REQUEST = ("requestid", "request_id", "reqid", "req_id")
_TIME = ("datetime", "timestamp", "asctime", "time", "date")


def parse_text_logs(
    data: Path | bytes,
    *,
    name: str,
    line_format: str | None = None,
    regex: str | None = None,
    year: int | None = None,
) -> ParsedLogs:
    """Parse plain-text logs from a path or bytes into a :class:`ParsedLogs`.

    ``line_format`` is a built-in name or a template, ``regex`` a pattern
    with named groups; with neither, the format is recognised among the
    built-ins from the first lines, else every non-blank line is one record
    (no time, no level). ``name`` fills ``source``; ``year`` completes
    timestamps written without one. The text is read and matched a block at
    a time (see :mod:`.lines`); the result's ``line_format`` says which
    format was used.
    """
    explicit = line_format is not None or regex is not None
    if not explicit:
        line_format = detect_line_format(head_bytes(data))
    if line_format == "logfmt" and regex is None:
        return parse_logfmt_logs(data, name=name, explicit=explicit, year=year)
    warnings: list[str] = []
    decoding = Decoding()
    if line_format is None and regex is None:
        blocks = line_blocks(data, decoding=decoding)
        table = pa.concat_tables([_plain(lines, before) for before, lines in blocks])
        table = _with_source(_one_chunk(table, ("line",)), name)
        _decoding_warning(decoding, name, warnings)
        return ParsedLogs(finish_table(table), LogFormat.TEXT, warnings)
    label, pattern = resolve_format(line_format, regex)
    pattern, groups = named_only(pattern)
    if not groups:
        raise IngestError("the line format has no named groups (use (?P<Content>...))", path=name)
    with BlockTimes(name=name, year=year) as times, LineMatcher(pattern, groups) as matcher:
        records = (
            CriRecords(name=name, sink=times.add)
            if label == "cri"
            else TextRecords(name=name, explicit=explicit, sink=times.add)
        )
        for before, lines in line_blocks(data, decoding=decoding):
            tokens, matched = matcher.match(lines)
            block = _extract(lines, tokens, matched, groups, before)
            del lines, tokens  # what the block keeps is in its table now
            records.add(block, matched, before)
            del block
            release_unused()
        records.finish(warnings)
        table = times.finish(warnings)
    _decoding_warning(decoding, name, warnings)
    table = _with_source(_one_chunk(table, ("line", "timestamp")), name)
    release_unused()
    table = apply_levels(table, [c for c in table.column_names if c.startswith("__level_")])
    if label == "cri":
        table = lift_json_messages(table, name=name, warnings=warnings, year=year)
    fmt = LogFormat.CRI if label == "cri" else LogFormat.TEXT
    return ParsedLogs(finish_table(table), fmt, warnings, line_format=label)


def _decoding_warning(decoding: Decoding, name: str, warnings: list[str]) -> None:
    if (warning := decoding.warning(name)) is not None:
        warnings.append(warning)


def _one_chunk(table: pa.Table, names: tuple[str, ...]) -> pa.Table:
    """``table`` with the columns ``names`` in one chunk each.

    pandas holds a number column as one array: joined here, where the blocks'
    chunks can be freed at once, it is handed to pandas without a copy.
    """
    for name in names:
        i = table.column_names.index(name)
        table = table.set_column(i, name, table.column(i).combine_chunks())
    return table


def _with_source(table: pa.Table, name: str) -> pa.Table:
    return table.append_column("source", constant(table.num_rows, name))


def _plain(lines: pa.Array, before: int) -> pa.Table:
    numbers = np.arange(before + 1, before + len(lines) + 1)
    keep = pc.greater(pc.utf8_length(pc.utf8_rtrim_whitespace(lines)), 0)
    return pa.table({"message": lines, "line": pa.array(numbers)}).filter(keep)


def _extract(
    lines: pa.Array,
    tokens: dict[str, pa.Array],
    matched: np.ndarray,
    groups: list[str],
    before: int,
) -> pa.Table:
    """A block's raw columns: canonical names, ``__level_N`` and ``__time_N``, and other groups.

    ``message`` is the line itself where it did not match; canonical columns
    no group fills are left to :func:`~.logs_frame.finish_table`.
    """
    by_lower: dict[str, str] = {}
    for g in groups:
        by_lower.setdefault(g.lower(), g)

    def first(keys: tuple[str, ...]) -> str | None:
        return next((by_lower[k] for k in keys if k in by_lower), None)

    n = len(lines)
    cols: dict[str, pa.Array] = {}
    used: set[str] = set()
    times = []
    if "date" in by_lower and "time" in by_lower:
        times.append(
            pc.binary_join_element_wise(
                tokens[by_lower["date"]], tokens[by_lower["time"]], pa.scalar(" ", STR)
            )
        )
    times += [tokens[by_lower[k]] for k in _TIME if k in by_lower]
    used.update(by_lower[k] for k in _TIME if k in by_lower)
    for i, col in enumerate(times):
        cols[f"__time_{i}"] = col
    content = first(_MESSAGE)
    if content is None or not matched.any():
        cols["message"] = lines
    elif matched.all():
        cols["message"] = tokens[content]
    else:
        cols["message"] = pc.if_else(pa.array(matched), tokens[content], lines)
    for column, keys in (
        ("service", _SERVICE),
        ("revision", _REVISION),
        ("trace_id", _TRACE),
        ("request_id", _REQUEST),
    ):
        g = first(keys)
        if g:
            cols[column] = tokens[g]
            used.add(g)
    level = first(_LEVEL)
    if level:
        cols["__level_0"] = tokens[level]
    elif "pri" in by_lower:  # syslog <PRI>: the severity is PRI mod 8
        pri = pc.cast(tokens[by_lower["pri"]], pa.int64())
        cols["__level_0"] = pc.cast(pc.bit_wise_and(pri, 7), STR)  # Pri stays: the facility
    # An access log's HTTP status is not a level: such records have none.
    used.update(g for g in (content, level) if g)
    cols["line"] = pa.array(np.arange(before + 1, before + n + 1))
    taken = {c.lower() for c in cols} | set(FRAME_COLUMNS)
    for g in groups:
        if g not in used:
            cols[g if g.lower() not in taken else f"{g}_1"] = tokens[g]
    return pa.table(cols)
