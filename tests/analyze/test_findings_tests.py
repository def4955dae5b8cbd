"""Findings from failed tests, reruns and logs: grouping, time windows, merging with probes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tests.analyze.test_findings import T0, WS, logs, only
from whyloop.analyze.findings import derive_findings
from whyloop.analyze.rules import Confidence
from whyloop.results import ProbeResult, Stage, StageResult

WELCOME_TIMEOUT = (
    "TimeoutError: timed out after 3 s waiting for connection_established (received [])"
)


def make_tests(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    """A tests frame: (test_id, outcome, message, seconds after T0 it started); 1 s each."""
    out = []
    for test_id, outcome, message, start in rows:
        failure_type, _, _ = message.partition(":")
        out.append(
            {
                "test_id": test_id,
                "name": test_id.split("::")[-1],
                "classname": test_id.split("::")[0].removesuffix(".py"),
                "outcome": outcome,
                "rerun": 0,
                "message": message,
                "failure_type": failure_type if outcome == "failed" else "",
                "signature": str(abs(hash(message)) % 10**12) if outcome == "failed" else "",
                "start": T0 + pd.Timedelta(seconds=start),
                "stop": T0 + pd.Timedelta(seconds=start + 1),
            }
        )
    return pd.DataFrame(out)


def verdicts(**fractions: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "test_id": list(fractions),
            "pass_fraction": list(fractions.values()),
            "verdict": ["flaky" if 0 < f < 1 else "consistent" for f in fractions.values()],
        }
    )


POST_503 = (
    'AssertionError: post message: expected HTTP 201, got 503: {"error":"service_unavailable",'
    '"detail":"upstream connect error or disconnect/reset before headers"}'
)


def test_503s_that_pass_on_rerun_are_a_flaky_dependency() -> None:
    tests = make_tests(
        ("test_messaging.py::test_history", "failed", POST_503, 0),
        ("test_messaging.py::test_switching", "failed", POST_503, 2),
        ("test_messaging.py::test_send", "passed", "", 4),
    )
    log = logs(
        (0.5, "ERROR", "message delivery failed: upstream connect error or disconnect", {}),
        (0.5, "ERROR", "POST /api/threads/t1/messages 503", {"http": (503, "/api/threads")}),
    )
    reruns = verdicts(**{"test_messaging.py::test_history": 0.5})
    f = only(derive_findings(reruns=reruns, logs=log, tests=tests))
    assert (f.rule, f.stage, f.confidence) == ("flaky-dependency", Stage.EXPECT, Confidence.HIGH)
    assert "HTTP 503" in f.observation and "HTTP 201" not in f.observation
    assert "1 of the failed test(s) passed on some reruns (pass fraction 50%)" in f.observation
    assert "intermittently unavailable" in f.likely_cause
    assert f.affected_tests == [
        "test_messaging.py::test_history",
        "test_messaging.py::test_switching",
    ]
    assert any("upstream connect error" in e for e in f.evidence)


def test_the_attempt_rows_of_rerun_failures_count_as_reruns_too() -> None:
    tests = make_tests(("test_m.py::test_a", "failed", POST_503, 0))
    attempts = pd.DataFrame(
        {
            "test_id": ["test_m.py::test_a"] * 3,
            "attempt": [1, 2, 3],
            "outcome": ["failed", "passed", "passed"],
            "message": [POST_503, "", ""],
        }
    )
    f = only(derive_findings(reruns=attempts, tests=tests))
    assert f.rule == "flaky-dependency" and "67%" in f.observation


def test_without_reruns_503s_are_an_unavailable_dependency() -> None:
    tests = make_tests(("test_m.py::test_a", "failed", POST_503, 0))
    f = only(derive_findings(tests=tests))
    assert (f.rule, f.confidence) == ("dependency-unavailable", Confidence.LOW)


def test_groups_failing_one_way_merge_into_one_finding_per_cause() -> None:
    tests = make_tests(
        ("test_agents.py::test_list", "failed", 'AssertionError: list agents: expected HTTP 200, got 401: {"detail":"invalid audience"}', 0),
        ("test_ws.py::test_header", "failed", "AssertionError: connection closed with code 1008 (invalid audience) while waiting for connection_established", 1),
        ("test_auth.py::test_refresh", "failed", "AssertionError: request 1: HTTP 401", 2),
    )  # fmt: skip
    log = logs(*[(i * 0.5, "WARNING", "token rejected: invalid audience", {}) for i in range(8)])
    f = only(derive_findings(logs=log, tests=tests))
    assert (f.rule, f.stage, f.confidence) == ("token-audience", Stage.AUTH, Confidence.HIGH)
    assert f.observation.startswith("3 failed test(s): authenticated calls are refused")
    assert "HTTP 401, close 1008" in f.observation and "HTTP 200" not in f.observation
    assert sorted(f.affected_tests) == [
        "test_agents.py::test_list",
        "test_auth.py::test_refresh",
        "test_ws.py::test_header",
    ]
    assert len([e for e in f.evidence if e.startswith("log: ")]) == 5


def test_log_lines_outside_the_tests_window_are_not_cited() -> None:
    tests = make_tests(("test_ws.py::test_welcome", "failed", WELCOME_TIMEOUT, 100))
    log = logs(
        (10, "WARNING", "websocket closed with 1011", {}),  # long before the test
        (101, "WARNING", "websocket closed with 1011", {"request_id": "in-window"}),
        (106, "WARNING", "websocket closed with 1011", {}),  # after the 3 s of slack
    )
    f = only(derive_findings(logs=log, tests=tests))
    assert (f.rule, f.stage) == ("welcome-missing", Stage.WELCOME)
    cited = [e for e in f.evidence if e.startswith("log: ")]
    assert cited == ["log: 2026-01-05T10:01:41.000Z backend WARNING websocket closed with 1011"]


def test_without_a_telling_line_the_windows_warnings_are_cited() -> None:
    tests = make_tests(
        ("test_ws.py::test_a", "failed", "AssertionError: server accepted the WebSocket without echoing the offered Sec-WebSocket-Protocol", 0),
        ("test_x.py::test_b", "failed", "AssertionError: something odd", 1),
    )  # fmt: skip
    noise = [(0.1 * i, "WARNING", f"GET /api/x{i} 404", {}) for i in range(9)]
    findings = derive_findings(logs=logs(*noise), tests=tests)
    assert [f.rule for f in findings] == ["subprotocol-not-echoed"], "an odd failure got a rule"
    # the echo check happens in the client: the server's warnings would only mislead
    assert not [e for e in findings[0].evidence if e.startswith("log: ")]
    timeout = make_tests(
        ("test_a.py::test_run", "failed", "TimeoutError: timed out after 5 s waiting for agent", 0)
    )
    f = only(derive_findings(logs=logs(*noise), tests=timeout))
    assert (f.rule, f.confidence) == ("client-timeout", Confidence.MEDIUM)
    assert len([e for e in f.evidence if e.startswith("log: ")]) == 5


def test_a_timeout_after_the_welcome_is_slowness_not_a_missing_welcome() -> None:
    message = (
        "TimeoutError: timed out after 5 s waiting for agent_completed "
        "(received ['connection_established', 'agent_started', 'agent_thinking'])"
    )
    tests = make_tests(("test_ws.py::test_message_send", "failed", message, 0))
    log = logs((1.0, "WARNING", "POST /api/agents/research/execute 499", {"http": (499, "/api")}))
    f = only(derive_findings(logs=log, tests=tests))
    assert (f.rule, f.stage, f.confidence) == ("client-timeout", Stage.FIRST_BYTE, Confidence.HIGH)


def test_a_probe_and_the_tests_it_explains_make_one_finding() -> None:
    probe = ProbeResult(
        WS,
        "ws",
        [
            StageResult(Stage.UPGRADE, True, 1.0, {"status": 101}),
            StageResult(Stage.WELCOME, False, 1500.0, {"summary": "no message within 1.5 s"}),
        ],
        Stage.WELCOME,
        "no first message arrived within 1.5 s: the server never sends connection_established",
    )
    tests = make_tests(
        ("test_ws.py::test_header", "failed", WELCOME_TIMEOUT, 0),
        ("test_ws.py::test_browser", "failed", WELCOME_TIMEOUT, 4),
        ("test_db.py::test_write", "failed", "AssertionError: users failed: ['create thread 500']", 8),
        ("test_ws.py::test_auth", "passed", "", 12),
    )  # fmt: skip
    findings = derive_findings([probe], tests=tests)
    f = only(findings)
    assert f.rule == "welcome-missing" and f.confidence is Confidence.HIGH
    assert f.observation.startswith(f"ws probe of {WS}:")
    assert f.affected_tests == ["test_ws.py::test_header", "test_ws.py::test_browser"]
    assert f.subjects == [f"ws probe of {WS}", "2 failed test(s)"]


def test_a_test_no_rule_explains_joins_the_finding_its_message_matches() -> None:
    locked = "create thread failed: sqlite3.OperationalError: database is locked"
    tests = make_tests(
        ("test_m.py::test_thread", "failed", 'AssertionError: create thread: expected HTTP 201, got 500: {"error":"internal_error"}', 0),
        ("test_r.py::test_users", "failed", "AssertionError: 20/20 users failed: ['user 0: create thread 500']", 1),
    )  # fmt: skip
    f = only(derive_findings(logs=logs((0.5, "ERROR", locked, {})), tests=tests))
    assert (f.rule, f.confidence) == ("database-lock", Confidence.HIGH)
    assert f.affected_tests == ["test_m.py::test_thread", "test_r.py::test_users"]


def test_flaky_tests_with_no_known_cause_are_called_intermittent() -> None:
    tests = make_tests(("test_x.py::test_y", "failed", "AssertionError: 3 != 4", 0))
    f = only(derive_findings(reruns=verdicts(**{"test_x.py::test_y": 0.75}), tests=tests))
    assert (f.rule, f.stage, f.confidence) == ("intermittent", None, Confidence.LOW)
    assert "75%" in f.observation


def test_stored_frames_work_as_well(tmp_path: Any) -> None:
    """The store turns lists into JSON text and times into timestamps: findings still come."""
    from whyloop.store import Store

    tests = make_tests(("test_ws.py::test_header", "failed", WELCOME_TIMEOUT, 0))
    log = logs((1.0, "WARNING", "websocket closed with 1011", {}))
    store = Store(tmp_path)
    store.write("loop", 1, tests=tests, logs=log)
    f = only(derive_findings(tests=store.read("loop", 1), logs=store.read("loop", 1, "logs")))
    assert f.rule == "welcome-missing" and any("1011" in e for e in f.evidence)
