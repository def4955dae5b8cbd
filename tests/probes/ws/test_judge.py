"""The pure WebSocket stage classifier, judged on recorded observations (no network)."""

from __future__ import annotations

import json

import pytest

from tests.probes.ws.recorded import SHOWN, TOKEN, good, judged, msg, refused, row
from whyloop.probes.ws.judge import classify_ws
from whyloop.probes.ws.matrix import classify_attempt
from whyloop.probes.ws.observations import (
    AuthMethod,
    Credential,
    CredentialKind,
    EventKind,
    IoFailure,
    Step,
    WsEvent,
    masked,
    message_type,
)
from whyloop.results import Stage


def test_all_stages_pass():
    result = judged(good())
    assert result.ok and result.failed_stage is None
    assert [s.name.value for s in result.stages] == [
        "dns", "tcp", "upgrade", "subprotocol", "auth", "welcome", "echo", "close"
    ]  # fmt: skip
    assert result.diagnosis.startswith("The WebSocket works end to end: handshake 101 in 3.2 ms")
    assert "upgrade: HTTP 101 in 3.2 ms (Server: uvicorn)" in result.evidence


@pytest.mark.parametrize(
    ("step", "failure", "error", "phrase"),
    [
        ("dns", IoFailure.NXDOMAIN, "[Errno -2] Name or service not known", "does not resolve"),
        ("dns", IoFailure.TIMEOUT, "", "got no answer within 10 s"),
        ("tcp", IoFailure.REFUSED, "[Errno 111] refused", "connection refused"),
        ("tcp", IoFailure.TIMEOUT, "", "firewall"),
        ("tcp", IoFailure.UNREACHABLE, "[Errno 113] No route", "no route"),
        ("upgrade", IoFailure.TIMEOUT, "", "no answer to the upgrade request arrived within 10 s"),
        ("upgrade", IoFailure.EOF, "connection closed", "without answering the upgrade"),
        ("upgrade", IoFailure.INVALID, "unsupported protocol", "not valid HTTP"),
    ],
)
def test_connection_failures(step, failure, error, phrase):
    changes: dict[str, object] = {step: Step(ms=1.0, failure=failure, error=error)}
    if step == "dns":
        changes["literal"], changes["host"] = False, "api.example.test"
    changes["status"] = 101 if step not in ("dns", "tcp", "upgrade") else None
    result = judged(good(**changes))
    assert result.failed_stage == Stage(step)
    assert phrase.lower() in result.diagnosis.lower()


def test_tls_certificate_rejected_reports_the_certificate():
    cert = {"subject": "CN=localhost", "issuer": "CN=localhost", "not_after": "2036-01-01T00:00:00Z",
            "days_left": 3000, "self_signed": True, "hostname_match": True}  # fmt: skip
    obs = good(
        secure=True,
        tls=Step(ms=2.0, failure=IoFailure.CERTIFICATE, error="self-signed certificate"),
        cert=cert,
    )
    result = judged(obs)
    assert result.failed_stage is Stage.TLS
    assert "self-signed certificate" in result.diagnosis and "--insecure" in result.diagnosis
    assert any("subject CN=localhost" in e and "issuer CN=localhost" in e for e in result.evidence)


def test_tls_insecure_passes_but_still_reports_what_verification_would_refuse():
    cert = {"subject": "CN=other", "issuer": "CN=other", "days_left": -3, "self_signed": True,
            "hostname_match": False, "not_after": "2020-01-01T00:00:00Z"}  # fmt: skip
    result = judged(
        good(secure=True, insecure=True, tls=Step(ms=2.0), tls_version="TLSv1.3", cert=cert)
    )
    tls = result.stage(Stage.TLS)
    assert result.ok and tls is not None and tls.detail["verified"] is False
    assert tls.detail["summary"] == "TLSv1.3, NOT verified (--insecure)"
    text = " ".join(result.evidence)
    assert "self-signed" in text and "expired" in text and "not valid for 127.0.0.1" in text


def test_tls_handshake_error_suggests_plain_ws():
    result = judged(
        good(secure=True, tls=Step(ms=1.0, failure=IoFailure.TLS, error="wrong version number"))
    )
    assert result.failed_stage is Stage.TLS and "ws://" in result.diagnosis


@pytest.mark.parametrize(
    ("status", "headers", "body", "origin", "phrase"),
    [
        (
            200,
            [("Content-Type", "text/html")],
            "<html><title>Welcome</title></html>",
            None,
            "not a WebSocket endpoint",
        ),
        (
            200,
            [("Server", "nginx/1.22.1")],
            "",
            None,
            "nginx, which most likely did not forward the upgrade",
        ),
        (
            404,
            [("Server", "nginx/1.22.1")],
            '{"error":"not_found"}',
            None,
            "proxy_http_version 1.1",
        ),
        (403, [], '{"detail":"origin not allowed"}', "https://app.example", "refuses this origin"),
        (403, [], "", None, "no WebSocket route"),
        (426, [], "", None, "Upgrade/Connection headers were dropped on the way"),
        (400, [], "", None, "refused the upgrade request as a bad request"),
        (502, [("Via", "1.1 google")], "", None, "could not get an answer from the backend"),
        (301, [("Location", "wss://127.0.0.1/ws")], "", None, "does not follow redirects"),
    ],
)
def test_upgrade_statuses(status, headers, body, origin, phrase):
    obs = good(status=status, reason="", response_headers=headers, body=body, origin=origin)
    result = judged(obs)
    assert result.failed_stage is Stage.UPGRADE
    assert f"HTTP {status}" in result.diagnosis and phrase in result.diagnosis
    assert result.stages[-1].detail["status"] == status
    assert f"upgrade: HTTP {status} in 3.2 ms" in result.evidence[-2 if body else -1]


def test_html_page_is_named_by_its_title():
    obs = good(
        status=200,
        response_headers=[("Content-Type", "text/html")],
        body="<html><title>Login</title>",
    )
    assert "'Login'" in judged(obs).diagnosis


def test_invalid_101_is_an_upgrade_failure():
    result = judged(good(handshake_error="invalid Sec-WebSocket-Accept header"))
    assert result.failed_stage is Stage.UPGRADE and "rewrote" in result.diagnosis


def test_subprotocol_not_echoed():
    obs = good(method=AuthMethod.SUBPROTOCOL, offered=[f"jwt.{SHOWN}"], selected=None)
    result = judged(obs)
    assert result.failed_stage is Stage.SUBPROTOCOL
    assert f"subprotocol: offered jwt.{SHOWN}, selected none" in result.evidence
    assert "browsers drop" in result.diagnosis and "connection_established" in result.diagnosis


@pytest.mark.parametrize(
    ("offered", "selected", "ok"),
    [([], None, True), (["jwt.x"], "jwt.x", True), (["a"], "b", False), ([], "chat", False)],
)
def test_subprotocol_selection(offered, selected, ok):
    result = judged(good(offered=offered, selected=selected))
    assert (result.failed_stage is None) is ok
    if not ok:
        assert result.failed_stage is Stage.SUBPROTOCOL and "must fail" in result.diagnosis


def test_401_without_credential():
    obs = good(
        method=AuthMethod.NONE,
        status=401,
        body='{"detail":"missing token"}',
        request_headers=[],
        credentials=[],
    )
    result = judged(obs)
    assert result.failed_stage is Stage.AUTH
    assert result.stage(Stage.UPGRADE).ok  # the handshake was answered
    assert "none was sent" in result.diagnosis and "--token" in result.diagnosis


def test_401_on_subprotocol_says_the_server_does_not_read_it_there():
    body = '{"error":"missing_token","detail":"no token in the Authorization header"}'
    sub = Credential(CredentialKind.SUBPROTOCOL, f"jwt.{SHOWN}")
    obs = good(
        method=AuthMethod.SUBPROTOCOL,
        offered=[f"jwt.{SHOWN}"],
        status=401,
        body=body,
        credentials=[sub],
    )
    result = judged(obs)
    assert result.failed_stage is Stage.AUTH
    assert (
        "found no token" in result.diagnosis
        and "does not read credentials from there" in result.diagnosis
    )


def test_401_on_header_is_an_invalid_token():
    result = judged(good(status=401, body="Unauthorized"))
    assert result.failed_stage is Stage.AUTH and "invalid or expired" in result.diagnosis


@pytest.mark.parametrize(
    ("code", "reason", "phrase"),
    [
        (1008, "invalid audience", "another audience"),
        (1008, "token has expired", "expired"),
        (4401, "", "refused the credential"),
    ],
)
def test_refusal_close_right_after_accept(code, reason, phrase):
    result = judged(good(first=WsEvent(EventKind.CLOSE, 0.2, code=code, reason=reason)))
    assert result.failed_stage is Stage.AUTH
    assert str(code) in result.diagnosis and phrase in result.diagnosis
    assert result.stages[-1].detail["close_code"] == code


def test_welcome_never_comes():
    result = judged(
        good(first=WsEvent(EventKind.TIMEOUT, 10_000.0), selected="jwt.x", offered=["jwt.x"])
    )
    assert result.failed_stage is Stage.WELCOME
    assert result.stage(Stage.AUTH).ok
    assert result.diagnosis == (
        "The handshake succeeded (101) and the server echoed the offered subprotocol, but no first "
        "message arrived within 10 s: the server accepts connections but never sends "
        "connection_established."
    )
    assert "welcome: no message within 10.0 s" in result.evidence


@pytest.mark.parametrize(
    ("event", "phrase"),
    [
        (msg("hello"), "The first message was hello"),
        (WsEvent(EventKind.MESSAGE, 1.0, text="not json"), "not a JSON object"),
        (WsEvent(EventKind.CLOSE, 1.0, code=1011, reason="boom"), "1011 (internal error)"),
        (WsEvent(EventKind.EOF, 1.0), "dropped without a close frame"),
    ],
)
def test_welcome_wrong(event, phrase):
    result = judged(good(first=event))
    assert result.failed_stage is Stage.WELCOME and phrase in result.diagnosis


def test_expect_none_skips_welcome_and_auth_reads_the_watch():
    assert Stage.WELCOME not in [s.name for s in judged(good(expect_first=None, first=None)).stages]
    # without a welcome the probe still watches the socket a moment before sending
    early = WsEvent(EventKind.CLOSE, 1, code=1008)
    closed = good(expect_first=None, first=early, reply=None, closing=None)
    assert judged(closed).failed_stage is Stage.AUTH


@pytest.mark.parametrize(
    ("event", "phrase"),
    [
        (WsEvent(EventKind.TIMEOUT, 10_000.0), "sent no reply within 10 s"),
        (WsEvent(EventKind.CLOSE, 1.0, code=1009), "larger than it accepts"),
        (WsEvent(EventKind.EOF, 1.0), "dropped"),
    ],
)
def test_echo_failures(event, phrase):
    result = judged(good(reply=event))
    assert result.failed_stage is Stage.ECHO and phrase in result.diagnosis


def test_error_reply_still_passes_echo_but_is_evidence():
    reply = WsEvent(
        EventKind.MESSAGE, 1.0, text='{"type": "error", "error": "unknown_message_type"}'
    )
    result = judged(good(reply=reply))
    assert result.ok and any("answered with an error" in e for e in result.evidence)


@pytest.mark.parametrize(
    ("event", "phrase"),
    [
        (WsEvent(EventKind.TIMEOUT, 10_000.0), "did not answer the close frame"),
        (WsEvent(EventKind.EOF, 1.0), "1006"),
        (WsEvent(EventKind.CLOSE, 1.0, code=1011), "1011"),
    ],
)
def test_close_failures(event, phrase):
    result = judged(good(closing=event))
    assert result.failed_stage is Stage.CLOSE and phrase in result.diagnosis


def test_auth_matrix_header_yes_subprotocol_no():
    rows = [
        refused(AuthMethod.NONE, body='{"detail":"no token"}', credentials=[]),
        row(),
        refused(AuthMethod.SUBPROTOCOL, offered=["jwt.x"]),
        refused(AuthMethod.QUERY),
    ]
    result = classify_ws(good(), rows)
    table = {r.method: (r.accepted, r.status) for r in result.auth_matrix}
    assert table == {
        "none": (False, 401),
        "header": (True, 101),
        "subprotocol": (False, 401),
        "query": (False, 401),
    }
    assert "refuses it as a subprotocol (HTTP 401)" in result.diagnosis
    assert "auth matrix: subprotocol refused (HTTP 401)" in result.evidence


def test_auth_attempt_rows():
    closed = row(first=WsEvent(EventKind.CLOSE, 1, code=1008, reason="bad"), reply=None)
    assert classify_attempt(closed).close_code == 1008
    attempt = classify_attempt(row(first=WsEvent(EventKind.TIMEOUT, 1000), reply=None))
    assert attempt.accepted and "still open" in attempt.detail
    attempt = classify_attempt(row(offered=["jwt.x"], selected=None))
    assert attempt.accepted and "not echoed" in attempt.detail
    attempt = classify_attempt(
        row(tcp=Step(ms=1, failure=IoFailure.REFUSED, error="refused"), status=None)
    )
    assert not attempt.accepted and attempt.detail.startswith("not reached: tcp failed")


def test_masked_replaces_the_token_everywhere_and_keeps_enums():
    obs = good(offered=[f"jwt.{TOKEN}"], url=f"ws://h/ws?token={TOKEN}")
    clean = masked(obs, TOKEN, SHOWN)
    assert TOKEN not in repr(clean) and clean.method is AuthMethod.HEADER
    assert clean.request_headers == [("Authorization", f"Bearer {SHOWN}")]
    text = json.dumps(classify_ws(clean, [clean]).to_dict())
    assert TOKEN not in text and TOKEN[:20] not in text


def test_message_type():
    assert message_type('{"type": "pong"}') == "pong"
    assert message_type("[1]") is None and message_type("x") is None
