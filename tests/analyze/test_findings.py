"""Each finding rule, from hand-built probe results and log frames (no network here)."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

from whyloop.analyze.findings import Finding, derive_findings, findings_frame
from whyloop.analyze.rules import RULES, Confidence
from whyloop.results import AuthAttempt, ProbeResult, Stage, StageResult
from whyloop.sandbox.faults import Fault

WS = "ws://127.0.0.1:8123/ws"
HTTP = "http://127.0.0.1:8123/api/threads"
T0 = pd.Timestamp("2026-01-05T10:00:00Z")


def ws_probe(failed: Stage, detail: dict[str, Any], diagnosis: str, **kw: Any) -> ProbeResult:
    """A WebSocket probe that got as far as ``failed`` (the stages before it passed)."""
    order = [Stage.DNS, Stage.TCP, Stage.UPGRADE, Stage.SUBPROTOCOL, Stage.AUTH, Stage.WELCOME]
    stages = [StageResult(s, True, 1.0, {"summary": "ok"}) for s in order[: order.index(failed)]]
    stages.append(StageResult(failed, False, 12.0, detail))
    return ProbeResult(WS, "ws", stages, failed, diagnosis, [f"{failed}: {detail}"], **kw)


def http_probe(
    failed: Stage, detail: dict[str, Any], diagnosis: str, url: str = HTTP
) -> ProbeResult:
    order = [Stage.DNS, Stage.TCP, Stage.REQUEST, Stage.FIRST_BYTE, Stage.BODY, Stage.EXPECT]
    stages = [StageResult(s, True, 1.0, {}) for s in order[: order.index(failed)]]
    stages.append(StageResult(failed, False, 5.0, detail))
    return ProbeResult(url, "http", stages, failed, diagnosis)


def logs(*lines: tuple[float, str, str, dict[str, Any]]) -> pd.DataFrame:
    """A logs frame like read_logs gives: (seconds after T0, level, message, extra columns)."""
    rows = []
    for offset, level, message, extra in lines:
        row = {
            "timestamp": T0 + pd.Timedelta(seconds=offset),
            "level": level,
            "service": "backend",
            "message": message,
        }
        http = extra.pop("http", None)
        if http:
            row["httpRequest.status"], row["httpRequest.requestUrl"] = http
        rows.append({**row, **extra})
    frame = pd.DataFrame(rows)
    if "httpRequest.status" in frame:
        frame["httpRequest.status"] = frame["httpRequest.status"].astype("Int64")
    return frame


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [f.rule for f in findings]
    return findings[0]


def plain(finding: Finding) -> str:
    return " ".join([finding.observation, finding.likely_cause, *finding.evidence]).lower()


def assert_no_fault_named(finding: Finding) -> None:
    text = plain(finding) + " " + finding.rule
    for fault in Fault:
        assert fault.value not in text, f"{finding.rule} names {fault.value}"


# -- the WebSocket faults -------------------------------------------------------------


def test_accepted_but_no_welcome_names_the_welcome_stage() -> None:
    probe = ws_probe(
        Stage.WELCOME,
        {"summary": "no message within 1.5 s", "expected": "connection_established"},
        "The handshake succeeded (101), but no first message arrived within 1.5 s: the server "
        "accepts connections but never sends connection_established.",
    )
    log = logs(
        (0.1, "INFO", "GET /ws 101", {"http": (101, "/ws")}),
        (1.7, "WARNING", "websocket closed with 1011", {"close_code": 1011}),
    )
    f = only(derive_findings([probe], logs=log))
    assert (f.rule, f.stage, f.confidence) == ("welcome-missing", Stage.WELCOME, Confidence.HIGH)
    assert "welcome" in f.likely_cause and "never sends" in f.likely_cause
    assert any("websocket closed with 1011" in e for e in f.evidence)
    assert any("probe stage welcome failed" in e for e in f.evidence)
    assert_no_fault_named(f)


def test_subprotocol_not_echoed() -> None:
    probe = ws_probe(
        Stage.SUBPROTOCOL,
        {"summary": "offered jwt.abc, selected none", "offered": ["jwt.abc"], "selected": None},
        "The handshake succeeded (101) but the server did not echo the offered subprotocol.",
    )
    f = only(derive_findings([probe]))
    assert (f.rule, f.stage, f.confidence) == (
        "subprotocol-not-echoed",
        Stage.SUBPROTOCOL,
        Confidence.HIGH,
    )
    assert "Sec-WebSocket-Protocol" in f.likely_cause and "browsers" in f.likely_cause
    assert_no_fault_named(f)


def test_subprotocol_auth_refused_while_header_auth_works() -> None:
    probe = ws_probe(
        Stage.AUTH,
        {"summary": "HTTP 401 on the upgrade", "method": "subprotocol", "status": 401},
        "The server refused the token sent as a subprotocol with HTTP 401.",
        auth_matrix=[
            AuthAttempt("none", False, 401, detail="HTTP 401"),
            AuthAttempt("header", True, 101, detail="101, first message connection_established"),
            AuthAttempt("subprotocol", False, 401, detail="HTTP 401: missing_token"),
        ],
    )
    log = logs((0.0, "WARNING", "GET /ws 401", {"http": (401, "/ws")}))
    f = only(derive_findings([probe], logs=log))
    assert (f.rule, f.stage, f.confidence) == (
        "subprotocol-auth-ignored",
        Stage.AUTH,
        Confidence.HIGH,
    )
    assert "Authorization header" in f.likely_cause and "subprotocol" in f.likely_cause
    assert any(e.startswith("auth matrix: ") and "header accepted" in e for e in f.evidence)
    assert any("GET /ws 401" in e for e in f.evidence)
    assert_no_fault_named(f)


def passing_ws_probe(matrix: list[AuthAttempt], diagnosis: str) -> ProbeResult:
    stages = [StageResult(s, True, 1.0, {"summary": "ok"}) for s in (Stage.UPGRADE, Stage.WELCOME)]
    return ProbeResult(WS, "ws", stages, None, diagnosis, [], auth_matrix=matrix)


def test_a_passing_probe_whose_matrix_shows_subprotocol_refused() -> None:
    probe = passing_ws_probe(
        [
            AuthAttempt("header", True, 101, detail="101, first message connection_established"),
            AuthAttempt("subprotocol", False, 401, detail="HTTP 401: missing_token"),
        ],
        "The WebSocket works end to end. It refuses the token as a subprotocol (HTTP 401).",
    )
    f = only(derive_findings([probe]))
    assert (f.rule, f.stage, f.confidence) == (
        "subprotocol-auth-ignored",
        Stage.AUTH,
        Confidence.HIGH,
    )
    assert "subprotocol refused (HTTP 401)" in " ".join(f.evidence)


def test_a_passing_probe_whose_matrix_shows_the_subprotocol_not_echoed() -> None:
    probe = passing_ws_probe(
        [
            AuthAttempt("header", True, 101, detail="101, first message connection_established"),
            AuthAttempt(
                "subprotocol",
                True,
                101,
                detail="101, first message connection_established; subprotocol not echoed "
                "(browsers drop this)",
            ),
        ],
        "The WebSocket works end to end. It takes the token as a subprotocol but does not echo it.",
    )
    f = only(derive_findings([probe]))
    assert (f.rule, f.stage) == ("subprotocol-not-echoed", Stage.SUBPROTOCOL)


def test_a_passing_probe_with_a_clean_matrix_makes_no_finding() -> None:
    probe = passing_ws_probe(
        [
            AuthAttempt("none", False, 401, detail="HTTP 401: missing_token"),
            AuthAttempt("header", True, 101, detail="101, first message connection_established"),
            AuthAttempt("subprotocol", True, 101, detail="101, first message"),
            AuthAttempt("query", False, 401, detail="HTTP 401"),
        ],
        "The WebSocket works end to end.",
    )
    assert derive_findings([probe]) == []


def test_origin_rejected_on_upgrade() -> None:
    probe = ws_probe(
        Stage.UPGRADE,
        {
            "summary": "HTTP 403 Forbidden instead of 101",
            "status": 403,
            "request_headers": {"Origin": "http://localhost:3000", "Upgrade": "websocket"},
            "body": '{"error":"forbidden","detail":"origin not allowed"}',
        },
        "The server refused the upgrade with HTTP 403.",
    )
    log = logs(
        (0.0, "WARNING", "GET /ws 403", {"http": (403, "/ws"), "reason": "origin not allowed"}),
        (0.1, "WARNING", "GET /api/files/../etc/passwd 403", {"http": (403, "/api/files")}),
    )
    f = only(derive_findings([probe], logs=log))
    assert (f.rule, f.stage, f.confidence) == ("origin-rejected", Stage.UPGRADE, Confidence.HIGH)
    assert "403" in f.observation and "Origin" in f.observation
    logged = [e for e in f.evidence if e.startswith("log: ")]
    assert logged == [e for e in logged if "/ws 403" in e] and logged
    assert_no_fault_named(f)


@pytest.mark.parametrize(
    ("detail", "log_line"),
    [
        ({"method": "header", "close_code": 1008, "close_reason": "invalid audience"}, None),
        (
            {"method": "header", "close_code": 1008, "close_reason": "policy violation"},
            "token rejected: invalid audience",
        ),
    ],
)
def test_audience_mismatch_from_close_reason_or_logs(detail: dict, log_line: str | None) -> None:
    probe = ws_probe(Stage.AUTH, {"summary": "closed with 1008", **detail}, "Closed with 1008.")
    log = logs((0.0, "WARNING", log_line, {"reason": "invalid_token"})) if log_line else None
    f = only(derive_findings([probe], logs=log))
    assert (f.rule, f.stage) == ("token-audience", Stage.AUTH)
    assert f.confidence == (Confidence.HIGH if log_line else Confidence.MEDIUM)
    assert "audience" in f.likely_cause and "auth service" in f.likely_cause
    assert "1008" in f.observation
    assert_no_fault_named(f)


def test_401_without_audience_evidence_is_a_plain_refusal() -> None:
    probe = ws_probe(
        Stage.AUTH, {"method": "header", "close_code": 1008, "close_reason": "token expired"}, ""
    )
    log = logs((0.0, "WARNING", "token rejected: signature verification failed", {}))
    f = only(derive_findings([probe], logs=log))
    assert (f.rule, f.confidence) == ("token-refused", Confidence.LOW)
    assert any("signature verification failed" in e for e in f.evidence)


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (200, {"content-type": "text/html"}, "<!DOCTYPE html><html><body>app</body></html>"),
        (400, {"content-type": "text/plain"}, "Bad Request"),
        (426, {}, "Upgrade Required"),
    ],
)
def test_upgrade_answered_as_plain_http_points_at_a_proxy(status, headers, body) -> None:
    probe = ws_probe(
        Stage.UPGRADE,
        {"status": status, "response_headers": headers, "body": body, "request_headers": {}},
        f"HTTP {status} instead of 101.",
    )
    f = only(derive_findings([probe]))
    assert (f.rule, f.stage) == ("upgrade-not-forwarded", Stage.UPGRADE)
    assert "proxy" in f.likely_cause and "Upgrade" in f.likely_cause
    assert f"HTTP {status}" in f.observation


# -- the HTTP faults ------------------------------------------------------------------


def test_500_with_database_locked_logs_is_lock_contention() -> None:
    probe = http_probe(
        Stage.EXPECT, {"status": 500, "expect_status": 201}, "expected status 201, got 500"
    )
    log = logs(
        (0.0, "ERROR", "create thread failed: sqlite3.OperationalError: database is locked", {}),
        (0.0, "ERROR", "POST /api/threads 500", {"http": (500, "/api/threads")}),
    )
    f = only(derive_findings([probe], logs=log))
    assert (f.rule, f.stage, f.confidence) == ("database-lock", Stage.EXPECT, Confidence.HIGH)
    assert "lock" in f.likely_cause and "500" in f.likely_cause
    assert any("database is locked" in e for e in f.evidence)
    assert_no_fault_named(f)


def test_500_without_a_lock_in_the_logs_is_a_plain_server_error() -> None:
    probe = http_probe(Stage.EXPECT, {"status": 500, "expect_status": 201}, "status 500")
    log = logs((0.0, "ERROR", "KeyError: 'user'", {}))
    f = only(derive_findings([probe], logs=log))
    assert (f.rule, f.confidence) == ("server-error", Confidence.LOW)
    assert f.observation.endswith("the service answers HTTP 500")
    assert any("KeyError" in e for e in f.evidence)


def test_burst_without_429_means_rate_limiting_is_off() -> None:
    probe = http_probe(
        Stage.EXPECT,
        {"burst": 150, "statuses": {"200": 150}, "problems": ["no 429 after 150 requests"]},
        "no 429 after a burst of 150 requests",
    )
    f = only(derive_findings([probe]))
    assert (f.rule, f.stage, f.confidence) == (
        "rate-limit-not-enforced",
        Stage.EXPECT,
        Confidence.HIGH,
    )
    assert "150 requests" in f.observation and "429" in f.observation
    assert "Rate limiting is not enforced" in f.likely_cause
    assert_no_fault_named(f)


def test_timeout_with_499_in_the_logs_is_a_slow_backend() -> None:
    probe = http_probe(
        Stage.FIRST_BYTE,
        {"status": None},
        "no response headers within 5 s (read timeout): the server is slow to answer",
        url="http://127.0.0.1:8123/api/agents/research/execute",
    )
    log = logs(
        (5.0, "WARNING", "agent run abandoned: client closed the request", {}),
        (5.0, "WARNING", "POST /api/agents/research/execute 499", {"http": (499, "/api/agents")}),
    )
    f = only(derive_findings([probe], logs=log))
    assert (f.rule, f.stage, f.confidence) == ("client-timeout", Stage.FIRST_BYTE, Confidence.HIGH)
    assert "timeout" in f.likely_cause and "499" in f.likely_cause
    assert any("499" in e for e in f.evidence)
    assert_no_fault_named(f)


def test_intermittent_503_from_a_probe_is_an_unavailable_dependency() -> None:
    probe = http_probe(
        Stage.EXPECT,
        {"status": 503},
        "status 503; body: upstream connect error or disconnect/reset before headers",
    )
    f = only(derive_findings([probe]))
    assert (f.rule, f.stage) == ("dependency-unavailable", Stage.EXPECT)
    assert "dependency" in f.likely_cause


def test_connection_refused_means_the_service_is_down() -> None:
    probe = ProbeResult(
        WS,
        "ws",
        [
            StageResult(Stage.DNS, True, 0.1, {}),
            StageResult(Stage.TCP, False, 0.3, {"peer": "127.0.0.1:8123", "error": "refused"}),
        ],
        Stage.TCP,
        "Nothing is listening on 127.0.0.1:8123 (connection refused): the service is down.",
    )
    f = only(derive_findings([probe]))
    assert (f.rule, f.stage, f.confidence) == ("connection-refused", Stage.TCP, Confidence.HIGH)
    assert "service is down" in f.likely_cause


def test_dns_failure_means_name_resolution() -> None:
    probe = ProbeResult(
        "wss://staging.invalid/ws",
        "ws",
        [StageResult(Stage.DNS, False, 2.0, {"error": "[Errno -2] Name or service not known"})],
        Stage.DNS,
        "The name staging.invalid does not resolve.",
    )
    f = only(derive_findings([probe]))
    assert (f.rule, f.stage) == ("name-resolution", Stage.DNS)
    assert "Name resolution" in f.likely_cause


def test_a_failure_no_rule_knows_keeps_the_probe_diagnosis() -> None:
    probe = ws_probe(Stage.WELCOME, {"received": "error"}, "The first message was error.")
    probe.failed_stage = Stage.CLOSE
    f = only(derive_findings([probe]))
    assert (f.rule, f.stage, f.confidence) == ("unexplained", Stage.CLOSE, Confidence.LOW)
    assert "The first message was error." in f.observation


def test_passing_probes_make_no_findings() -> None:
    ok = ProbeResult(WS, "ws", [StageResult(Stage.UPGRADE, True, 1.0, {"status": 101})])
    assert derive_findings([ok], logs=logs((0, "ERROR", "boom", {}))) == []
    assert derive_findings() == []


# -- log correlation and output ------------------------------------------------------


def test_a_probe_with_a_start_time_cites_only_lines_of_its_window() -> None:
    probe = http_probe(
        Stage.EXPECT, {"status": 500, "started_at": T0.isoformat()}, "expected 201, got 500"
    )
    probe.stages[0].detail["started_at"] = (T0 + pd.Timedelta(seconds=60)).isoformat()
    lines = [
        (60 + i * 0.1, "ERROR", f"insert {i} failed: database is locked", {}) for i in range(8)
    ]
    log = logs((0.0, "ERROR", "old: database is locked", {}), *lines)
    f = only(derive_findings([probe], logs=log))
    cited = [e for e in f.evidence if e.startswith("log: ")]
    assert len(cited) == 5 and not any("old:" in e for e in cited)
    assert cited[0].startswith("log: 2026-01-05T10:01:00.000Z backend ERROR insert 0 failed")


def test_findings_to_dict_and_frame() -> None:
    probe = ws_probe(
        Stage.SUBPROTOCOL,
        {"offered": ["jwt.eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"], "selected": None},
        "not echoed",
    )
    findings = derive_findings([probe])
    data = findings[0].to_dict()
    assert data["stage"] == "subprotocol" and data["confidence"] == "high"
    assert "eyJzdWIiOiJ4In0" not in str(data), "a token reached the output"
    frame = findings_frame(findings)
    assert list(frame.columns) == [
        "rule",
        "stage",
        "confidence",
        "observation",
        "likely_cause",
        "evidence",
        "affected_tests",
        "subjects",
    ]
    assert frame.loc[0, "rule"] == "subprotocol-not-echoed"
    assert findings_frame([]).empty


def test_rules_are_unique_compile_and_never_name_a_fault() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    for rule in RULES:
        for pattern in (rule.log_pattern, rule.test_pattern):
            re.compile(pattern)
        text = f"{rule.name} {rule.observation} {rule.likely_cause}".lower()
        assert not any(f.value in text for f in Fault), rule.name


def test_an_http_probe_refused_for_its_audience_names_the_auth_stage() -> None:
    probe = http_probe(
        Stage.EXPECT,
        {"status": 401, "expect_status": 200, "problems": ["expected status 200, got 401"]},
        'expected status 200, got 401; body: {"error":"invalid_token","detail":"invalid audience"}',
    )
    log = logs((0.0, "WARNING", "token rejected: invalid audience", {}))
    f = only(derive_findings([probe], logs=log))
    assert (f.rule, f.stage, f.confidence) == ("token-audience", Stage.AUTH, Confidence.HIGH)
    assert "(HTTP 401)" in f.observation and "HTTP 200" not in f.observation
