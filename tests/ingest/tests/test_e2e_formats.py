"""The result formats e2e suites write, read from samples the real tools produced.

The samples in tests/fixtures/tests/ were written by the tools themselves,
running the suites in tests/fixtures/tests/tools/ (``make_samples.py``; the
commands and versions are in tools/README.md). Each test checks whyloop's
rows against the tool's own summary (``tool_counts.check``) and the
behaviour a user relies on: retries as reruns, flaky tests, expected
failures, suite-level errors, times only where the tool gave them.
"""

from collections import Counter

import pytest

from tests.ingest.tests.tool_counts import check, tally
from tests.support import FIXTURES
from whyloop.errors import IngestError
from whyloop.ingest.tests.detect import read_test_file
from whyloop.schema import TestFormat

TESTS = FIXTURES / "tests"


def _rows(parsed, test_id_part):
    return [r for r in parsed.rows if test_id_part in r["test_id"]]


def test_jest_retries_todo_and_a_file_that_failed_to_run():
    parsed = read_test_file(TESTS / "jest.json")
    assert parsed.format is TestFormat.JEST_JSON
    t = check(parsed, "jest")
    assert (t["tests"], t["passed"], t["failed"], t["skipped"], t["suite"]) == (6, 2, 2, 2, 1)
    welcome = _rows(parsed, "welcome arrives")
    assert [(r["rerun"], r["outcome"]) for r in welcome] == [(0, "failed"), (1, "passed")]
    assert welcome[0]["message"].startswith("Error: expect(received).toBeGreaterThan")
    assert welcome[0]["start"] is None and welcome[1]["start"] is not None  # only the last timed
    [todo] = _rows(parsed, "password reset")
    assert todo["outcome"] == "skipped" and todo["properties"]["jest_status"] == "todo"
    [broken] = [r for r in parsed.rows if r["name"] == "(suite)"]
    assert broken["test_id"] == "broken.test.js::(suite)" and broken["outcome"] == "error"
    assert "Cannot find module './no-such-module'" in broken["message"]
    [refresh] = [r for r in _rows(parsed, "refresh rejects") if r["rerun"] == 1]
    assert refresh["test_id"] == "api.test.js::auth › refresh rejects an expired token"
    assert "2026-11-24T10:00:00.123Z" in refresh["details"]


def test_playwright_projects_flaky_retries_expected_failures_and_timeouts():
    parsed = read_test_file(TESTS / "playwright.json")
    assert parsed.format is TestFormat.PLAYWRIGHT_JSON
    t = check(parsed, "playwright")
    assert (t["tests"], t["flaky"], t["xfailed"]) == (14, 2, 2)
    flaky = _rows(parsed, "[staging-eu] api.spec.js::websocket › welcome arrives")
    assert [(r["rerun"], r["outcome"]) for r in flaky] == [(0, "failed"), (1, "passed")]
    assert all(r["start"] is not None and r["start"] < r["stop"] for r in flaky)
    assert flaky[0]["properties"]["project"] == "staging-eu"
    timeout = _rows(parsed, "[staging-us] api.spec.js::websocket › echo answers")
    assert {r["outcome"] for r in timeout} == {"failed"}
    assert timeout[0]["properties"]["playwright_status"] == "timedOut"
    assert timeout[0]["message"] == "Test timeout of 200ms exceeded."  # colour codes gone
    [xfail] = _rows(parsed, "[staging-eu] api.spec.js::websocket › close code")
    assert xfail["outcome"] == "xfailed" and xfail["properties"]["expected_status"] == "failed"


def test_mocha_json_retries_timeouts_and_a_failed_hook():
    parsed = read_test_file(TESTS / "mocha.json")
    assert parsed.format is TestFormat.MOCHA_JSON
    t = check(parsed, "mocha")
    assert (t["tests"], t["failed"], t["skipped"], t["suite"]) == (6, 2, 2, 1)
    welcome = _rows(parsed, "welcome arrives")
    assert [(r["rerun"], r["outcome"]) for r in welcome] == [(0, "failed"), (1, "passed")]
    [hook] = [r for r in parsed.rows if (r["properties"] or {}).get("hook")]
    assert hook["outcome"] == "error" and hook["message"] == "database is locked"
    assert hook["name"] == '"before all" hook for "create a thread"'
    assert all(r["start"] is None for r in parsed.rows)  # Mocha gives no test start times


def test_mochawesome_counts_tests_a_hook_kept_from_running():
    parsed = read_test_file(TESTS / "mochawesome.json")
    assert parsed.format is TestFormat.MOCHAWESOME
    t = check(parsed, "mochawesome")
    assert (t["tests"], t["skipped"], t["suite"]) == (8, 4, 1)
    not_run = _rows(parsed, "threads create a thread")
    assert not_run[0]["properties"] == {"mochawesome_state": "skipped"}


def test_go_test_json_subtests_count_reruns_and_a_package_that_exited():
    parsed = read_test_file(TESTS / "go-test.jsonl")
    assert parsed.format is TestFormat.GO_TEST_JSON
    t = check(parsed, "go")
    assert (t["executions"], t["tests"], t["suite"]) == (16, 8, 1)
    flaky = _rows(parsed, "::TestFlakyThread")
    assert [(r["rerun"], r["outcome"]) for r in flaky] == [(0, "failed"), (1, "passed")]
    assert flaky[0]["message"] == "database is locked"
    echo = _rows(parsed, "::TestWebSocket/echo")
    assert echo[0]["properties"] == {"parent": "TestWebSocket"}
    assert echo[0]["start"] <= echo[0]["stop"]
    [package] = [r for r in parsed.rows if r["name"] == "(package)"]
    assert package["suite"] == "example.com/e2e/broken" and package["outcome"] == "error"
    assert package["message"] == "cannot reach the staging database"
    [skip] = [r for r in _rows(parsed, "::TestLogoutClearsSession") if r["rerun"] == 0]
    assert (
        skip["outcome"] == "skipped"
        and skip["message"] == "logout endpoint not deployed on staging"
    )


def test_rspec_json_pending_and_a_spec_file_that_does_not_load():
    parsed = read_test_file(TESTS / "rspec.json")
    assert parsed.format is TestFormat.RSPEC_JSON
    t = check(parsed, "rspec")
    assert (t["tests"], t["passed"], t["failed"], t["skipped"]) == (7, 1, 4, 2)
    [fixed] = _rows(parsed, "echo answers")
    assert fixed["outcome"] == "failed"  # a pending example that passed fails, as RSpec says
    assert fixed["failure_type"] == "RSpec::Core::Pending::PendingExampleFixedError"
    [io_error] = _rows(parsed, "welcome arrives")
    assert io_error["failure_type"] == "IOError"
    assert io_error["test_id"] == "spec/api_spec.rb::websocket welcome arrives"
    broken = read_test_file(TESTS / "rspec-load-error.json")
    t = check(broken, "rspec")
    assert t["suite"] == 1 and "broken_spec.rb" in broken.rows[0]["details"]


@pytest.mark.parametrize(
    ("name", "tests", "expected"),
    [
        # jest-ctrf: a todo is "other" (rawStatus todo): skipped
        ("jest-ctrf.json", 6, {"passed": 2, "failed": 2, "skipped": 2}),
        # mocha-ctrf: the failed hook is listed as a failed test
        ("mocha-ctrf.json", 7, {"passed": 2, "failed": 3, "skipped": 2}),
        # playwright-ctrf: projects in the suite; test.fail() is status passed, raw failed
        ("playwright-ctrf.json", 14, {"passed": 4, "failed": 4, "skipped": 4, "xfailed": 2}),
        # pytest-json-ctrf: raw setup_failed/xfailed say more than the status
        ("pytest-ctrf.json", 8, {"passed": 4, "failed": 1, "error": 1, "skipped": 1, "xfailed": 1}),
    ],
)
def test_ctrf_from_each_reporter_adds_up_to_its_summary(name, tests, expected):
    parsed = read_test_file(TESTS / name)
    assert parsed.format is TestFormat.CTRF
    t = tally(parsed)
    d = parsed.declared
    assert t["tests"] == d.tests == tests
    assert {k: t[k] for k in expected} == expected
    assert d.passed == t["passed"]
    # each reporter's "failed" holds what its tool counts as failing
    assert d.failures == t["failed"] + t["error"] + (t["xfailed"] if "playwright" in name else 0)
    assert d.skipped + (1 if name == "jest-ctrf.json" else 0) == t["skipped"] + (
        t["xfailed"] if name == "pytest-ctrf.json" else 0
    )
    assert t["flaky"] == (d.flaky if d.flaky is not None else t["flaky"])


def test_ctrf_times_written_in_seconds_are_read_as_seconds():
    parsed = read_test_file(TESTS / "playwright-ctrf.json")
    assert any("seconds, not the milliseconds" in w for w in parsed.warnings)
    starts = [r["start"] for r in parsed.rows if r["start"] is not None]
    assert starts and all(s.year >= 2020 for s in starts)
    assert not read_test_file(TESTS / "mocha-ctrf.json").warnings  # milliseconds, as specified


def test_allure_results_folder_one_row_per_result_file():
    folder = TESTS / "allure-results"
    rows, formats = [], set()
    for path in sorted(folder.iterdir()):
        parsed = read_test_file(path)
        formats.add(parsed.format)
        assert len(parsed.rows) == (1 if path.name.endswith("-result.json") else 0)
        rows += parsed.rows
    assert formats == {TestFormat.ALLURE}
    outcomes = Counter(r["outcome"] for r in rows)
    # pytest said: 1 failed, 4 passed, 1 skipped, 1 xfailed, 1 error, 1 rerun
    assert outcomes == {"passed": 4, "failed": 2, "error": 1, "skipped": 1, "xfailed": 1}
    by_name = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row)
    assert by_name["test_create_thread"][0]["properties"]["allure_status"] == "broken"
    assert by_name["test_echo[4096]"][0]["markers"] == ("websocket",)
    assert by_name["test_echo[4096]"][0]["test_id"] == "e2e_suite::test_echo[4096]"
    welcome = by_name["test_welcome_arrives"]  # the rerun: two result files, one historyId
    assert {r["outcome"] for r in welcome} == {"failed", "passed"}
    assert len({r["properties"]["historyId"] for r in welcome}) == 1
    assert all(r["start"] is not None and r["stop"] >= r["start"] for r in rows)


def test_dart_json_from_the_documented_protocol():
    parsed = read_test_file(TESTS / "dart.jsonl")
    assert parsed.format is TestFormat.DART_JSON
    outcomes = {r["test_id"]: r["outcome"] for r in parsed.rows}
    assert outcomes == {
        "test/api_test.dart::auth login returns a token": "passed",
        "test/api_test.dart::auth refresh rejects an expired token": "failed",
        "test/api_test.dart::auth logout clears the session": "skipped",
        "test/api_test.dart::websocket welcome arrives": "error",
        "test/broken_test.dart::loading test/broken_test.dart": "error",
    }
    refresh = _rows(parsed, "refresh rejects")[0]
    assert refresh["classname"] == "auth" and refresh["name"] == "refresh rejects an expired token"
    assert refresh["duration_s"] == pytest.approx(0.012) and refresh["start"] is None
    assert refresh["stdout"] == "calling /auth/refresh"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"numTotalTests": 1, "testResults": 3}', "not a Jest JSON document"),
        (b'{"config": {}, "suites": {}}', "not a Playwright JSON report"),
        (b'{"reportFormat": "CTRF", "results": {"tests": 1}}', "not a CTRF document"),
        (b'{"examples": [], "version": "3"', "invalid JSON"),
    ],
)
def test_a_json_report_with_the_wrong_shape_is_one_clear_error(tmp_path, data, reason):
    path = tmp_path / "report.json"
    path.write_bytes(data)
    with pytest.raises(IngestError) as info:
        read_test_file(path)
    assert str(info.value).startswith(f"{path}") and reason in str(info.value)
    assert "\n" not in str(info.value)


def test_an_allure_results_folder_is_one_run_with_its_retries_numbered():
    import whyloop
    from whyloop.analyze.summary import summarize_tests

    df = whyloop.read_tests(TESTS / "allure-results")
    assert set(df["file"]) == {str(TESTS / "allure-results")}
    welcome = df[df["name"] == "test_welcome_arrives"].sort_values("rerun")
    assert list(welcome["outcome"].astype(str)) == ["failed", "passed"]
    assert list(welcome["rerun"]) == [0, 1]
    summary = summarize_tests(df)
    # pytest said: 1 failed, 4 passed, 1 skipped, 1 xfailed, 1 error, 1 rerun
    assert (summary["total"], summary["passed"], summary["failed"], summary["errors"]) == (
        8,
        4,
        1,
        1,
    )
    assert (summary["skipped"], summary["xfailed"], summary["reruns"], summary["flaky"]) == (
        1,
        1,
        1,
        1,
    )
