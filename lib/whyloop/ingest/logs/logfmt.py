"""logfmt lines into the normalised logs table (pure: data in, table out).

logfmt (``time=2026-12-01T13:26:21Z level=warn msg="disk almost full"``) is
what Go's ``log/slog`` TextHandler, logrus, Heroku's router, structlog's
``LogfmtRenderer`` and Python's ``logfmter`` write. Each line is a record of
``key=value`` pairs, so it is read like a JSON line: the keys go through the
same candidates (:data:`~.fields.CANDIDATES`: ``time``/``ts``/``timestamp``,
``level``, ``msg``/``event``, ``logger``/``name``, …) and every other key is
kept as a text column (logfmt has no types). ``at`` is the level key of
Heroku and ``logfmter`` (``at=INFO``): it is read as the level where no
``level`` key is present. A key without a value (``ok``) is kept as an
empty string.

A line that is not logfmt (a traceback) continues the record before it, as
in other text logs; lines before the first logfmt line are message-only
records, with one counted warning. The lines are parsed in Python (a regex
per line), which is fine for the sizes logfmt logs come in but slower than
the vectorised readers of JSON and of other text formats.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.errors import IngestError
from whyloop.ingest.logs.encoding import Decoding
from whyloop.ingest.logs.fields import finish_candidates
from whyloop.ingest.logs.formats import LINE_FORMATS
from whyloop.ingest.logs.frame import STR, LogFormat, ParsedLogs, finish_table, join_records
from whyloop.ingest.logs.json import project_records
from whyloop.ingest.logs.lines import line_blocks

__all__ = ["parse_logfmt_line", "parse_logfmt_logs"]

_LINE = re.compile(LINE_FORMATS["logfmt"])
_PAIR = re.compile(r'([^\s="]+)(?:=("(?:[^"\\]|\\.)*"|[^\s"]*))?')


def parse_logfmt_line(line: str) -> dict[str, str] | None:
    """The pairs of one logfmt line (quoted values unquoted), or None when it is not logfmt."""
    if not _LINE.match(line):
        return None
    out: dict[str, str] = {}
    for key, value in _PAIR.findall(line):
        if value.startswith('"'):
            try:
                value = orjson.loads(value)  # Go's and Python's quoting are JSON's for text
            except orjson.JSONDecodeError:
                value = value[1:-1]
        out.setdefault(key, value)
    if "at" in out and "level" not in out:
        out["level"] = out.pop("at")
    return out


def parse_logfmt_logs(
    data: Path | bytes, *, name: str, explicit: bool = True, year: int | None = None
) -> ParsedLogs:
    """Parse logfmt lines from a path or bytes into a :class:`ParsedLogs` (``line_format="logfmt"``).

    ``name`` fills ``source`` and prefixes warnings; ``explicit`` says the
    format was given, not recognised: then no logfmt line at all is an
    error; ``year`` completes timestamps written without one.
    """
    records: list[dict[str, str]] = []
    texts: list[str | None] = []
    numbers: list[int] = []
    decoding = Decoding()
    for before, lines in line_blocks(data, decoding=decoding):
        for i, line in enumerate(lines.to_pylist(), before + 1):
            if not line.strip():
                continue
            pairs = parse_logfmt_line(line)
            records.append(pairs or {})
            texts.append(None if pairs is not None else line)
            numbers.append(i)
    starts = np.array([t is None for t in texts], dtype=bool)
    if not starts.any() and explicit:
        raise IngestError("no line is logfmt (key=value pairs)", path=name)
    warnings: list[str] = []
    if (warning := decoding.warning(name)) is not None:
        warnings.append(warning)
    table = project_records(records, name) if records else _empty()
    table = table.append_column("line", pa.array(numbers, pa.int64()))
    table = finish_candidates(table, name=name, warnings=warnings, year=year)
    message = table.column("message").cast(STR)
    table = table.set_column(
        table.column_names.index("message"),
        "message",
        pc.coalesce(pa.array(texts, STR), message),
    )
    before_first = int(np.argmax(starts)) if starts.any() else len(starts)
    if before_first and starts.any():
        warnings.append(
            f"{name}:1: {before_first} lines before the first logfmt line "
            "kept as message-only records"
        )
    table = join_records(table, starts)
    return ParsedLogs(finish_table(table), LogFormat.TEXT, warnings, line_format="logfmt")


def _empty() -> pa.Table:
    """The projected table of no records (a source of blank lines only)."""
    return pa.table({"message": pa.array([], STR), "source": pa.array([], STR)})
