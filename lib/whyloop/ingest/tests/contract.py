"""The contract between the test-result parsers and ``read_tests``.

A parser returns :class:`ParsedTests`, holding its records either as ``rows``
(one dict per test execution: simple, what most parsers build) or as
:class:`ResultColumns` (one compact list or array per column: what a parser of
100,000-testcase files builds, so the records cost a few bytes per field
rather than a dict each).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from whyloop.ingest.tests.values import NO_TIME
from whyloop.schema import Outcome, TestFormat

__all__ = [
    "MAX_MICROS",
    "OUTCOMES",
    "SPARSE_OBJECTS",
    "SPARSE_TEXT",
    "Declared",
    "ParsedTests",
    "ResultColumns",
    "SparseText",
]

#: Outcome values in the order of their codes in :attr:`ResultColumns.outcome`
#: (the order of :class:`~whyloop.schema.Outcome`, as in the frame's categories).
OUTCOMES: tuple[str, ...] = tuple(o.value for o in Outcome)
#: Text columns most rows leave empty; :class:`ResultColumns` keeps only the filled ones.
SPARSE_TEXT: tuple[str, ...] = ("message", "failure_type", "details", "stdout", "stderr")
#: Columns of Python objects (tuples of markers, dicts of properties) kept the same way.
SPARSE_OBJECTS: tuple[str, ...] = ("markers", "properties")
#: Times past ``datetime.max`` (absurd durations added up) are treated as unknown.
MAX_MICROS = (datetime.max.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
    microseconds=1
)

_CODES = {value: code for code, value in enumerate(OUTCOMES)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Declared:
    """Counts a file declares about itself (suite attributes, a tool's summary), for cross-checking rows.

    Each is what the tool wrote, in its own terms (each parser's docstring says
    which of its fields go where); ``None`` where the file does not say.
    ``passed`` and ``flaky`` are given by the formats whose tools count them
    (Jest, Playwright, Mocha, CTRF, ...).
    """

    tests: int | None = None
    failures: int | None = None
    errors: int | None = None
    skipped: int | None = None
    passed: int | None = None
    flaky: int | None = None


class SparseText:
    """A text column most rows leave empty: the filled rows and their UTF-8 bytes, end to end.

    ``rows`` (ascending) and ``ends`` (the end offset of each value in
    ``data``) run in parallel; the bytes are the Arrow layout already, so the
    frame uses ``data`` as it is.
    """

    __slots__ = ("data", "ends", "rows")

    def __init__(self) -> None:
        self.rows = array("q")
        self.ends = array("q")
        self.data = bytearray()

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, row: int, text: str) -> None:
        """Give ``row`` the value ``text``; rows must be added in ascending order."""
        self.rows.append(row)
        self.data += text.encode("utf-8")
        self.ends.append(len(self.data))

    def values(self) -> dict[int, str]:
        """``{row: text}`` for the filled rows."""
        starts = [0, *self.ends][:-1]
        return {
            row: self.data[a:b].decode("utf-8")
            for row, a, b in zip(self.rows, starts, self.ends, strict=True)
        }


class ResultColumns:
    """Test executions kept column by column; a parser appends, ``read_tests`` converts.

    Dense columns hold one entry per row:

    * ``suite``, ``classname``, ``name``: ``str`` (a parser should share repeated
      values, e.g. through a dict, so each costs one pointer);
    * ``outcome``: ``array("b")`` of indices into :data:`OUTCOMES`;
    * ``rerun``: ``array("q")``; ``duration_s``: ``array("d")``, NaN when unknown;
    * ``start``, ``stop``: ``array("q")`` of microseconds since the Unix epoch
      (UTC), :data:`~whyloop.ingest.tests.values.NO_TIME` when unknown.

    The sparse columns hold only rows that have a value, in row order:
    ``test_id`` is ``(row numbers, ids)`` for the rows whose id is not the usual
    ``classname::name`` (that one is built with the frame, not kept per row);
    ``text[column]`` is a :class:`SparseText` for each of :data:`SPARSE_TEXT`;
    ``objects[column]`` is ``(row numbers, values)`` for markers (tuples of
    str) and properties (dicts; rows may share one, so treat them as
    read-only). Append rows with :meth:`append`, or to the lists directly in a
    hot loop, keeping every dense column the same length.
    """

    def __init__(self) -> None:
        self.suite: list[str] = []
        self.classname: list[str] = []
        self.name: list[str] = []
        self.test_id: tuple[list[int], list[str]] = ([], [])
        self.outcome = array("b")
        self.rerun = array("q")
        self.duration_s = array("d")
        self.start = array("q")
        self.stop = array("q")
        self.text: dict[str, SparseText] = {c: SparseText() for c in SPARSE_TEXT}
        self.objects: dict[str, tuple[list[int], list[Any]]] = {c: ([], []) for c in SPARSE_OBJECTS}
        self._popped: int | None = None

    def __len__(self) -> int:
        return len(self.outcome) if self._popped is None else self._popped

    def append(
        self,
        suite: str,
        classname: str,
        name: str,
        test_id: str,
        outcome: str,
        rerun: int,
        duration_s: float,
        start: int | None,
        stop: int | None,
        **text: Any,
    ) -> None:
        """Add one row; ``text`` holds any of the sparse columns (empty values are skipped)."""
        row = len(self.outcome)
        for column, value in text.items():
            if not value:
                continue
            if column in self.text:
                self.text[column].add(row, value)
            else:
                rows, values = self.objects[column]
                rows.append(row)
                values.append(value)
        self.suite.append(suite)
        self.classname.append(classname)
        self.name.append(name)
        if test_id != f"{classname}::{name}":
            self.test_id[0].append(row)
            self.test_id[1].append(test_id)
        self.outcome.append(_CODES[outcome])
        self.rerun.append(rerun)
        self.duration_s.append(duration_s)
        self.start.append(NO_TIME if start is None else start)
        self.stop.append(NO_TIME if stop is None else stop)

    def pop(self, column: str) -> Any:
        """Hand over a column (or ``"text"``, ``"objects"``) and drop it here, so it can be freed.

        Once anything has been popped, :meth:`rows` can no longer be called.
        """
        if self._popped is None:
            self._popped = len(self.outcome)
        value = getattr(self, column)
        setattr(self, column, None)
        return value

    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts, as a parser returning ``rows`` would have built them."""
        if self._popped is not None:
            raise RuntimeError("columns were handed over; their rows are gone")
        sparse = [self.text[c].values() for c in SPARSE_TEXT]
        sparse += [dict(zip(*self.objects[c], strict=True)) for c in SPARSE_OBJECTS]
        ids = dict(zip(*self.test_id, strict=True))
        out = []
        for i in range(len(self.outcome)):
            classname, name, test_id = self.classname[i], self.name[i], ids.get(i)
            message, ftype, details, stdout, stderr, markers, props = (s.get(i) for s in sparse)
            out.append(
                {
                    "suite": self.suite[i],
                    "classname": classname,
                    "name": name,
                    "test_id": f"{classname}::{name}" if test_id is None else test_id,
                    "outcome": OUTCOMES[self.outcome[i]],
                    "rerun": self.rerun[i],
                    "duration_s": self.duration_s[i],
                    "start": _datetime(self.start[i]),
                    "stop": _datetime(self.stop[i]),
                    "message": message or "",
                    "failure_type": ftype or "",
                    "details": details or "",
                    "stdout": stdout or "",
                    "stderr": stderr or "",
                    "markers": markers or (),
                    "properties": dict(props) if props else None,
                }
            )
        return out


def _datetime(value: int) -> datetime | None:
    if value == NO_TIME or value > MAX_MICROS:
        return None
    return _EPOCH + timedelta(microseconds=value)


class ParsedTests:
    """What a test-result parser returns for one file.

    ``rows`` are dicts keyed by names from :data:`whyloop.schema.TEST_COLUMNS`
    (parsers fill what their format gives: suite, classname, name, test_id,
    outcome, rerun, duration_s, start, stop, message, failure_type, details,
    stdout, stderr, markers, properties). A parser may give ``columns``
    instead (see :class:`ResultColumns`); ``rows`` then builds a fresh list of
    dicts from them on each access (handy in tests, costly for big files:
    ``read_tests`` reads the columns). ``warnings`` are one-line problems with
    records that were still read; ``declared`` holds the file's own counts.
    """

    def __init__(
        self,
        format: TestFormat,
        rows: list[dict[str, Any]] | None = None,
        warnings: list[str] | None = None,
        declared: Declared | None = None,
        *,
        columns: ResultColumns | None = None,
    ) -> None:
        if rows is not None and columns is not None:
            raise ValueError("give rows or columns, not both")
        self.format = format
        self.columns = columns
        self._rows: list[dict[str, Any]] = [] if rows is None else rows
        self.warnings: list[str] = [] if warnings is None else warnings
        self.declared = Declared() if declared is None else declared

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The records as dicts (built from ``columns`` when the parser gave those)."""
        return self._rows if self.columns is None else self.columns.rows()

    @property
    def n_rows(self) -> int:
        """The number of records, without building them."""
        return len(self._rows) if self.columns is None else len(self.columns)

    def __repr__(self) -> str:
        kind = "rows" if self.columns is None else "columnar rows"
        return (
            f"<ParsedTests {self.format.value}: {self.n_rows} {kind}, "
            f"{len(self.warnings)} warnings>"
        )
