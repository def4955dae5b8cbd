"""Findings against the real sandbox: every fault is named by stage and cause, never by name.

Two paths: the WebSocket probe plus the backend log for the WebSocket faults,
and the e2e suite's failed tests plus the logs for the faults of the HTTP API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

import whyloop
from tests.support import TIMEOUT_SCALE
from whyloop.analyze.clusters import cluster_failures
from whyloop.analyze.correlate import correlate_logs
from whyloop.analyze.findings import Finding, derive_findings
from whyloop.analyze.rules import RULES
from whyloop.probes.http.probe import probe_http
from whyloop.probes.ws.probe import probe_ws
from whyloop.results import Stage
from whyloop.sandbox import EXPECTED_FAILURES, Sandbox, run_e2e, up
from whyloop.sandbox.faults import Fault
from whyloop.whys.draft import draft_from_tables

pytestmark = pytest.mark.slow

#: one constant scales every timeout in these tests
STAGE_S = 1.5 * TIMEOUT_SCALE

# fault -> (rule, stage) its finding must have
EXPECTED: dict[str, tuple[set[str], Stage]] = {
    "ws-no-welcome": ({"welcome-missing"}, Stage.WELCOME),
    "ws-subprotocol-not-echoed": ({"subprotocol-not-echoed"}, Stage.SUBPROTOCOL),
    "ws-header-auth-only": ({"subprotocol-auth-ignored"}, Stage.AUTH),
    "ws-reject-origin": ({"origin-rejected"}, Stage.UPGRADE),
    "jwt-audience-mismatch": ({"token-audience"}, Stage.AUTH),
    "slow-agent": ({"client-timeout"}, Stage.FIRST_BYTE),
    "flaky-messages": ({"flaky-dependency", "dependency-unavailable"}, Stage.EXPECT),
    "rate-limit-off": ({"rate-limit-not-enforced"}, Stage.EXPECT),
    "db-locked": ({"database-lock"}, Stage.EXPECT),
}


@pytest.fixture
def start(tmp_path: Path) -> Iterator:
    """Start a sandbox with one fault; it is stopped however the test ends."""
    boxes: list[Sandbox] = []

    def _start(fault: str) -> Sandbox:
        boxes.append(up(faults=[fault], state_dir=tmp_path / f"sandbox{len(boxes)}"))
        return boxes[-1]

    yield _start
    for box in boxes:
        box.down()


def token(box: Sandbox) -> str:
    answer = httpx.post(
        f"{box.auth_url}/auth/login",
        json={"username": "findings_user", "password": "findings-pw"},
        timeout=10 * TIMEOUT_SCALE,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def check(findings: list[Finding], fault: str) -> Finding:
    rules, stage = EXPECTED[fault]
    assert findings, f"{fault}: no finding"
    top = findings[0]
    assert top.rule in rules and top.stage is stage, [(f.rule, f.stage) for f in findings]
    text = " ".join([top.observation, top.likely_cause, *top.evidence]).lower()
    assert not any(f.value in text for f in Fault), f"{fault}: a finding names a fault"
    return top


@pytest.mark.parametrize(
    "fault",
    [
        "ws-no-welcome",
        "ws-subprotocol-not-echoed",
        "ws-header-auth-only",
        "ws-reject-origin",
        "jwt-audience-mismatch",
    ],
)
def test_websocket_probe_and_backend_log_name_the_broken_stage(start, fault: str) -> None:
    box = start(fault)
    origin = {"origin": "http://localhost:3000"} if fault == "ws-reject-origin" else {}
    result = probe_ws(box.ws_url, token=token(box), auth="auto", timeout=STAGE_S, **origin)
    backend = whyloop.read_logs(box.log_paths["backend"])
    top = check(derive_findings([result], logs=backend), fault)
    assert top.confidence == "high", top
    if fault not in ("ws-subprotocol-not-echoed",):  # the server logs nothing about an echo
        assert any(e.startswith("log: ") for e in top.evidence), top.evidence


@pytest.mark.parametrize(
    ("fault", "path", "options"),
    [
        ("db-locked", "/api/threads", {"method": "POST", "data": {"title": "t"}, "expect_status": 201}),
        ("jwt-audience-mismatch", "/api/agents", {"expect_status": 200}),
        ("slow-agent", "/api/agents/research/execute", {"method": "POST", "data": {"input": "hi"}}),
    ],
)  # fmt: skip
def test_http_probe_and_backend_log_name_the_broken_stage(start, fault, path, options) -> None:
    box = start(fault)
    options.setdefault("timeout", 2 * STAGE_S)
    result = probe_http(box.backend_url + path, token=token(box), **options)
    # the server logs an abandoned request (499) a moment after the client gave up
    deadline = time.monotonic() + 3 * TIMEOUT_SCALE
    while True:
        backend = whyloop.read_logs(box.log_paths["backend"])
        top = check(derive_findings([result], logs=backend), fault)
        if top.confidence == "high" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert top.confidence == "high" and any(e.startswith("log: ") for e in top.evidence), top


# the WebSocket faults' e2e messages are covered by tests/probes/test_findings_tests.py;
# here run the faults no WebSocket probe sees, and one it does (about 8 s each)
@pytest.mark.parametrize(
    "fault",
    ["jwt-audience-mismatch", "slow-agent", "flaky-messages", "rate-limit-off", "db-locked"],
)
def test_e2e_failures_and_logs_name_each_fault_by_stage_and_cause(
    start, fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHYLOOP_E2E_TIMEOUT_SCALE", str(0.5 * TIMEOUT_SCALE))
    box = start(fault)
    report = tmp_path / "report.jsonl"
    run_e2e(
        backend_url=box.backend_url,
        auth_url=box.auth_url,
        ws_url=box.ws_url,
        report_log=report,
        extra_args=["-q", "--tb=no", "-p", "no:warnings"],
    )
    tests = whyloop.read_tests(report)
    logs = pd.concat([whyloop.read_logs(p) for p in box.log_paths.values()], ignore_index=True)
    top = check(derive_findings(logs=logs, tests=tests), fault)
    names = {t.split("::")[-1] for t in top.affected_tests}
    if fault != "flaky-messages":  # its failures depend on the order of the runs' requests
        assert names == set(EXPECTED_FAILURES[fault]), names ^ set(EXPECTED_FAILURES[fault])
    # the same run through the loop analysis: its largest cluster is the fault's failures, a
    # telling log line is among the top three for them, and the drafted first why names it
    clusters = cluster_failures(tests)
    largest = {t.split("::")[-1] for t in clusters.iloc[0]["tests"]}
    assert largest <= set(EXPECTED_FAILURES[fault]) | names, (fault, largest)
    pattern = {r.name: r.log_pattern for r in RULES}[top.rule]
    near = correlate_logs(tests, logs, slack_s=5.0)
    if pattern and fault != "slow-agent":  # a client timeout leaves no log line of its own
        best = near[near["rank"] <= 3]
        told = best[best["message"].str.contains(pattern, case=False, regex=True, na=False)]
        assert not told.empty, (fault, best[["test_id", "message", "reasons"]].to_string())
    analysis = draft_from_tables({"tests": tests, "logs": logs}, loop="sandbox", iteration="1")
    first = analysis.why(1).becauses[0]
    assert first.status == "hypothesis" and first.evidence, first
    assert top.likely_cause in first.text, (first.text, top.likely_cause)
