"""Diagnoses a person can act on, from recorded observations (no network).

The nginx pages are what nginx 1.22.1 wrote in front of a dead upstream (502)
and a silent one (504), byte for byte; the certificate facts are what
:func:`whyloop.probes.tls.describe_certificate` returns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.probes.http.test_judge import DONE, observed
from whyloop.probes.http.judge import Hop, HttpObservation, classify_http
from whyloop.probes.http.wording import proxy_sign, retry_after
from whyloop.probes.tls import certificate_problems
from whyloop.results import Stage

NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
    "</body>\r\n</html>\r\n"
)
NGINX_504 = NGINX_502.replace("502 Bad Gateway", "504 Gateway Time-out")
DATE = "Tue, 01 Dec 2026 14:55:20 GMT"


def answered(status: int, body: str, **headers: str) -> HttpObservation:
    """A recorded observation of a complete answer with ``status``, ``body`` and ``headers``."""
    return observed(
        status=status,
        body_excerpt=body,
        json_body=HttpObservation("no JSON").json_body,
        headers={"date": DATE, **{k.replace("_", "-"): v for k, v in headers.items()}},
    )


def test_nginx_own_502_page_says_it_could_not_reach_the_service_behind_it() -> None:
    result = classify_http(answered(502, NGINX_502, server="nginx/1.22.1"))
    assert result.failed_stage == Stage.EXPECT
    assert result.diagnosis.startswith("nginx answered 502 Bad Gateway itself")
    assert "could not get a valid response from the service behind it" in result.diagnosis
    assert "timed out" not in result.diagnosis  # a 502 is not a timeout
    assert "server: nginx/1.22.1" in result.evidence
    assert any("<hr><center>nginx/1.22.1</center>" in e for e in result.evidence)


def test_nginx_own_504_page_says_it_timed_out_waiting() -> None:
    result = classify_http(answered(504, NGINX_504, server="nginx/1.22.1"))
    assert result.failed_stage == Stage.EXPECT
    assert result.diagnosis.startswith("nginx answered 504 Gateway Timeout itself")
    assert "timed out waiting for the service behind it" in result.diagnosis
    assert "refused" not in result.diagnosis and "could not reach" not in result.diagnosis


def test_502_with_no_proxy_evidence_does_not_blame_a_proxy() -> None:
    body = '{"error": "payment service unreachable"}'
    result = classify_http(answered(502, body, server="uvicorn"))
    assert result.failed_stage == Stage.EXPECT
    assert result.diagnosis.startswith("the server answered 502 Bad Gateway (server: uvicorn")
    assert "nothing shows whether a proxy sits in front" in result.diagnosis
    assert "nginx" not in result.diagnosis
    assert "payment service unreachable" in result.diagnosis  # the body is cited


def test_502_through_nginx_with_the_apps_own_body_cannot_tell_who_wrote_it() -> None:
    body = '{"error": "payment service unreachable"}'
    result = classify_http(answered(502, body, server="nginx/1.22.1"))
    assert result.diagnosis.startswith("502 Bad Gateway came through nginx (server: nginx/1.22.1)")
    assert "cannot tell whether nginx wrote it" in result.diagnosis
    assert "nginx answered" not in result.diagnosis


def test_a_via_header_is_a_proxy_but_names_no_product() -> None:
    sign = proxy_sign({"via": "1.1 edge-7"}, "upstream failed")
    assert sign.product == "a proxy" and sign.header == "via: 1.1 edge-7" and not sign.own_page
    result = classify_http(answered(504, "upstream failed", via="1.1 edge-7"))
    assert "came through a proxy (via: 1.1 edge-7)" in result.diagnosis
    assert "cannot tell whether the proxy wrote it" in result.diagnosis


@pytest.mark.parametrize(
    ("value", "date", "phrase"),
    [
        ("120", DATE, "asks to wait 120 s (until 2026-12-01 14:57:20 UTC by its Date header)"),
        (
            "Tue, 01 Dec 2026 14:56:50 GMT",
            DATE,
            "asks to wait until 2026-12-01 14:56:50 UTC (90 s after its Date header)",
        ),
        ("Tue, 01 Dec 2026 14:50:00 GMT", DATE, "(already 320 s past by its Date header)"),
        ("120", None, "(until 2026-12-01 15:02:00 UTC by the probe's clock)"),
        ("soon", DATE, "Retry-After 'soon' is neither seconds nor an HTTP date"),
        (None, DATE, "sends no Retry-After, so it does not say when"),
    ],
)
def test_retry_after_in_both_forms_says_when(
    value: str | None, date: str | None, phrase: str
) -> None:
    clock = datetime(2026, 12, 1, 15, 0, 0, tzinfo=UTC)
    assert phrase in retry_after(value, date, clock)


def test_503_with_retry_after_is_a_failure_that_says_when() -> None:
    obs = answered(503, "down for maintenance", server="uvicorn", retry_after="120")
    result = classify_http(obs)
    assert result.failed_stage == Stage.EXPECT
    assert "answered 503 Service Unavailable" in result.diagnosis
    assert "wait 120 s (until 2026-12-01 14:57:20 UTC" in result.diagnosis
    assert "retry-after: 120" in result.evidence and f"date: {DATE}" in result.evidence


def test_an_expected_503_passes_and_a_mismatch_still_explains_the_status() -> None:
    ok = answered(503, "busy")
    ok.expect_status = 503
    assert classify_http(ok).ok
    other = answered(502, NGINX_502, server="nginx/1.22.1")
    other.expect_status = 200
    result = classify_http(other)
    assert result.diagnosis.startswith("expected status 200, got 502: nginx answered 502")


def test_a_url_visited_twice_is_named_as_a_loop() -> None:
    hops = [Hop("http://h/a", 302, 1.0, "http://h/b")]
    obs = observed(
        url="http://h/a",
        status=302,
        headers={"location": "/a"},
        redirects=hops,
        redirect_loop=["http://h/a", "http://h/b", "http://h/a"],
    )
    result = classify_http(obs)
    assert result.failed_stage == Stage.EXPECT
    assert result.diagnosis.startswith("redirect loop: http://h/a -> http://h/b -> http://h/a")
    assert "too many" not in result.diagnosis
    assert "302 http://h/b -> http://h/a (not followed: visited before)" in result.evidence
    assert result.stage(Stage.FIRST_BYTE).detail["redirect_loop"] == obs.redirect_loop


def test_a_long_chain_is_too_many_redirects_not_a_loop() -> None:
    hops = [Hop("http://h/3", 302, 1.0, "http://h/2"), Hop("http://h/2", 302, 1.0, "http://h/1")]
    obs = observed(
        url="http://h/3",
        status=302,
        headers={"location": "/0"},
        redirects=hops,
        max_redirects=2,
        redirects_exhausted=True,
    )
    result = classify_http(obs)
    assert result.failed_stage == Stage.EXPECT
    assert result.diagnosis.startswith("too many redirects: 2 followed (--max-redirects 2)")
    assert "http://h/1 still redirects (302) to /0" in result.diagnosis
    assert "not a loop" in result.diagnosis


CERT = {
    "subject": "CN=localhost, O=whyloop test",
    "issuer": "CN=whyloop throwaway CA",
    "not_before": "2026-11-11T00:00:00Z",
    "not_after": "2026-11-29T00:00:00Z",
    "san": ["DNS:api.example"],
    "self_signed": False,
    "days_left": -3,
    "expired": True,
    "not_yet_valid": False,
    "checked_at": "2026-12-01T15:00:00Z",
    "hostname_match": False,
    "read_unverified": True,
}
TLS_FAILED = {
    "connection.connect_tcp.started": 0.0,
    "connection.connect_tcp.complete": 0.001,
    "connection.start_tls.started": 0.001,
    "connection.start_tls.failed": 0.004,
}


def refused(code: int | None, message: str, cert: dict[str, Any]) -> HttpObservation:
    return observed(
        url="https://127.0.0.1:8443/",
        events=dict(TLS_FAILED),
        status=None,
        error_type="ConnectError",
        error=f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message}",
        verify_code=code,
        verify_message=message,
        tls=cert,
    )


def test_every_certificate_problem_is_reported_together() -> None:
    result = classify_http(refused(20, "unable to get local issuer certificate", dict(CERT)))
    assert result.failed_stage == Stage.TLS
    problems = result.stage(Stage.TLS).detail["problems"]
    assert problems == [
        "issued by CN=whyloop throwaway CA, a CA this client does not trust (unknown issuer)",
        "not issued for 127.0.0.1: it names DNS:api.example",
        "expired: notAfter 2026-11-29T00:00:00Z, the probe's clock read 2026-12-01T15:00:00Z",
    ]
    assert all(p in result.diagnosis for p in problems)
    assert "read over a second, unverified connection" in result.diagnosis
    assert "verifier: unable to get local issuer certificate (OpenSSL code 20)" in result.evidence


def test_a_name_complaint_means_the_issuer_was_trusted() -> None:
    # OpenSSL checks trust before the name: so no claim of an untrusted issuer here
    cert = dict(CERT, issuer="CN=Corp Root CA")
    message = "IP address mismatch, certificate is not valid for '127.0.0.1'."
    result = classify_http(refused(64, message, cert))
    assert result.failed_stage == Stage.TLS
    assert "not trusted" not in result.diagnosis and "unknown issuer" not in result.diagnosis
    assert "not issued for 127.0.0.1: it names DNS:api.example" in result.diagnosis
    assert "expired: notAfter 2026-11-29T00:00:00Z" in result.diagnosis


def test_a_self_signed_valid_certificate_claims_nothing_else() -> None:
    cert = dict(CERT, issuer=CERT["subject"], self_signed=True, expired=False, days_left=20)
    cert.update(hostname_match=True, san=["DNS:localhost", "IP:127.0.0.1"])
    result = classify_http(refused(18, "self-signed certificate", cert))
    assert "self-signed (issuer = subject = CN=localhost, O=whyloop test) and not trusted" in (
        result.diagnosis
    )
    assert "expired" not in result.diagnosis and "not issued for" not in result.diagnosis


def test_a_complaint_the_certificate_does_not_show_is_said_so() -> None:
    cert = dict(CERT, expired=False, hostname_match=True, san=["IP:127.0.0.1"])
    problems = certificate_problems(
        cert, "127.0.0.1", verify_code=10, verify_message="certificate has expired"
    )
    assert problems == [
        "the verifier reported 'certificate has expired', which the server's certificate as read "
        "does not show (another certificate of the chain, or a different certificate served to "
        "the second connection)"
    ]


def test_when_the_certificate_cannot_be_read_only_the_verifier_speaks() -> None:
    cert = {"inspect_error": "ConnectionResetError: reset"}
    result = classify_http(refused(10, "certificate has expired", cert))
    assert result.failed_stage == Stage.TLS
    assert "refused by the verifier: certificate has expired" in result.diagnosis
    assert "could not be inspected: ConnectionResetError: reset" in result.diagnosis


def test_insecure_run_lists_what_verification_would_refuse_without_a_trust_claim() -> None:
    events = dict(DONE) | {
        "connection.start_tls.started": 0.001,
        "connection.start_tls.complete": 0.003,
    }
    cert = dict(CERT, read_unverified=False)
    result = classify_http(
        observed(url="https://127.0.0.1/", events=events, tls=cert, insecure=True)
    )
    assert result.ok
    line = next(e for e in result.evidence if e.startswith("not verified (--insecure)"))
    assert "not issued for 127.0.0.1" in line and "expired: notAfter" in line
    assert "trust" not in line  # nothing verified the issuer
