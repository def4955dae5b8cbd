"""The e2e suite against the sandbox: all green without faults, and each fault fails its set."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from whyloop.sandbox import E2E_TESTS, EXPECTED_FAILURES, Sandbox, list_faults, run_e2e

Records = list[dict[str, Any]]

pytestmark = pytest.mark.slow


def _run(box: Sandbox, tmp_path: Path) -> tuple[int, dict[str, ET.Element], list[dict[str, Any]]]:
    junit, report = tmp_path / "results.xml", tmp_path / "report.jsonl"
    status = run_e2e(
        backend_url=box.backend_url,
        auth_url=box.auth_url,
        ws_url=box.ws_url,
        junitxml=junit,
        report_log=report,
        extra_args=["--tb=line", "-p", "no:warnings"],
    )
    cases = {tc.get("name", ""): tc for tc in ET.parse(junit).getroot().iter("testcase")}
    reports = [json.loads(line) for line in report.read_text().splitlines()]
    return status, cases, reports


def _failed(cases: dict[str, ET.Element]) -> dict[str, str]:
    out = {}
    for name, case in cases.items():
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            out[name] = bad.get("message", "")
    return out


def _http(records: Records, status: int, path: str = "") -> Records:
    return [
        r
        for r in records
        if r.get("httpRequest", {}).get("status") == status
        and path in r["httpRequest"]["requestUrl"]
    ]


# What each fault must leave in the backend log, beyond the failing tests.
EVIDENCE: dict[str, Callable[[Records, dict[str, str]], None]] = {
    "ws-no-welcome": lambda log, msgs: (
        _check(all("waiting for connection_established" in m for m in msgs.values()), msgs),
        _check(len(_http(log, 101, "/ws")) >= 3, "no accepted upgrades logged"),
    ),
    "ws-subprotocol-not-echoed": lambda log, msgs: (
        _check(all("Sec-WebSocket-Protocol" in m for m in msgs.values()), msgs),
    ),
    "ws-header-auth-only": lambda log, msgs: (
        _check(len(_http(log, 401, "/ws")) >= 2, "no 401 upgrades logged"),
        _check(all("HTTP 401" in m for m in msgs.values()), msgs),
    ),
    "ws-reject-origin": lambda log, msgs: (
        _check(len(_http(log, 403, "/ws")) >= 1, "no 403 upgrade logged"),
    ),
    "jwt-audience-mismatch": lambda log, msgs: (
        _check(len(_http(log, 401)) >= 20, "too few 401 lines"),
        _check(
            any(r["message"] == "token rejected: invalid audience" for r in log),
            "no audience warning",
        ),
        _check(any(r.get("close_code") == 1008 for r in log), "no 1008 close logged"),
    ),
    "slow-agent": lambda log, msgs: (
        _check(all("timed out after" in m for m in msgs.values()), msgs),
        _check(
            any(
                float(r["httpRequest"]["latency"][:-1]) >= 4.5 for r in _http(log, 499, "/execute")
            ),
            "no slow abandoned request logged",
        ),
    ),
    "flaky-messages": lambda log, msgs: (
        _check(len(_http(log, 503, "/messages")) >= 2, "no 503 lines"),
        _check(all("503" in m for m in msgs.values()), msgs),
    ),
    "rate-limit-off": lambda log, msgs: (
        _check(not _http(log, 429), "a 429 was answered"),
        _check(len(_http(log, 200, "/api/agents")) >= 150, "the burst did not arrive"),
    ),
    "db-locked": lambda log, msgs: (
        _check(
            any(r["severity"] == "ERROR" and "database is locked" in r["message"] for r in log),
            "no 'database is locked' ERROR",
        ),
        _check(len(_http(log, 500, "/api/threads")) >= 7, "too few 500 lines"),
    ),
}


def _check(ok: bool, what: object) -> None:
    assert ok, what


def _assert_logs_clean(box: Sandbox, read_log, check_log_shape, faults: tuple[str, ...]) -> Records:
    for service, path in box.log_paths.items():
        check_log_shape(read_log(path), service)
        text = path.read_text()
        for fault in faults:
            assert fault not in text, f"{service} log names {fault}"
    return read_log(box.log_paths["backend"])


@pytest.mark.parametrize("fault", [None, *list_faults()])
def test_suite_fails_exactly_the_expected_tests(
    start_sandbox, tmp_path: Path, read_log, check_log_shape, fault: str | None
) -> None:
    faults = (fault,) if fault else ()
    box = start_sandbox(faults)
    status, cases, reports = _run(box, tmp_path)
    assert set(cases) == set(E2E_TESTS), "JUnit XML does not hold the 25 tests"
    for name, case in cases.items():
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert props.get("category") == E2E_TESTS[name], name
    calls = [
        r for r in reports if r.get("$report_type") == "TestReport" and r.get("when") == "call"
    ]
    assert len(calls) == 25
    failed = _failed(cases)
    expected = EXPECTED_FAILURES[fault] if fault else set()
    assert set(failed) == expected, (
        f"unexpected: {set(failed) - expected}, missing: {expected - set(failed)}"
    )
    assert status == (1 if expected else 0)
    log = _assert_logs_clean(box, read_log, check_log_shape, faults)
    answers = (tmp_path / "results.xml").read_text()  # failure messages quote the answers
    assert not re.search(r"\bfaults?\b", answers, re.IGNORECASE)
    assert not any(name in answers for name in list_faults())
    if fault:
        EVIDENCE[fault](log, failed)
    else:
        assert not [r for r in log if r["severity"] == "ERROR"], "errors logged without a fault"


def test_several_faults_at_once_fail_the_union(start_sandbox, tmp_path: Path) -> None:
    faults = ("ws-reject-origin", "rate-limit-off", "flaky-messages")
    box = start_sandbox(faults)
    assert box.faults == faults
    _status, cases, _reports = _run(box, tmp_path)
    assert set(_failed(cases)) == set().union(*(EXPECTED_FAILURES[f] for f in faults))


def test_evidence_is_defined_for_every_fault() -> None:
    assert set(EVIDENCE) == set(list_faults())
