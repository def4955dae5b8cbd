"""JSON logs into the normalised logs table (pure: data in, table out).

Reads JSON lines and JSON arrays in the shapes that deployments write:

* generic JSON lines (structlog, pino, zap, logrus, python-json-logger, ECS …);
* Cloud Logging / Cloud Run entries, one per line or as the single array that
  ``gcloud logging read --format=json`` prints (``severity``, ``timestamp``,
  ``resource.labels.service_name``/``revision_name``, ``jsonPayload`` or
  ``textPayload``, ``httpRequest``, ``trace`` → ``trace_id``);
* journald (``journalctl -o json``: ``__REALTIME_TIMESTAMP`` in µs, syslog
  ``PRIORITY``, ``_SYSTEMD_UNIT``/``SYSLOG_IDENTIFIER``, a ``MESSAGE`` that
  may be an array of bytes);
* Docker json-file (``{"log": "...\\n", "stream": ..., "time": ...}``): pieces
  of a long line are joined and a ``log`` that is itself JSON has its fields
  lifted.

The file is parsed by DuckDB's ``read_json`` and normalised by one SQL
projection in the same query (:mod:`whyloop.ingest.logs.fields`), so a
million lines cost about one columnar read, with no Python loop per line.

Bad input falls back instead of failing: on a parse error every line is
checked with orjson; a line that is broken JSON is reported as
``app.log:57: invalid JSON (...); line skipped``, one that is not JSON at all
(a traceback printed between JSON lines) is kept as a text record and
reported, and the good lines are parsed again. A field whose type changes
between lines is read as JSON text. A source with nothing readable raises
:class:`~whyloop.errors.IngestError`.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.errors import IngestError
from whyloop.ingest.logs.encoding import Decoding, repair_utf8
from whyloop.ingest.logs.fields import (
    finish_candidates,
    merge_lifted,
    plan,
    records_table,
    select_sql,
)
from whyloop.ingest.logs.frame import (
    STR,
    LogFormat,
    ParsedLogs,
    connect,
    constant,
    finish_table,
    join_records,
    quote_str,
)

__all__ = [
    "MAX_LISTED",
    "detect_json_shape",
    "lift_json_messages",
    "parse_json_logs",
    "project_records",
]

#: Bad lines listed one by one in the warnings before "... and N more".
MAX_LISTED = 20

_CLOUD_KEYS = {
    "insertId",
    "logName",
    "jsonPayload",
    "textPayload",
    "protoPayload",
    "receiveTimestamp",
}
_SNIFF = re.compile(
    rb'"(insertId|logName|jsonPayload|textPayload|protoPayload|__REALTIME_TIMESTAMP|__CURSOR)"\s*:'
)
_BYTES_ARRAY = r"^\[\s*\d+(\s*,\s*\d+)*\s*\]$"
_SAMPLE_ROWS = 20480


def detect_json_shape(head: bytes) -> tuple[LogFormat, bool]:
    """Guess the JSON log shape from the first bytes; return ``(format, is_array)``."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    is_array = text.startswith(b"[")
    keys: set[str] = set()
    if is_array:
        keys = {m.decode() for m in _SNIFF.findall(text)}
    else:
        for raw in text.split(b"\n")[:20]:
            with contextlib.suppress(orjson.JSONDecodeError):
                obj = orjson.loads(raw)
                if isinstance(obj, dict):
                    keys = set(obj)
                    break
    if "__REALTIME_TIMESTAMP" in keys or "__CURSOR" in keys or {"MESSAGE", "PRIORITY"} <= keys:
        return LogFormat.JOURNALD, is_array
    if "log" in keys and keys & {"stream", "time"} and len(keys) <= 5:
        return LogFormat.DOCKER, is_array
    if keys & _CLOUD_KEYS or {"severity", "resource"} <= keys:
        return LogFormat.CLOUD_LOGGING, is_array
    return LogFormat.JSON, is_array


def parse_json_logs(
    data: Path | bytes, *, name: str, shape: LogFormat | None = None, year: int | None = None
) -> ParsedLogs:
    """Parse JSON logs from a file path or bytes into a :class:`ParsedLogs`.

    ``name`` fills the ``source`` column and prefixes warnings; ``shape`` forces
    a format (default: :func:`detect_json_shape`); ``year`` completes
    timestamps written without one. Raises :class:`IngestError` when no record
    can be read.
    """
    detected, is_array = detect_json_shape(_head(data))
    shape = shape or detected
    warnings: list[str] = []
    with _as_path(data) as path:
        try:
            with ThreadPoolExecutor(1) as pool:  # count lines while DuckDB parses
                counted = pool.submit(_count_lines, path) if not is_array else None
                table = _duck_table(path, name, is_array=is_array, sample_all=False)
                table = _add_lines(table, path, counted.result() if counted else None)
        except duckdb.Error:
            table = _fallback(data, name, is_array=is_array, warnings=warnings)
    if shape is LogFormat.DOCKER:
        table = _docker_partials(table)
    table = finish_candidates(table, name=name, warnings=warnings, year=year)
    if shape is LogFormat.DOCKER:
        table = lift_json_messages(table, name=name, warnings=warnings, year=year)
    elif shape is LogFormat.JOURNALD:
        table = _decode_byte_messages(table)
    return ParsedLogs(finish_table(table), shape, warnings)


def _head(data: Path | bytes, size: int = 65536) -> bytes:
    if isinstance(data, bytes):
        return data[:size]
    with open(data, "rb") as fh:
        return fh.read(size)


@contextlib.contextmanager
def _as_path(data: Path | bytes) -> Iterator[str]:
    """Yield a file path holding ``data``: DuckDB reads JSON from files, not from memory."""
    if not isinstance(data, bytes):
        yield str(data)
        return
    fd, tmp = tempfile.mkstemp(prefix="whyloop-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield tmp
    finally:
        os.unlink(tmp)


def _duck_table(path: str, name: str, *, is_array: bool, sample_all: bool) -> pa.Table:
    """Read and project a JSON file in one DuckDB query (levels and text times still raw)."""
    fmt = "array" if is_array else "newline_delimited"
    source = f"read_json({quote_str(path)}, format={quote_str(fmt)}, records=true"
    con = connect()
    try:
        # Sparse fields stay columns (field_appearance_threshold=0), not a MAP.
        rel = con.sql(
            f"SELECT * FROM {source}, field_appearance_threshold=0, "
            f"sample_size={-1 if sample_all else _SAMPLE_ROWS})"
        )
        if _case_clash(list(rel.columns), list(rel.types)):
            # DuckDB renamed "Level" beside "level" to "level_1", a key no record has.
            raise duckdb.InvalidInputException("keys differ only in case")
        # Hand the detected schema back so the query does not sample the file again.
        spec, select = plan(rel, name)
        try:
            query = con.sql(f"SELECT {select} FROM {source}, columns={{{spec}}})")
        except duckdb.Error:
            query = rel.select(select_sql(rel, name))
        return query.to_arrow_table()
    finally:
        con.close()


def _case_clash(columns: list[str], types: list[object]) -> bool:
    """Whether DuckDB renamed a key that differs from another only in case (``x`` → ``x_1``)."""
    lower = {c.lower() for c in columns}
    if any(
        re.fullmatch(r"(.+)_\d+", c) and re.sub(r"_\d+$", "", c).lower() in lower for c in columns
    ):
        return True
    return any(
        _case_clash([n for n, _ in t.children], [c for _, c in t.children])
        for t in types
        if t.id == "struct" and t.children
    )


def _count_lines(path: str) -> int:
    """Lines in a file (a last line without a newline counts), counted over a memory map."""
    size = os.path.getsize(path)
    if not size:
        return 0
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        data = np.frombuffer(mm, dtype=np.uint8)
        step = 1 << 24
        count = sum(int(np.count_nonzero(data[i : i + step] == 10)) for i in range(0, size, step))
        count += int(data[-1] != 10)
        del data  # release the buffer before the map closes
    return count


def _add_lines(table: pa.Table, path: str, counted: int | None) -> pa.Table:
    """Add the 1-based ``line`` of each record (the element number for a JSON array).

    ``counted`` is the file's line count (None for an array); when it is not
    the record count, DuckDB skipped blank lines and the others are numbered.
    """
    n = table.num_rows
    if counted is None or counted == n:
        return table.append_column("line", pa.array(np.arange(1, n + 1)))
    with open(path, "rb") as fh:
        lines = [i for i, raw in enumerate(fh, 1) if raw.strip()]
    return table.append_column("line", pa.array(np.asarray(lines[:n], dtype=np.int64)))


def _fallback(data: Path | bytes, name: str, *, is_array: bool, warnings: list[str]) -> pa.Table:
    """Parse what can be parsed after the fast path failed, warning about each bad line.

    Bytes that are not UTF-8 (which fail DuckDB's read) are replaced and
    counted first, and the fast path is tried again on the repaired text.
    """
    raw = data if isinstance(data, bytes) else Path(data).read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        decoding = Decoding()
        raw = repair_utf8(raw, decoding)
        warnings.append(decoding.warning(name) or "")
        with contextlib.suppress(duckdb.Error), _as_path(raw) as path:
            table = _duck_table(path, name, is_array=is_array, sample_all=False)
            return _add_lines(table, path, None if is_array else _count_lines(path))
    if is_array:
        try:
            items = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise IngestError(
                f"invalid JSON array ({err.msg})", path=name, line=err.lineno
            ) from None
        items = items if isinstance(items, list) else [items]
        if not items:  # an export of an empty time window
            return pa.table({"message": pa.array([], STR), "line": pa.array([], pa.int64())})
        objects = [(i, item) for i, item in enumerate(items, 1) if isinstance(item, dict)]
        _listed(
            warnings,
            name,
            [
                (i, "not a JSON object; skipped")
                for i, item in enumerate(items, 1)
                if not isinstance(item, dict)
            ],
        )
        if not objects:
            raise IngestError("nothing readable: the JSON array holds no objects", path=name)
        table = project_records([o for _, o in objects], name)
        return table.append_column("line", pa.array([i for i, _ in objects], pa.int64()))
    good: list[bytes] = []
    numbers: list[int] = []
    texts: list[tuple[int, str]] = []
    bad: list[tuple[int, str]] = []
    for i, line in enumerate(raw.split(b"\n"), 1):
        line = line.strip()
        if not line:
            continue
        try:
            ok, reason = isinstance(orjson.loads(line), dict), "not a JSON object"
        except orjson.JSONDecodeError as err:
            ok, reason = False, f"invalid JSON ({err.msg})"
        if ok:
            good.append(line)
            numbers.append(i)
        elif line[:1] in b'{["':
            bad.append((i, f"{reason}; line skipped"))
        else:  # not JSON at all (a traceback, a banner): keep it as text
            texts.append((i, line.decode("utf-8", "replace")))
            bad.append((i, "not JSON; kept as a text record"))
    _listed(warnings, name, bad)
    if not good and not texts:
        line_no, reason = bad[0] if bad else (None, "no JSON records")
        raise IngestError(f"nothing readable: {reason.split(';')[0]}", path=name, line=line_no)
    parts = [_good_lines(good, numbers, name)] if good else []
    if texts:
        parts.append(
            pa.table(
                {
                    "message": pa.array([t for _, t in texts], STR),
                    "source": constant(len(texts), name),
                    "line": pa.array([i for i, _ in texts], pa.int64()),
                }
            )
        )
    if len(parts) == 1:
        return parts[0]
    table = pa.concat_tables(parts, promote_options="permissive")
    return table.take(pc.sort_indices(table.column("line")))


def _good_lines(good: list[bytes], numbers: list[int], name: str) -> pa.Table:
    """Parse the lines that are JSON objects: DuckDB again, then Python if types still clash."""
    lines = pa.array(numbers, pa.int64())
    with _as_path(b"\n".join(good)) as path:
        for sample_all in (False, True):
            with contextlib.suppress(duckdb.Error):
                table = _duck_table(path, name, is_array=False, sample_all=sample_all)
                return table.append_column("line", lines)
    return project_records([orjson.loads(b) for b in good], name).append_column("line", lines)


def project_records(records: list[dict], name: str) -> pa.Table:
    """Records flattened in Python, projected by the same SQL (the slow path; logfmt lines)."""
    con = connect()
    try:
        rel = con.from_arrow(records_table(records))
        return rel.select(select_sql(rel, name)).to_arrow_table()
    finally:
        con.close()


def _listed(warnings: list[str], name: str, problems: list[tuple[int, str]]) -> None:
    for line, reason in problems[:MAX_LISTED]:
        warnings.append(f"{name}:{line}: {reason}")
    if len(problems) > MAX_LISTED:
        warnings.append(f"{name}: ... and {len(problems) - MAX_LISTED} more bad lines")


def _docker_partials(table: pa.Table) -> pa.Table:
    """Join Docker's split entries: a line over 16 KiB comes in pieces, all but the last without a newline."""
    if "__partial" not in table.column_names:
        return table
    partial = pc.fill_null(table.column("__partial"), False).to_numpy(zero_copy_only=False)
    table = table.drop_columns(["__partial"])
    starts = np.ones(len(partial), dtype=bool)
    starts[1:] = ~partial[:-1]
    return join_records(table, starts, sep="")


def _decode_byte_messages(table: pa.Table) -> pa.Table:
    """journald writes a MESSAGE that is not valid UTF-8 as an array of byte values; decode it."""
    msg = table.column("message")
    hits = pc.fill_null(pc.match_substring_regex(msg, _BYTES_ARRAY), False)
    if not pc.any(hits).as_py():
        return table
    values = msg.to_pylist()
    for i in np.flatnonzero(hits.to_numpy(zero_copy_only=False)).tolist():
        values[i] = bytes(orjson.loads(values[i])).decode("utf-8", "replace").rstrip("\r\n")
    return table.set_column(table.column_names.index("message"), "message", pa.array(values, STR))


def lift_json_messages(
    table: pa.Table, *, name: str, warnings: list[str], year: int | None = None
) -> pa.Table:
    """Lift the fields of messages that are JSON objects (Docker and CRI container logs).

    The messages are parsed together by DuckDB (the Python path only when
    some are not JSON after all) and merged by :func:`~.logs_fields.merge_lifted`;
    ``name`` and ``warnings`` are the source's, for times that cannot be read.
    """
    msg = table.column("message")
    looks = pc.and_(pc.starts_with(msg, "{"), pc.ends_with(msg, "}"))
    looks = pc.fill_null(pc.and_(looks, pc.invert(pc.match_substring(msg, "\n"))), False)
    rows = np.flatnonzero(looks.to_numpy(zero_copy_only=False))
    if not len(rows):
        return table
    texts = msg.take(pa.array(rows)).to_pylist()
    inner = None
    with contextlib.suppress(duckdb.Error), _as_path("\n".join(texts).encode()) as path:
        inner = _duck_table(path, name, is_array=False, sample_all=False)
    if inner is None or inner.num_rows != len(rows):
        records, positions = [], []
        for i, text in zip(rows.tolist(), texts, strict=True):
            with contextlib.suppress(orjson.JSONDecodeError):
                obj = orjson.loads(text)
                if isinstance(obj, dict) and obj:
                    records.append(obj)
                    positions.append(i)
        if not records:
            return table
        inner, rows = project_records(records, name), np.asarray(positions)
    inner = finish_candidates(inner, name=name, warnings=warnings, year=year)
    return merge_lifted(table, inner.drop_columns(["source"]), rows)
