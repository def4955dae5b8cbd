"""Multi-line records of text logs, joined block by block (pure).

Text logs are matched a block of lines at a time (:mod:`.lines`), and a
record can run on past a block's end (a traceback cut in two). The joiners
here take each block's rows as soon as it is matched and hold them until the
next block shows whether its last record goes on; then they hand the
finished records to a ``sink`` (a callable). A record is the same whatever
the block size, and about one block waits at a time.

* :class:`TextRecords`: a line that does not match the line format continues
  the record before it; lines before the first match are records of their own.
* :class:`CriRecords`: CRI partial lines (tag ``P``) join the line that ends them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.errors import IngestError
from whyloop.ingest.logs.frame import join_records

__all__ = ["CriRecords", "RecordJoiner", "Sink", "TextRecords"]

#: Where finished records go, a table of them at a time, in order.
Sink = Callable[[pa.Table], None]


class RecordJoiner:
    """Rows into records, block by block: a row that does not start a record continues the one before.

    Call :meth:`add` with each block's rows and where records start, in
    order, then :meth:`finish`; ``sink`` gets the records, joined by
    :func:`~.logs_frame.join_records` (rows before the first start are records
    of their own), at least one table once a block was added.
    """

    def __init__(self, *, sep: str, sink: Sink) -> None:
        self.sep, self.sink = sep, sink
        # The last block seen: its last record may go on in the next block.
        self._open: tuple[pa.Table, np.ndarray] | None = None

    def add(self, table: pa.Table, starts: np.ndarray) -> None:
        """Take the next block's rows; ``starts[i]`` is true where row ``i`` starts a record."""
        if self._open is None:
            self._open = (table, starts)
            return
        open_table, open_starts = self._open
        if not open_starts.any():  # no record yet, so nothing these rows can continue
            self._emit(open_table, open_starts)
            self._open = (table, starts)
            return
        found = np.flatnonzero(starts)
        cut = int(found[0]) if len(found) else len(starts)  # rows continuing the open record
        if cut == 0:
            self._emit(open_table, open_starts)
            self._open = (table, starts)
        elif cut == len(starts):
            self._open = (
                pa.concat_tables([open_table, table]),
                np.concatenate([open_starts, starts]),
            )
        else:
            self._emit(
                pa.concat_tables([open_table, table.slice(0, cut)]),
                np.concatenate([open_starts, starts[:cut]]),
            )
            self._open = (table.slice(cut), starts[cut:])

    def finish(self) -> None:
        """Hand on the last records."""
        if self._open is not None:
            self._emit(*self._open)
            self._open = None

    def _emit(self, table: pa.Table, starts: np.ndarray) -> None:
        self.sink(join_records(table, starts, sep=self.sep))


def _blank(column: pa.ChunkedArray | pa.Array, *, trim: bool) -> np.ndarray:
    """Where a text column is null or empty (with ``trim``, or only whitespace)."""
    if trim:
        column = pc.utf8_trim_whitespace(column)
    empty = pc.fill_null(pc.equal(pc.utf8_length(column), 0), True)
    return empty.to_numpy(zero_copy_only=False).astype(bool)


class TextRecords:
    """Lines into records: one that does not match the format continues the record before it.

    Lines before the first match are kept as message-only records (blank ones
    dropped), with one counted warning. ``explicit`` says the format was
    given, not detected: then no matching line at all is an error.
    """

    def __init__(self, *, name: str, explicit: bool, sink: Sink) -> None:
        self.name, self.explicit = name, explicit
        self._joiner = RecordJoiner(sep="\n", sink=sink)
        self._matched = False
        self._before = 0  # lines kept before the first match

    def add(self, table: pa.Table, matched: np.ndarray, lines_before: int) -> None:
        """Take a block's rows (``message`` holding the line where it did not match)."""
        if not self._matched:
            found = np.flatnonzero(matched)
            first = int(found[0]) if len(found) else len(matched)
            if first:
                keep = np.ones(len(matched), dtype=bool)
                keep[:first] = ~_blank(table.column("message").slice(0, first), trim=True)
                self._before += int(keep[:first].sum())
                table, matched = table.filter(pa.array(keep)), matched[keep]
            self._matched = bool(len(found))
        self._joiner.add(table, matched)

    def finish(self, warnings: list[str]) -> None:
        """Hand on the last records; append the warning about lines before the first match."""
        self._joiner.finish()
        if not self._matched:
            if self.explicit and self._before:
                raise IngestError("no line matches the line format", path=self.name)
        elif self._before:
            warnings.append(
                f"{self.name}:1: {self._before} lines before the first line matching the format "
                "kept as message-only records"
            )


class CriRecords:
    """CRI container lines into records: partial lines (tag ``P``) join the full line (``F``) ending them.

    Lines that are not CRI lines are kept as text records, each with a
    warning (the first 20, then a count); blank ones are dropped.
    """

    def __init__(self, *, name: str, sink: Sink) -> None:
        self.name = name
        self._joiner = RecordJoiner(sep="", sink=sink)
        self._odd: list[int] = []  # the first 20 line numbers that are not CRI lines
        self._odd_count = 0
        self._partial = False  # the last kept line was a partial one

    def add(self, table: pa.Table, matched: np.ndarray, lines_before: int) -> None:
        """Take a block's rows (with the ``tag`` column, which is dropped)."""
        tag = table.column("tag")
        table = table.drop_columns(["tag"])
        blank = _blank(table.column("message"), trim=False)
        odd = np.flatnonzero(~matched & ~blank)
        self._odd += (odd[: 20 - len(self._odd)] + lines_before + 1).tolist()
        self._odd_count += len(odd)
        keep = matched | ~blank
        table, matched = table.filter(pa.array(keep)), matched[keep]
        partial = pc.fill_null(pc.starts_with(tag.filter(pa.array(keep)), "P"), False)
        partial = partial.to_numpy(zero_copy_only=False).astype(bool) & matched
        starts = np.ones(len(partial), dtype=bool)
        if len(partial):
            starts[0] = not self._partial
            starts[1:] = ~partial[:-1]
            self._partial = bool(partial[-1])
        self._joiner.add(table, starts)

    def finish(self, warnings: list[str]) -> None:
        """Hand on the last records; append a warning per line that was not a CRI line."""
        self._joiner.finish()
        for line in self._odd:
            warnings.append(f"{self.name}:{line}: not a CRI log line; kept as a text record")
        if self._odd_count > 20:
            warnings.append(
                f"{self.name}: ... and {self._odd_count - 20} more lines that are not CRI log lines"
            )
