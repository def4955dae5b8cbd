"""CTRF, the Common Test Report Format (``"reportFormat": "CTRF"``), which many reporters write.

Jest, Playwright, Mocha, Cypress, pytest and others have CTRF reporters; the
document is ``results.tool``, ``results.summary`` and ``results.tests``. How
tests become rows:

* **Names.** ``suite`` is the test's ``suite`` (a string, or a list joined
  with `` > ``; Playwright's reporter puts the project first), else its
  file; ``classname`` the same; ``name`` the test's ``name``; ``test_id`` is
  ``suite::name`` (``file::name`` without a suite; the name alone when it
  starts with them, as pytest node ids do).
* **Outcome** from CTRF's ``status``: ``passed``, ``failed``; ``skipped`` and
  ``pending`` are skipped; ``other`` is read from the tool's ``rawStatus``
  where that is plain (``todo``/``disabled``/``pending``/``skipped`` skipped,
  ``timedOut`` failed, ``interrupted``/``broken`` error), else skipped with a
  warning. pytest-json-ctrf's raw ``xfailed``/``xpassed`` are xfailed/xpassed and
  its ``setup_failed``/``teardown_failed`` errors (a fixture failed, as pytest
  counts it). A test whose ``status`` is ``passed`` while its ``rawStatus`` is
  ``failed`` or ``timedOut`` is an expected failure (Playwright's
  ``test.fail()``): ``xfailed``. Both statuses are kept in ``properties``
  when they differ from the outcome's name.
* **Retries.** Each of ``retryAttempts`` is a row before the final one
  (``rerun`` 0, 1, ...); a test with ``retries`` N but no attempts listed
  failed N times first (CTRF retries only failures): N ``failed`` rows with
  no message or times.
* **Times.** ``start``/``stop`` are epoch milliseconds. Some reporters
  (playwright-ctrf-json-reporter) write seconds there: values too small to
  be milliseconds of this century are read as seconds, with a warning.
* **Declared counts** are ``results.summary``: ``tests``, ``failed``,
  ``skipped`` + ``pending``, ``passed``, ``flaky`` where given. They are the
  reporter's: Playwright's counts an expected failure as failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, BinaryIO

from whyloop.errors import IngestError
from whyloop.ingest.tests.contract import Declared, ParsedTests
from whyloop.ingest.tests.jsonfmt import (
    as_count,
    clean_text,
    common_dir,
    epoch_ms,
    first_line,
    load_document,
    relative,
    result_row,
    seconds,
)
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_ctrf"]

_STATUS = {
    "passed": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "skipped": Outcome.SKIPPED,
    "pending": Outcome.SKIPPED,
}
_RAW = {
    "todo": Outcome.SKIPPED,
    "disabled": Outcome.SKIPPED,
    "pending": Outcome.SKIPPED,
    "skipped": Outcome.SKIPPED,
    "timedout": Outcome.FAILED,
    "interrupted": Outcome.ERROR,
    "broken": Outcome.ERROR,
}
#: raw statuses that say more than CTRF's status (pytest-json-ctrf writes these)
_RAW_FIRST = {
    "xfailed": Outcome.XFAILED,
    "xpassed": Outcome.XPASSED,
    "setup_failed": Outcome.ERROR,
    "teardown_failed": Outcome.ERROR,
}
#: epoch values below this are not milliseconds since 1973: taken as seconds
_SECONDS_BELOW = 1e11


class _Clock:
    """Reads CTRF times, noticing when a reporter wrote seconds instead of milliseconds."""

    def __init__(self) -> None:
        self.seconds_seen = False

    def __call__(self, value: Any) -> datetime | None:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if number and 1e9 <= value < _SECONDS_BELOW:
            self.seconds_seen = True
            value = value * 1000
        return epoch_ms(value)


def parse_ctrf(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a CTRF JSON report into one row per test execution (see the module docstring)."""
    doc = load_document(stream, path, "CTRF")
    results = doc.get("results")
    if not isinstance(results, dict) or not isinstance(results.get("tests"), list):
        raise IngestError("not a CTRF document (no 'results.tests' list)", path=path)
    tests = [t for t in results["tests"] if isinstance(t, dict)]
    root = common_dir([str(t.get("filePath")) for t in tests if t.get("filePath")])
    clock = _Clock()
    rows: list[dict[str, Any]] = []
    others: list[str] = []
    for test in tests:
        rows.extend(_executions(test, root, clock, others))
    warnings = []
    if others:
        warnings.append(
            f"{path}: {len(others)} test(s) with status 'other' and no plain rawStatus "
            f"read as skipped (first: {others[0]!r})"
        )
    if clock.seconds_seen:
        warnings.append(
            f"{path}: test start/stop values are seconds, not the milliseconds CTRF "
            "specifies; read as seconds"
        )
    summary = results.get("summary") if isinstance(results.get("summary"), dict) else {}
    skipped, pending = as_count(summary.get("skipped")), as_count(summary.get("pending"))
    declared = Declared(
        tests=as_count(summary.get("tests")),
        failures=as_count(summary.get("failed")),
        skipped=None if skipped is None and pending is None else (skipped or 0) + (pending or 0),
        passed=as_count(summary.get("passed")),
        flaky=as_count(summary.get("flaky")),
    )
    return ParsedTests(TestFormat.CTRF, rows=rows, warnings=warnings, declared=declared)


def _outcome(status: str, raw: str, others: list[str], name: str) -> Outcome:
    if raw.lower() in _RAW_FIRST:
        return _RAW_FIRST[raw.lower()]
    if status == "passed" and raw.lower() in ("failed", "timedout"):
        return Outcome.XFAILED
    if status in _STATUS:
        return _STATUS[status]
    if raw.lower() in _RAW:
        return _RAW[raw.lower()]
    others.append(name)
    return Outcome.SKIPPED


def _executions(
    test: dict[str, Any], root: str, clock: _Clock, others: list[str]
) -> list[dict[str, Any]]:
    name = str(test.get("name") or "")
    suite = test.get("suite")
    suite = " > ".join(str(s) for s in suite) if isinstance(suite, list) else str(suite or "")
    file = relative(str(test.get("filePath") or ""), root)
    scope = suite or file
    test_id = name if scope and name.startswith(scope + "::") else f"{scope}::{name}"
    status, raw = str(test.get("status") or ""), str(test.get("rawStatus") or "")
    outcome = _outcome(status, raw, others, name)
    props: dict[str, Any] = {}
    if status != outcome.value:
        props["ctrf_status"] = status
    if raw and raw != outcome.value:
        props["raw_status"] = raw
    for key in ("type", "browser", "line"):
        if test.get(key) not in (None, ""):
            props[key] = test[key]
    if file and suite:
        props["file"] = file
    if test.get("flaky") is True:
        props["flaky"] = True
    markers = tuple(str(t).lstrip("@") for t in test.get("tags") or [])
    rows = []
    attempts = [a for a in test.get("retryAttempts") or [] if isinstance(a, dict)]
    if not attempts:  # retries counted but not listed: earlier failures, nothing known of them
        attempts = [{"status": "failed"}] * (as_count(test.get("retries")) or 0)
    for index, attempt in enumerate(attempts):
        a_status = str(attempt.get("status") or "")
        rows.append(
            result_row(
                suite or file,
                suite or file,
                name,
                _STATUS.get(a_status) or _RAW.get(a_status.lower(), Outcome.FAILED),
                test_id=test_id,
                rerun=index,
                duration=seconds(attempt.get("duration"), 0.001),
                start=clock(attempt.get("start")),
                stop=clock(attempt.get("stop")),
                message=first_line(clean_text(attempt.get("message"))),
                details=clean_text(attempt.get("trace")),
                markers=markers,
                properties={**props, "retried": True},
            )
        )
    rows.append(
        result_row(
            suite or file,
            suite or file,
            name,
            outcome,
            test_id=test_id,
            rerun=len(attempts),
            duration=seconds(test.get("duration"), 0.001),
            start=clock(test.get("start")),
            stop=clock(test.get("stop")),
            message=first_line(clean_text(test.get("message"))),
            details=clean_text(test.get("trace")),
            stdout=_joined(test.get("stdout")),
            stderr=_joined(test.get("stderr")),
            markers=markers,
            properties=props,
        )
    )
    return rows


def _joined(value: Any) -> str:
    if isinstance(value, list):
        return clean_text("\n".join(str(v) for v in value))
    return clean_text(value) if isinstance(value, str) else ""
