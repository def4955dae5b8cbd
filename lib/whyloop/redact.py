"""Secret redaction: tokens, Authorization/Cookie headers and ``jwt.`` subprotocols.

Pure functions used wherever whyloop prints or saves text that might carry a
secret. A secret keeps its first 8 characters, then ``...``, so two values can
still be told apart without being usable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "SECRET_HEADERS",
    "redact_frame",
    "redact_headers",
    "redact_series",
    "redact_table",
    "redact_text",
    "redact_value",
]

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)

_KEEP = 8

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Authorization: Bearer xxx / Basic xxx (header lines and JSON-ish "Authorization": "...")
    re.compile(
        r"(?i)(\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token)?\s*)([^\s\"',;]+)"
    ),
    re.compile(r"(?i)(\b(?:set-)?cookie\b[\"']?\s*[:=]\s*[\"']?)([^\"'\r\n]+)"),
    re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=-]{9,})"),
    re.compile(r"(\bjwt\.)([A-Za-z0-9._~+/=-]{9,})"),
    re.compile(r"(?i)([?&](?:access_)?token=)([^&\s\"']+)"),
    re.compile(
        r"(?i)(\b(?:access_|refresh_|id_)?token\b[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9._~+/=-]{9,})"
    ),
    # bare JWTs: three base64url parts, the first starting with eyJ ({")
    re.compile(r"()(\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"),
)


def redact_value(secret: str) -> str:
    """Return ``secret`` cut to its first 8 characters followed by ``...``."""
    if secret.endswith("...") and len(secret) <= _KEEP + 3:
        return secret
    return secret[:_KEEP] + "..."


def _sub(match: re.Match[str]) -> str:
    value = match.group(2)
    if value.endswith("...") and len(value) <= _KEEP + 3:
        return match.group(0)
    return match.group(1) + redact_value(value)


def redact_text(text: str) -> str:
    """Redact every secret whyloop recognises in free text (headers, URLs, logs)."""
    if not text:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(_sub, text)
    return text


def redact_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``headers`` with secret header values and ``jwt.`` subprotocols redacted."""
    out: dict[str, Any] = {}
    for key, value in headers.items():
        if str(key).lower() in SECRET_HEADERS:
            out[key] = redact_value(str(value))
        elif str(key).lower() == "sec-websocket-protocol":
            out[key] = redact_text(str(value))
        else:
            out[key] = value
    return out


# a cheap test every secret pattern above implies; only rows that pass it pay for the regexes
_TRIGGER = r"(?i)(authoriz|cookie|bearer|jwt\.|token|eyJ)"


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
    hits = pc.fill_null(pc.match_substring_regex(arr, _TRIGGER), False).to_numpy(
        zero_copy_only=False
    )
    if not hits.any():
        return values
    out = values.copy()
    out[hits] = [redact_text(v) for v in values[hits]]
    return out


def redact_frame(df: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Redact secrets in the string columns of ``df`` (all of them, or ``columns``), in place."""
    for col in columns if columns is not None else list(df.columns):
        if col in df and (df[col].dtype == object or pd.api.types.is_string_dtype(df[col])):
            df[col] = redact_series(df[col])
    return df


def redact_table(table: pa.Table) -> pa.Table:
    """Redact secrets in every string column of an Arrow table (the log ingest path).

    Chunk by chunk: a chunk without a hint of a secret is kept as it is, so a
    clean table is scanned, not copied; a chunk that recurs (a column of one
    repeated value, or two columns sharing memory) is scanned once. The scans
    run in threads (RE2 releases the GIL).
    """
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
    return bool(pc.match_substring_regex(whole, _TRIGGER)[0].as_py())


def _redact_chunk(chunk: pa.Array) -> pa.Array:
    """``chunk`` itself when nothing in it hints at a secret, else a redacted copy."""
    if not _may_hold_secret(chunk):
        return chunk
    hits = pc.fill_null(pc.match_substring_regex(chunk, _TRIGGER), False)
    if not pc.any(hits).as_py():
        return chunk
    fixed = pa.array([redact_text(v) for v in chunk.filter(hits).to_pylist()], type=chunk.type)
    return pc.replace_with_mask(chunk, hits, fixed)
