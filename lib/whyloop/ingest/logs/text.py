"""Plain-text logs into the normalised logs table (pure: data in, table out).

A line format names the parts of a line. It is given as

* a loghub-style format string, ``<Date> <Time> <Level> <Component>: <Content>``:
  each ``<Token>`` becomes a named group (``.*?``) and runs of spaces match
  any whitespace, exactly as loghub's parsers do, so its ``formats.json``
  works unchanged;
* a regular expression with named groups (``(?P<Level>\\w+)``); or
* the name of a built-in format in :data:`LINE_FORMATS` (``python-logging``,
  ``syslog``, ``combined``, ``klog``, ``cri``).

Tokens map to canonical columns case-insensitively: ``Content``/``Message``
→ message, ``Level``/``Severity`` → level, ``Component``/``Service``/``Logger``/
``Program`` → service, ``Date`` + ``Time`` (or ``Datetime``, ``Timestamp``, …)
→ timestamp; every other token is kept as a column of its own.

A line that does not match the format continues the record before it (a
traceback, a stack trace, a wrapped message): it is appended to that
record's message after a newline, not dropped and not warned about. Lines
before the first match are kept as message-only records, with one counted
warning. Without a format every non-blank line is one record.

Extraction runs as RE2 regular expressions in DuckDB (vectorised and
parallel); a pattern RE2 cannot compile (look-arounds, back-references) falls
back to Python's ``re``. Kubernetes/CRI container lines
(``2016-10-06T00:17:09.669794202Z stdout F message``) are a built-in format
whose partial lines (``P``) are joined and whose JSON messages are lifted.

The text goes through a block of lines at a time, so that peak memory is the
result plus a few blocks, not several copies of the file: lines are read and
matched per block (:mod:`.lines`), records are joined across block ends
(:mod:`.records`) and times read per block
(:class:`~.logs_times.BlockTimes`); the result does not depend on the block
size.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.errors import IngestError
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
from whyloop.ingest.logs.records import CriRecords, TextRecords
from whyloop.ingest.logs.times import BlockTimes

__all__ = [
    "LINE_FORMATS",
    "detect_line_format",
    "line_format_regex",
    "parse_text_logs",
    "split_lines",
]

#: Built-in line formats, by name.
LINE_FORMATS: dict[str, str] = {
    # logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    "python-logging": (
        r"^(?P<Date>\d{4}-\d\d-\d\d)[ T](?P<Time>\d\d:\d\d:\d\d(?:[,.]\d+)?)\s+"
        r"(?P<Level>[A-Za-z]+)\s+(?P<Logger>[^\s:]+):\s?(?P<Content>.*)$"
    ),
    # RFC 3164 (and ISO-timestamped) syslog lines, with an optional <PRI>.
    "syslog": (
        r"^(?:<(?P<Pri>\d{1,3})>)?(?P<Datetime>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|"
        r"\d{4}-\d\d-\d\dT\S+) (?P<Host>\S+) (?P<Program>[^\s\[:]+)(?:\[(?P<Pid>\d+)\])?:"
        r" ?(?P<Content>.*)$"
    ),
    # nginx / Apache combined (and common) access log.
    "combined": (
        r"^(?P<Client>\S+) (?P<Ident>\S+) (?P<User>\S+) \[(?P<Datetime>[^\]]+)\] "
        r'"(?P<Content>[^"]*)" (?P<Status>\d{3}) (?P<Bytes>\S+)'
        r'(?: "(?P<Referer>[^"]*)" "(?P<UserAgent>[^"]*)")?.*$'
    ),
    # Kubernetes components (klog / glog): I0506 13:45:12.123456   12345 file.go:123] msg
    "klog": (
        r"^(?P<Level>[IWEF])(?P<Date>\d{4}) (?P<Time>\d\d:\d\d:\d\d\.\d+)\s+(?P<Thread>\d+) "
        r"(?P<File>[^\]\s]+)\] (?P<Content>.*)$"
    ),
    "cri": r"^(?P<time>\d{4}-\S+) (?P<stream>stdout|stderr) (?P<tag>[^ ]+)(?: (?P<Content>.*))?$",
}

_MESSAGE = ("content", "message", "msg")
_LEVEL = ("level", "severity", "levelname", "lvl", "loglevel")
_SERVICE = ("service", "component", "logger", "program", "app", "application")
_REVISION = ("revision", "version")
_TRACE = ("trace", "traceid", "trace_id")
_REQUEST = ("requestid", "request_id", "reqid", "req_id")
_TIME = ("datetime", "timestamp", "asctime", "time", "date")
_GROUP = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")


def line_format_regex(line_format: str) -> str:
    """Turn a loghub format string (``<Date> <Time> <Content>``) into a regex, as loghub does."""
    regex = ""
    for k, part in enumerate(re.split(r"(<[^<>]+>)", line_format)):
        if k % 2 == 0:
            regex += re.sub(" +", r"\\s+", part)
        else:
            token = re.sub(r"\W", "_", part.strip("<>"))
            regex += f"(?P<{token}>.*?)"
    return "^" + regex + "$"


def _named_only(pattern: str) -> tuple[str, list[str]]:
    """Make unnamed groups non-capturing and list the named ones in order.

    DuckDB names ``regexp_extract`` results by group position, so every
    capturing group must be one of the named ones.
    """
    out: list[str] = []
    names: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            j = i + 1 + (pattern[i + 1 : i + 2] == "^")
            j += pattern[j : j + 1] == "]"  # a leading ] is literal
            out.append(pattern[i:j])
            i = j
            continue
        elif c == "(":
            m = _GROUP.match(pattern, i)
            if m:
                names.append(m.group(1))
                out.append(f"(?P<{m.group(1)}>")
                i = m.end()
                continue
            if pattern[i + 1 : i + 2] != "?":
                out.append("(?:")
                i += 1
                continue
        out.append(c)
        i += 1
    return "".join(out), names


def resolve_format(line_format: str | None = None, regex: str | None = None) -> tuple[str, str]:
    """Return ``(label, regex)`` for a built-in name, a loghub format string or a regex."""
    if regex is not None:
        return "regex", regex
    if line_format is None:
        raise ValueError("give line_format or regex")
    if line_format in LINE_FORMATS:
        return line_format, LINE_FORMATS[line_format]
    if "<" not in line_format:
        raise IngestError(
            f"unknown line format {line_format!r}: give a built-in name "
            f"({', '.join(LINE_FORMATS)}), a '<Date> <Level> <Content>' format or regex="
        )
    return "line-format", line_format_regex(line_format)


def detect_line_format(head: bytes) -> str | None:
    """Name the built-in format that most of the first lines match (a third at least), or None."""
    lines = [x for x in head.decode("utf-8", "replace").splitlines()[:200] if x.strip()]
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines = lines[:-1]  # the last line may be cut
    best, hits = None, 0
    for name, pattern in LINE_FORMATS.items():
        rx = re.compile(pattern)
        count = sum(1 for x in lines if rx.search(x))
        if count > hits:
            best, hits = name, count
    return best if lines and hits * 3 >= len(lines) else None


def parse_text_logs(
    data: Path | bytes,
    *,
    name: str,
    line_format: str | None = None,
    regex: str | None = None,
    year: int | None = None,
) -> ParsedLogs:
    """Parse plain-text logs from a path or bytes into a :class:`ParsedLogs`.

    ``line_format`` is a built-in name or a loghub format string, ``regex`` a
    pattern with named groups; with neither, the format is detected among
    the built-ins, else every non-blank line is one record. ``name`` fills
    ``source``; ``year`` completes timestamps written without one. The text
    is read and matched a block at a time (see :mod:`.lines`).
    """
    explicit = line_format is not None or regex is not None
    if not explicit:
        line_format = detect_line_format(head_bytes(data))
    warnings: list[str] = []
    if line_format is None and regex is None:
        table = pa.concat_tables([_plain(lines, before) for before, lines in line_blocks(data)])
        table = _with_source(_one_chunk(table, ("line",)), name)
        return ParsedLogs(finish_table(table), LogFormat.TEXT, warnings)
    label, pattern = resolve_format(line_format, regex)
    pattern, groups = _named_only(pattern)
    if not groups:
        raise IngestError("the line format has no named groups (use (?P<Content>...))", path=name)
    with BlockTimes(name=name, year=year) as times, LineMatcher(pattern, groups) as matcher:
        records = (
            CriRecords(name=name, sink=times.add)
            if label == "cri"
            else TextRecords(name=name, explicit=explicit, sink=times.add)
        )
        for before, lines in line_blocks(data):
            tokens, matched = matcher.match(lines)
            block = _extract(lines, tokens, matched, groups, before)
            del lines, tokens  # what the block keeps is in its table now
            records.add(block, matched, before)
            del block
            release_unused()
        records.finish(warnings)
        table = times.finish(warnings)
    table = _with_source(_one_chunk(table, ("line", "timestamp")), name)
    release_unused()
    table = apply_levels(table, [c for c in table.column_names if c.startswith("__level_")])
    if label == "cri":
        table = lift_json_messages(table, name=name, warnings=warnings, year=year)
    return ParsedLogs(
        finish_table(table), LogFormat.CRI if label == "cri" else LogFormat.TEXT, warnings
    )


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
        cols["__level_0"] = pc.cast(pc.bit_wise_and(pri, 7), STR)
        used.add(by_lower["pri"])
    elif "status" in by_lower:  # access logs: 5xx is an error, 4xx a warning
        status = tokens[by_lower["status"]]
        cols["__level_0"] = pc.if_else(
            pc.starts_with(status, "5"),
            "ERROR",
            pc.if_else(pc.starts_with(status, "4"), "WARNING", "INFO"),
        )
    used.update(g for g in (content, level) if g)
    cols["line"] = pa.array(np.arange(before + 1, before + n + 1))
    taken = {c.lower() for c in cols} | set(FRAME_COLUMNS)
    for g in groups:
        if g not in used:
            cols[g if g.lower() not in taken else f"{g}_1"] = tokens[g]
    return pa.table(cols)
