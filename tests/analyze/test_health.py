"""What health endpoints said, read from probe results and suite rows (recorded from the sandbox)."""

from __future__ import annotations

import json

import pandas as pd

from whyloop.analyze.health import (
    HEALTH_COLUMNS,
    health_from_results,
    health_from_suite,
    is_health_url,
)
from whyloop.results import ProbeResult, StageResult
from whyloop.schema import Stage

BACKEND = '{"status":"ok","service":"backend","revision":"sandbox-backend-00035-abc"}'


def _http(url: str, body: str | None, *, status: int = 200, ok: bool = True) -> ProbeResult:
    stages = [
        StageResult(Stage.TCP, True, 0.3, {"address": "127.0.0.1:8081"}),
        StageResult(Stage.FIRST_BYTE, True, 1.2, {"status": status}),
    ]
    if body is not None:
        stages.append(StageResult(Stage.BODY, True, 0.5, {"bytes": len(body), "excerpt": body}))
    failed = None if ok else Stage.EXPECT
    why = "" if ok else f"GET {url} answered {status}, expected 200"
    return ProbeResult(url, "http", stages, failed, why)


def test_health_paths_are_recognised_and_others_are_not() -> None:
    for url in ("http://h/health", "http://h/api/healthz", "http://h/readyz/", "https://h/version"):
        assert is_health_url(url), url
    for url in ("http://h/api/me", "http://h/healthcheck-docs", "ws://h/ws"):
        assert not is_health_url(url), url


def test_a_health_answer_gives_service_and_revision_and_says_what_it_lacked() -> None:
    health = health_from_results(
        [_http("http://127.0.0.1:8081/health", BACKEND), _http("http://x/api/me", "{}")]
    )
    assert list(health.columns) == list(HEALTH_COLUMNS)
    assert len(health) == 1  # /api/me is no health endpoint
    row = health.iloc[0]
    assert (row["service"], row["up"], row["http_status"]) == ("backend", True, 200)
    assert row["revision"] == "sandbox-backend-00035-abc" and row["version"] is None
    assert row["detail"] == "/health reported no version"


def test_a_down_or_silent_endpoint_is_unknown_with_why() -> None:
    health = health_from_results(
        [
            _http("http://a:1/health", "<html>ok</html>"),
            _http("http://b:2/healthz", '{"status": "down"}', status=503, ok=False),
            _http("http://c:3/health", None),
        ],
        names=["auth", "ws", "files"],
    )
    assert health["service"].tolist() == ["auth", "ws", "files"]
    assert health["up"].tolist() == [True, False, True]
    assert health["revision"].isna().all()
    assert "not JSON" in health["detail"].iloc[0]
    assert health["detail"].iloc[1].startswith("GET http://b:2/healthz answered 503")
    assert "no body was read" in health["detail"].iloc[2]


def test_a_suite_frame_gives_its_health_checks_only() -> None:
    detail = {
        "stages": [
            {"name": "first_byte", "ok": True, "ms": 0.3, "detail": {"status": 200}},
            {"name": "body", "ok": True, "ms": 0.9, "detail": {"excerpt": BACKEND}},
        ]
    }
    suite = pd.DataFrame(
        {
            "suite": "sandbox",
            "probe": ["backend-health", "token-accepted", "health-load"],
            "kind": ["http", "http", "load"],
            "target": [
                "http://127.0.0.1:8081/health",
                "http://127.0.0.1:8081/api/me",
                "http://127.0.0.1:8081/health",
            ],
            "ok": [True, True, True],
            "detail": [json.dumps(detail), json.dumps(detail), "{}"],
            "diagnosis": "",
            "started": pd.Timestamp("2026-12-01T17:16:36", tz="UTC"),
        }
    )
    health = health_from_suite(suite)
    assert health[["service", "revision", "source"]].values.tolist() == [
        ["backend", "sandbox-backend-00035-abc", "suite sandbox"]
    ]
    assert health["observed_at"].iloc[0] == pd.Timestamp("2026-12-01T17:16:36", tz="UTC")
    assert health_from_suite(None).empty and health_from_suite(pd.DataFrame({"x": [1]})).empty
