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

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.ingest.logs.frame import STR, TS_TYPE, batched, connect, quote_str, spread

__all__ = ["TIME_FORMATS", "BlockTimes", "apply_times", "parse_times", "time_sql"]

#: strptime formats tried, in order, for text timestamps that are not ISO 8601.
TIME_FORMATS: tuple[str, ...] = (
    "%y%m%d %H%M%S",  # HDFS 081109 203615
    "%y%m%d %H:%M:%S",  # tornado.log.LogFormatter 261201 13:26:21
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

#: How many values (the first ones present) choose the way a column writes times.
_SAMPLE = 512


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
    sample = _sample(values)
    if not len(sample):
        return pa.chunked_array([pa.nulls(len(values), TS_TYPE)])
    methods = _time_methods(year)
    con = connect()
    try:
        best = _best_method(con, sample, methods)
        return _parse_with(con, values, methods, best)
    finally:
        con.close()


def _sample(values: pa.ChunkedArray, size: int = _SAMPLE) -> pa.Array:
    """The first ``size`` values present, read a slice at a time (not a copy of the column)."""
    taken: list[pa.Array] = []
    count = 0
    for chunk in values.chunks:
        for start in range(0, len(chunk), 4096):
            if count >= size:
                return pa.concat_arrays(taken)
            taken.append(pc.drop_null(chunk.slice(start, 4096)).slice(0, size - count))
            count += len(taken[-1])
    return pa.concat_arrays(taken) if taken else pa.array([], STR)


def _best_method(
    con: duckdb.DuckDBPyConnection, sample: pa.Array, methods: list[str]
) -> int | None:
    """Index of the method reading most of ``sample``, or None when none reads any."""
    con.register("sample", pa.table({"v": sample}))
    counts = con.sql(
        "SELECT " + ", ".join(f"count({m})" for m in methods) + " FROM sample"
    ).fetchall()[0]
    best = int(np.argmax(counts))
    return best if counts[best] else None


def _parse_with(
    con: duckdb.DuckDBPyConnection | None,
    values: pa.ChunkedArray,
    methods: list[str],
    best: int | None,
) -> pa.ChunkedArray:
    """Parse ``values`` with method ``best``, then what it missed with every other one."""
    if best is None or con is None:
        return pa.chunked_array([pa.nulls(len(values), TS_TYPE)])
    con.register("vals", pa.table({"v": batched(values)}))
    parsed = con.sql(f"SELECT {methods[best]} AS t FROM vals").to_arrow_table().column("t")
    missing = pc.and_(pc.is_null(parsed), pc.is_valid(values)).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(missing)
    if len(rows) and len(methods) > 1:
        others = [m for i, m in enumerate(methods) if i != best]
        # filter, not take: take joins a chunked column into one array first.
        con.register("rest", pa.table({"v": values.filter(pa.array(missing))}))
        rest = con.sql(f"SELECT coalesce({', '.join(others)}) AS t FROM rest").to_arrow_table()
        parsed = pc.coalesce(parsed, spread(rest.column("t"), rows, len(values)))
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


class BlockTimes:
    """:func:`apply_times` for text time columns of a table that arrives in blocks.

    Call :meth:`add` with each block (its candidates are its ``__time_N``
    columns), then :meth:`finish`: the result is what ``apply_times`` gives
    on the whole table (timestamps, ``timestamp_raw``, the warning), but only
    a block's time text is held at once. The first candidate is read block by
    block, the way of writing chosen on its first 512 values as
    :func:`parse_times` chooses it (blocks wait until those are seen); the
    rows it leaves without a time keep every candidate's text aside, and the
    other candidates read them at the end, as ``apply_times`` would.
    """

    def __init__(self, *, name: str, year: int | None = None) -> None:
        self.name, self.year = name, year
        self._methods = _time_methods(year)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._best: int | None = None
        self._sample: list[pa.Array] = []
        self._sampled = 0
        self._waiting: list[pa.Table] | None = []  # None once the way of writing is chosen
        self._done: list[pa.Table] = []
        self._rest: list[pa.Table] = []  # rows left without a time: candidates and __row
        self._rows = 0

    def __enter__(self) -> BlockTimes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the DuckDB connection (:meth:`finish` does)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def add(self, table: pa.Table) -> None:
        """Take the next block (rows in order, the same columns as the blocks before)."""
        if self._waiting is None:
            self._read(table)
            return
        candidates = _candidates(table)
        if candidates and self._sampled < _SAMPLE:
            sample = _sample(table.column(candidates[0]).cast(STR), _SAMPLE - self._sampled)
            self._sample.append(sample)
            self._sampled += len(sample)
        self._waiting.append(table)
        if self._sampled >= _SAMPLE or not candidates:
            self._choose()

    def finish(self, warnings: list[str]) -> pa.Table:
        """The blocks as one table, ``timestamp`` set and the candidates dropped."""
        if self._waiting is not None:
            self._choose()
        self.close()
        table = pa.concat_tables(self._done)
        self._done = []
        if not self._rest:
            return table
        rest = pa.concat_tables(self._rest)
        rows = rest.column("__row").to_numpy()
        stamp, raw = _other_candidates(rest.drop_columns(["__row"]), year=self.year)
        n = table.num_rows
        i = table.column_names.index("timestamp")
        table = table.set_column(
            i, "timestamp", pc.coalesce(table.column(i), spread(stamp, rows, n))
        )
        bad = pc.and_(pc.is_null(stamp), pc.is_valid(raw)).to_numpy(zero_copy_only=False)
        if bad.any():
            kept = raw.filter(pa.array(bad))
            warnings.append(
                f"{self.name}: {len(kept)} records have a time that could not be read "
                f"(e.g. {kept[0].as_py()!r}); kept in timestamp_raw"
            )
            table = table.append_column("timestamp_raw", spread(kept, rows[bad], n))
        return table

    def _choose(self) -> None:
        sample = pa.concat_arrays(self._sample) if self._sample else pa.array([], STR)
        if len(sample):
            self._con = connect()
            self._best = _best_method(self._con, sample, self._methods)
        waiting, self._waiting = self._waiting or [], None
        for table in waiting:
            self._read(table)

    def _read(self, table: pa.Table) -> None:
        candidates = _candidates(table)
        n = table.num_rows
        if not candidates:
            stamp = pa.chunked_array([pa.nulls(n, TS_TYPE)])
        else:
            first = table.column(candidates[0]).cast(STR)
            stamp = _parse_with(self._con, first, self._methods, self._best)
            present = pc.is_valid(first)
            for column in candidates[1:]:
                present = pc.or_(present, pc.is_valid(table.column(column)))
            left = pc.and_(pc.is_null(stamp), present).to_numpy(zero_copy_only=False)
            if left.any():
                rest = table.select(candidates).filter(pa.array(left))
                rows = np.flatnonzero(left) + self._rows
                self._rest.append(rest.append_column("__row", pa.array(rows)))
        table = table.drop_columns(candidates)
        if "timestamp" in table.column_names:
            table = table.set_column(table.column_names.index("timestamp"), "timestamp", stamp)
        else:
            table = table.append_column("timestamp", stamp)
        self._done.append(table)
        self._rows += n


def _candidates(table: pa.Table) -> list[str]:
    return [c for c in table.column_names if c.startswith("__time_")]


def _other_candidates(
    rest: pa.Table, *, year: int | None
) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Times from the second and later candidates where the first gave none, and the text tried.

    The text is the first candidate's where present, else the first later
    candidate's that was tried, as in :func:`apply_times`.
    """
    m = rest.num_rows
    stamp = pa.chunked_array([pa.nulls(m, TS_TYPE)])
    raw = rest.column(0).cast(STR)
    for column in rest.column_names[1:]:
        col = rest.column(column)
        rows = np.flatnonzero(
            pc.and_(pc.is_null(stamp), pc.is_valid(col)).to_numpy(zero_copy_only=False)
        )
        if not len(rows):
            continue
        col = col.take(pa.array(rows)).cast(STR)
        raw = pc.coalesce(raw, spread(col, rows, m))
        stamp = pc.coalesce(stamp, spread(parse_times(col, year=year), rows, m))
    return stamp, raw
