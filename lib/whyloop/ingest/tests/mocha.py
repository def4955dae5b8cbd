"""Mocha's JSON reporter (``mocha --reporter json``) and mochawesome (what Cypress writes).

Both come from Mocha runs; neither gives a test's start time, so ``start``
and ``stop`` stay empty (only durations are known). Names: ``suite`` is the
spec file (relative to the directory the run's files share), ``classname``
the ``describe`` titles, ``name`` the test's title, ``test_id``
``file::full title``.

**Mocha JSON** (``stats``, ``tests``, ``passes``, ``failures``, ``pending``):
a test in ``failures`` is failed, in ``pending`` skipped, in ``passes``
passed. A failure that is not a test (``"before all" hook for "x"``) is a hook
that failed: an ``error`` row, as pytest counts a failed fixture; the tests
it kept from running are not in the file. ``currentRetry`` N (``this.retries``)
means the test failed N times before its final execution: N ``failed`` rows
(Mocha keeps no message for them) come first, ``rerun`` 0, 1, ... Declared:
``stats.tests``, ``stats.passes``, ``stats.failures`` (hooks included),
``stats.pending`` (skipped).

**mochawesome** (``stats``, ``results`` of nested suites, ``meta``): a test's
``pass``/``fail``/``pending`` flags give passed/failed/skipped; ``skipped``
tests (not run because a hook failed) are skipped, with
``properties["mochawesome_state"] = "skipped"``; failed hooks
(``beforeHooks``/``afterHooks``) are ``error`` rows. mochawesome keeps no
retry count. Declared: ``testsRegistered`` (tests), ``passes``, ``failures``,
``other`` (errors: failed hooks), ``pending + skipped`` (skipped).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from whyloop.errors import IngestError
from whyloop.ingest.tests.contract import Declared, ParsedTests
from whyloop.ingest.tests.jsonfmt import (
    as_count,
    clean_text,
    common_dir,
    first_line,
    load_document,
    relative,
    result_row,
    seconds,
)
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_mocha_json", "parse_mochawesome"]


def _hook_row(hook: dict[str, Any], file: str) -> dict[str, Any]:
    """A failed before/after hook: an ``error`` row of its own, not one of the tests."""
    classname, name, test_id = _names(hook, file)
    return result_row(
        file,
        classname,
        name,
        Outcome.ERROR,
        test_id=test_id,
        duration=seconds(hook.get("duration"), 0.001),
        properties={"hook": True},
        **_error(hook.get("err")),
    )


def _names(test: dict[str, Any], file: str) -> tuple[str, str, str]:
    """(classname, name, test_id) from Mocha's ``title`` and ``fullTitle``."""
    title = str(test.get("title") or "")
    full = str(test.get("fullTitle") or title)
    parents = full[: -len(title)].strip() if title and full.endswith(title) else ""
    return parents or file, title, f"{file}::{full}"


def _error(err: Any) -> dict[str, str]:
    if not isinstance(err, dict) or not err:
        return {}
    stack = clean_text(err.get("stack") or err.get("estack"))
    message = clean_text(err.get("message"))
    ftype = str(err.get("name") or "")
    return {
        "message": first_line(message) or first_line(stack),
        "details": stack or message,
        "failure_type": ftype,
    }


# -- Mocha JSON ---------------------------------------------------------------------


def parse_mocha_json(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse Mocha's JSON reporter output into one row per test execution."""
    doc = load_document(stream, path, "Mocha JSON")
    if not isinstance(doc.get("stats"), dict) or not isinstance(doc.get("tests"), list):
        raise IngestError("not a Mocha JSON document (no 'stats' and 'tests')", path=path)

    def key(t: dict[str, Any]) -> tuple[str, str]:
        return str(t.get("fullTitle") or t.get("title")), str(t.get("file") or "")

    lists = {
        name: [t for t in doc.get(name) or [] if isinstance(t, dict)]
        for name in ("tests", "passes", "failures", "pending")
    }
    failed = {key(t) for t in lists["failures"]}
    pending = {key(t) for t in lists["pending"]}
    root = common_dir([str(t.get("file")) for t in lists["tests"] if t.get("file")])
    rows: list[dict[str, Any]] = []
    seen = set()
    for test in lists["tests"]:
        seen.add(key(test))
        file = relative(str(test.get("file") or ""), root)
        classname, name, test_id = _names(test, file)
        if key(test) in failed:
            outcome = Outcome.FAILED
        elif key(test) in pending:
            outcome = Outcome.SKIPPED
        else:
            outcome = Outcome.FAILED if test.get("err") else Outcome.PASSED
        retries = as_count(test.get("currentRetry")) or 0
        for attempt in range(retries):
            rows.append(
                result_row(
                    file,
                    classname,
                    name,
                    Outcome.FAILED,
                    test_id=test_id,
                    rerun=attempt,
                    properties={"retried": True},
                )
            )
        rows.append(
            result_row(
                file,
                classname,
                name,
                outcome,
                test_id=test_id,
                rerun=retries,
                duration=seconds(test.get("duration"), 0.001),
                **_error(test.get("err")),
            )
        )
    for hook in lists["failures"]:
        if key(hook) not in seen:  # a failed hook: not one of the tests
            rows.append(_hook_row(hook, relative(str(hook.get("file") or ""), root)))
    stats = doc["stats"]
    declared = Declared(
        tests=as_count(stats.get("tests")),
        failures=as_count(stats.get("failures")),
        skipped=as_count(stats.get("pending")),
        passed=as_count(stats.get("passes")),
    )
    return ParsedTests(TestFormat.MOCHA_JSON, rows=rows, declared=declared)


# -- mochawesome --------------------------------------------------------------------


def parse_mochawesome(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a mochawesome JSON report (Cypress's, or ``mochawesome-merge``'s) into rows."""
    doc = load_document(stream, path, "mochawesome")
    if not isinstance(doc.get("results"), list):
        raise IngestError("not a mochawesome document (no 'results' list)", path=path)
    suites: list[dict[str, Any]] = []

    def collect(suite: Any) -> None:
        if isinstance(suite, dict):
            suites.append(suite)
            for child in suite.get("suites") or []:
                collect(child)

    for result in doc["results"]:
        collect(result)
    root = common_dir([str(s.get("fullFile")) for s in suites if s.get("fullFile")])
    rows: list[dict[str, Any]] = []
    for suite in suites:
        file = relative(str(suite.get("fullFile") or suite.get("file") or ""), root)
        for test in suite.get("tests") or []:
            if isinstance(test, dict):
                rows.append(_awesome_row(test, file))
        for hook in [*(suite.get("beforeHooks") or []), *(suite.get("afterHooks") or [])]:
            if isinstance(hook, dict) and (hook.get("fail") or hook.get("state") == "failed"):
                rows.append(_hook_row(hook, file))
    stats = doc.get("stats") if isinstance(doc.get("stats"), dict) else {}
    pending, skipped = as_count(stats.get("pending")), as_count(stats.get("skipped"))
    declared = Declared(
        tests=as_count(stats.get("testsRegistered", stats.get("tests"))),
        failures=as_count(stats.get("failures")),
        errors=as_count(stats.get("other")),
        skipped=None if pending is None else pending + (skipped or 0),
        passed=as_count(stats.get("passes")),
    )
    return ParsedTests(TestFormat.MOCHAWESOME, rows=rows, declared=declared)


def _awesome_row(test: dict[str, Any], file: str) -> dict[str, Any]:
    classname, name, test_id = _names(test, file)
    props: dict[str, Any] = {}
    if test.get("fail"):
        outcome = Outcome.FAILED
    elif test.get("pass"):
        outcome = Outcome.PASSED
    elif test.get("pending"):
        outcome = Outcome.SKIPPED
    else:  # skipped: a hook failed before it could run (state is null)
        outcome = Outcome.SKIPPED
        props["mochawesome_state"] = "skipped" if test.get("skipped") else str(test.get("state"))
    if test.get("timedOut"):
        props["timed_out"] = True
    return result_row(
        file,
        classname,
        name,
        outcome,
        test_id=test_id,
        duration=seconds(test.get("duration"), 0.001),
        properties=props,
        **_error(test.get("err")),
    )
