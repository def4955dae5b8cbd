"""Secrets in pandas frames and Arrow tables: columns by name, text by a cheap scan first (pure)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.redact.names import KEEP, MASK, MASKED, is_secret_key
from whyloop.redact.text import TRIGGER, redact_json, redact_text

__all__ = ["redact_frame", "redact_series", "redact_table"]


def redact_series(values: pd.Series) -> pd.Series:
    """Return ``values`` (strings) with secrets redacted; rows without a hint of one are untouched.

    The hint test runs in Arrow over the values' bytes, so a million clean
    lines cost milliseconds and no copy; only flagged rows go through
    :func:`redact_text`.
    """
    if not len(values):
        return values
    try:  # pandas' Arrow-backed str dtype hands its buffers over without a copy
        arr = pa.chunked_array(pa.array(values))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.chunked_array(
            [pa.array(values.astype(object).where(values.notna(), None), type=pa.large_string())]
        )
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string())
    if not any(_may_hold_secret(chunk) for chunk in arr.chunks):
        return values
    hits = pc.fill_null(pc.match_substring_regex(arr, TRIGGER), False).to_numpy(
        zero_copy_only=False
    )
    if not hits.any():
        return values
    out = values.copy()
    out[hits] = [redact_text(v) for v in values[hits]]
    return out


def redact_frame(df: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Redact ``df`` in place: secret-named columns masked whole, text columns scanned.

    ``columns`` limits both to those columns (default: all of them).
    """
    for col in columns if columns is not None else list(df.columns):
        if col not in df:
            continue
        series = df[col]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        text = series.dtype == object or pd.api.types.is_string_dtype(series)
        if (text or numeric) and is_secret_key(str(col), numeric=numeric):
            df[col] = [_mask_cell(v) for v in series]
        elif text:
            df[col] = redact_series(series)
    return df


def _mask_cell(value: Any) -> Any:
    """A secret column's cell masked whole; missing values (None, NaN) and booleans kept."""
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value != value:
        return value
    return redact_json(value, secret=True)


def redact_table(table: pa.Table) -> pa.Table:
    """Redact an Arrow table (the log ingest path): secret-named columns masked, text scanned.

    Text is scanned chunk by chunk: a chunk without a hint of a secret is
    kept as it is, so a clean table is scanned, not copied; a chunk that
    recurs (a column of one repeated value, or two columns sharing memory)
    is scanned once. The scans run in threads (RE2 releases the GIL).
    """
    for i, field in enumerate(table.schema):
        kind = field.type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        if (text or numeric) and is_secret_key(field.name, numeric=numeric):
            masked = _mask_column(table.column(i))
            table = table.set_column(i, pa.field(field.name, masked.type), masked)
    # Chunks by memory address, each kept alive while this runs so that its
    # memory cannot be freed and the address reused by another chunk.
    unique: dict[tuple[object, ...], pa.Array] = {}
    layout: list[tuple[int, pa.Field, list[tuple[object, ...]]]] = []
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        keys = []
        for chunk in table.column(i).chunks:
            key = (
                chunk.type,
                chunk.offset,
                len(chunk),
                *(None if b is None else b.address for b in chunk.buffers()),
            )
            unique.setdefault(key, chunk)
            keys.append(key)
        layout.append((i, field, keys))
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        fixed = dict(zip(unique, pool.map(_redact_chunk, unique.values()), strict=True))
    for i, field, keys in layout:
        if any(fixed[k] is not unique[k] for k in keys):
            table = table.set_column(
                i, field, pa.chunked_array([fixed[k] for k in keys], field.type)
            )
    return table


def _mask_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Every value of ``column`` as text, masked by :func:`redact_value`'s rule, in Arrow."""
    text = column.cast(pa.large_string()).combine_chunks()
    size = pc.utf8_length(text)
    keep = pc.min_element_wise(pc.divide(size, 4), KEEP)
    prefix = pc.choose(keep, *(pc.utf8_slice_codeunits(text, 0, k) for k in range(KEEP + 1)))
    large = pa.large_string()
    masked = pc.binary_join_element_wise(prefix, pa.scalar(MASK, large), pa.scalar("", large))
    as_is = pc.or_(pc.equal(size, 0), pc.match_substring_regex(text, MASKED))
    return pa.chunked_array([pc.if_else(as_is, text, masked)])


def _may_hold_secret(chunk: pa.Array) -> bool:
    """False when no value in ``chunk`` can match the trigger: one RE2 pass over its bytes.

    The chunk's values are searched as one binary value, which runs at
    hundreds of MB/s where a per-value regex costs ~70 ns a row even on short
    strings. Matching across two values' boundary can only add a false alarm.
    """
    buffers = chunk.buffers()
    if len(chunk) == 0 or len(buffers) < 3 or buffers[1] is None or buffers[2] is None:
        return False
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=width)
    start, stop = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
    if stop <= start:
        return False
    bounds = pa.py_buffer(np.array([0, stop - start], dtype=np.int64).tobytes())
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, bounds, buffers[2][start:stop]])
    return bool(pc.match_substring_regex(whole, TRIGGER)[0].as_py())


def _redact_chunk(chunk: pa.Array) -> pa.Array:
    """``chunk`` itself when nothing in it hints at a secret, else a redacted copy."""
    if not _may_hold_secret(chunk):
        return chunk
    hits = pc.fill_null(pc.match_substring_regex(chunk, TRIGGER), False)
    if not pc.any(hits).as_py():
        return chunk
    fixed = pa.array([redact_text(v) for v in chunk.filter(hits).to_pylist()], type=chunk.type)
    return pc.replace_with_mask(chunk, hits, fixed)
