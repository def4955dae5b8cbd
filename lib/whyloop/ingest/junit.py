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
* Extra testcase attributes (``file``, ``line``, ``status``...) and
  ``<properties>`` go into ``properties``; ANSI colour codes are stripped from
  messages, details and output; suite-level output and properties are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element

from whyloop.errors import IngestError, UnsupportedFormatError
from whyloop.ingest._parsed import Declared, ParsedTests
from whyloop.ingest.xmlsafe import (
    Event,
    element_lines,
    iter_batches,
    no_gc,
    parse_seconds,
    parse_timestamp,
    retry_lenient,
    strip_ansi,
    truncation_warning,
)
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_junit"]

_NAN = math.nan
_PASSED, _FAILED, _ERROR = Outcome.PASSED.value, Outcome.FAILED.value, Outcome.ERROR.value
_SKIPPED, _XFAILED = Outcome.SKIPPED.value, Outcome.XFAILED.value
_CASE_ATTRS = frozenset({"name", "classname", "class", "time"})
_SKIP_STATUS = frozenset(
    {"notrun", "not run", "disabled", "skipped", "skip", "ignored", "suppressed", "pending"}
)
_STATUS_OUTCOME = {"failed": _FAILED, "fail": _FAILED, "error": _ERROR, "errored": _ERROR}
_XFAIL_TYPES = frozenset({"pytest.xfail", "xfail", "expectedfailure", "expected failure"})
_EXTRA_RUNS = {
    "flakyFailure": (_FAILED, True),
    "flakyError": (_ERROR, True),
    "rerunFailure": (_FAILED, False),
    "rerunError": (_ERROR, False),
}
_SUITE_TAGS = ("testsuite", "testsuites")
_BAD_TAGS = ("error", "failure")
#: the row of a plain passing testcase, copied and filled in the hot loop
_PASSED_ROW: dict[str, Any] = {
    "suite": "",
    "classname": "",
    "name": "",
    "test_id": "",
    "outcome": _PASSED,
    "rerun": 0,
    "duration_s": _NAN,
    "start": None,
    "stop": None,
    "message": "",
    "failure_type": "",
    "details": "",
    "stdout": "",
    "stderr": "",
    # No containers: a dict holding only atomic values is not tracked by the
    # cyclic GC, which would otherwise re-scan every row built so far.
    "markers": (),
    "properties": None,
}
#: at most this many "no name" warnings are listed one by one
_MAX_LISTED = 5
#: distinct ``time`` strings whose parsed value is cached
_DURATION_CACHE = 1 << 16


class _Frame:
    """An open ``<testsuite>`` (or ``<testsuites>``) and its implied clock."""

    def __init__(self, el: Element, parent: _Frame | None, is_suite: bool) -> None:
        a = el.attrib
        self.el = el
        self.is_suite = is_suite
        self.name = a.get("name", "") if is_suite else ""
        base = parent.path if parent else ""
        self.path = (f"{base}/{self.name}" if base else self.name) if is_suite else base
        self.nested = self.path != self.name
        stamp = parse_timestamp(a.get("timestamp"))
        self.start = stamp if stamp else (parent.clock if parent else None)
        self.clock = self.start
        t = a.get("time")
        self.time = parse_seconds(t) if t else None
        self.seen: dict[str, int] = {}


def _text(el: Element) -> str:
    text = el.text if len(el) == 0 else "".join(el.itertext())
    return strip_ansi(text.strip()) if text else ""


def _first_line(text: str, name: str = "") -> str:
    """The first non-blank line; PHPUnit's ``Class::test`` heading line is skipped."""
    for line in text.splitlines():
        line = line.strip()
        if line and not (name and line.endswith("::" + name)):
            return line
    return ""


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _pytest_nodeid(classname: str, name: str, file: str | None) -> str:
    """Best-effort pytest node id from junitxml's dotted classname (and ``file``)."""
    parts = classname.split(".") if classname else []
    if file and file.endswith(".py"):
        module = file.replace("\\", "/")
        dotted = module[:-3].replace("/", ".")
        if classname == dotted:
            parts = []
        elif classname.startswith(dotted + "."):
            parts = classname[len(dotted) + 1 :].split(".")
        else:
            parts = parts[next((i for i, p in enumerate(parts) if p[:1].isupper()), len(parts)) :]
        return "::".join([module, *parts, name])
    i = len(parts)
    while i > 1 and parts[i - 1][:1].isupper():  # pytest classes are Test*: capitalised
        i -= 1
    module = "/".join(parts[:i]) + ".py" if parts else ""
    return "::".join([p for p in (module, *parts[i:], name) if p])


class _Reader:
    """The state of one parse; :meth:`run` is the hot loop."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.declared = Declared()
        self.stack: list[_Frame] = []
        self.pytest = False
        self.n_case = 0
        self.in_case = False
        self.no_name: list[int] = []
        self.bad_time: list[tuple[int, str]] = []
        self.ids: dict[tuple[str, str, str | None], str] = {}
        self.durations: dict[str, tuple[float, timedelta]] = {}
        self.declared_by_root = False

    def _declare(self, a: dict[str, str], add: bool) -> None:
        skipped = _int(a.get("skipped", a.get("skips")))
        if (disabled := _int(a.get("disabled"))) is not None:
            skipped = (skipped or 0) + disabled
        values = (_int(a.get("tests")), _int(a.get("failures")), _int(a.get("errors")), skipped)
        for field, value in zip(("tests", "failures", "errors", "skipped"), values, strict=True):
            if value is not None:
                old = getattr(self.declared, field) if add else None
                setattr(self.declared, field, value + (old or 0))

    # -- the hot loop ------------------------------------------------------
    def run(self, batches: Iterator[list[Event]]) -> None:
        """One pass over the events: a row (or several) per ``</testcase>``.

        Plain passing testcases (no children; only name, classname and time)
        are built inline, since they are most of any large file; everything
        else goes through :meth:`_case`. State lives in locals here (they are
        much faster than attributes) and is written back on the way out.
        """
        stack, rows, durations = self.stack, self.rows, self.durations
        append, new_row = rows.append, _PASSED_ROW.copy
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
                        elif not stack and not rows:
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
                                test_id = f"{classname}::{name}"
                                seen = frame.seen
                                rerun = seen.get(test_id, 0)
                                seen[test_id] = rerun + 1
                                start = frame.clock
                                stop = None if start is None else start + took[1]
                                frame.clock = stop
                                row = new_row()  # copying a template beats a dict literal
                                row["suite"] = frame.name
                                row["classname"] = classname
                                row["name"] = name
                                row["test_id"] = test_id
                                row["rerun"] = rerun
                                row["duration_s"] = took[0]
                                row["start"] = start
                                row["stop"] = stop
                                if frame.nested:
                                    row["properties"] = {"suite_path": frame.path}
                                append(row)
                                continue
                        self._case(el, frame, n_case)
                    elif tag == "testsuite" or tag == "testsuites":
                        frame = self._close_suite()
                        fast = frame is not None and not self.pytest
                    elif tag in _BAD_TAGS and not in_case and frame is not None and frame.is_suite:
                        append(self._suite_error(el, frame))  # a suite that failed to set up
                # Detach what this batch built from the open suites, so memory
                # stays flat; elements still being built are unaffected.
                for open_frame in stack:
                    del open_frame.el[:]
        finally:
            self.in_case, self.n_case = in_case, n_case

    def _open_suite(self, el: Element, tag: str, parent: _Frame | None) -> _Frame:
        if parent is None and tag == "testsuites":
            self.declared_by_root = "tests" in el.attrib
            self.pytest = el.get("name") == "pytest tests"
            if self.declared_by_root:
                self._declare(el.attrib, add=False)
        frame = _Frame(el, parent, tag == "testsuite")
        if frame.is_suite:
            self.pytest = self.pytest or frame.name == "pytest"
            if not self.declared_by_root and not any(f.is_suite for f in self.stack):
                self._declare(el.attrib, add=True)
        self.stack.append(frame)
        return frame

    def _close_suite(self) -> _Frame | None:
        """Pop the innermost suite, advance its parent's clock; return the new innermost."""
        frame = self.stack.pop()
        frame.el.clear()
        if not self.stack:
            return None
        parent = self.stack[-1]
        del parent.el[:]
        if frame.start is not None:  # the parent goes on where this suite ended
            spent = frame.time
            parent.clock = frame.clock if spent is None else frame.start + timedelta(seconds=spent)
        return parent

    def _duration(self, text: str) -> tuple[float, timedelta] | None:
        """Seconds and timedelta for a ``time`` attribute, cached (values repeat a lot)."""
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
        took = (value, timedelta(seconds=value))
        if len(self.durations) < _DURATION_CACHE:
            self.durations[text] = took
        return took

    def _case(self, el: Element, frame: _Frame | None, n_case: int) -> None:
        """Any testcase: outcome from children and attributes, output, reruns."""
        a = el.attrib
        name = a.get("name")
        if name is None:
            name = ""
            self.no_name.append(n_case)
        classname = a.get("classname") or a.get("class", "").replace("\\", ".")
        t = a.get("time")
        took = self._duration(t) if t is not None else None
        if took is None and t is not None:
            self.bad_time.append((n_case, t))
        dur = took[0] if took else _NAN
        suite = frame.name if frame else ""
        spath = frame.path if frame else ""
        if self.pytest:
            key = (classname, name, a.get("file"))
            test_id = self.ids.get(key) or self.ids.setdefault(key, _pytest_nodeid(*key))
            suite = test_id.partition("::")[0]
        elif classname:
            test_id = f"{classname}::{name}"
        else:
            test_id = f"{spath}::{name}" if spath else name
        stamp = a.get("timestamp")
        start = parse_timestamp(stamp) if stamp else (frame.clock if frame else None)
        props: dict[str, Any] = {k: v for k, v in a.items() if k not in _CASE_ATTRS}
        if "/" in spath and spath != suite:
            props["suite_path"] = spath
        before, main, after = _executions(el, a, props, name)
        runs = [*before, (*main, dur), *after]
        base = 0
        if frame is not None:
            base = frame.seen.get(test_id, 0)
            frame.seen[test_id] = base + len(runs)
        clock = start
        for i, (outcome, message, ftype, details, out, err, secs) in enumerate(runs):
            stop = clock + timedelta(seconds=secs) if clock is not None and secs == secs else None
            self.rows.append(
                {
                    "suite": suite,
                    "classname": classname,
                    "name": name,
                    "test_id": test_id,
                    "outcome": outcome,
                    "rerun": base + i,
                    "duration_s": secs,
                    "start": clock,
                    "stop": stop,
                    "message": message,
                    "failure_type": ftype,
                    "details": details,
                    "stdout": out,
                    "stderr": err,
                    "markers": (),
                    "properties": (props if i == 0 else dict(props)) or None,
                }
            )
            if stop is not None:
                clock = stop
        if frame is not None and not stamp and clock is not None:
            frame.clock = clock

    def _suite_error(self, el: Element, frame: _Frame) -> dict[str, Any]:
        """An ``<error>``/``<failure>`` directly in a suite: a row named ``(suite)``."""
        test_id = f"{frame.path}::(suite)"
        rerun = frame.seen.get(test_id, 0)
        frame.seen[test_id] = rerun + 1
        details = _text(el)
        return _PASSED_ROW | {
            "suite": frame.name,
            "classname": frame.name,
            "name": "(suite)",
            "test_id": test_id,
            "outcome": _ERROR if el.tag == "error" else _FAILED,
            "rerun": rerun,
            "start": frame.start,
            "message": strip_ansi(el.get("message") or "") or _first_line(details),
            "failure_type": el.get("type", ""),
            "details": details,
            "properties": {"suite_level": True, "suite_path": frame.path},
        }

    # -- warnings needing line numbers ---------------------------------------
    def locate_problems(self, stream: BinaryIO) -> None:
        """Turn the recorded problems into warnings, with line numbers where possible."""
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


def _executions(
    el: Element, a: dict[str, str], props: dict[str, Any], name: str
) -> tuple[list[tuple[Any, ...]], tuple[str, ...], list[tuple[Any, ...]]]:
    """Read a testcase's children: (flaky runs before, this run, reruns after).

    This run is ``(outcome, message, failure_type, details, stdout, stderr)``;
    the extra runs carry their own duration as a seventh item. Testcase
    ``<properties>`` are added to ``props``.
    """
    bad: list[tuple[int, Element]] = []  # (priority, element) of failure/error
    skipped: Element | None = None
    stdout = stderr = ""
    before: list[tuple[Any, ...]] = []
    after: list[tuple[Any, ...]] = []
    for child in el:
        tag = child.tag
        if tag == "failure" or tag == "error":
            bad.append((2 if tag == "error" else 1, child))
        elif tag == "skipped" or tag == "skip":
            skipped = child
        elif tag == "system-out":
            stdout = _text(child)
        elif tag == "system-err":
            stderr = _text(child)
        elif tag == "properties":
            for p in child:
                if p.tag == "property":
                    props[p.get("name", "")] = p.get("value", p.text or "")
        elif tag in _EXTRA_RUNS:
            outcome, is_before = _EXTRA_RUNS[tag]
            (before if is_before else after).append(_extra_run(child, outcome))
    if bad:
        prio, primary = max(bad, key=lambda pair: pair[0])
        outcome = _ERROR if prio == 2 else _FAILED
        details = "\n\n".join(text for text in (_text(e) for _, e in bad) if text)
        message = strip_ansi(primary.get("message") or "") or _first_line(_text(primary), name)
        ftype = primary.get("type", "")
    elif skipped is not None:
        kind = (skipped.get("type") or "").lower()
        outcome = _XFAILED if kind in _XFAIL_TYPES else _SKIPPED
        details = _text(skipped)
        message = strip_ansi(skipped.get("message") or "") or _first_line(details)
        ftype = skipped.get("type", "") if outcome == _XFAILED else ""
    else:
        status = (a.get("status") or a.get("result") or "").lower()
        outcome = _STATUS_OUTCOME.get(status, _SKIPPED if status in _SKIP_STATUS else _PASSED)
        message = ftype = details = ""
    return before, (outcome, message, ftype, details, stdout, stderr), after


def _extra_run(el: Element, outcome: str) -> tuple[Any, ...]:
    """One Surefire flaky/rerun execution: (outcome, message, type, details, out, err, time)."""
    trace = out = err = ""
    for child in el:
        if child.tag == "stackTrace":
            trace = _text(child)
        elif child.tag == "system-out":
            out = _text(child)
        elif child.tag == "system-err":
            err = _text(child)
    details = trace or strip_ansi((el.text or "").strip())
    message = strip_ansi(el.get("message") or "").strip() or _first_line(details)
    took = parse_seconds(el.get("time") or "")
    return (outcome, message, el.get("type", ""), details, out, err, _NAN if took is None else took)


def parse_junit(stream: BinaryIO, path: str, *, lenient: bool = False) -> ParsedTests:
    """Parse a JUnit/xUnit XML result file into one row per test execution.

    A file cut short keeps the rows read before the break and says so in a
    warning; one that breaks before any row raises :class:`IngestError`, as
    does a file that declares XML entities (they are never resolved). A file
    with characters XML forbids (raw ANSI colour codes) is read again with
    ``lenient=True`` (see :mod:`whyloop.ingest.xmlsafe`).
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
        if not reader.rows:
            raise
        stack = reader.stack
        open_tag = "testcase" if reader.in_case else (stack[-1].el.tag if stack else None)
        reader.warnings.append(truncation_warning(err, open_tag))
    reader.locate_problems(stream)
    return ParsedTests(
        format=TestFormat.JUNIT,
        rows=reader.rows,
        warnings=reader.warnings,
        declared=reader.declared,
    )
