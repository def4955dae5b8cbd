"""Text logs as blocks of lines, and a line format matched on them (pure).

A text log is read a block at a time (:data:`BLOCK_BYTES`, cut at a line
end), so what is in memory at once is one block's lines and what the parser
keeps of the blocks before it, never the whole file next to its lines.
:class:`LineMatcher` matches a regular expression with named groups on each
block: RE2 in DuckDB (vectorised and parallel), or Python's ``re`` for a
pattern RE2 cannot compile (look-arounds, back-references).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.errors import IngestError
from whyloop.ingest.logs_frame import STR, connect, quote_ident, quote_str

__all__ = ["BLOCK_BYTES", "LineMatcher", "head_bytes", "line_blocks", "split_lines"]

#: Bytes of text read and matched at a time. Small enough that a block's
#: lines and match results are a few tens of MB, large enough that the
#: per-block costs (a query, a few compute calls) stay out of the profile.
BLOCK_BYTES = 8 << 20
# Rows per batch handed to DuckDB: it scans the batches of one table in
# parallel, and a block as one batch would run on one thread.
_BATCH_ROWS = 32768


def split_lines(data: bytes) -> pa.Array:
    """Split bytes into a large_string array of lines without their ``\\n``/``\\r\\n`` (vectorised)."""
    if data and not data.endswith(b"\n"):
        data += b"\n"
    try:
        lines = _from_buffer(data)
        lines.validate(full=True)  # checks UTF-8
    except pa.ArrowInvalid:
        data = data.decode("utf-8", "replace").encode()
        lines = _from_buffer(data)
    lines = pc.binary_slice(lines.cast(pa.large_binary()), 0, -1).cast(STR)
    if b"\r" in data:
        lines = pc.utf8_rtrim(lines, characters="\r")
    return lines


def _from_buffer(data: bytes) -> pa.Array:
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    offsets = np.zeros(len(ends) + 1, dtype=np.int64)
    offsets[1:] = ends + 1
    return pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))


def head_bytes(data: Path | bytes, size: int = 65536) -> bytes:
    """The first ``size`` bytes of a path or of bytes."""
    if isinstance(data, bytes):
        return data[:size]
    with open(data, "rb") as fh:
        return fh.read(size)


def line_blocks(data: Path | bytes, *, size: int | None = None) -> Iterator[tuple[int, pa.Array]]:
    """Yield ``(lines_before, lines)`` for consecutive blocks of about ``size`` bytes.

    Each block ends at a line end (a line longer than ``size`` makes a longer
    block); ``lines`` are as :func:`split_lines` gives them and
    ``lines_before`` counts the lines of the blocks before, so line ``i`` of a
    block is line ``lines_before + i + 1`` of the source. There is always at
    least one block, empty for empty data.
    """
    size = size or BLOCK_BYTES
    before = 0
    for block in _byte_blocks(data, size):
        lines = split_lines(block)
        del block
        yield before, lines
        before += len(lines)
    if not before:
        yield 0, split_lines(b"")


def _byte_blocks(data: Path | bytes, size: int) -> Iterator[bytes]:
    if isinstance(data, bytes):
        start = 0
        while start < len(data):
            end = data.find(b"\n", start + size - 1) + 1 or len(data)
            yield data[start:end]
            start = end
        return
    with open(data, "rb") as fh:
        parts: list[bytes | memoryview] = []
        while chunk := fh.read(size):
            cut = chunk.rfind(b"\n") + 1
            if not cut:  # no line end yet: the line goes on into the next read
                parts.append(chunk)
                continue
            view = memoryview(chunk)
            yield b"".join([*parts, view[:cut]])
            parts = [view[cut:]]
        if any(len(p) for p in parts):
            yield b"".join(parts)


class LineMatcher:
    """Match a regex with named groups on blocks of lines; close it (or use ``with``) after.

    ``pattern`` must capture with the named ``groups`` only (see
    ``logs_text._named_only``). RE2 in DuckDB reads it when it can, Python's
    ``re`` otherwise (decided on the first block).
    """

    def __init__(self, pattern: str, groups: list[str]) -> None:
        self.pattern, self.groups = pattern, groups
        self._con: duckdb.DuckDBPyConnection | None = connect()
        self._rx: re.Pattern[str] | None = None
        listed = "[" + ", ".join(quote_str(g) for g in groups) + "]"
        fields = [f"struct_extract(g, {quote_str(g)})" for g in groups]
        select = ", ".join(
            f"nullif({f}, '') AS {quote_ident(g)}" for f, g in zip(fields, groups, strict=True)
        )
        matched = " OR ".join(f"{f} <> ''" for f in fields)
        self._query = (
            f"WITH x AS (SELECT regexp_extract(v, {quote_str(pattern)}, {listed}) AS g "
            f"FROM source) SELECT {select}, ({matched}) AS __m FROM x"
        )

    def __enter__(self) -> LineMatcher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the DuckDB connection."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def match(self, lines: pa.Array) -> tuple[dict[str, pa.Array], np.ndarray]:
        """Each named group's text per line (null where empty) and whether the line matched.

        DuckDB returns empty strings, not nulls, for a line that does not
        match, so a line counts as matched when one of its groups is not empty
        (a line whose every group is empty carries nothing to keep apart from
        its text).
        """
        if self._con is not None:
            batches = [lines.slice(i, _BATCH_ROWS) for i in range(0, len(lines), _BATCH_ROWS)]
            self._con.register("source", pa.table({"v": pa.chunked_array(batches, STR)}))
            try:
                query = self._con.sql(self._query)
            except duckdb.Error:  # not RE2 syntax: Python's re can still read it
                self.close()
            else:
                found = query.to_arrow_table()
                self._con.unregister("source")
                # DuckDB's columns share one allocation per batch, so a column
                # kept alone would keep every other column of it alive: copy the
                # groups out and let the rest go.
                tokens = {g: _own(found.column(g)) for g in self.groups}
                matched = pc.fill_null(_own(found.column("__m")), False)
                return tokens, matched.to_numpy(zero_copy_only=False).astype(bool)
        return self._python_match(lines)

    def _python_match(self, lines: pa.Array) -> tuple[dict[str, pa.Array], np.ndarray]:
        if self._rx is None:
            try:
                self._rx = re.compile(self.pattern)
            except re.error as err:
                raise IngestError(f"invalid line format regex: {err}") from None
        found = [self._rx.search(t) for t in lines.to_pylist()]
        tokens = {
            g: pa.array([(m.group(g) or None) if m else None for m in found], STR)
            for g in self.groups
        }
        matched = [m is not None and any(m.group(g) for g in self.groups) for m in found]
        return tokens, np.array(matched, dtype=bool)


def _own(column: pa.ChunkedArray) -> pa.Array:
    """One array in memory of its own (a copy)."""
    if not column.num_chunks:
        return pa.array([], column.type)
    return pa.concat_arrays(column.chunks)
