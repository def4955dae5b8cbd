"""Text logs as blocks of lines, and a line format matched on them (pure).

A text log is read a block at a time (:data:`BLOCK_BYTES`, cut at a line
end), so what is in memory at once is one block's lines and what the parser
keeps of the blocks before it, never the whole file next to its lines.
:class:`LineMatcher` matches a regular expression with named groups on each
block: RE2 in DuckDB (vectorised and parallel), or Python's ``re`` for a
pattern RE2 cannot compile (look-arounds, back-references).

The blocks are UTF-8 whatever the source was written in (see
:mod:`.encoding`): UTF-16/32 with a BOM is decoded as it is read, a UTF-8
BOM dropped, and bytes that are not UTF-8 are replaced and counted.
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
from whyloop.ingest.logs.encoding import (
    UTF8_BOM,
    Decoding,
    bom_codec,
    repair_utf8,
    utf8_head,
    utf8_pieces,
)
from whyloop.ingest.logs.frame import STR, batched, connect, quote_ident, quote_str

__all__ = ["BLOCK_BYTES", "LineMatcher", "head_bytes", "line_blocks", "split_lines"]

#: Bytes of text read and matched at a time. What a block holds while it is
#: parsed (lines, match results, copies) is a few times this; below about
#: 4 MB the cost of each DuckDB query (its regex compiled and warmed up per
#: query) starts to show: 1M lines take 1.5x as long in 2 MB blocks.
BLOCK_BYTES = 4 << 20


def split_lines(data: bytes | pa.Buffer, decoding: Decoding | None = None) -> pa.Array:
    """Split bytes into a large_string array of lines without their ``\\n``/``\\r\\n`` (vectorised).

    Each byte that is not UTF-8 becomes U+FFFD, counted in ``decoding``; the
    last line needs no line end.
    """
    buf = pa.py_buffer(data) if isinstance(data, bytes) else data
    if not buf.size:
        return pa.array([], STR)
    text = _one_string(buf)
    try:
        text.validate(full=True)  # checks UTF-8
    except pa.ArrowInvalid:
        text = _one_string(pa.py_buffer(repair_utf8(buf.to_pybytes(), decoding)))
    lines = pc.split_pattern(text, "\n").flatten()
    if np.frombuffer(buf, dtype=np.uint8)[-1] == 10:  # the empty "line" after the last line end
        lines = lines.slice(0, len(lines) - 1)
    if pc.match_substring(text, "\r")[0].as_py():
        lines = pc.utf8_rtrim(lines, characters="\r")
    return lines


def _one_string(buf: pa.Buffer) -> pa.Array:
    """``buf`` as a large_string array of one value (no copy)."""
    offsets = pa.py_buffer(np.array([0, buf.size], dtype=np.int64))
    return pa.LargeStringArray.from_buffers(1, offsets, buf)


def head_bytes(data: Path | bytes, size: int = 65536) -> bytes:
    """The first ``size`` bytes of a path or of bytes, as UTF-8 (see :func:`~.encoding.utf8_head`)."""
    if isinstance(data, bytes):
        return utf8_head(data[:size])
    with open(data, "rb") as fh:
        return utf8_head(fh.read(size))


def line_blocks(
    data: Path | bytes, *, size: int | None = None, decoding: Decoding | None = None
) -> Iterator[tuple[int, pa.Array]]:
    """Yield ``(lines_before, lines)`` for consecutive blocks of about ``size`` bytes.

    Each block ends at a line end (a line longer than ``size`` makes a longer
    block); ``lines`` are as :func:`split_lines` gives them and
    ``lines_before`` counts the lines of the blocks before, so line ``i`` of a
    block is line ``lines_before + i + 1`` of the source. There is always at
    least one block, empty for empty data. Bytes that are not UTF-8 are
    counted in ``decoding``.
    """
    size = size or BLOCK_BYTES
    before = 0
    for block in _byte_blocks(data, size):
        lines = split_lines(block, decoding)
        del block
        yield before, lines
        before += len(lines)
    if not before:
        yield 0, split_lines(b"")


def _byte_blocks(data: Path | bytes, size: int) -> Iterator[pa.Buffer]:
    """Consecutive pieces of ``data`` that end at a line end (or the end of the data).

    A regular file is read into Arrow buffers, each read starting where the
    last complete line ended: no bytes are copied to join pieces of a line.
    Anything else (a named pipe) is read whole first. UTF-16/32 with a BOM
    is decoded into UTF-8 pieces as it is read; a UTF-8 BOM is skipped.
    """
    if not isinstance(data, bytes) and not Path(data).is_file():
        data = Path(data).read_bytes()
    head = head_raw(data)
    codec = bom_codec(head)
    if codec is not None:
        for piece in utf8_pieces(data, codec, size):
            yield pa.py_buffer(piece)
        return
    skip = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
    if isinstance(data, bytes):
        whole, start = pa.py_buffer(data), skip
        while start < len(data):
            end = data.find(b"\n", start + size - 1) + 1 or len(data)
            yield whole.slice(start, end - start)
            start = end
        return
    with pa.OSFile(str(data)) as fh:
        pos, total, want = skip, fh.size(), size
        while pos < total:
            fh.seek(pos)
            buf = fh.read_buffer(want)
            if not buf.size:  # the file shrank while being read
                return
            cut = buf.size
            if pos + buf.size < total:
                cut = _last_line_end(buf) + 1
                if not cut:  # a line longer than the read: read more of it
                    want *= 2
                    continue
            yield buf.slice(0, cut)
            pos, want = pos + cut, size


def head_raw(data: Path | bytes, size: int = 4) -> bytes:
    """The first ``size`` bytes of a path or of bytes, as they are."""
    if isinstance(data, bytes):
        return data[:size]
    with open(data, "rb") as fh:
        return fh.read(size)


def _last_line_end(buf: pa.Buffer) -> int:
    """Offset of the last ``\\n`` in ``buf``, or -1 (searching back from the end)."""
    view = np.frombuffer(buf, dtype=np.uint8)
    step = 1 << 16
    for end in range(len(view), 0, -step):
        hits = np.flatnonzero(view[max(end - step, 0) : end] == 10)
        if len(hits):
            return max(end - step, 0) + int(hits[-1])
    return -1


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
            self._con.register("source", pa.table({"v": batched(lines)}))
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
                matched = pc.fill_null(found.column("__m"), False)
                return tokens, matched.to_numpy().astype(bool)
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
