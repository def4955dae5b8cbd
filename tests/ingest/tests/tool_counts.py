"""Tally parsed rows the way each test tool counts, to check them against the tool's own summary.

Each tool's summary (Jest's ``numPassedTests``, Playwright's ``stats``,
Mocha's ``stats``, go test's ``--- PASS/FAIL/SKIP`` lines, RSpec's summary,
CTRF's ``summary``) is what the parser records in ``ParsedTests.declared``;
:func:`check` asserts that the rows add up to it, in that tool's terms.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from whyloop.ingest.tests.contract import ParsedTests


def _suite_level(row: dict[str, Any]) -> bool:
    props = row["properties"] or {}
    return bool(props.get("suite_level") or props.get("hook"))


def tally(parsed: ParsedTests) -> Counter[str]:
    """Final outcomes per test (the last execution), plus ``tests``, ``flaky``,
    ``executions`` (every row of a test) and ``suite`` (suite-level rows and failed hooks)."""
    rows = parsed.rows
    tests = [r for r in rows if not _suite_level(r)]
    final: dict[str, dict[str, Any]] = {}
    earlier_failed: set[str] = set()
    for row in tests:
        key = row["test_id"]
        if key in final and final[key]["outcome"] in ("failed", "error"):
            earlier_failed.add(key)
        if key not in final or row["rerun"] >= final[key]["rerun"]:
            final[key] = row
    out: Counter[str] = Counter(r["outcome"] for r in final.values())
    out["tests"] = len(final)
    out["executions"] = len(tests)
    out["suite"] = len(rows) - len(tests)
    out["flaky"] = sum(1 for k in earlier_failed if final[k]["outcome"] == "passed")
    for row in tests:
        out[f"all_{row['outcome']}"] += 1
    return out


def check(parsed: ParsedTests, tool: str) -> Counter[str]:
    """Assert that the rows add up to the tool's declared counts; return the tally."""
    d, t = parsed.declared, tally(parsed)
    if tool == "jest":  # a test.failing that failed is passed in Jest's count
        assert (d.tests, d.passed, d.failures) == (
            t["tests"],
            t["passed"] + t["xfailed"],
            t["failed"],
        )
        assert (d.skipped, d.errors) == (t["skipped"], t["suite"])
    elif tool == "playwright":  # expected = passed (not flaky) + expected failures
        assert d.tests == t["tests"] and d.skipped == t["skipped"] and d.flaky == t["flaky"]
        assert d.passed == t["passed"] - t["flaky"] + t["xfailed"]
        assert d.failures == t["failed"] + t["error"] + t["xpassed"]
    elif tool == "mocha":  # failures count failed hooks too
        assert (d.tests, d.passed, d.skipped) == (t["tests"], t["passed"], t["skipped"])
        assert d.failures == t["failed"] + t["suite"]
    elif tool == "mochawesome":  # failed hooks are "other"
        assert (d.tests, d.passed, d.failures) == (t["tests"], t["passed"], t["failed"])
        assert (d.skipped, d.errors) == (t["skipped"], t["suite"])
    elif tool == "go":  # go test -count=N: every execution has its own verdict line
        assert (d.tests, d.passed) == (t["executions"], t["all_passed"])
        assert (d.failures, d.skipped) == (t["all_failed"], t["all_skipped"])
    elif tool == "rspec":
        assert (d.tests, d.failures, d.skipped) == (t["tests"], t["failed"], t["skipped"])
        assert d.errors == t["suite"]
    elif tool == "cppunit":
        assert (d.tests, d.failures, d.errors) == (t["tests"], t["failed"], t["error"])
    else:
        raise ValueError(tool)
    return t
