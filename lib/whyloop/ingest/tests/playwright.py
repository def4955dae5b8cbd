"""Playwright Test's JSON reporter: ``npx playwright test --reporter=json``.

The document nests ``suites`` (a file, then its ``describe`` blocks) holding
``specs``; each spec has one ``test`` per project, and each test one
``result`` per attempt (``retry`` 0, 1, ...). How they become rows:

* **One row per attempt**, ``rerun`` = Playwright's ``retry``. A test
  Playwright calls ``flaky`` (failed, then passed on a retry) is its failed
  attempts followed by the passing one. ``start`` is the attempt's
  ``startTime`` and ``duration_s`` its ``duration``.
* **Names.** ``suite`` is the spec file; ``classname`` the ``describe`` path
  joined with `` › `` (the file when there is none); ``name`` the test's
  title. With projects, the same test runs once per project: ``test_id`` is
  ``[project] file::describe › title`` and ``properties["project"]`` names it.
  Tags (``@smoke``) are ``markers``.
* **Outcome** of an attempt, as Playwright defines it: ``passed``;
  ``failed`` and ``timedOut`` (the test exceeded its timeout: a failure of
  the test) are failed; ``skipped`` (``test.skip``, ``test.fixme``) is
  skipped; ``interrupted`` (the run was stopped while the test ran, so it has
  no verdict) is an error. A test marked ``test.fail()`` expects to fail
  (``expectedStatus: "failed"``): a failing attempt is ``xfailed``, a passing
  one ``xpassed``. Playwright's own status is kept in
  ``properties["playwright_status"]`` whenever it is not plain passed/failed.
* **Errors outside any test** (a spec file that does not load, a failing
  global setup) are in the top-level ``errors``: each becomes an ``error``
  row named ``(suite)``.
* **Declared counts** are Playwright's ``stats``: tests = expected +
  unexpected + flaky + skipped, failures = ``unexpected``, skipped, passed =
  ``expected``, flaky.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from whyloop.errors import IngestError
from whyloop.ingest.tests.contract import Declared, ParsedTests
from whyloop.ingest.tests.jsonfmt import (
    as_count,
    clean_text,
    first_line,
    iso_time,
    load_document,
    result_row,
    seconds,
)
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_playwright_json"]

_FAILING = frozenset({"failed", "timedOut"})
_ATTEMPT = {"passed": Outcome.PASSED, "skipped": Outcome.SKIPPED, "interrupted": Outcome.ERROR}


def parse_playwright_json(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a Playwright JSON report into one row per test attempt (see the module docstring)."""
    doc = load_document(stream, path, "Playwright JSON")
    if not isinstance(doc.get("suites"), list):
        raise IngestError("not a Playwright JSON report (no 'suites' list)", path=path)
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for suite in doc["suites"]:
        if isinstance(suite, dict):
            _walk(suite, [], str(suite.get("file") or suite.get("title") or ""), rows, warnings)
    for error in doc.get("errors") or []:
        if isinstance(error, dict):
            rows.append(_global_error(error))
    stats = doc.get("stats") if isinstance(doc.get("stats"), dict) else {}
    counts = {k: as_count(stats.get(k)) for k in ("expected", "unexpected", "flaky", "skipped")}
    known = [v for v in counts.values() if v is not None]
    declared = Declared(
        tests=sum(known) if len(known) == len(counts) else None,
        failures=counts["unexpected"],
        skipped=counts["skipped"],
        passed=counts["expected"],
        flaky=counts["flaky"],
    )
    return ParsedTests(TestFormat.PLAYWRIGHT_JSON, rows=rows, warnings=warnings, declared=declared)


def _walk(
    suite: dict[str, Any],
    titles: list[str],
    file: str,
    rows: list[dict[str, Any]],
    warnings: list[str],
) -> None:
    for spec in suite.get("specs") or []:
        if isinstance(spec, dict):
            for test in spec.get("tests") or []:
                if isinstance(test, dict):
                    rows.extend(_attempts(spec, test, titles, file))
    for child in suite.get("suites") or []:
        if isinstance(child, dict):
            _walk(child, [*titles, str(child.get("title") or "")], file, rows, warnings)


def _attempts(
    spec: dict[str, Any], test: dict[str, Any], titles: list[str], file: str
) -> list[dict[str, Any]]:
    file = str(spec.get("file") or file)
    title = str(spec.get("title") or "")
    project = str(test.get("projectName") or test.get("projectId") or "")
    path_title = " › ".join([*titles, title])
    test_id = f"[{project}] {file}::{path_title}" if project else f"{file}::{path_title}"
    expect_fail = test.get("expectedStatus") == "failed"
    markers = tuple(str(t).lstrip("@") for t in spec.get("tags") or [])
    base: dict[str, Any] = {"project": project} if project else {}
    if test.get("expectedStatus") not in (None, "passed"):
        base["expected_status"] = test.get("expectedStatus")
    annotations = sorted({str(a.get("type")) for a in test.get("annotations") or [] if a})
    if annotations:
        base["annotations"] = ",".join(annotations)
    if spec.get("line") is not None:
        base["line"] = spec.get("line")
    rows = []
    results = [r for r in test.get("results") or [] if isinstance(r, dict)]
    if not results and test.get("status") == "skipped":  # never run (e.g. after --max-failures)
        results = [{"status": "skipped"}]
    for index, result in enumerate(results):
        status = str(result.get("status") or "")
        if status in _FAILING:
            outcome = Outcome.XFAILED if expect_fail else Outcome.FAILED
        elif status == "passed" and expect_fail:
            outcome = Outcome.XPASSED
        else:
            outcome = _ATTEMPT.get(status, Outcome.ERROR)
        props = dict(base)
        if status not in ("passed", "failed"):
            props["playwright_status"] = status
        errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
        error = result.get("error") if isinstance(result.get("error"), dict) else None
        error = error or (errors[0] if errors else {})
        details = clean_text(error.get("stack") or error.get("message"))
        if len(errors) > 1:
            details = "\n\n".join(clean_text(e.get("stack") or e.get("message")) for e in errors)
        rerun = as_count(result.get("retry"))
        rows.append(
            result_row(
                file,
                " › ".join(titles) or file,
                title,
                outcome,
                test_id=test_id,
                rerun=index if rerun is None else rerun,
                duration=seconds(result.get("duration"), 0.001),
                start=iso_time(result.get("startTime")),
                message=first_line(clean_text(error.get("message"))),
                details=details,
                stdout=_output(result.get("stdout")),
                stderr=_output(result.get("stderr")),
                markers=markers,
                properties=props,
            )
        )
    return rows


def _output(items: Any) -> str:
    """Playwright keeps output as a list of ``{"text": ...}`` (or base64 ``{"buffer": ...}``)."""
    parts = []
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            parts.append(item["text"])
        elif isinstance(item, str):
            parts.append(item)
    return clean_text("".join(parts))


def _global_error(error: dict[str, Any]) -> dict[str, Any]:
    location = error.get("location") if isinstance(error.get("location"), dict) else {}
    file = str(location.get("file") or "")
    text = clean_text(error.get("stack") or error.get("message"))
    return result_row(
        file,
        file,
        "(suite)",
        Outcome.ERROR,
        test_id=f"{file}::(suite)",
        message=first_line(clean_text(error.get("message"))) or first_line(text),
        details=text,
        properties={"suite_level": True},
    )
