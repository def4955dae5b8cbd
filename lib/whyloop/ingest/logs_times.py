"""Reading times in log records (pure): typed values in SQL, text column by column.

``timestamp`` is UTC (``datetime64[us, UTC]``). A text column is read the way
most of a sample of it is written (an exact ISO-like strptime, ISO 8601 with
a ``,`` or ``.`` before the fraction, epoch digits in s/ms/µs/ns by magnitude,
or one of :data:`TIME_FORMATS`), in one vectorised pass; only the rows that
way misses are tried every other way. A time without a zone is taken as UTC;
a time without a year gets this year (last year if that would put it in the
future).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.ingest.logs_frame import STR, TS_TYPE, connect, quote_str, spread

__all__ = ["TIME_FORMATS", "apply_times", "parse_times", "time_sql"]

#: strptime formats tried, in order, for text timestamps that are not ISO 8601.
TIME_FORMATS: tuple[str, ...] = (
    "%y%m%d %H%M%S",  # HDFS 081109 203615
    "%y/%m/%d %H:%M:%S",  # Spark 17/06/09 20:10:40
    "%Y/%m/%d %H:%M:%S",  # nginx error log
    "%Y-%m-%d-%H.%M.%S.%f",  # BGL 2005-06-03-15.42.50.675872
    "%Y.%m.%d %H:%M:%S",
    "%d/%b/%Y:%H:%M:%S",
    "%a %b %d %H:%M:%S %Y",  # ctime, Apache error log
    "%a %b %d %H:%M:%S.%f %Y",
    "%d-%b-%Y %H:%M:%S",
    "%b %d %H:%M:%S",  # syslog (no year)
    "%b %d %Y %H:%M:%S",
    "%m%d %H:%M:%S.%f",  # klog I0506 13:45:12.123456 (no year)
)
_TZ_FORMATS: tuple[str, ...] = ("%d/%b/%Y:%H:%M:%S %z",)  # combined access log
_ISO_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S,%f",  # Python logging's asctime
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S%z",
)


def _epoch_sql(number: str) -> str:
    """SQL turning a DOUBLE epoch (s, ms, µs or ns by magnitude) into TIMESTAMPTZ."""
    return (
        f"CASE WHEN abs({number}) < 1e11 THEN make_timestamp(CAST({number} * 1e6 AS BIGINT)) "
        f"WHEN abs({number}) < 1e14 THEN make_timestamp(CAST({number} * 1e3 AS BIGINT)) "
        f"WHEN abs({number}) < 1e17 THEN make_timestamp(CAST({number} AS BIGINT)) "
        f"ELSE make_timestamp(CAST({number} / 1e3 AS BIGINT)) END::TIMESTAMPTZ"
    )


def _this_year() -> int:
    return dt.datetime.now(dt.UTC).year


def time_sql(expr: str, duck_type: str) -> str | None:
    """SQL turning a typed value (a DuckDB timestamp, date or epoch number) into TIMESTAMPTZ.

    Returns None for text, which :func:`parse_times` reads after the query.
    """
    kind = duck_type.upper()
    if kind == "TIMESTAMP WITH TIME ZONE":
        return expr
    if kind.startswith(("TIMESTAMP", "DATE")):
        return f"CAST({expr} AS TIMESTAMPTZ)"
    if kind in ("BIGINT", "INTEGER", "DOUBLE", "UBIGINT", "HUGEINT", "FLOAT", "UINTEGER"):
        return _epoch_sql(f"CAST({expr} AS DOUBLE)")
    if kind.startswith("DECIMAL"):
        return _epoch_sql(f"CAST({expr} AS DOUBLE)")
    return None


def _time_methods(year: int | None) -> list[str]:
    """SQL expressions over the VARCHAR column ``v``, one per way of writing a time."""
    v = "trim(v)"
    this_year = year or _this_year()
    # Exact ISO-like formats first: a strptime is several times faster than a cast.
    methods = [f"CAST(try_strptime({v}, {quote_str(fmt)}) AS TIMESTAMPTZ)" for fmt in _ISO_FORMATS]
    methods += [
        # ISO 8601 (DuckDB's cast also takes '17/06/09' as the year 17: only cast YYYY-MM-DD).
        f"CASE WHEN regexp_matches({v}, '^\\d{{4}}-\\d\\d-\\d\\d') "
        f"THEN TRY_CAST(replace({v}, ',', '.') AS TIMESTAMPTZ) END",
        f"CASE WHEN regexp_full_match({v}, '\\d{{9,19}}(\\.\\d+)?') "
        f"THEN {_epoch_sql(f'TRY_CAST({v} AS DOUBLE)')} END",
    ]
    for fmt in TIME_FORMATS:
        e = f"try_strptime(regexp_replace({v}, '\\s+', ' ', 'g'), {quote_str(fmt)})"
        if "%Y" not in fmt and "%y" not in fmt:
            # No year: this year, or last year if that would be in the future.
            e = (
                f"CASE WHEN {e} + INTERVAL ({this_year - 1900}) YEAR > now()::TIMESTAMP + INTERVAL 1 DAY "
                f"THEN {e} + INTERVAL ({this_year - 1901}) YEAR "
                f"ELSE {e} + INTERVAL ({this_year - 1900}) YEAR END"
            )
        methods.append(f"CAST({e} AS TIMESTAMPTZ)")
    methods += [f"try_strptime({v}, {quote_str(fmt)})" for fmt in _TZ_FORMATS]
    return methods


def parse_times(values: pa.ChunkedArray | pa.Array, *, year: int | None = None) -> pa.ChunkedArray:
    """Parse a string column into UTC timestamps (null where unreadable).

    The way the column writes times is chosen on a sample, applied to the
    whole column in one vectorised pass, and only rows it could not read are
    tried every other way: a column costs one parse, not one per format.
    """
    values = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    values = values.cast(STR)
    out = pa.chunked_array([pa.nulls(len(values), TS_TYPE)])
    present = pc.drop_null(values)
    if not len(present):
        return out
    methods = _time_methods(year)
    con = connect()
    try:
        con.register("sample", pa.table({"v": present.slice(0, 512)}))
        counts = con.sql(
            "SELECT " + ", ".join(f"count({m})" for m in methods) + " FROM sample"
        ).fetchall()[0]
        best = int(np.argmax(counts))
        if not counts[best]:
            return out
        con.register("vals", pa.table({"v": values}))
        parsed = con.sql(f"SELECT {methods[best]} AS t FROM vals").to_arrow_table().column("t")
        missing = pc.and_(pc.is_null(parsed), pc.is_valid(values))
        rows = np.flatnonzero(missing.to_numpy(zero_copy_only=False))
        if len(rows) and len(methods) > 1:
            others = [m for i, m in enumerate(methods) if i != best]
            con.register("rest", pa.table({"v": values.take(pa.array(rows))}))
            rest = con.sql(f"SELECT coalesce({', '.join(others)}) AS t FROM rest").to_arrow_table()
            parsed = pc.coalesce(parsed, spread(rest.column("t"), rows, len(values)))
    finally:
        con.close()
    return parsed.cast(TS_TYPE)


def apply_times(
    table: pa.Table,
    candidates: list[str],
    *,
    name: str,
    warnings: list[str],
    year: int | None = None,
) -> pa.Table:
    """Set ``timestamp`` from candidate columns (best first), dropping them.

    Timestamp columns are taken as they are, text is read by :func:`parse_times`.
    Where text was present but no time could be read, a warning names how
    many and one example, and the text is kept in ``timestamp_raw``.
    """
    n = table.num_rows
    stamp = pa.chunked_array([pa.nulls(n, TS_TYPE)])
    raw = None
    for i, column in enumerate(candidates):
        col = table.column(column)
        rows = None
        if i:  # a later candidate only fills what the earlier ones left empty
            rows = np.flatnonzero(
                pc.and_(pc.is_null(stamp), pc.is_valid(col)).to_numpy(zero_copy_only=False)
            )
            if not len(rows):
                continue
            col = col.take(pa.array(rows))
        if pa.types.is_timestamp(col.type):
            parsed = (
                col.cast(TS_TYPE) if col.type.tz else pc.assume_timezone(col, "UTC").cast(TS_TYPE)
            )
        else:
            col = col.cast(STR)
            parsed = parse_times(col, year=year)
            text = col if rows is None else spread(col, rows, n)
            raw = text if raw is None else pc.coalesce(raw, text)
        stamp = parsed if rows is None else pc.coalesce(stamp, spread(parsed, rows, n))
    table = table.drop_columns(candidates)
    if "timestamp" in table.column_names:
        table = table.set_column(table.column_names.index("timestamp"), "timestamp", stamp)
    else:
        table = table.append_column("timestamp", stamp)
    if raw is not None:
        bad = pc.and_(pc.is_null(stamp), pc.is_valid(raw))
        count = pc.sum(bad).as_py() or 0
        if count:
            kept = pc.if_else(bad, raw, pa.scalar(None, STR))
            example = pc.drop_null(kept)[0].as_py()
            warnings.append(
                f"{name}: {count} records have a time that could not be read "
                f"(e.g. {example!r}); kept in timestamp_raw"
            )
            table = table.append_column("timestamp_raw", kept)
    return table
