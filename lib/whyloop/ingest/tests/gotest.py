"""Go's ``go test -json`` output: the ``test2json`` event stream, one JSON object a line.

Each event has ``Time``, ``Action`` (``start``, ``run``, ``pause``, ``cont``,
``output``, ``pass``, ``fail``, ``skip``, ``bench``; Go 1.24 adds
``build-output`` and ``build-fail``), ``Package`` and, for a test's events,
``Test``. How they become rows:

* **One row per execution.** ``run`` opens an execution of ``Package``/``Test``;
  ``pass``, ``fail`` or ``skip`` closes it. ``start`` is the ``run`` event's
  time and ``stop`` the closing event's, as observed; ``duration_s`` is Go's
  ``Elapsed``. ``go test -count=N`` (or a second run in the same file) runs a
  test again: each execution is a row, ``rerun`` 0, 1, ... in file order.
* **Subtests** (``TestA/sub``) are tests of their own, as Go counts them; the
  parent (the test running when the subtest started) is in ``properties["parent"]``. A parent fails when a subtest does.
* **Outcome**: ``pass`` passed, ``fail`` failed, ``skip`` skipped. A test
  that was running when the stream ended (the test binary crashed or was
  killed by ``-timeout``) has no result: it becomes an ``error`` row saying so.
* **Package failures.** A package that fails with no failing test of its own
  (``TestMain`` exited, a build failure, a panic outside any test) becomes an
  ``error`` row named ``(package)`` with the package's output.
* **Message and output**: the test's output without Go's own framing lines
  (``=== RUN``, ``--- FAIL: ...``); the message is its first line with the
  ``file_test.go:17:`` prefix taken off; failing and skipped tests keep the
  output in ``details``, passing ones in ``stdout``.
* **Declared counts** are Go's own verdict lines in the output (``--- PASS:``,
  ``--- FAIL:``, ``--- SKIP:``), which ``go test -v`` prints for every test.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, BinaryIO

from whyloop.errors import IngestError
from whyloop.ingest.tests.contract import Declared, ParsedTests
from whyloop.ingest.tests.jsonfmt import iso_time, load_lines, result_row, seconds
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_go_test_json"]

_RESULTS = {"pass": Outcome.PASSED, "fail": Outcome.FAILED, "skip": Outcome.SKIPPED}
_FRAMING = re.compile(r"^\s*(?:=== (?:RUN|PAUSE|CONT|NAME)\b|--- (?:PASS|FAIL|SKIP|BENCH):)")
_VERDICT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): ")
_LOCATION = re.compile(r"^\s*[\w.-]+\.go:\d+: ")
_PACKAGE_SUMMARY = re.compile(r"^(?:ok|FAIL|PASS|\?)(?:\s|$)")


class _Execution:
    """One run of a test, open until its pass/fail/skip event."""

    __slots__ = ("line", "output", "parent", "start")

    def __init__(self, start: datetime | None, line: int, parent: str = "") -> None:
        self.start = start
        self.line = line
        self.parent = parent
        self.output: list[str] = []


class _Package:
    """What one package's events said: its own output and whether a test of it failed."""

    def __init__(self) -> None:
        self.output: list[str] = []
        self.start: datetime | None = None
        self.test_failed = False
        self.result: str | None = None
        self.elapsed: float | None = None
        self.stop: datetime | None = None
        self.build_failed = ""


def _message(lines: list[str]) -> str:
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    return _LOCATION.sub("", first)


def parse_go_test_json(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse ``go test -json`` output into one row per test execution (see the module docstring)."""
    records, warnings = load_lines(stream, path)
    if not any("Action" in rec for _, rec in records):
        raise IngestError("no go test -json events (objects with an Action)", path=path)
    rows: list[dict[str, Any]] = []
    open_runs: dict[tuple[str, str], _Execution] = {}
    last_row: dict[tuple[str, str], dict[str, Any]] = {}
    runs: dict[tuple[str, str], int] = {}
    packages: dict[str, _Package] = {}
    verdicts = {"PASS": 0, "FAIL": 0, "SKIP": 0}

    def close(key: tuple[str, str], outcome: Outcome, when: datetime | None, rec: dict) -> None:
        run = open_runs.pop(key)
        package, test = key
        text = [ln for ln in run.output if not _FRAMING.match(ln)]
        output = "".join(text).strip("\n")
        fields: dict[str, Any] = {"stdout": output}
        if outcome is not Outcome.PASSED:
            fields = {"message": _message(text), "details": output}
        if outcome is Outcome.ERROR:
            fields["message"] = "no result: the test was running when the output ended"
        props = {"parent": run.parent} if run.parent else None
        rerun = runs.get(key, 0)
        runs[key] = rerun + 1
        row = result_row(
            package,
            package,
            test,
            outcome,
            rerun=rerun,
            duration=seconds(rec.get("Elapsed")),
            start=run.start,
            stop=when,
            properties=props,
            **fields,
        )
        rows.append(row)
        last_row[key] = row
        if outcome in (Outcome.FAILED, Outcome.ERROR):
            packages[package].test_failed = True

    for lineno, rec in records:
        action = rec.get("Action")
        package = str(rec.get("Package") or rec.get("ImportPath") or "")
        test = rec.get("Test")
        when = iso_time(rec.get("Time"))
        pkg = packages.setdefault(package, _Package())
        if pkg.start is None:
            pkg.start = when
        if action in ("build-output", "build-fail"):
            pkg.build_failed = pkg.build_failed or "build failed"
            pkg.output.append(str(rec.get("Output") or ""))
            continue
        if not isinstance(test, str) or not test:
            if action == "output":
                pkg.output.append(str(rec.get("Output") or ""))
            elif action in _RESULTS:
                pkg.result, pkg.stop = action, when
                pkg.elapsed = seconds(rec.get("Elapsed"))
                if rec.get("FailedBuild"):
                    pkg.build_failed = f"build failed ({rec['FailedBuild']})"
            continue
        key = (package, test)
        if action == "run":
            if key in open_runs:
                warnings.append(f"{path}:{lineno}: {package} {test} ran again before a result")
                close(key, Outcome.ERROR, None, {})
            # a subtest's name may hold "/" itself: its parent is the running test it extends
            parents = [t for p, t in open_runs if p == package and test.startswith(t + "/")]
            open_runs[key] = _Execution(when, lineno, max(parents, key=len, default=""))
        elif action == "output":
            line = str(rec.get("Output") or "")
            if verdict := _VERDICT.match(line):
                verdicts[verdict.group(1)] += 1
            if key in open_runs:
                open_runs[key].output.append(line)
            elif key in last_row and not _FRAMING.match(line):
                target = last_row[key]
                column = "stdout" if target["outcome"] == Outcome.PASSED.value else "details"
                target[column] = (target[column] + "\n" + line.rstrip("\n")).strip("\n")
        elif action in _RESULTS:
            if key not in open_runs:  # a result without a run event (output cut at the start)
                open_runs[key] = _Execution(None, lineno)
            close(key, _RESULTS[action], when, rec)
    for key in list(open_runs):
        run = open_runs[key]
        warnings.append(
            f"{path}:{run.line}: {key[0]} {key[1]} has no pass/fail/skip event "
            "(the test binary stopped while it ran?); kept as an error"
        )
        close(key, Outcome.ERROR, None, {})
    rows.extend(_package_rows(packages, path, warnings))
    declared = Declared(
        tests=sum(verdicts.values()),
        failures=verdicts["FAIL"],
        skipped=verdicts["SKIP"],
        passed=verdicts["PASS"],
    )
    return ParsedTests(TestFormat.GO_TEST_JSON, rows=rows, warnings=warnings, declared=declared)


def _package_rows(
    packages: dict[str, _Package], path: str, warnings: list[str]
) -> list[dict[str, Any]]:
    """An ``error`` row for each package that failed without a failing test of its own."""
    rows = []
    for name, pkg in packages.items():
        if pkg.result is None and not pkg.build_failed:
            if any(pkg.output) or pkg.start is not None:
                warnings.append(f"{path}: package {name or '(unnamed)'} has no final pass/fail")
            continue
        if pkg.test_failed or (pkg.result != "fail" and not pkg.build_failed):
            continue
        text = [ln for ln in pkg.output if not _PACKAGE_SUMMARY.match(ln)]
        output = "".join(text).strip("\n")
        message = pkg.build_failed or _message(text) or "package failed with no failing test"
        rows.append(
            result_row(
                name,
                name,
                "(package)",
                Outcome.ERROR,
                duration=pkg.elapsed,
                start=pkg.start,
                stop=pkg.stop,
                message=message,
                details=output,
                properties={"suite_level": True},
            )
        )
    return rows
