"""JSON fields into canonical log columns (pure).

Given a DuckDB relation of parsed JSON records (from ``read_json``, or from
records flattened in Python), :func:`normalise` runs one SQL projection that

* flattens nested objects into dotted columns (``httpRequest.status``);
* fills the canonical columns from the first present candidate field of
  :data:`CANDIDATES` (each also tried under ``jsonPayload.``, where Cloud
  Logging puts a structured line's fields), case-insensitively: so
  structlog's ``event``/``level``/``logger``/``timestamp`` and
  python-json-logger's ``message``/``levelname``/``name``/``asctime`` are
  read as message, level, service (the logger, where no service field is
  present) and time;
* keeps every other field, typed where DuckDB knows the type, as JSON text
  where it does not (lists, maps, fields whose type changes between records);

and then maps levels and reads text times column by column (see
:mod:`whyloop.ingest.logs.frame`). :func:`lift_json_messages` applies the same
to messages that are JSON objects, as container runtimes wrap them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.ingest.logs.frame import (
    FRAME_COLUMNS,
    STR,
    apply_levels,
    quote_ident,
    quote_str,
    spread,
)
from whyloop.ingest.logs.times import apply_times, time_sql

__all__ = [
    "ALSO_KEPT",
    "CANDIDATES",
    "merge_lifted",
    "plan",
    "records_table",
]

#: Fields that fill each canonical column, best first.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "time", "@timestamp", "ts", "@t", "datetime", "date", "asctime",
                  "timeMillis", "created", "eventTime", "__REALTIME_TIMESTAMP"),
    "level": ("severity", "level", "levelname", "log.level", "lvl", "loglevel", "log_level", "@l",
              "PRIORITY"),
    "service": ("resource.labels.service_name", "resource.labels.function_name",
                "resource.labels.container_name", "serviceContext.service", "service",
                "service.name", "service_name", "serviceName", "app", "application",
                "_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER", "kubernetes.container_name",
                # the logger: structlog's add_logger_name, python-json-logger's %(name)s
                "logger", "log.logger", "logger_name", "loggerName", "name"),
    "revision": ("resource.labels.revision_name", "serviceContext.version", "service.version",
                 "revision"),
    "message": ("message", "msg", "@m", "@mt", "MESSAGE", "textPayload", "log", "event",
                "protoPayload.status.message"),
    "trace_id": ("trace", "logging.googleapis.com/trace", "trace_id", "traceId", "traceID",
                 "trace.id", "otelTraceID", "dd.trace_id"),
    "request_id": ("request_id", "requestId", "requestID", "req_id", "reqId", "request.id",
                   "http.request.id", "x-request-id"),
}  # fmt: skip
#: Candidates that also stay columns of their own: a logger's name fills
#: ``service`` only where no service field does, and is not lost where one does.
ALSO_KEPT = frozenset({"logger", "log.logger", "logger_name", "loggerName", "name"})
_PLAIN = ("VARCHAR", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT", "BOOLEAN")
_NULL_TEXT = "CAST(NULL AS VARCHAR)"


@dataclass(frozen=True)
class _Leaf:
    """One scalar field of the relation: its dotted name, SQL and DuckDB type."""

    name: str
    sql: str
    type: str


def _leaves(columns: list[str], types: list[Any], prefix: str = "", sql: str = "") -> list[_Leaf]:
    out: list[_Leaf] = []
    for col, typ in zip(columns, types, strict=True):
        expr = f"struct_extract({sql}, {quote_str(col)})" if sql else quote_ident(col)
        if typ.id == "struct" and typ.children:
            names = [c[0] for c in typ.children]
            out += _leaves(names, [c[1] for c in typ.children], prefix + col + ".", expr)
        else:
            out.append(_Leaf(prefix + col, expr, str(typ)))
    return out


def _text(leaf: _Leaf) -> str:
    """SQL for a value as VARCHAR (JSON strings unquoted, containers as JSON text)."""
    if leaf.type == "VARCHAR":
        return leaf.sql
    if leaf.type == "JSON":
        return (
            f"CASE WHEN json_type({leaf.sql}) = 'VARCHAR' THEN json_extract_string({leaf.sql}, '$') "
            f"ELSE CAST({leaf.sql} AS VARCHAR) END"
        )
    if leaf.type.endswith("]") or leaf.type.startswith(("MAP", "STRUCT")):
        return f"CAST(to_json({leaf.sql}) AS VARCHAR)"
    return f"CAST({leaf.sql} AS VARCHAR)"


def _extra(leaf: _Leaf) -> str:
    """SQL for a kept field: plain types as they are, times in UTC, the rest as text."""
    if leaf.type in _PLAIN or leaf.type == "TIMESTAMP WITH TIME ZONE":
        return leaf.sql
    if leaf.type.startswith("TIMESTAMP"):
        return f"CAST({leaf.sql} AS TIMESTAMPTZ)"
    if leaf.type in ('"NULL"', "NULL"):
        return _NULL_TEXT
    return _text(leaf)


def _pick(leaves: dict[str, _Leaf], column: str) -> list[_Leaf]:
    lower = {k.lower(): v for k, v in reversed(leaves.items())}
    found: list[_Leaf] = []
    keys = CANDIDATES[column]
    for key in (*keys, *("jsonPayload." + k for k in keys)):
        leaf = leaves.get(key) or lower.get(key.lower())
        if leaf is not None and leaf not in found:
            found.append(leaf)
    return found


def _coalesce(exprs: list[str]) -> str:
    if not exprs:
        return _NULL_TEXT
    return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"


def projection(leaves_list: list[_Leaf], name: str) -> str:
    """The normalising SELECT list; ``__time_N``/``__level_N`` are read afterwards."""
    leaves = {leaf.name: leaf for leaf in leaves_list}
    used: set[str] = set()
    cols: dict[str, str] = {}

    def take(column: str) -> list[_Leaf]:
        found = _pick(leaves, column)
        used.update(leaf.name for leaf in found)
        return found

    for i, leaf in enumerate(take("timestamp")):
        cols[f"__time_{i}"] = time_sql(leaf.sql, leaf.type) or _text(leaf)
    for i, leaf in enumerate(take("level")):
        cols[f"__level_{i}"] = _text(leaf)
    cols["service"] = _coalesce([_text(leaf) for leaf in take("service")])
    used -= ALSO_KEPT
    cols["revision"] = _coalesce([_text(leaf) for leaf in take("revision")])
    messages = [_text(leaf) for leaf in take("message")]
    method, status, url = (
        leaves.get(f"httpRequest.{k}") for k in ("requestMethod", "status", "requestUrl")
    )
    if method and url:  # a Cloud Run request log: say what the console shows
        code = f"coalesce(CAST({status.sql} AS VARCHAR), '-')" if status else "'-'"
        messages.append(f"concat_ws(' ', {method.sql}, {code}, {url.sql})")
    cols["message"] = _coalesce(messages)  # trailing newlines go in finish_candidates
    trace = _coalesce([_text(leaf) for leaf in take("trace_id")])
    cols["trace_id"] = (  # projects/P/traces/ID -> ID
        f"CASE WHEN starts_with({trace}, 'projects/') AND contains({trace}, '/traces/') "
        f"THEN split_part({trace}, '/traces/', 2) ELSE {trace} END"
    )
    cols["request_id"] = _coalesce([_text(leaf) for leaf in take("request_id")])
    cols["source"] = quote_str(name)
    log = leaves.get("log")
    if log is not None and log.type == "VARCHAR" and "stream" in leaves:
        cols["__partial"] = f"NOT ends_with({log.sql}, chr(10))"  # Docker json-file pieces
    parts = [f"{expr} AS {quote_ident(col)}" for col, expr in cols.items()]
    taken = set(FRAME_COLUMNS) | set(cols)
    for leaf in leaves_list:
        if leaf.name in used:
            continue
        out = leaf.name
        while out in taken:
            out += "_1"
        taken.add(out)
        parts.append(f"{_extra(leaf)} AS {quote_ident(out)}")
    return ", ".join(parts)


def select_sql(rel: duckdb.DuckDBPyRelation, name: str) -> str:
    """The projection for a relation, from its (possibly nested) schema."""
    return projection(_leaves(list(rel.columns), list(rel.types)), name)


def plan(rel: duckdb.DuckDBPyRelation, name: str) -> tuple[str, str]:
    """The ``columns=`` spec for re-reading with the detected schema, and the projection.

    DuckDB types text that looks like a date, a time or a UUID as such, which
    rewrites it (``"0:10:00"`` becomes ``00:10:00``); the spec reads those as
    text again, except the fields that are candidates for ``timestamp``.
    """
    columns, types = list(rel.columns), list(rel.types)
    leaves = _leaves(columns, types)
    by_name = {leaf.name: leaf for leaf in leaves}
    times = {leaf.name for leaf in _pick(by_name, "timestamp")}
    texts = {leaf.name for c in CANDIDATES if c != "timestamp" for leaf in _pick(by_name, c)}
    keep = {
        leaf.name: leaf.type for leaf in leaves if not _retyped(leaf.type, leaf.name, times, texts)
    }
    leaves = [
        leaf if leaf.name in keep else _Leaf(leaf.name, leaf.sql, "VARCHAR") for leaf in leaves
    ]
    spec = ", ".join(
        f"{quote_str(c)}: {quote_str(_render(t, c, keep))}"
        for c, t in zip(columns, types, strict=True)
    )
    return spec, projection(leaves, name)


def _retyped(kind: str, name: str, times: set[str], texts: set[str]) -> bool:
    """Whether a detected type is read as text again (dates, times, UUIDs; timestamps in text fields)."""
    if name in times:
        return False
    if kind.startswith("TIMESTAMP"):
        return name in texts
    return kind.startswith(("DATE", "TIME", "UUID", "INTERVAL"))


def _render(typ: Any, path: str, keep: dict[str, str]) -> str:
    if typ.id == "struct" and typ.children:
        inner = ", ".join(
            f"{quote_ident(n)} {_render(t, f'{path}.{n}', keep)}" for n, t in typ.children
        )
        return f"STRUCT({inner})"
    return keep.get(path, "VARCHAR")


def finish_candidates(
    table: pa.Table, *, name: str, warnings: list[str], year: int | None = None
) -> pa.Table:
    """Map the ``__level_N`` and read the ``__time_N`` columns of a projected table; trim messages."""
    table = apply_levels(table, [c for c in table.column_names if c.startswith("__level_")])
    msg = table.column("message")
    if pc.any(pc.or_(pc.ends_with(msg, "\n"), pc.ends_with(msg, "\r"))).as_py():
        # Trimmed here, not in SQL: a vectorised pass only when some message needs it.
        msg = pc.utf8_rtrim(msg, characters="\r\n")
        table = table.set_column(table.column_names.index("message"), "message", msg)
    times = [c for c in table.column_names if c.startswith("__time_")]
    return apply_times(table, times, name=name, warnings=warnings, year=year)


def records_table(records: list[dict[str, Any]]) -> pa.Table:
    """Flatten dicts into an Arrow table with dotted column names.

    Nested objects become ``parent.child`` columns; lists and values whose type
    differs between records become JSON text, so no record is refused.
    """
    flat: list[dict[str, Any]] = []
    for rec in records:
        out: dict[str, Any] = {}
        _flatten(rec, "", out)
        flat.append(out)
    names: dict[str, None] = {}
    for row in flat:
        names.update(dict.fromkeys(row))
    columns: dict[str, pa.Array] = {}
    seen: set[str] = set()
    for key in names:
        out = key
        while out.lower() in seen:  # DuckDB names are case-insensitive: "Level" and "level" clash
            out += "_1"
        seen.add(out.lower())
        columns[out] = _column([row.get(key) for row in flat])
    return pa.table(columns) if columns else pa.table({"message": pa.nulls(len(records), STR)})


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in obj.items():
        if isinstance(value, dict) and value:
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[f"{prefix}{key}"] = value


def _column(values: list[Any]) -> pa.Array:
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {str}:
        return pa.array(values, STR)
    if kinds <= {bool}:
        return pa.array(values, pa.bool_())
    if kinds <= {int}:
        with contextlib.suppress(OverflowError, pa.ArrowInvalid):
            return pa.array(values, pa.int64())
    if kinds <= {int, float}:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    texts = [v if v is None or isinstance(v, str) else orjson.dumps(v).decode() for v in values]
    return pa.array(texts, STR)


def merge_lifted(table: pa.Table, inner: pa.Table, positions: np.ndarray | list[int]) -> pa.Table:
    """Merge records parsed out of JSON messages (``inner``, one per row in ``positions``) into ``table``.

    A container that logs JSON has each line wrapped by the runtime. The
    inner canonical fields (time, level, message, service, trace, request id)
    replace the wrapper's where present, and the other inner fields become
    columns (prefixed ``log.`` if the name is taken). A message without a
    message field keeps the JSON text.
    """
    n = table.num_rows
    has_level = pc.is_valid(spread(inner.column("level_raw"), positions, n))
    out = table
    for col in (
        "timestamp",
        "service",
        "revision",
        "message",
        "trace_id",
        "request_id",
        "level_raw",
    ):
        if col not in inner.column_names:
            continue
        lifted = spread(inner.column(col), positions, n)
        if col in out.column_names:
            lifted = pc.coalesce(lifted, out.column(col).cast(lifted.type))
            out = out.set_column(out.column_names.index(col), col, lifted)
        else:
            out = out.append_column(col, lifted)
    level = pc.if_else(has_level, spread(inner.column("level"), positions, n), out.column("level"))
    out = out.set_column(out.column_names.index("level"), "level", level)
    for col in inner.column_names:
        if col not in FRAME_COLUMNS:
            name = col if col not in out.column_names else f"log.{col}"
            out = out.append_column(name, spread(inner.column(col), positions, n))
    return out
