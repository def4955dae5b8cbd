"""The pure judgements of suite probes, fed recorded observations."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from whyloop.probes.suite.load_stats import LoadRun, judge_load, percentile, summarize
from whyloop.probes.suite.verdicts import (
    Exchange,
    RateLimitObservation,
    RetryObservation,
    judge_errors,
    judge_rate_limit,
    judge_reconnects,
    judge_retries,
    judge_timeout,
    leaks,
    retry_after_seconds,
)


def run(latencies: list[float], statuses: dict[int, int], elapsed: float, **kw: object) -> LoadRun:
    total = sum(statuses.values()) + sum(Counter(kw.get("errors", {})).values())  # type: ignore[arg-type]
    return LoadRun(
        planned=total,
        users=10,
        latencies_ms=latencies,
        statuses=Counter(statuses),
        errors=Counter(kw.get("errors", {})),  # type: ignore[arg-type]
        elapsed_s=elapsed,
    )


def test_percentile_interpolates() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 99) == 5
    assert percentile(list(range(101)), 95) == 95
    assert math.isnan(percentile([], 50))


def test_summarize_counts_errors_as_failures() -> None:
    stats = summarize(run([10.0] * 9 + [100.0], {200: 8, 503: 1}, 0.5, errors={"ClientOSError": 1}))
    assert stats.attempted == 10 and stats.succeeded == 8
    assert stats.success_rate == pytest.approx(0.8)
    assert stats.rps == pytest.approx(20)
    assert stats.statuses == {"200": 8, "503": 1}


def test_load_meets_sla_and_reports_the_ceiling_beside_it() -> None:
    stats = summarize(run([10.0] * 100, {200: 100}, 1.0))
    ceiling = summarize(run([2.0] * 100, {200: 100}, 0.1))  # 1000 req/s
    checks = judge_load(stats, ceiling, {"p95_ms": 50, "success_rate": 0.99})
    by = {c.metric: c for c in checks}
    assert all(c.ok for c in checks)
    assert by["p95_ms"].sla == "<= 50" and by["success_rate"].sla == ">= 0.99"
    assert by["client_ceiling_rps"].value == 1000
    assert all(c.detail["client_ceiling_rps"] == 1000 for c in checks)
    assert not any(c.warning for c in checks)


def test_load_near_the_ceiling_warns() -> None:
    stats = summarize(run([10.0] * 100, {200: 100}, 0.125))  # 800 req/s
    ceiling = summarize(run([2.0] * 100, {200: 100}, 0.1))  # 1000 req/s
    checks = judge_load(stats, ceiling, {})
    assert all(c.ok for c in checks)
    assert all("80% of this client's own ceiling" in c.warning for c in checks)


def test_load_missing_sla_fails_with_the_numbers() -> None:
    stats = summarize(run([100.0] * 50 + [900.0] * 50, {200: 90, 500: 10}, 1.0))
    ceiling = summarize(run([1.0], {200: 1}, 0.001))
    by = {c.metric: c for c in judge_load(stats, ceiling, {"p95_ms": 500})}
    assert not by["p95_ms"].ok and "misses the SLA <= 500" in by["p95_ms"].diagnosis
    # the default success rate applies when the SLA names none
    assert not by["success_rate"].ok and "'500': 10" in by["success_rate"].diagnosis


def test_retry_after_forms() -> None:
    assert retry_after_seconds("3", now=0) == 3
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:10 GMT", now=4) == pytest.approx(6)
    assert retry_after_seconds("soon", now=0) is None
    assert retry_after_seconds(None, now=0) is None


def test_rate_limit_limited_and_honoured() -> None:
    obs = RateLimitObservation(
        burst=60,
        statuses=[200] * 40 + [429],
        retry_after="2",
        retry_after_s=2.0,
        waited_s=2.1,
        status_after_wait=200,
    )
    checks = judge_rate_limit(obs)
    assert [c.check for c in checks] == ["limited", "retry_after", "honoured"]
    assert all(c.ok for c in checks)
    assert checks[0].value == 41


def test_rate_limit_never_429_fails() -> None:
    (check,) = judge_rate_limit(RateLimitObservation(burst=60, statuses=[200] * 60))
    assert not check.ok and "no 429 within a burst of 60" in check.diagnosis


def test_rate_limit_without_retry_after_or_not_honoured() -> None:
    missing = judge_rate_limit(RateLimitObservation(burst=5, statuses=[200, 429]))
    assert not missing[1].ok and "no usable Retry-After" in missing[1].diagnosis
    ignored = judge_rate_limit(
        RateLimitObservation(
            burst=5,
            statuses=[429],
            retry_after="1",
            retry_after_s=1,
            waited_s=1.1,
            status_after_wait=429,
        )
    )
    assert not ignored[2].ok and "not honoured" in ignored[2].diagnosis
    too_long = judge_rate_limit(
        RateLimitObservation(burst=5, statuses=[429], retry_after="600", retry_after_s=600)
    )
    assert not too_long[2].ok and "more than max_wait_s" in too_long[2].diagnosis


def test_error_handling_statuses_and_leaks() -> None:
    trace = 'Traceback (most recent call last):\n  File "/app/main.py", line 12, in h\nsqlite3.OperationalError: database is locked'
    exchanges = [
        Exchange("unknown_path", "GET", "/nope", (404,), 404, '{"error":"not_found"}'),
        Exchange("invalid_payload", "POST", "/api/threads", (422,), 500, trace),
        Exchange(
            "traversal",
            "GET",
            "/api/files/..%2fetc%2fpasswd",
            (400, 403, 404),
            200,
            "root:x:0:0:root:/root:/bin/bash",
            forbidden=("root:",),
        ),
        Exchange("no_token", "GET", "/api/me", (401, 403), None, "", error="ReadTimeout"),
    ]
    by = {c.check: c for c in judge_errors(exchanges)}
    assert by["unknown_path"].ok
    assert (
        not by["invalid_payload"].ok and "expected 422, got 500" in by["invalid_payload"].diagnosis
    )
    assert not by["traversal"].ok and "'root:'" in by["traversal"].diagnosis
    assert not by["no_token"].ok and "no answer" in by["no_token"].diagnosis
    leak = by["no_internal_detail"]
    assert not leak.ok and leak.value == 1
    assert "Python traceback" in leak.diagnosis and "sqlite error" in leak.diagnosis


def test_leak_patterns_leave_ordinary_errors_alone() -> None:
    assert (
        leaks('{"error":"invalid_json","detail":"Expecting value: line 1 column 1 (char 0)"}') == []
    )
    assert leaks('{"error":"internal_error","detail":"internal server error"}') == []
    assert "exception name" in leaks("java.lang.NullPointerException")
    assert "Java stack frame" in leaks("at com.acme.Api.get(Api.java:42)")


def test_timeout_answered_reported_and_hung() -> None:
    assert judge_timeout("/x", 2.0, 0.1, 200, None).ok
    late = judge_timeout("/x", 2.0, 2.01, None, "ReadTimeout")
    assert (
        not late.ok
        and "within the client's 2 s timeout" in late.diagnosis
        and "as set" in late.diagnosis
    )
    hung = judge_timeout("/x", 2.0, 9.0, None, "ReadTimeout")
    assert "did not enforce it" in hung.diagnosis


def test_reconnects() -> None:
    assert judge_reconnects("/health", [(200, 1.0, None)] * 3).ok
    bad = judge_reconnects("/health", [(200, 1.0, None), (None, 0.5, "ConnectError")])
    assert not bad.ok and "#2, got ConnectError" in bad.diagnosis


def test_retries_flaky_passes_with_a_warning() -> None:
    obs = RetryObservation(
        "/m", 3, attempts=[[201], [503, 201], [503, 503, 201]], bodies=["503 upstream"]
    )
    check = judge_retries(obs)
    assert check.ok and check.value == 3
    assert "2 of 3 calls" in check.warning and "flaky" in check.warning


def test_retries_exhausted_or_setup_failed() -> None:
    exhausted = judge_retries(RetryObservation("/m", 1, attempts=[[500, 500]]))
    assert not exhausted.ok and "still failed after 1 retries" in exhausted.diagnosis
    setup = judge_retries(RetryObservation("/m", 3, setup="POST /t", setup_error="500 internal"))
    assert not setup.ok and "set-up request POST /t failed: 500" in setup.diagnosis
