"""JUnit/xUnit XML test results, in the dialects real tools write.

One parser reads them all, since they share ``<testsuite>``/``<testcase>``:
pytest (``junitxml``), Maven Surefire and Gradle, Ant, jest-junit,
mocha-junit-reporter, go-junit-report and gotestsum, CTest, PHPUnit, Playwright,
Cypress, Catch2, GoogleTest, cargo-nextest, CppUnit and more. What it does with
their differences:

* **One row per execution.** Surefire's ``<flakyFailure>``/``<flakyError>``
  children are failed executions before the final, passing one (``rerun`` 0,
  1, ...); ``<rerunFailure>``/``<rerunError>`` follow a first failed execution,
  all failed. A testcase repeated in the same suite (pytest-rerunfailures)
  also counts as a rerun of the first.
* **Outcome** from the children: ``<error>`` beats ``<failure>`` (several are
  joined in ``details``), then ``<skipped>`` (``type="pytest.xfail"`` gives
  ``xfailed``), then a ``status``/``result`` attribute (GoogleTest's
  ``notrun``, CTest's ``disabled``), else ``passed``. An ``<error>`` directly in
  a ``<testsuite>`` (a suite that failed to set up) becomes a row named
  ``(suite)``.
* **Names.** ``suite`` is the innermost ``<testsuite>`` name (the slash-joined
  path of nested suites is in ``properties["suite_path"]``); ``classname``
  falls back to PHPUnit's ``class``. ``test_id`` is ``classname::name`` (the
  suite path stands in for a missing classname); for pytest files it is the
  pytest node id ``dir/test_mod.py::Class::test_name``, rebuilt from the
  dotted classname and the ``file`` attribute, and ``suite`` is the module.
* **Times.** ``time`` is read leniently (``1,234.5``, ``1.5s``); unreadable or
  negative values become NaN with one counted warning. A testcase's own
  ``timestamp`` gives its start; otherwise starts are *implied*: the suite's
  ``timestamp`` (naive means UTC; inherited from the enclosing suite) plus the
  durations of the cases before it. All timestamps are UTC-aware.
* **Declared counts** come from the ``<testsuites>`` root when it has a
  ``tests`` attribute, else from the outermost ``<testsuite>`` elements, so
  nested suites are not counted twice.
* A testcase with ``disabled="true"`` and no other verdict is skipped. A
  suite that declares ``tests`` but holds no ``<testcase>`` (a summary-only
  report) gives a warning; its declared counts are kept.
* Extra testcase attributes (``file``, ``line``, ``status``...) and
  ``<properties>`` go into ``properties``; ANSI colour codes are stripped from
  messages, details and output; suite-level output and properties are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element

from whyloop.errors import IngestError, UnsupportedFormatError
from whyloop.ingest.tests.contract import OUTCOMES, Declared, ParsedTests, ResultColumns
from whyloop.ingest.tests.junit_cases import element_text, executions, first_line, pytest_nodeid
from whyloop.ingest.tests.values import (
    NO_TIME,
    micros,
    micros_of,
    parse_seconds,
    parse_timestamp,
    strip_ansi,
)
from whyloop.ingest.tests.xmlsafe import (
    Event,
    element_lines,
    iter_batches,
    no_gc,
    retry_lenient,
    truncation_warning,
)
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_junit"]

_NAN = math.nan
_FAILED, _ERROR = Outcome.FAILED.value, Outcome.ERROR.value
_PASSED, _SKIPPED = Outcome.PASSED.value, Outcome.SKIPPED.value
_TRUE = frozenset({"true", "1", "yes"})
_PASSED_CODE = OUTCOMES.index(Outcome.PASSED.value)
_CASE_ATTRS = frozenset({"name", "classname", "class", "time"})
_BAD_TAGS = ("error", "failure")
#: at most this many "no name" warnings are listed one by one
_MAX_LISTED = 5
#: distinct ``time`` strings whose parsed value is cached
_DURATION_CACHE = 1 << 16
#: ``time`` string -> (seconds, microseconds), shared by every parse: a build's
#: thousands of small files repeat the same few thousand values
_DURATIONS: dict[str, tuple[float, int]] = {}
#: distinct names and classnames shared through one dict; past this it starts over
_INTERNED = 1 << 16


class _Frame:
    """An open ``<testsuite>`` (or ``<testsuites>``) and its implied clock (microseconds)."""

    def __init__(self, el: Element, parent: _Frame | None, is_suite: bool) -> None:
        a = el.attrib
        self.el = el
        self.is_suite = is_suite
        self.name = a.get("name", "") if is_suite else ""
        base = parent.path if parent else ""
        self.path = (f"{base}/{self.name}" if base else self.name) if is_suite else base
        self.nested = self.path != self.name
        # the properties of every plain testcase in a nested suite: one dict, shared
        self.props = {"suite_path": self.path} if self.nested else None
        stamp = micros_of(parse_timestamp(a.get("timestamp")))
        self.start = stamp if stamp is not None else (parent.clock if parent else None)
        self.clock = self.start
        t = a.get("time")
        self.time = parse_seconds(t) if t else None
        self.seen: dict[str, int] = {}
        self.first_row = 0  # the number of rows when the suite opened


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        try:
            return int(float(value))  # "3.0", "1e3"
        except ValueError:
            return None


class _Reader:
    """The state of one parse; :meth:`run` is the hot loop."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.cols = ResultColumns()
        self.warnings: list[str] = []
        self.declared = Declared()
        self.stack: list[_Frame] = []
        self.pytest = False
        self.n_case = 0
        self.in_case = False
        self.no_name: list[int] = []
        self.bad_time: list[tuple[int, str]] = []
        self.ids: dict[tuple[str, str, str | None], str] = {}
        self.durations = _DURATIONS
        self.strings: dict[str, str] = {}
        self.declared_by_root = False
        #: (name, declared tests) of suites that declare tests but hold no <testcase>
        self.empty_suites: list[tuple[str, int]] = []
        #: pytest: rows of childless testcases by id, and the rows found to be rerun attempts
        self.plain: dict[str, list[int]] = {}
        self.attempts: list[int] = []

    def _declare(self, a: dict[str, str], add: bool) -> None:
        declared = self.declared
        skipped = _int(a.get("skipped", a.get("skips")))
        if "disabled" in a and (disabled := _int(a["disabled"])) is not None:
            skipped = (skipped or 0) + disabled
        for field, value in (
            ("tests", _int(a.get("tests"))),
            ("failures", _int(a.get("failures"))),
            ("errors", _int(a.get("errors"))),
            ("skipped", skipped),
        ):
            if value is not None:
                old = getattr(declared, field) if add else None
                setattr(declared, field, value + (old or 0))

    # -- the hot loop ------------------------------------------------------
    def run(self, batches: Iterator[list[Event]]) -> None:
        """One pass over the events: a row (or several) per ``</testcase>``.

        Plain passing testcases (no children; only name, classname and time)
        are appended to the columns inline, since they are most of any large
        file; everything else goes through :meth:`_case`. State lives in
        locals here (they are much faster than attributes) and is written back
        on the way out. Names and classnames repeat, so they are shared
        through ``self.strings`` rather than kept once per row.
        """
        stack, durations, strings, cols = self.stack, self.durations, self.strings, self.cols
        names = cols.name
        add_suite, add_class, add_name = cols.suite.append, cols.classname.append, names.append
        add_outcome, add_rerun = cols.outcome.append, cols.rerun.append
        add_duration, add_start, add_stop = (
            cols.duration_s.append,
            cols.start.append,
            cols.stop.append,
        )
        prop_rows, prop_values = cols.objects["properties"]
        share = strings.setdefault
        frame: _Frame | None = None
        fast = False  # inside a suite whose plain testcases take the inline path
        in_case = False
        n_case = 0
        try:
            for batch in batches:
                for event, el in batch:
                    tag = el.tag
                    if event == "start":
                        if tag == "testcase":
                            in_case = True
                            n_case += 1
                        elif tag == "testsuite" or tag == "testsuites":
                            frame = self._open_suite(el, tag, frame)
                            fast = not self.pytest
                        elif not stack and not names:
                            raise UnsupportedFormatError(f"XML with root <{tag}> is not JUnit XML")
                    elif tag == "testcase":
                        in_case = False
                        a = el.attrib
                        if fast and len(a) == 3 and len(el) == 0:
                            name, classname, t = a.get("name"), a.get("classname"), a.get("time")
                            took = durations.get(t)
                            if took is None and t:
                                took = self._duration(t)
                            if took is not None and name is not None and classname:
                                # only a key here: the frame builds the column's ids
                                test_id = f"{classname}::{name}"
                                seen = frame.seen
                                rerun = seen.get(test_id, 0)
                                seen[test_id] = rerun + 1
                                if frame.nested:
                                    prop_rows.append(len(names))
                                    prop_values.append(frame.props)
                                add_suite(frame.name)
                                add_class(share(classname, classname))
                                add_name(share(name, name))
                                add_outcome(_PASSED_CODE)
                                add_rerun(rerun)
                                add_duration(took[0])
                                start = frame.clock
                                if start is None:
                                    add_start(NO_TIME)
                                    add_stop(NO_TIME)
                                else:
                                    frame.clock = stop = start + took[1]
                                    add_start(start)
                                    add_stop(stop)
                                continue
                        self._case(el, frame, n_case)
                    elif tag == "testsuite" or tag == "testsuites":
                        frame = self._close_suite()
                        fast = frame is not None and not self.pytest
                    elif tag in _BAD_TAGS and not in_case and frame is not None and frame.is_suite:
                        self._suite_error(el, frame)  # a suite that failed to set up
                # Detach what this batch built from the open suites, so memory
                # stays flat; elements still being built are unaffected.
                for open_frame in stack:
                    del open_frame.el[:]
                if len(strings) > _INTERNED:
                    strings.clear()
        finally:
            self.in_case, self.n_case = in_case, n_case

    def _open_suite(self, el: Element, tag: str, parent: _Frame | None) -> _Frame:
        if parent is None and tag == "testsuites":
            self.declared_by_root = "tests" in el.attrib
            self.pytest = el.get("name") == "pytest tests"
            if self.declared_by_root:
                self._declare(el.attrib, add=False)
        frame = _Frame(el, parent, tag == "testsuite")
        frame.first_row = len(self.cols.outcome)
        frame.name = self.strings.setdefault(frame.name, frame.name)
        if frame.is_suite:
            self.pytest = self.pytest or frame.name == "pytest"
            if not self.declared_by_root and not any(f.is_suite for f in self.stack):
                self._declare(el.attrib, add=True)
        self.stack.append(frame)
        return frame

    def _close_suite(self) -> _Frame | None:
        """Pop the innermost suite, advance its parent's clock; return the new innermost."""
        frame = self.stack.pop()
        if frame.is_suite and len(self.cols.outcome) == frame.first_row:
            declared = _int(frame.el.get("tests"))
            if declared:
                self.empty_suites.append((frame.path, declared))
        frame.el.clear()
        if not self.stack:
            return None
        parent = self.stack[-1]
        del parent.el[:]
        if frame.start is not None:  # the parent goes on where this suite ended
            spent = frame.time
            parent.clock = frame.clock if spent is None else frame.start + micros(spent)
        return parent

    def _duration(self, text: str) -> tuple[float, int] | None:
        """Seconds and whole microseconds for a ``time`` attribute, cached (values repeat a lot)."""
        try:
            value: float | None = float(text)
            if not 0.0 <= value < 1e12:
                value = None
        except ValueError:
            value = None
        if value is None:
            value = parse_seconds(text)
            if value is None:
                return None
        took = (value, micros(value))
        if len(self.durations) < _DURATION_CACHE:
            self.durations[text] = took
        return took

    def _case(self, el: Element, frame: _Frame | None, n_case: int) -> None:
        """Any testcase: outcome from children and attributes, output, reruns."""
        a = el.attrib
        share = self.strings.setdefault
        name = a.get("name")
        if name is None:
            name = ""
            self.no_name.append(n_case)
        classname = a.get("classname") or a.get("class", "").replace("\\", ".")
        name, classname = share(name, name), share(classname, classname)
        t = a.get("time")
        took = self._duration(t) if t is not None else None
        if took is None and t is not None:
            self.bad_time.append((n_case, t))
        suite = frame.name if frame else ""
        spath = frame.path if frame else ""
        if self.pytest:
            key = (classname, name, a.get("file"))
            test_id = self.ids.get(key) or self.ids.setdefault(key, pytest_nodeid(*key))
            module = test_id.partition("::")[0]
            suite = share(module, module)
        elif classname:
            test_id = f"{classname}::{name}"
        else:
            test_id = f"{spath}::{name}" if spath else name
        stamp = a.get("timestamp")
        start = micros_of(parse_timestamp(stamp)) if stamp else (frame.clock if frame else None)
        props: dict[str, Any] = {k: v for k, v in a.items() if k not in _CASE_ATTRS}
        if "/" in spath and spath != suite:
            props["suite_path"] = spath
        before, main, after = executions(el, a, props, name)
        if main[0] == _PASSED and a.get("disabled", "").lower() in _TRUE:
            main = (_SKIPPED, "disabled", *main[2:])  # a testcase marked disabled did not run
        runs = [*before, (*main, took[0] if took else _NAN), *after]
        if self.pytest:
            # pytest-rerunfailures writes each rerun attempt as a childless testcase
            # before the final one: a repeat shows the earlier ones were reruns
            self.attempts.extend(self.plain.pop(test_id, ()))
            if len(el) == 0 and len(runs) == 1 and main[0] == Outcome.PASSED.value:
                self.plain.setdefault(test_id, []).append(len(self.cols))
        base = 0
        if frame is not None:
            base = frame.seen.get(test_id, 0)
            frame.seen[test_id] = base + len(runs)
        clock = start
        for i, (outcome, message, ftype, details, out, err, secs) in enumerate(runs):
            stop = clock + micros(secs) if clock is not None and secs == secs else None
            self.cols.append(
                suite,
                classname,
                name,
                test_id,
                outcome,
                base + i,
                secs,
                clock,
                stop,
                message=message,
                failure_type=ftype,
                details=details,
                stdout=out,
                stderr=err,
                properties=props if i == 0 else dict(props),
            )
            if stop is not None:
                clock = stop
        if frame is not None and not stamp and clock is not None:
            frame.clock = clock

    def _suite_error(self, el: Element, frame: _Frame) -> None:
        """An ``<error>``/``<failure>`` directly in a suite: a row named ``(suite)``."""
        test_id = f"{frame.path}::(suite)"
        rerun = frame.seen.get(test_id, 0)
        frame.seen[test_id] = rerun + 1
        details = element_text(el)
        self.cols.append(
            frame.name,
            frame.name,
            "(suite)",
            test_id,
            _ERROR if el.tag == "error" else _FAILED,
            rerun,
            _NAN,
            frame.start,
            None,
            message=strip_ansi(el.get("message") or "") or first_line(details),
            failure_type=el.get("type", ""),
            details=details,
            properties={"suite_level": True, "suite_path": frame.path},
        )

    # -- warnings needing line numbers ---------------------------------------
    def locate_problems(self, stream: BinaryIO) -> None:
        """Turn the recorded problems into warnings, with line numbers where possible."""
        for suite, count in self.empty_suites[:_MAX_LISTED]:
            self.warnings.append(
                f"{self.path}: suite {suite!r} declares tests={count} but holds no <testcase>: "
                "its declared counts are kept, with no rows"
            )
        if len(self.empty_suites) > _MAX_LISTED:
            more = len(self.empty_suites) - _MAX_LISTED
            self.warnings.append(f"{self.path}: {more} more suites declare tests but hold none")
        if not self.no_name and not self.bad_time:
            return
        wanted = set(self.no_name[:_MAX_LISTED]) | {n for n, _ in self.bad_time[:1]}
        lines = element_lines(stream, "testcase", wanted)

        def where(n: int) -> str:
            return f"{self.path}:{lines[n]}" if n in lines else f"{self.path}: testcase #{n}"

        for n in self.no_name[:_MAX_LISTED]:
            self.warnings.append(f"{where(n)}: <testcase> has no name (kept with name '')")
        if len(self.no_name) > _MAX_LISTED:
            more = len(self.no_name) - _MAX_LISTED
            self.warnings.append(f"{self.path}: {more} more <testcase> without a name")
        if self.bad_time:
            n, text = self.bad_time[0]
            count = len(self.bad_time)
            self.warnings.append(
                f"{where(n)}: {count} testcase time(s) unreadable or negative "
                f"(first: {text!r}); duration_s set to NaN"
            )


#: what a rerun attempt's row says, since pytest's JUnit XML keeps nothing of it
ATTEMPT_MESSAGE = (
    "failed, then rerun by pytest-rerunfailures (the JUnit XML does not record how this attempt "
    "failed)"
)


def mark_attempts(cols: ResultColumns, rows: list[int]) -> None:
    """Make ``rows`` failed attempts that were rerun, with :data:`ATTEMPT_MESSAGE` as message."""
    failed = OUTCOMES.index(Outcome.FAILED.value)
    for row in rows:
        cols.outcome[row] = failed
    text = cols.text["message"]
    values = text.values()
    values.update(dict.fromkeys(rows, ATTEMPT_MESSAGE))
    joined = type(text)()
    for row in sorted(values):
        joined.add(row, values[row])
    cols.text["message"] = joined


def parse_junit(stream: BinaryIO, path: str, *, lenient: bool = False) -> ParsedTests:
    """Parse a JUnit/xUnit XML result file into one row per test execution.

    The rows are kept column by column (``ParsedTests.columns``, see
    :class:`~whyloop.ingest.tests.contract.ResultColumns`); ``ParsedTests.rows``
    still gives them as dicts.

    A file cut short keeps the rows read before the break and says so in a
    warning; one that breaks before any row raises :class:`IngestError`, as
    does a file that declares XML entities (they are never resolved). A file
    with characters XML forbids (raw ANSI colour codes) is read again with
    ``lenient=True`` (see :mod:`whyloop.ingest.tests.xmlsafe`).
    """
    reader = _Reader(path)
    try:
        with no_gc():
            reader.run(iter_batches(stream, path, lenient=lenient, warnings=reader.warnings))
    except UnsupportedFormatError as err:
        raise err.at(path) from None
    except IngestError as err:
        if retry_lenient(err, stream, lenient):
            return parse_junit(stream, path, lenient=True)
        if not len(reader.cols):
            raise
        stack = reader.stack
        open_tag = "testcase" if reader.in_case else (stack[-1].el.tag if stack else None)
        reader.warnings.append(truncation_warning(err, open_tag))
    reader.locate_problems(stream)
    if reader.attempts:
        mark_attempts(reader.cols, reader.attempts)
    return ParsedTests(
        TestFormat.JUNIT, warnings=reader.warnings, declared=reader.declared, columns=reader.cols
    )
