"""The pure HTTP classifier, fed recorded observations (no network)."""

from __future__ import annotations

import re

import pytest

from whyloop.errors import ProbeError
from whyloop.probes.hosts import AllowList, host_of
from whyloop.probes.http.judge import (
    Hop,
    HttpObservation,
    Preflight,
    check_expect_json,
    classify_http,
    dotted,
    parse_expect_json,
)
from whyloop.results import Stage

NETWORK = {"httpx", "httpcore", "asyncio", "aiohttp", "socket", "ssl", "websockets", "subprocess"}

# a GET that went through every phase (times in seconds since the request started)
DONE = {
    "connection.connect_tcp.started": 0.000,
    "connection.connect_tcp.complete": 0.001,
    "http11.send_request_headers.started": 0.0012,
    "http11.send_request_headers.complete": 0.0013,
    "http11.send_request_body.started": 0.0013,
    "http11.send_request_body.complete": 0.0014,
    "http11.receive_response_headers.started": 0.0014,
    "http11.receive_response_headers.complete": 0.0214,
    "whyloop.body.complete": 0.0224,
}


def observed(**kw: object) -> HttpObservation:
    base: dict[str, object] = {
        "url": "http://127.0.0.1:8081/health",
        "dns_ms": 0.0,
        "addresses": ["127.0.0.1"],
        "events": dict(DONE),
        "status": 200,
        "http_version": "HTTP/1.1",
        "headers": {"content-type": "application/json"},
        "body_bytes": 15,
        "body_excerpt": '{"status":"ok"}',
        "json_body": {"status": "ok"},
    }
    base.update(kw)
    return HttpObservation(**base)  # type: ignore[arg-type]


def test_all_phases_timed_from_trace_events() -> None:
    result = classify_http(observed(expect_json={"status": "ok"}))
    assert result.ok and result.failed_stage is None
    names = [s.name for s in result.stages]
    assert names == [
        Stage.DNS,
        Stage.TCP,
        Stage.REQUEST,
        Stage.FIRST_BYTE,
        Stage.BODY,
        Stage.EXPECT,
    ]
    assert result.stage(Stage.TCP).ms == pytest.approx(1.0)
    assert result.stage(Stage.FIRST_BYTE).ms == pytest.approx(20.0)
    assert result.stage(Stage.BODY).ms == pytest.approx(1.0)
    assert "answered 200" in result.diagnosis


def test_refused_connection_fails_at_tcp() -> None:
    events = {"connection.connect_tcp.started": 0.0, "connection.connect_tcp.failed": 0.0007}
    obs = observed(
        url="http://127.0.0.1:9/",
        events=events,
        status=None,
        error_type="ConnectError",
        error="All connection attempts failed",
    )
    result = classify_http(obs)
    assert result.failed_stage == Stage.TCP
    assert "refused" in result.diagnosis and "127.0.0.1:9" in result.diagnosis
    assert any("ConnectError" in e for e in result.evidence)


def test_connect_timeout_reads_as_a_silent_drop() -> None:
    events = {"connection.connect_tcp.started": 0.0}
    obs = observed(events=events, status=None, error_type="ConnectTimeout", error="timed out")
    result = classify_http(obs)
    assert result.failed_stage == Stage.TCP
    assert "no TCP answer" in result.diagnosis


def test_dns_failure() -> None:
    obs = observed(
        url="http://nowhere.invalid/", dns_error="Name or service not known", status=None
    )
    result = classify_http(obs)
    assert result.failed_stage == Stage.DNS
    assert "nowhere.invalid" in result.diagnosis


def test_untrusted_certificate_fails_at_tls() -> None:
    events = {
        "connection.connect_tcp.started": 0.0,
        "connection.connect_tcp.complete": 0.001,
        "connection.start_tls.started": 0.001,
        "connection.start_tls.failed": 0.004,
    }
    obs = observed(
        url="https://127.0.0.1:8443/",
        events=events,
        status=None,
        error_type="ConnectError",
        error="[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate",
    )
    result = classify_http(obs)
    assert result.failed_stage == Stage.TLS
    assert "not trusted" in result.diagnosis and "--insecure" in result.diagnosis


def test_no_response_headers_in_time_fails_at_first_byte() -> None:
    events = {k: v for k, v in DONE.items() if "receive_response_headers.complete" not in k}
    events.pop("whyloop.body.complete")
    obs = observed(events=events, status=None, error_type="ReadTimeout", error="", timeout_s=2.0)
    result = classify_http(obs)
    assert result.failed_stage == Stage.FIRST_BYTE
    assert "within 2 s" in result.diagnosis


def test_body_broken_off() -> None:
    events = dict(DONE)
    events.pop("whyloop.body.complete")
    obs = observed(
        events=events, error_type="RemoteProtocolError", error="peer closed", body_bytes=300
    )
    result = classify_http(obs)
    assert result.failed_stage == Stage.BODY
    assert "after 300 bytes" in result.diagnosis


def test_expect_status_mismatch() -> None:
    result = classify_http(observed(expect_status=201))
    assert result.failed_stage == Stage.EXPECT
    assert "expected status 201, got 200" in result.diagnosis


def test_error_status_fails_without_an_expectation() -> None:
    result = classify_http(observed(status=503, json_body={"error": "unavailable"}))
    assert result.failed_stage == Stage.EXPECT
    assert "503" in result.diagnosis


def test_expect_json_mismatch_and_missing_and_not_json() -> None:
    result = classify_http(observed(expect_json={"status": "degraded", "missing.field": 1}))
    assert result.failed_stage == Stage.EXPECT
    assert "'ok', expected 'degraded'" in result.diagnosis
    assert "no field 'missing.field'" in result.diagnosis
    plain = observed(
        json_body=HttpObservation("x").json_body, headers={"content-type": "text/html"}
    )
    plain.expect_json = {"status": "ok"}
    assert "not JSON (text/html)" in classify_http(plain).diagnosis


def test_parse_and_check_expect_json() -> None:
    assert parse_expect_json(["status=ok", "count=3", "flag=true", 'name="3"']) == {
        "status": "ok",
        "count": 3,
        "flag": True,
        "name": "3",
    }
    with pytest.raises(ValueError):
        parse_expect_json(["nothing"])
    data = {"a": {"items": [{"id": 7}]}, "n": 3}
    assert dotted(data, "a.items.0.id") == 7
    assert dotted(data, "a.items.-1.id") == 7
    with pytest.raises(KeyError):
        dotted(data, "a.items.5")
    assert check_expect_json(data, {"n": "3", "a.items.0.id": 7}) == []


def preflight(**kw: object) -> Preflight:
    base: dict[str, object] = {
        "origin": "http://app.example",
        "request_method": "PUT",
        "status": 200,
        "headers": {
            "access-control-allow-origin": "http://app.example",
            "access-control-allow-methods": "GET, PUT",
        },
        "ms": 1.0,
    }
    base.update(kw)
    return Preflight(**base)  # type: ignore[arg-type]


def test_cors_allowed() -> None:
    obs = observed(preflight=preflight())
    obs.headers["access-control-allow-origin"] = "http://app.example"
    result = classify_http(obs)
    assert result.ok
    cors = result.stage(Stage.CORS)
    assert cors is not None and cors.detail["origin_allowed"] is True


@pytest.mark.parametrize(
    ("pf", "main_origin", "phrase"),
    [
        (preflight(status=405, headers={}), None, "no CORS handling"),
        (
            preflight(headers={"access-control-allow-origin": "http://other.example"}),
            None,
            "is not allowed",
        ),
        (
            preflight(
                headers={
                    "access-control-allow-origin": "http://app.example",
                    "access-control-allow-methods": "GET",
                }
            ),
            "http://app.example",
            "PUT is not in Access-Control-Allow-Methods",
        ),
        (
            preflight(
                headers={
                    "access-control-allow-origin": "*",
                    "access-control-allow-methods": "PUT",
                    "access-control-allow-credentials": "true",
                }
            ),
            "*",
            "browsers refuse",
        ),
        (preflight(), None, "the response itself"),
        (
            preflight(
                status=400,
                request_headers="x-debug",
                headers={"access-control-allow-origin": "http://app.example"},
            ),
            None,
            "the headers (x-debug) are not allowed",
        ),
        (preflight(status=None, error="ReadTimeout"), None, "got no answer"),
    ],
)
def test_cors_refusals(pf: Preflight, main_origin: str | None, phrase: str) -> None:
    obs = observed(preflight=pf)
    if main_origin:
        obs.headers["access-control-allow-origin"] = main_origin
    result = classify_http(obs)
    assert result.failed_stage == Stage.CORS
    assert phrase in result.diagnosis


def test_redirect_chain_is_evidence() -> None:
    hops = [
        Hop("http://h/a", 301, 1.5, "http://h/b"),
        Hop("http://h/b", 302, 1.0, "http://h/ok"),
    ]
    result = classify_http(observed(url="http://h/a", redirects=hops))
    assert result.evidence[:2] == [
        "301 http://h/a -> http://h/b (1.5 ms)",
        "302 http://h/b -> http://h/ok (1.0 ms)",
    ]
    first_byte = result.stage(Stage.FIRST_BYTE)
    assert first_byte is not None and len(first_byte.detail["redirects"]) == 2


def test_certificate_expiring_soon_is_evidence() -> None:
    events = dict(DONE) | {
        "connection.start_tls.started": 0.001,
        "connection.start_tls.complete": 0.003,
    }
    obs = observed(
        url="https://h/",
        events=events,
        tls={"version": "TLSv1.3", "days_left": 5, "not_after": "2026-12-01T00:00:00Z"},
    )
    result = classify_http(obs)
    assert result.ok
    assert result.stage(Stage.TLS).ms == pytest.approx(2.0)
    assert any("expires in 5 days" in e for e in result.evidence)


def test_secrets_in_headers_are_redacted_in_the_json() -> None:
    obs = observed(
        headers={"set-cookie": "session=abcdefghijklmnopqrstuvwxyz", "content-type": "text/plain"}
    )
    text = str(classify_http(obs).to_dict())
    assert "abcdefghijklmnop" not in text


def test_allow_list() -> None:
    allow = AllowList.of(["127.0.0.1:8080", "*.staging.example", "http://[::1]:9000"])
    assert allow.check("http://127.0.0.1:9999/x")
    assert allow.allows("api.staging.example") and allow.allows("::1")
    with pytest.raises(ProbeError, match=re.escape("host 'example.org' is not in the allow list")):
        allow.check("https://example.org/")
    with pytest.raises(ProbeError, match="names no host"):
        host_of("/just/a/path")
