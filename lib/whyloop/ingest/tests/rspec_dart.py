"""RSpec's JSON formatter (``rspec --format json``) and Dart's JSON reporter (``dart test --reporter json``).

**RSpec** writes ``examples`` and a ``summary``. ``suite`` is the spec file,
``classname`` the example group's description, ``name`` the example's, and
``test_id`` ``file::full description``. Outcome as RSpec defines its
statuses: ``passed``, ``failed``, ``pending`` (skipped: RSpec counts a
``skip``/``xit`` example and a ``pending`` one that failed as it should both
as pending, and its JSON does not tell them apart). A ``pending`` example
that passed is a failure in RSpec (``PendingExampleFixedError``) and stays
``failed``. RSpec gives no start times, only ``run_time``. Errors outside of
examples (a spec file that does not load) become one ``error`` row named
``(suite)`` with RSpec's messages. Declared: ``example_count`` (tests),
``failure_count``, ``pending_count`` (skipped) and
``errors_outside_of_examples_count`` (errors).

**Dart** writes one JSON event a line (its documented ``json_reporter``
protocol: ``testStart``, ``print``, ``error``, ``testDone``, ...). Each
``testDone`` that is not ``hidden`` is a row (a hidden "loading" test is a
row only when it did not succeed: the file failed to load). Outcome as the
protocol defines ``result``: ``success`` passed (``skipped`` true: skipped),
``failure`` (an expectation failed) failed, ``error`` (the test threw)
error. ``classname`` is the innermost group, ``name`` the test's name without
the group prefix, ``suite`` the test file. Event times are milliseconds since
the runner started, with no clock time given: ``duration_s`` is observed
(``testDone`` minus ``testStart``) but ``start``/``stop`` stay empty. Dart
writes no counts, so nothing is declared.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from whyloop.errors import IngestError
from whyloop.ingest.tests.contract import Declared, ParsedTests
from whyloop.ingest.tests.jsonfmt import (
    as_count,
    clean_text,
    first_line,
    load_document,
    load_lines,
    result_row,
    seconds,
)
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_dart_json", "parse_rspec_json"]

_RSPEC = {"passed": Outcome.PASSED, "failed": Outcome.FAILED, "pending": Outcome.SKIPPED}
_DART = {"success": Outcome.PASSED, "failure": Outcome.FAILED, "error": Outcome.ERROR}


# -- RSpec --------------------------------------------------------------------------


def parse_rspec_json(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse an ``rspec --format json`` file into one row per example."""
    doc = load_document(stream, path, "RSpec JSON")
    if not isinstance(doc.get("examples"), list):
        raise IngestError("not an RSpec JSON document (no 'examples' list)", path=path)
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for example in doc["examples"]:
        if isinstance(example, dict):
            rows.append(_example(example, path, warnings))
    summary = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
    outside = as_count(summary.get("errors_outside_of_examples_count"))
    if outside:
        text = "\n".join(clean_text(m) for m in doc.get("messages") or [])
        lines = [ln for ln in text.splitlines() if ln.strip()]
        message = next((ln.strip() for ln in lines if "error occurred" not in ln), "")
        rows.append(
            result_row(
                "",
                "",
                "(suite)",
                Outcome.ERROR,
                message=message or f"{outside} error(s) occurred outside of examples",
                details=text,
                properties={"suite_level": True},
            )
        )
    declared = Declared(
        tests=as_count(summary.get("example_count")),
        failures=as_count(summary.get("failure_count")),
        errors=outside,
        skipped=as_count(summary.get("pending_count")),
    )
    return ParsedTests(TestFormat.RSPEC_JSON, rows=rows, warnings=warnings, declared=declared)


def _example(example: dict[str, Any], path: str, warnings: list[str]) -> dict[str, Any]:
    file = str(example.get("file_path") or "").removeprefix("./")
    name = str(example.get("description") or "")
    full = str(example.get("full_description") or name)
    group = full[: -len(name)].strip() if name and full.endswith(name) else ""
    status = str(example.get("status") or "")
    outcome = _RSPEC.get(status)
    props: dict[str, Any] = {"id": example.get("id"), "line": example.get("line_number")}
    if outcome is None:
        warnings.append(f"{path}: example {example.get('id')} has status {status!r}; read as error")
        outcome = Outcome.ERROR
    if status == "pending":
        props["rspec_status"] = "pending"
    exc = example.get("exception") if isinstance(example.get("exception"), dict) else {}
    message = clean_text(exc.get("message"))
    trace = "\n".join(str(t) for t in exc.get("backtrace") or [])
    if outcome is Outcome.SKIPPED:
        message = clean_text(example.get("pending_message"))
    return result_row(
        file,
        group or file,
        name,
        outcome,
        test_id=f"{file}::{full}",
        duration=seconds(example.get("run_time")),
        message=first_line(message),
        failure_type=str(exc.get("class") or ""),
        details="\n".join(filter(None, (message, trace))) if exc else "",
        properties={k: v for k, v in props.items() if v is not None},
    )


# -- Dart ---------------------------------------------------------------------------


def parse_dart_json(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse ``dart test --reporter json`` (or ``flutter test --machine``) events into rows."""
    records, warnings = load_lines(stream, path)
    if not any("type" in rec for _, rec in records):
        raise IngestError("no Dart test events (objects with a 'type')", path=path)
    suites: dict[Any, str] = {}
    groups: dict[Any, str] = {}
    started: dict[Any, tuple[dict[str, Any], float | None, int]] = {}
    errors: dict[Any, list[tuple[str, str]]] = {}
    prints: dict[Any, list[str]] = {}
    rows: list[dict[str, Any]] = []
    done = False
    for lineno, rec in records:
        kind = rec.get("type")
        if kind == "suite" and isinstance(rec.get("suite"), dict):
            suite = rec["suite"]
            suites[suite.get("id")] = str(suite.get("path") or "").replace("\\", "/")
        elif kind == "group" and isinstance(rec.get("group"), dict):
            groups[rec["group"].get("id")] = str(rec["group"].get("name") or "")
        elif kind == "testStart" and isinstance(rec.get("test"), dict):
            started[rec["test"].get("id")] = (rec["test"], _ms(rec.get("time")), lineno)
        elif kind == "error":
            pair = (clean_text(rec.get("error")), clean_text(rec.get("stackTrace")))
            errors.setdefault(rec.get("testID"), []).append(pair)
        elif kind == "print":
            prints.setdefault(rec.get("testID"), []).append(str(rec.get("message") or ""))
        elif kind == "testDone":
            test_id = rec.get("testID")
            if test_id not in started:
                warnings.append(f"{path}:{lineno}: testDone for test {test_id} that never started")
                continue
            test, t0, _ = started.pop(test_id)
            if rec.get("hidden") and rec.get("result") == "success":
                continue
            rows.append(_dart_row(test, rec, t0, suites, groups, errors, prints))
        elif kind == "done":
            done = True
    for test, _, lineno in started.values():
        warnings.append(
            f"{path}:{lineno}: test {test.get('name')!r} has no testDone; kept as error"
        )
        rows.append(
            _dart_row(
                test, {"result": "error"}, None, suites, groups, errors, prints, unfinished=True
            )
        )
    if not done:
        warnings.append(f"{path}: no 'done' event: the run did not finish")
    return ParsedTests(TestFormat.DART_JSON, rows=rows, warnings=warnings)


def _ms(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _dart_row(
    test: dict[str, Any],
    rec: dict[str, Any],
    t0: float | None,
    suites: dict[Any, str],
    groups: dict[Any, str],
    errors: dict[Any, list[tuple[str, str]]],
    prints: dict[Any, list[str]],
    unfinished: bool = False,
) -> dict[str, Any]:
    file = suites.get(test.get("suiteID"), "")
    full = str(test.get("name") or "")
    group = next((groups[g] for g in reversed(test.get("groupIDs") or []) if groups.get(g)), "")
    name = full[len(group) :].strip() if group and full.startswith(group + " ") else full
    result = str(rec.get("result") or "")
    outcome = Outcome.SKIPPED if rec.get("skipped") else _DART.get(result, Outcome.ERROR)
    failures = errors.get(test.get("id"), [])
    message = first_line(failures[0][0]) if failures else ""
    if outcome is Outcome.SKIPPED:
        message = clean_text((test.get("metadata") or {}).get("skipReason"))
    if unfinished:
        message = "no result: the test was running when the output ended"
    props: dict[str, Any] = {"dart_result": result} if result != "success" else {}
    if test.get("line") is not None:
        props["line"] = test.get("line")
    t1 = _ms(rec.get("time"))
    duration = (t1 - t0) / 1000 if t0 is not None and t1 is not None and t1 >= t0 else None
    return result_row(
        file,
        group or file,
        name,
        outcome,
        test_id=f"{file}::{full}",
        duration=duration,
        message=message,
        details="\n\n".join("\n".join(filter(None, pair)) for pair in failures),
        stdout="\n".join(prints.get(test.get("id"), [])),
        properties=props,
    )
