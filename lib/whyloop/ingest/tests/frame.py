"""One file's parsed test results as a tests DataFrame with the canonical dtypes.

:func:`to_frame` turns a :class:`~whyloop.ingest.tests.contract.ParsedTests` into a
frame with the columns of :data:`whyloop.schema.TEST_COLUMNS` (all but
category and signature, which ``read_tests`` adds) and their final dtypes:
text as Arrow-backed ``str``, ``outcome`` categorical, ``rerun`` int64,
``duration_s`` float64, ``start``/``stop`` UTC datetimes. Frames of several
files then concatenate without conversion.

Columnar results (:class:`~whyloop.ingest.tests.contract.ResultColumns`) are
converted one column at a time straight into Arrow buffers, each Python list
dropped as soon as it is converted, so reading a large file never holds the
rows twice. Row dicts (the small formats) go through :func:`normalise`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import chain, repeat
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from whyloop.errors import IngestError
from whyloop.ingest.arrow import STR
from whyloop.ingest.tests.contract import MAX_MICROS, ParsedTests, ResultColumns, SparseText
from whyloop.ingest.tests.values import NO_TIME
from whyloop.schema import TEST_COLUMNS, Outcome

__all__ = ["OUTCOME_DTYPE", "empty_frame", "frame_of_files", "normalise", "to_frame"]

OUTCOME_DTYPE = pd.CategoricalDtype([o.value for o in Outcome])
#: the columns a parser's results give, in frame order (category and signature come later)
_ADDED_LATER = ("file", "format", "category", "category_rule", "signature", "signature_text")
PARSED_COLUMNS = (*(c for c in TEST_COLUMNS if c not in _ADDED_LATER), "file", "format")
#: the text columns, all of dtype ``str`` (what ``astype(str)`` gives: Arrow-backed)
TEXT_COLUMNS = tuple(
    c for c in PARSED_COLUMNS if c not in ("outcome", "rerun", "duration_s", "start", "stop")
)
#: rows in one chunk of a constant column (see :func:`_repeat`)
_REPEAT_CHUNK = 1 << 13


def to_frame(parsed: ParsedTests, file: str) -> pd.DataFrame:
    """The frame of one file's results, every column in its final dtype.

    Columnar results are handed over: ``parsed.columns`` is emptied as it is
    converted (``parsed.n_rows`` still counts them). Raises
    :class:`IngestError` for an outcome that is not an :class:`Outcome`
    (a parser bug, not bad input).
    """
    if parsed.columns is not None:
        return _from_columns(parsed.columns, [(file, parsed.format.value, parsed.n_rows)])
    columns = [c for c in PARSED_COLUMNS if c not in ("file", "format")]
    df = pd.DataFrame.from_records(parsed.rows, columns=columns)
    df["file"] = file
    df["format"] = parsed.format.value
    return normalise(df)


def frame_of_files(parts: list[tuple[ParsedTests, str]]) -> pd.DataFrame:
    """One frame of many files' results, built once rather than a frame per file.

    A build with thousands of small result files (one per class) pays the
    frame-building cost once: columnar results are joined column by column,
    row dicts are gathered, and the two are put in file order. Each part's
    columns are handed over, as with :func:`to_frame`.
    """
    frames: list[pd.DataFrame] = []
    columns: list[tuple[ResultColumns, str, str]] = []
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        if columns:
            merged, runs = _join(columns)
            frames.append(_from_columns(merged, runs))
            columns.clear()
        if rows:
            frames.append(normalise(pd.DataFrame.from_records(rows, columns=list(PARSED_COLUMNS))))
            rows.clear()

    for parsed, file in parts:
        if parsed.columns is not None:
            if rows:
                flush()
            columns.append((parsed.columns, file, parsed.format.value))
        else:
            if columns:
                flush()
            fmt = parsed.format.value
            rows.extend({**row, "file": file, "format": fmt} for row in parsed.rows)
    flush()
    if not frames:
        return empty_frame()
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _join(
    parts: list[tuple[ResultColumns, str, str]],
) -> tuple[ResultColumns, list[tuple[str, str, int]]]:
    """Join several files' columns into one (sparse rows shifted); the (file, format, rows) runs."""
    if len(parts) == 1:
        cols, file, fmt = parts[0]
        return cols, [(file, fmt, len(cols))]
    out = ResultColumns()
    every = [cols for cols, _, _ in parts]
    runs = [(file, fmt, len(cols)) for cols, file, fmt in parts]
    # bulk joins: a build's thousands of small files make per-file Python steps the cost
    out.suite = list(chain.from_iterable(c.suite for c in every))
    out.classname = list(chain.from_iterable(c.classname for c in every))
    out.name = list(chain.from_iterable(c.name for c in every))
    for name in ("outcome", "rerun", "duration_s", "start", "stop"):
        getattr(out, name).frombytes(b"".join(getattr(c, name).tobytes() for c in every))
    offset = 0
    for cols, (_, _, n) in zip(every, runs, strict=True):
        rows, ids = cols.test_id
        if rows:
            out.test_id[0].extend(r + offset for r in rows)
            out.test_id[1].extend(ids)
        for column, text in cols.text.items():
            if text.rows:
                joined = out.text[column]
                base = len(joined.data)
                joined.rows.extend(r + offset for r in text.rows)
                joined.ends.extend(e + base for e in text.ends)
                joined.data += text.data
        for column, (rows, values) in cols.objects.items():
            if rows:
                out.objects[column][0].extend(r + offset for r in rows)
                out.objects[column][1].extend(values)
        offset += n
    return out, runs


def empty_frame() -> pd.DataFrame:
    """A frame with no rows and the dtypes :func:`to_frame` gives."""
    return normalise(pd.DataFrame(columns=list(PARSED_COLUMNS)))


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Give a frame of row dicts the canonical columns and dtypes, in place; return it.

    Missing columns are added empty; markers (sequences) are joined with
    commas and properties (dicts) written as sorted JSON; text columns get
    ``""`` for missing values. Columns already in their final dtype are left
    as they are.
    """
    for col in PARSED_COLUMNS:
        if col not in df:
            df[col] = None
    if df["markers"].dtype != STR:
        df["markers"] = [
            ",".join(m) if isinstance(m, (list, tuple)) else (m or "") for m in df["markers"]
        ]
    if df["properties"].dtype != STR:
        df["properties"] = [
            _json(p) if isinstance(p, dict) else (p or "") for p in df["properties"]
        ]
    for col in TEXT_COLUMNS:
        if df[col].dtype != STR or df[col].hasnans:
            # an all-None column arrives as float64; filling "" into it would upcast (a warning)
            df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
    if df["rerun"].dtype != np.int64:
        df["rerun"] = pd.to_numeric(df["rerun"], errors="coerce").fillna(0).astype("int64")
    if df["duration_s"].dtype != np.float64:
        df["duration_s"] = pd.to_numeric(df["duration_s"], errors="coerce").astype("float64")
    for col in ("start", "stop"):
        if not isinstance(df[col].dtype, pd.DatetimeTZDtype):
            df[col] = pd.to_datetime(df[col], utc=True, errors="coerce", format="mixed")
    if df["outcome"].dtype != OUTCOME_DTYPE:
        bad = ~df["outcome"].isin(OUTCOME_DTYPE.categories)
        if bad.any():  # a parser bug, not bad input: say so rather than invent an outcome
            raise IngestError(f"unknown outcome {df.loc[bad, 'outcome'].iloc[0]!r}")
        df["outcome"] = df["outcome"].astype(OUTCOME_DTYPE)
    return df


def _json(props: dict[str, Any]) -> str:
    return json.dumps(props, sort_keys=True, default=str) if props else ""


# -- columnar results ------------------------------------------------------------
# Every text column is built as Arrow's large_string layout (int64 offsets and
# the UTF-8 bytes end to end) in exactly-sized numpy/bytes buffers, which Arrow
# and pandas then use without a copy. Letting pyarrow build them from Python
# lists would grow its buffers by doubling, and its allocator keeps what it
# freed: together about twice the final size in resident memory.


def _from_columns(cols: ResultColumns, runs: list[tuple[str, str, int]]) -> pd.DataFrame:
    """The frame of columnar results; ``runs`` says which file (and format) each run of rows is from."""
    n = len(cols)
    data: dict[str, Any] = {}
    classnames, names, suites = cols.pop("classname"), cols.pop("name"), cols.pop("suite")
    data["classname"] = _strings(classnames)
    # Surefire and Gradle name each suite after its class: share the column then
    data["suite"] = data["classname"] if suites == classnames else _strings(suites)
    del suites
    data["name"] = _strings(names)
    data["test_id"] = _test_ids(cols.pop("test_id"), classnames, names, data)
    del classnames, names
    codes = _numbers(cols.pop("outcome"), np.int8)
    data["outcome"] = pd.Categorical.from_codes(codes, dtype=OUTCOME_DTYPE)
    data["rerun"] = _numbers(cols.pop("rerun"), np.int64)
    data["duration_s"] = _numbers(cols.pop("duration_s"), np.float64)
    data["start"] = _times(cols.pop("start"))
    data["stop"] = _times(cols.pop("stop"))
    empty = _repeat("", n)  # one array for every column no row fills
    for column, text in cols.pop("text").items():
        data[column] = _scatter(n, text) if len(text) else empty
    for column, (rows, values) in cols.pop("objects").items():
        data[column] = _scatter(n, _encode(column, rows, values)) if rows else empty
    data["file"] = _runs([(file, count) for file, _, count in runs], n)
    data["format"] = _runs([(fmt, count) for _, fmt, count in runs], n)
    for column in TEXT_COLUMNS:
        data[column] = pd.array(data[column], dtype=STR)
    return pd.DataFrame({c: data[c] for c in PARSED_COLUMNS}, copy=False)


def _large_strings(n: int, offsets: np.ndarray, data: Any) -> pa.Array:
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _offsets(sizes: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def _byte_sizes(values: list[str], text: str, data: bytes) -> np.ndarray:
    """UTF-8 sizes of ``values``, whose concatenation is ``text``, encoded as ``data``."""
    if len(data) == len(text):  # all ASCII: a character is a byte
        return np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    sizes = {v: len(v.encode("utf-8")) for v in set(values)}
    return np.fromiter(map(sizes.__getitem__, values), dtype=np.int64, count=len(values))


def _strings(values: list[str]) -> pa.Array:
    """A list of str (repeated values shared, as parsers leave them) as an Arrow array."""
    text = "".join(values)
    data = text.encode("utf-8")
    sizes = _byte_sizes(values, text, data)
    del text
    return _large_strings(len(values), _offsets(sizes), data)


def _test_ids(
    given: tuple[list[int], list[str]], classnames: list[str], names: list[str], data: dict
) -> pa.Array:
    """The test_id column: the ``given`` ids at their rows, ``classname::name`` elsewhere.

    The ids are joined straight into the column's bytes: no string per row.
    """
    rows, ids = given
    n = len(classnames)
    if len(rows) == n:
        return _strings(ids)
    sizes = np.diff(_buffer_offsets(data["classname"])) + 2 + np.diff(_buffer_offsets(data["name"]))
    if rows:
        sizes[rows] = [len(t.encode("utf-8")) for t in ids]
        pieces: Iterable[str] = _id_pieces(rows, ids, classnames, names)
    else:
        pieces = chain.from_iterable(zip(classnames, repeat("::"), names))
    return _large_strings(n, _offsets(sizes), "".join(pieces).encode("utf-8"))


def _id_pieces(
    rows: list[int], ids: list[str], classnames: list[str], names: list[str]
) -> Iterator[str]:
    given = dict(zip(rows, ids, strict=True))
    for row, (classname, name) in enumerate(zip(classnames, names, strict=True)):
        test_id = given.get(row)
        if test_id is None:
            yield classname
            yield "::"
            yield name
        else:
            yield test_id


def _buffer_offsets(strings: pa.Array) -> np.ndarray:
    return np.frombuffer(strings.buffers()[1], dtype=np.int64, count=len(strings) + 1)


def _numbers(values: Any, dtype: type[np.generic]) -> np.ndarray:
    """A writable numpy copy of an ``array.array`` column."""
    return np.frombuffer(values, dtype=dtype).copy() if len(values) else np.empty(0, dtype)


def _times(values: Any) -> pd.arrays.DatetimeArray:
    """Microseconds since the epoch as UTC datetimes.

    With no time at all the unit is seconds, which is what pandas makes of a
    column of ``None`` (as :func:`normalise` gives for row dicts).
    """
    micros = _numbers(values, np.int64)
    micros[micros > MAX_MICROS] = NO_TIME
    stamps = micros.view("datetime64[us]")
    if not (micros != NO_TIME).any():
        stamps = stamps.astype("datetime64[s]")
    return pd.array(pd.DatetimeIndex(stamps).tz_localize("UTC"))


def _encode(column: str, rows: list[int], values: list[Any]) -> SparseText:
    """Markers (comma-joined) or properties (sorted JSON) as text, one value at a time.

    A properties dict shared by many rows is written once.
    """
    out = SparseText()
    if column == "markers":
        for row, markers in zip(rows, values, strict=True):
            out.add(row, ",".join(markers))
        return out
    written: dict[int, str] = {}
    for row, props in zip(rows, values, strict=True):
        text = written.get(id(props))
        if text is None:
            text = written[id(props)] = _json(props)
        out.add(row, text)
    return out


def _repeat(value: str, n: int) -> pa.ChunkedArray:
    """``n`` copies of ``value`` (file, format, or ``""`` for a column no row fills).

    Chunks of at most ``_REPEAT_CHUNK`` rows (or 1/64 of the rows) that all
    share one pair of buffers, so a constant column costs a few hundred
    kilobytes rather than 8 bytes of offsets plus the text for every row.
    """
    size = max(_REPEAT_CHUNK, -(-n // 64))
    data = value.encode("utf-8")
    full = _large_strings(size, np.arange(size + 1, dtype=np.int64) * len(data), data * size)
    chunks = [full] * (n // size)
    if n % size:
        chunks.append(full.slice(0, n % size))
    return pa.chunked_array(chunks, type=pa.large_string())


def _runs(runs: list[tuple[str, int]], n: int) -> pa.Array | pa.ChunkedArray:
    """A column of ``n`` rows made of runs of one value each (the file of each row)."""
    if len(runs) == 1:
        return _repeat(runs[0][0], n)
    values = [value for value, _ in runs]
    counts = np.fromiter((count for _, count in runs), dtype=np.int64, count=len(runs))
    pieces = np.repeat(np.arange(len(values)), counts)
    unique, codes = np.unique(np.array(values, dtype=object), return_inverse=True)
    dictionary = pa.array(list(unique), type=pa.large_string())
    return pa.DictionaryArray.from_arrays(codes[pieces], dictionary).cast(pa.large_string())


def _scatter(n: int, text: SparseText) -> pa.Array:
    """An ``n``-row column holding ``text``'s values at its rows and ``""`` elsewhere.

    It shares ``text.data``; only the offsets are new.
    """
    sizes = np.zeros(n, dtype=np.int64)
    ends = np.frombuffer(text.ends, dtype=np.int64)
    sizes[np.frombuffer(text.rows, dtype=np.int64)] = np.diff(ends, prepend=0)
    return _large_strings(n, _offsets(sizes), text.data)
