"""Progress of report runs: a bar per notebook and per batch on a terminal, plain lines elsewhere.

A run reports to a :class:`Progress`: a report started (with its count of
code cells), a cell finished, a report finished (its summary line and the
path of its page), a batch started and finished. The base class ignores
everything, so the library is silent unless a caller passes one:

- :class:`TerminalProgress`: tqdm bars, one per running notebook (cells done
  of total) and one for the batch (reports done), with a summary line per
  report printed above them;
- :class:`LineProgress`: plain lines for logs and CI, at most one per report
  every ``interval_s`` seconds while it runs, plus a start and a summary line;
- :func:`for_stream` picks one of the two by whether the stream is a terminal.

In a process pool the worker's events travel to the parent on a queue
(:class:`QueueProgress`, :func:`relay`), so the parent draws the bars.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

__all__ = [
    "LineProgress",
    "Progress",
    "QueueProgress",
    "TerminalProgress",
    "for_stream",
    "relay",
]


class Progress:
    """Receives a run's events; this base class ignores them all (silent).

    ``key`` names a report (``loop/iteration-NNN``, or a batch's label for it).
    """

    def report_started(self, key: str, total: int) -> None:
        """A report's kernel is about to run ``total`` code cells."""

    def cell_done(self, key: str, done: int, total: int, section: str) -> None:
        """The ``done``-th code cell of ``total`` finished, in the section headed ``section``."""

    def report_done(self, key: str, summary: str, path: str | None, ok: bool) -> None:
        """A report finished: its summary line and its page's ``path`` (None when none was made)."""

    def batch_started(self, total: int, where: str) -> None:
        """A batch of ``total`` reports starts on ``where`` (a pool, a Dask scheduler)."""

    def tick(self) -> None:
        """Called now and then while a batch waits, so periodic output can be written."""

    def batch_done(self, summary: str) -> None:
        """The batch finished; ``summary`` is its one-line summary."""

    def close(self) -> None:
        """Release the bars; called once when the run ends, however it ends."""


class LineProgress(Progress):
    """Plain lines for a log or CI: no carriage returns, at most one line a report per ``interval_s``."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self.clock = clock
        self._started: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._batch: tuple[int, float] | None = None
        self._done = 0
        self._last_line = clock()

    def _write(self, line: str) -> None:
        print(line, file=self.stream, flush=True)
        self._last_line = self.clock()

    def report_started(self, key: str, total: int) -> None:
        self._started[key] = self._last[key] = self.clock()
        self._write(f"{key}: started, {total} code cells")

    def cell_done(self, key: str, done: int, total: int, section: str) -> None:
        now = self.clock()
        if key not in self._last or now - self._last[key] < self.interval_s:
            return
        self._last[key] = now
        where = f" (section '{section}')" if section else ""
        self._write(f"{key}: {done}/{total} cells{where}, {now - self._started[key]:.0f} s")

    def report_done(self, key: str, summary: str, path: str | None, ok: bool) -> None:
        started = self._started.pop(key, None)
        self._last.pop(key, None)
        took = f" in {self.clock() - started:.1f} s" if started is not None else ""
        count = ""
        if self._batch is not None:
            self._done += 1
            count = f"[{self._done}/{self._batch[0]}] "
        self._write(f"{count}{key}: {_word(ok, path)}{took}: {summary}" + _at(path))

    def batch_started(self, total: int, where: str) -> None:
        self._batch, self._done = (total, self.clock()), 0
        self._write(f"batch: {total} reports on {where}")

    def tick(self) -> None:
        if self._batch is None or self.clock() - self._last_line < self.interval_s:
            return
        total, started = self._batch
        self._write(f"batch: {self._done}/{total} reports done, {self.clock() - started:.0f} s")

    def batch_done(self, summary: str) -> None:
        self._write(summary)
        self._batch = None


class TerminalProgress(Progress):
    """tqdm bars on a terminal: the batch's reports done, and each running notebook's cells done."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from tqdm.auto import tqdm  # papermill's own dependency: loaded only when bars are drawn

        self._tqdm = tqdm
        self.stream = stream if stream is not None else sys.stderr
        self._bars: dict[str, Any] = {}
        self._batch: Any = None

    def _bar(self, total: int, desc: str, unit: str) -> Any:
        return self._tqdm(
            total=total,
            desc=desc,
            unit=unit,
            file=self.stream,
            leave=False,
            dynamic_ncols=True,
            disable=False,
            mininterval=0.2,
        )

    def report_started(self, key: str, total: int) -> None:
        if key in self._bars:
            self._bars.pop(key).close()
        self._bars[key] = self._bar(total, key, "cell")

    def cell_done(self, key: str, done: int, total: int, section: str) -> None:
        bar = self._bars.get(key)
        if bar is None:
            return
        bar.total = max(total, done)
        bar.n = done
        bar.set_postfix_str(section[:40], refresh=False)
        bar.refresh()

    def report_done(self, key: str, summary: str, path: str | None, ok: bool) -> None:
        bar = self._bars.pop(key, None)
        if bar is not None:
            bar.close()
        if self._batch is not None:
            self._batch.update(1)
        line = f"{key}: {_word(ok, path)}: {summary}" + _at(path)
        self._tqdm.write(line, file=self.stream)

    def batch_started(self, total: int, where: str) -> None:
        self._tqdm.write(f"batch: {total} reports on {where}", file=self.stream)
        self._batch = self._bar(total, "batch", "report")

    def tick(self) -> None:
        if self._batch is not None:
            self._batch.refresh()

    def batch_done(self, summary: str) -> None:
        if self._batch is not None:
            self._batch.close()
            self._batch = None
        self._tqdm.write(summary, file=self.stream)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
        if self._batch is not None:
            self._batch.close()
            self._batch = None


def _word(ok: bool, path: str | None) -> str:
    return "done" if ok else "done, exit 1" if path else "FAILED"


def _at(path: str | None) -> str:
    return f" -> {path}" if path else ""


def for_stream(stream: TextIO | None = None, *, interval_s: float = 5.0) -> Progress:
    """Bars when ``stream`` (default stderr) is a terminal, else plain lines every ``interval_s``."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return TerminalProgress(stream)
    return LineProgress(stream, interval_s=interval_s)


class QueueProgress(Progress):
    """A worker's side: puts the start and cell events of report ``index`` on ``queue``.

    The parent turns them back into calls with :func:`relay`; the report's end
    is told by its result, so ``report_done`` is not sent.
    """

    def __init__(self, queue: Any, index: int) -> None:
        self.queue = queue
        self.index = index

    def report_started(self, key: str, total: int) -> None:
        self.queue.put(("started", self.index, key, total))

    def cell_done(self, key: str, done: int, total: int, section: str) -> None:
        self.queue.put(("cell", self.index, done, total, section))


def relay(event: tuple[Any, ...], progress: Progress, keys: dict[int, str]) -> None:
    """Replay a :class:`QueueProgress` ``event`` on ``progress``; ``keys`` maps report index to key.

    A ``started`` event sets the report's key (its folder, known once the
    worker claimed it); a cell event for a report not started is dropped.
    """
    kind, index, *rest = event
    if kind == "started":
        key, total = rest
        keys[index] = key
        progress.report_started(key, total)
    elif kind == "cell" and index in keys:
        done, total, section = rest
        progress.cell_done(keys[index], done, total, section)
