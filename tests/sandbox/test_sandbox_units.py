"""Pure pieces of the sandbox: faults, the expected-failure table, rate limiter, logs, tokens."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import whyloop.sandbox as sandbox
from whyloop.errors import ConfigError, WhyloopError
from whyloop.sandbox.config import ServiceConfig
from whyloop.sandbox.expected import CATEGORIES, E2E_TESTS, EXPECTED_FAILURES
from whyloop.sandbox.faults import Fault, parse_faults
from whyloop.sandbox.logs import JsonLog, severity_for, trace_id_from
from whyloop.sandbox.ratelimit import RateLimiter
from whyloop.sandbox.runner import E2E_DIR, e2e_command
from whyloop.sandbox.tokens import TokenError, bearer_token, issue_token, verify_token

E2E_MODULES = ("test_websocket", "test_agents", "test_messaging", "test_auth", "test_resilience")


def test_public_names_match_all() -> None:
    public = {n for n in vars(sandbox) if not n.startswith("_") and n not in {"annotations"}}
    public -= {m for m in public if inspect.ismodule(getattr(sandbox, m))}
    assert set(sandbox.__all__) == public


def test_every_fault_is_listed_with_a_description() -> None:
    faults = sandbox.list_faults()
    assert list(faults) == [f.value for f in Fault]
    assert all(desc and "\n" not in desc for desc in faults.values())


def test_unknown_fault_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        parse_faults(["ws-no-welcome", "no-such-fault"])
    assert isinstance(info.value, WhyloopError)
    assert "no-such-fault" in str(info.value) and "db-locked" in str(info.value)
    with pytest.raises(ConfigError):
        sandbox.up(faults=["typo"], state_dir="/nonexistent/never-created")


def test_parse_faults_keeps_order_and_drops_duplicates() -> None:
    assert parse_faults(["db-locked", "slow-agent", "db-locked"]) == (
        Fault.DB_LOCKED,
        Fault.SLOW_AGENT,
    )


def test_expected_failures_cover_every_fault_with_real_tests() -> None:
    assert set(EXPECTED_FAILURES) == {f.value for f in Fault}
    for fault, tests in EXPECTED_FAILURES.items():
        assert tests, f"{fault} breaks nothing"
        assert tests <= set(E2E_TESTS), f"{fault} names unknown tests: {tests - set(E2E_TESTS)}"
    assert EXPECTED_FAILURES["ws-no-welcome"] == {
        t for t in E2E_TESTS if t.startswith("test_websocket_connection")
    }


def test_suite_has_25_priority_one_tests_in_the_declared_categories() -> None:
    found: dict[str, str] = {}
    for name in E2E_MODULES:
        module = importlib.import_module(f"whyloop.sandbox.e2e.{name}")
        marks = {m.name: m.args for m in module.pytestmark}
        assert marks["priority"] == (1,)
        for fn_name, fn in vars(module).items():
            if fn_name.startswith("test_") and callable(fn):
                found[fn_name] = marks["category"][0]
    assert found == E2E_TESTS
    assert len(found) == 25 and set(found.values()) == set(CATEGORIES)


def test_pytest_collects_exactly_the_declared_suite(tmp_path: Path) -> None:
    cmd = [*e2e_command(), "--collect-only"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    ids = [line for line in out.stdout.splitlines() if "::" in line]
    assert sorted(i.split("::")[-1] for i in ids) == sorted(E2E_TESTS), out.stdout + out.stderr
    assert all(i.split("::")[0].startswith("test_") for i in ids), (
        "ids are not relative to the suite"
    )
    assert str(E2E_DIR) in cmd


def test_report_log_without_the_plugin_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="pytest-reportlog"):
        e2e_command(report_log="x.jsonl")


def test_run_e2e_refuses_non_http_targets() -> None:
    with pytest.raises(ConfigError, match="ws_url"):
        sandbox.run_e2e(
            backend_url="http://127.0.0.1:1", auth_url="http://127.0.0.1:2", ws_url="http://x"
        )


def test_rate_limiter_allows_the_limit_then_says_how_long_to_wait() -> None:
    now = [100.0]
    limiter = RateLimiter(3, 10.0, clock=lambda: now[0])
    assert [limiter.hit("alice") for _ in range(3)] == [None, None, None]
    assert limiter.hit("alice") == 10
    assert limiter.hit("bob") is None, "limits are per key"
    now[0] += 4.2
    assert limiter.hit("alice") == 6
    now[0] += 5.9
    assert limiter.hit("alice") is None


def test_rate_limiter_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 1.0)


def test_json_log_lines_have_the_cloud_run_shape_and_no_token(tmp_path: Path) -> None:
    log = JsonLog(tmp_path / "svc.log", service="backend", revision="sandbox-backend-00035-abc")
    token = issue_token(
        secret="s" * 32, user_id="u1", username="alice", audience="a", issuer="i", ttl_s=60
    )
    log.write(
        "WARNING",
        f"refused Authorization: Bearer {token}",
        trace="ab" * 16,
        user="alice",
        detail={"url": f"/ws?token={token}"},
    )
    log.close()
    log.write("INFO", "dropped after close")
    lines = (tmp_path / "svc.log").read_text().splitlines()
    assert len(lines) == 1 and token not in lines[0]
    record = json.loads(lines[0])
    assert record["logging.googleapis.com/trace"] == "projects/sandbox/traces/" + "ab" * 16
    assert record["resource"]["labels"] == {
        "service_name": "backend",
        "revision_name": "sandbox-backend-00035-abc",
    }
    assert record["timestamp"].endswith("Z") and record["user"] == "alice"


def test_severity_follows_status() -> None:
    assert [severity_for(s) for s in (101, 200, 401, 429, 499, 500, 503)] == [
        "INFO",
        "INFO",
        "WARNING",
        "WARNING",
        "WARNING",
        "ERROR",
        "ERROR",
    ]


def test_trace_id_comes_from_headers_or_is_made() -> None:
    from starlette.datastructures import Headers

    assert trace_id_from(Headers({"x-cloud-trace-context": "A" * 32 + "/1;o=1"})) == "a" * 32
    assert trace_id_from(Headers({"traceparent": f"00-{'b' * 32}-{'c' * 16}-01"})) == "b" * 32
    made = trace_id_from(Headers({}))
    assert len(made) == 32 and made != trace_id_from(Headers({}))


def test_tokens_verify_and_refuse_with_a_reason() -> None:
    common = {"secret": "k" * 32, "user_id": "u1", "username": "alice", "issuer": "iss"}
    good = issue_token(**common, audience="aud", ttl_s=60)
    assert verify_token(good, secret="k" * 32, audience="aud", issuer="iss").username == "alice"
    cases = {
        "invalid audience": issue_token(**common, audience="other", ttl_s=60),
        "token has expired": issue_token(**common, audience="aud", ttl_s=-10),
        "malformed token": "abc",
        "expected a access token": issue_token(**common, audience="aud", ttl_s=60, kind="refresh"),
    }
    for detail, token in cases.items():
        with pytest.raises(TokenError) as info:
            verify_token(token, secret="k" * 32, audience="aud", issuer="iss")
        assert info.value.detail == detail
    assert bearer_token("Bearer  xyz ") == "xyz" and bearer_token("Basic xyz") is None


def test_service_config_round_trips_through_json(tmp_path: Path) -> None:
    config = ServiceConfig(state_dir=tmp_path, jwt_secret="x" * 64, faults=(Fault.SLOW_AGENT,))
    assert ServiceConfig.from_json(config.to_json()) == config
    assert "x" * 64 not in repr(config)
    with pytest.raises(ConfigError):
        ServiceConfig.from_json('{"state_dir": "/tmp"}')


def test_serve_without_config_exits_with_a_message() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "whyloop.sandbox.serve", "auth", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(sandbox.__file__).parents[2])},
    )
    assert out.returncode == 2 and "WHYLOOP_SANDBOX_CONFIG is not set" in out.stderr


def test_the_clock_used_by_tokens_is_wall_time() -> None:
    token = issue_token(
        secret="k" * 32, user_id="u", username="u", audience="a", issuer="i", ttl_s=100
    )
    claims = verify_token(token, secret="k" * 32, audience="a", issuer="i")
    assert abs(claims.expires_at - (time.time() + 100)) < 5
