"""Jest's JSON results: ``jest --json --outputFile=results.json``.

The document holds Jest's own counts (``numTotalTests``, ``numPassedTests``,
...) and ``testResults``, one per test file, each with ``assertionResults``
(one per test). How they become rows:

* **Names.** ``suite`` is the test file, relative to the directory all the
  run's files share; ``classname`` is the ``describe`` path joined with
  `` › `` (the file when there is none); ``name`` is the test's title;
  ``test_id`` is ``file::describe › title``.
* **Outcome** as Jest defines its statuses: ``passed``, ``failed``; ``pending``
  (``test.skip``), ``todo``, ``skipped`` and ``disabled`` are skipped. A
  ``test.failing`` test (``failing: true``) that failed, as it should, is
  reported by Jest as passed: it is ``xfailed`` here. Jest's status is kept
  in ``properties["jest_status"]`` whenever it is not plain passed/failed.
* **Retries** (``jest.retryTimes``): a test with ``invocations`` N ran N
  times and was retried only after failing, so the first N-1 executions are
  ``failed`` rows (their messages from ``retryReasons`` when Jest kept them,
  with ``retryTimes(n, {logErrorsBeforeRetry: true})``; else empty), then the final one;
  ``rerun`` 0, 1, ... Jest gives times only for the final execution
  (``startAt``, ``duration``), so the earlier ones have none.
* **Files that failed to run** (a syntax error, a missing module) have no
  tests: each becomes an ``error`` row named ``(suite)`` with Jest's message.
* **Declared counts**: ``numTotalTests`` (tests), ``numFailedTests``
  (failures), ``numRuntimeErrorTestSuites`` (errors: files that failed to
  run), ``numPendingTests + numTodoTests`` (skipped), ``numPassedTests``.
"""

from __future__ import annotations

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

__all__ = ["parse_jest_json"]

_STATUS = {
    "passed": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "pending": Outcome.SKIPPED,
    "todo": Outcome.SKIPPED,
    "skipped": Outcome.SKIPPED,
    "disabled": Outcome.SKIPPED,
    "focused": Outcome.PASSED,
}


def parse_jest_json(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a ``jest --json`` file into one row per test execution (see the module docstring)."""
    doc = load_document(stream, path, "Jest JSON")
    files = doc.get("testResults")
    if not isinstance(files, list):
        raise IngestError("not a Jest JSON document (no 'testResults' list)", path=path)
    files = [f for f in files if isinstance(f, dict)]
    root = common_dir([str(f.get("name") or f.get("testFilePath") or "") for f in files])
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for index, result in enumerate(files):
        file = relative(str(result.get("name") or result.get("testFilePath") or ""), root)
        tests = result.get("assertionResults") or result.get("testResults") or []
        if not tests and result.get("status") == "failed":
            rows.append(_file_error(result, file))
            continue
        for test in tests:
            if not isinstance(test, dict):
                warnings.append(f"{path}: testResults[{index}] holds a test that is not an object")
                continue
            rows.extend(_executions(test, file, path, warnings))
    n = {k: as_count(doc.get(k)) for k in doc if k.startswith("num")}
    skipped = None
    if n.get("numPendingTests") is not None:
        skipped = n["numPendingTests"] + (n.get("numTodoTests") or 0)
    declared = Declared(
        tests=n.get("numTotalTests"),
        failures=n.get("numFailedTests"),
        errors=n.get("numRuntimeErrorTestSuites"),
        skipped=skipped,
        passed=n.get("numPassedTests"),
    )
    return ParsedTests(TestFormat.JEST_JSON, rows=rows, warnings=warnings, declared=declared)


def _file_error(result: dict[str, Any], file: str) -> dict[str, Any]:
    text = clean_text(result.get("message") or result.get("failureMessage"))
    error = result.get("testExecError")
    if isinstance(error, dict):
        text = text or clean_text(error.get("stack") or error.get("message"))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # Jest's message starts "● Test suite failed to run"; the reason is the next line
    message = next((ln for ln in lines if not ln.startswith("●")), "") or "test file failed to run"
    return result_row(
        file,
        file,
        "(suite)",
        Outcome.ERROR,
        test_id=f"{file}::(suite)",
        start=epoch_ms(result.get("startTime")),
        stop=epoch_ms(result.get("endTime")),
        message=message,
        details=text,
        properties={"suite_level": True, "jest_status": str(result.get("status"))},
    )


def _executions(
    test: dict[str, Any], file: str, path: str, warnings: list[str]
) -> list[dict[str, Any]]:
    ancestors = [str(a) for a in test.get("ancestorTitles") or []]
    title = str(test.get("title") or "")
    status = str(test.get("status") or "")
    outcome = _STATUS.get(status)
    props: dict[str, Any] = {}
    if outcome is None:
        warnings.append(f"{path}: {file} {title!r} has Jest status {status!r}; read as skipped")
        outcome = Outcome.SKIPPED
    if test.get("failing") is True and outcome is Outcome.PASSED:
        outcome = Outcome.XFAILED
    if status not in ("passed", "failed") or test.get("failing") is True:
        props["jest_status"] = status + (" (failing)" if test.get("failing") is True else "")
    location = test.get("location")
    if isinstance(location, dict) and location.get("line") is not None:
        props["line"] = location.get("line")
    classname = " › ".join(ancestors) or file
    test_id = f"{file}::{' › '.join([*ancestors, title])}"
    failures = [clean_text(m) for m in test.get("failureMessages") or []]
    details = "\n\n".join(m for m in failures if m)
    invocations = as_count(test.get("invocations")) or 1
    reasons = [clean_text(r) for r in test.get("retryReasons") or []]
    rows = []
    for attempt in range(invocations - 1):
        reason = reasons[attempt] if attempt < len(reasons) else ""
        rows.append(
            result_row(
                file,
                classname,
                title,
                Outcome.FAILED,
                test_id=test_id,
                rerun=attempt,
                message=first_line(reason),
                details=reason,
                properties={**props, "retried": True},
            )
        )
    start = epoch_ms(test.get("startAt"))
    rows.append(
        result_row(
            file,
            classname,
            title,
            outcome,
            test_id=test_id,
            rerun=invocations - 1,
            duration=seconds(test.get("duration"), 0.001),
            start=start,
            message=first_line(details),
            details=details,
            properties=props or None,
        )
    )
    return rows
