"""The normalised logs frame, shared by the JSON and text log parsers (pure).

Both parsers produce an Arrow table whose first columns are
:data:`whyloop.schema.LOG_COLUMNS` plus ``level_raw``, followed by every other
field of the source under its own (dotted) name. This module holds what they
share: the formats enum, the :class:`ParsedLogs` result, level mapping (a
lookup per distinct value, not per row), record joining for multi-line
records, and the final conversion to pandas.

Levels: ``level`` is one of :data:`~whyloop.schema.LOG_LEVELS`, or null
when the record carries no level that can be read. Names map
case-insensitively through :data:`LEVEL_ALIASES` (``warn``/``W`` → WARNING,
``severe``/``E`` → ERROR, ``crit``/``fatal``/``alert``/``emerg`` → CRITICAL,
…). Numbers map by range: 0-7 as syslog severities (journald ``PRIORITY``,
a syslog ``<PRI>`` mod 8), 10-60 as pino/bunyan levels, 100-800 as Cloud
Logging severities. No level field, a value that names no level, and Cloud
Logging's ``DEFAULT`` (which means "no severity assigned") give a null
``level``, never an invented ``INFO``; the original value is kept in
``level_raw``, so nothing is lost. Times are read by
:mod:`whyloop.ingest.logs.times`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.schema import LOG_COLUMNS

__all__ = [
    "BATCH_ROWS",
    "FRAME_COLUMNS",
    "LEVEL_ALIASES",
    "REPEAT_ROWS",
    "STR",
    "TS_TYPE",
    "LogFormat",
    "ParsedLogs",
    "apply_levels",
    "batched",
    "connect",
    "constant",
    "finish_table",
    "join_records",
    "normalise_level",
    "null_column",
    "quote_ident",
    "quote_str",
    "release_unused",
    "repeated",
    "spread",
    "to_frame",
]


class LogFormat(StrEnum):
    """The log formats :func:`whyloop.read_logs` reads; recorded in ``df.attrs["format"]``."""

    JSON = "json"
    CLOUD_LOGGING = "cloud-logging"
    JOURNALD = "journald"
    DOCKER = "docker"
    CRI = "cri"
    TEXT = "text"


#: The string type of logs tables: pandas' ``str`` dtype holds large strings, so
#: producing them up front makes the final conversion copy-free.
STR = pa.large_string()
#: The timestamp type of logs tables.
TS_TYPE = pa.timestamp("us", tz="UTC")

#: Canonical columns of every logs frame, in order: LOG_COLUMNS, then the raw level.
FRAME_COLUMNS: tuple[str, ...] = (*LOG_COLUMNS, "level_raw")

_COLUMN_TYPES: dict[str, pa.DataType] = {
    name: STR for name in FRAME_COLUMNS if name not in ("timestamp", "line")
}
_COLUMN_TYPES["timestamp"] = TS_TYPE
_COLUMN_TYPES["line"] = pa.int64()


@dataclass
class ParsedLogs:
    """What a log parser returns for one source.

    ``table`` starts with :data:`FRAME_COLUMNS` (see :func:`finish_table`);
    ``warnings`` are one-line problems (``app.log:57: invalid JSON (...)``) with
    records that were skipped or still read; ``format`` is what was detected;
    ``line_format`` names the line format text was read with (a built-in
    name such as ``nginx-error``, ``line-format`` or ``regex`` when given),
    None for JSON and for text in which no line format was recognised.
    """

    table: pa.Table
    format: LogFormat
    warnings: list[str] = field(default_factory=list)
    line_format: str | None = None


#: Level names (upper case) and what they normalise to.
LEVEL_ALIASES: dict[str, str] = {
    # Cloud Logging's DEFAULT is not here: it means "no severity assigned" (null).
    **dict.fromkeys(("INFO", "I", "INF", "INFORMATION", "INFORMATIONAL"), "INFO"),
    **dict.fromkeys(("DEBUG", "D", "DBG", "FINE", "CONFIG"), "DEBUG"),
    **dict.fromkeys(("WARNING", "WARN", "W", "WRN"), "WARNING"),
    **dict.fromkeys(("ERROR", "ERR", "E", "SEVERE", "EROR"), "ERROR"),
    **dict.fromkeys(("NOTICE", "N"), "NOTICE"),
    **dict.fromkeys(("TRACE", "TRC", "FINER", "FINEST", "VERBOSE", "V"), "TRACE"),
    **dict.fromkeys(
        ("CRITICAL", "CRIT", "FATAL", "FTL", "F", "ALERT", "EMERG", "EMERGENCY", "PANIC", "C"),
        "CRITICAL",
    ),
}
_SYSLOG = ("CRITICAL", "CRITICAL", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG")


def normalise_level(value: object) -> str | None:
    """Return the LOG_LEVELS name for one raw level, or None when it names none."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return _known_level(str(value))


def _numeric_level(number: int) -> str | None:
    if 0 <= number <= 7:
        return _SYSLOG[number]
    if 10 <= number <= 50:  # pino / bunyan
        return ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")[(number - 1) // 10]
    if 50 < number < 100:
        return "CRITICAL"
    if 100 <= number < 600:  # Cloud Logging
        return ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR")[number // 100 - 1]
    return "CRITICAL" if number >= 600 else None


def quote_ident(name: str) -> str:
    """Quote ``name`` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_str(text: str) -> str:
    """Quote ``text`` as a DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def apply_levels(table: pa.Table, candidates: list[str]) -> pa.Table:
    """Set ``level`` and ``level_raw`` from raw level columns (best first), dropping them.

    Each candidate's distinct values are mapped once through :func:`normalise_level`
    and looked up per row (a dictionary lookup, not a per-row Python loop); a
    row takes the first candidate that names a level, else null.
    ``level_raw`` is the value that was used, or the first one present.
    """
    n = table.num_rows
    level = used = first = None
    for name in candidates:
        raw = table.column(name)
        if raw.type != STR:
            raw = raw.cast(STR)
        mapped = _map_levels(raw)
        if level is None:
            level, used, first = mapped, raw, raw
            continue
        used = pc.if_else(pc.is_valid(level), used, pc.if_else(pc.is_valid(mapped), raw, None))
        level = pc.coalesce(level, mapped)
        first = pc.coalesce(first, raw)
    if level is None:
        level, raw_used = pa.nulls(n, STR), pa.nulls(n, STR)
    else:
        raw_used = used if len(candidates) == 1 else pc.coalesce(used, first)
    table = table.drop_columns(candidates)
    for name, col in (("level", level), ("level_raw", raw_used)):
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, col)
        else:
            table = table.append_column(name, col)
    return table


def _map_levels(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """Map a string column to level names, one hash pass per chunk and a dict lookup per distinct value."""
    cache: dict[str | None, str | None] = {}
    chunks = []
    for chunk in raw.chunks:
        encoded = chunk.dictionary_encode()
        values = encoded.dictionary.to_pylist()
        names = []
        for value in values:
            if value not in cache:
                cache[value] = _known_level(value)
            names.append(cache[value])
        # Where every value already is its level name (``INFO``), the chunk is
        # its own mapping: share it rather than build a copy.
        chunks.append(chunk if names == values else pa.array(names, STR).take(encoded.indices))
    return pa.chunked_array(chunks, STR)


def _known_level(value: str | None) -> str | None:
    """The level ``value`` names, or None when it names none (missing, unknown, DEFAULT)."""
    if value is None or value.strip().upper() == "DEFAULT":
        return None
    text = value.strip().upper()
    if text in LEVEL_ALIASES:
        return LEVEL_ALIASES[text]
    try:
        return _numeric_level(int(float(text)))
    except (ValueError, OverflowError):
        return None


def spread(
    values: pa.ChunkedArray | pa.Array, rows: np.ndarray | list[int], n: int
) -> pa.ChunkedArray:
    """A length-``n`` column holding ``values`` at ``rows`` and nulls elsewhere."""
    index = np.full(n, -1, dtype=np.int64)
    index[np.asarray(rows, dtype=np.int64)] = np.arange(len(rows))
    taken = values.take(pa.array(index, mask=index < 0))
    return taken if isinstance(taken, pa.ChunkedArray) else pa.chunked_array([taken])


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection in UTC (naive times are read as UTC); close it after use."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET arrow_large_buffer_size = true")  # large_string, as pandas keeps it
    return con


#: Rows per batch of a table handed to DuckDB: it scans the batches of one
#: table in parallel, and a column of one chunk would be read by one thread.
BATCH_ROWS = 32768


def batched(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` as chunks of at most :data:`BATCH_ROWS` rows (slices, not copies)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    return pa.chunked_array(
        [c.slice(i, BATCH_ROWS) for c in chunks for i in range(0, len(c), BATCH_ROWS)],
        values.type,
    )


def join_records(
    table: pa.Table, starts: np.ndarray, *, column: str = "message", sep: str = "\n"
) -> pa.Table:
    """Merge each row that does not start a record into the record before it.

    ``starts[i]`` is true where row ``i`` begins a new record; the others have
    their ``column`` text appended to that record's (joined by ``sep``; with
    a newline, line ends at the end of the joined text are dropped) and are
    dropped. Rows before the first start stay as records of their own. A
    source without continuation rows costs one pass over ``starts``; the
    joining runs in Arrow, without a Python string per row.
    """
    n = len(starts)
    if n == 0 or starts.all():
        return table
    keep = starts.copy()
    keep[: int(np.argmax(starts)) if starts.any() else n] = True  # before the first start
    size = np.diff(np.append(np.flatnonzero(keep), n))  # rows in each record
    merged = size > 1
    # filter, not take: take joins a chunked column into one array first.
    parts = table.column(column).filter(pa.array(np.repeat(merged, size))).cast(STR)
    parts = pc.fill_null(parts.combine_chunks() if parts.num_chunks else pa.array([], STR), "")
    offsets = np.zeros(int(merged.sum()) + 1, dtype=np.int64)
    np.cumsum(size[merged], out=offsets[1:])
    joined = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array(offsets), parts), pa.scalar(sep, STR)
    )
    if sep == "\n":
        joined = pc.utf8_rtrim(joined, characters="\r\n")
    out = table.filter(pa.array(keep))
    col = pc.replace_with_mask(out.column(column).cast(STR), pa.array(merged), joined)
    return out.set_column(out.column_names.index(column), column, col)


def release_unused() -> None:
    """Hand memory that Arrow's allocator freed back to the system.

    mimalloc, pyarrow's default allocator, keeps freed pages resident for
    reuse; a parser that allocates and frees a block's worth at each step
    would otherwise hold tens of MB it no longer uses at its peak.
    """
    pa.default_memory_pool().release_unused()


#: Rows in each chunk of a column that repeats one value (see :func:`repeated`).
REPEAT_ROWS = 1 << 16


def repeated(chunk: pa.Array, n: int) -> pa.ChunkedArray:
    """A length-``n`` column of ``chunk`` over and over (``chunk`` holds one value repeated).

    Arrow arrays are immutable, so the chunks can all be the same array: the
    column costs the memory of one chunk however long it is (a 45-character
    ``source`` repeated a million times is 3.4 MB, not 53 MB). pandas keeps the
    chunks as they are.
    """
    size = len(chunk)
    full, rest = divmod(n, size) if size else (0, 0)
    chunks = [chunk] * full + ([chunk.slice(0, rest)] if rest else [])
    return pa.chunked_array(chunks, chunk.type)


def constant(n: int, value: str) -> pa.ChunkedArray:
    """A string column repeating ``value`` ``n`` times (built in Arrow, one chunk's memory)."""
    size = min(n, REPEAT_ROWS)
    chunk = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(size, dtype=np.int32)), pa.array([value], STR)
    ).cast(STR)
    return repeated(chunk, n)


def null_column(n: int, kind: pa.DataType) -> pa.ChunkedArray:
    """A column of ``n`` nulls of type ``kind`` (one chunk's memory, see :func:`repeated`)."""
    return repeated(pa.nulls(min(n, REPEAT_ROWS), kind), n)


def finish_table(table: pa.Table) -> pa.Table:
    """Return ``table`` with every FRAME_COLUMNS column present, typed and first.

    Missing canonical columns are added as nulls (``level`` too: no level was read);
    ``timestamp`` is cast to ``timestamp[us, UTC]``; other columns follow in
    their order, and types other than strings, numbers, booleans and
    timestamps are turned into strings.
    """
    n = table.num_rows
    cols: dict[str, pa.ChunkedArray | pa.Array] = {}
    for name in FRAME_COLUMNS:
        want = _COLUMN_TYPES[name]
        if name in table.column_names:
            col = table.column(name)
            if col.type != want:
                col = col.cast(want)
        else:
            col = null_column(n, want)
        cols[name] = col
    for name in table.column_names:
        if name in cols:
            continue
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = col.cast(TS_TYPE) if col.type.tz else pc.assume_timezone(col, "UTC").cast(TS_TYPE)
        elif pa.types.is_string(col.type):
            col = col.cast(STR)
        elif not (
            pa.types.is_large_string(col.type)
            or pa.types.is_integer(col.type)
            or pa.types.is_floating(col.type)
            or pa.types.is_boolean(col.type)
        ):
            col = col.cast(STR) if not pa.types.is_null(col.type) else null_column(n, STR)
        cols[name] = col
    return pa.table(cols)


def _string_mapper(arrow_type: pa.DataType) -> object:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        # pandas' default string dtype, built without copying Arrow's chunks.
        return pd.StringDtype("pyarrow", na_value=np.nan)
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    return None


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Convert a finished logs table to pandas.

    Strings use pandas' default ``str`` dtype (Arrow-backed, no copy),
    integers the nullable ``Int64`` (``line`` plain ``int64``), timestamps
    ``datetime64[us, UTC]``. A column of one chunk without nulls becomes a
    view of its Arrow memory (``split_blocks``), not a copy.
    """
    line = table.column("line") if "line" in table.column_names else None
    if line is None or line.null_count:
        return table.to_pandas(types_mapper=_string_mapper, split_blocks=True)
    at = table.column_names.index("line")
    frame = table.remove_column(at).to_pandas(types_mapper=_string_mapper, split_blocks=True)
    frame.insert(at, "line", table.select([at]).to_pandas(split_blocks=True)["line"])
    return frame
