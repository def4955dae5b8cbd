"""Diagnoses against real servers: nginx in front of a dead and a silent upstream, an app's
own 502 and 503s, redirect loops, and certificates made in the test with the openssl CLI.

Each test asserts the failed stage, the cause the diagnosis names, and that the
diagnosis claims nothing its evidence contradicts.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support import TIMEOUT_SCALE, free_port
from tests.support.servers import (
    certificate,
    local_app,
    nginx,
    nginx_binary,
    serve_app,
    silent_upstream,
    throwaway_ca,
)
from whyloop.probes.http.probe import probe_http
from whyloop.results import Stage

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with serve_app(local_app()) as url:
        yield url


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_nginx_in_front_of_a_dead_upstream_says_it_could_not_reach_it(tmp_path: Path) -> None:
    nginx_binary()
    with nginx(tmp_path, free_port(), forward_upgrade=False) as port:
        result = probe_http(f"http://127.0.0.1:{port}/health", timeout=5 * TIMEOUT_SCALE)
    assert result.failed_stage == Stage.EXPECT
    assert result.diagnosis.startswith("nginx answered 502 Bad Gateway itself")
    assert "could not get a valid response from the service behind it" in result.diagnosis
    assert "timed out" not in result.diagnosis
    assert any(e.startswith("server: nginx") for e in result.evidence)
    assert any("<center>nginx" in e for e in result.evidence)  # its own page, cited


def test_nginx_in_front_of_a_silent_upstream_says_it_timed_out_waiting(tmp_path: Path) -> None:
    nginx_binary()
    wait_ms = int(800 * TIMEOUT_SCALE)
    with (
        silent_upstream() as upstream,
        nginx(tmp_path, upstream, forward_upgrade=False, read_timeout=f"{wait_ms}ms") as port,
    ):
        start = time.monotonic()
        result = probe_http(f"http://127.0.0.1:{port}/slow", timeout=5 * TIMEOUT_SCALE)
        took = time.monotonic() - start
    assert wait_ms / 1000 * 0.9 < took < 4 * TIMEOUT_SCALE  # nginx's timeout, not the probe's
    assert result.failed_stage == Stage.EXPECT
    assert result.diagnosis.startswith("nginx answered 504 Gateway Timeout itself")
    assert "timed out waiting for the service behind it" in result.diagnosis
    assert "refused" not in result.diagnosis and "could not reach" not in result.diagnosis


def test_an_apps_own_502_is_not_blamed_on_a_proxy(app_url: str) -> None:
    direct = probe_http(app_url + "/bad-gateway")
    assert direct.failed_stage == Stage.EXPECT
    assert "nothing shows whether a proxy sits in front" in direct.diagnosis
    assert "nginx" not in direct.diagnosis and "server: uvicorn" in direct.evidence


def test_an_apps_own_502_through_nginx_cannot_tell_who_wrote_it(
    app_url: str, tmp_path: Path
) -> None:
    nginx_binary()
    with nginx(tmp_path, _port(app_url), forward_upgrade=False) as port:
        proxied = probe_http(f"http://127.0.0.1:{port}/bad-gateway")
    assert proxied.failed_stage == Stage.EXPECT
    assert proxied.diagnosis.startswith("502 Bad Gateway came through nginx")
    assert "cannot tell whether nginx wrote it" in proxied.diagnosis
    assert "nginx answered" not in proxied.diagnosis  # the body is the app's, not nginx's page


@pytest.mark.parametrize(
    ("path", "phrase"),
    [
        ("/busy", r"its Retry-After: 120 asks to wait 120 s (until "),
        ("/busy-until", "its Retry-After asks to wait until "),
    ],
)
def test_503_with_retry_after_says_when(app_url: str, path: str, phrase: str) -> None:
    result = probe_http(app_url + path)
    assert result.failed_stage == Stage.EXPECT
    assert "answered 503 Service Unavailable" in result.diagnosis
    assert phrase in result.diagnosis and "its Date header" in result.diagnosis
    if path == "/busy-until":  # the app sends Date + 90 s; the clocks may differ by a second
        assert any(f"({s} s after its Date header)" in result.diagnosis for s in (89, 90, 91))
    assert "proxy" not in result.diagnosis


def test_redirect_loops_are_named_as_loops(app_url: str) -> None:
    result = probe_http(app_url + "/loop-a")
    assert result.failed_stage == Stage.EXPECT
    a, b = app_url + "/loop-a", app_url + "/loop-b"
    assert result.diagnosis.startswith(f"redirect loop: {a} -> {b} -> {a}")
    assert "too many" not in result.diagnosis
    self_loop = probe_http(app_url + "/self")
    assert self_loop.failed_stage == Stage.EXPECT
    assert f"redirect loop: {app_url}/self -> {app_url}/self" in self_loop.diagnosis
    assert "redirects back to itself" in self_loop.diagnosis


def test_a_long_chain_is_too_many_redirects_and_a_short_one_passes(app_url: str) -> None:
    long = probe_http(app_url + "/chain/3", max_redirects=2)
    assert long.failed_stage == Stage.EXPECT
    assert long.diagnosis.startswith("too many redirects: 2 followed (--max-redirects 2)")
    assert "loop" in long.diagnosis and "not a loop" in long.diagnosis
    assert probe_http(app_url + "/chain/1", max_redirects=2).ok


def test_post_redirect_get_to_the_same_url_is_not_a_loop(app_url: str) -> None:
    result = probe_http(app_url + "/form", method="POST", data={"x": 1})
    assert result.ok, result.diagnosis
    hops = result.stage(Stage.FIRST_BYTE).detail["redirects"]
    assert [h["status"] for h in hops] == [303]


NOW = datetime.now(UTC)
SELF = "self-signed (issuer = subject = CN=localhost, O=whyloop test) and not trusted"
#: name -> (certificate options, the problems the diagnosis lists, phrases it must not hold)
CERTS = {
    "self-signed": ({}, [SELF], ["expired", "not yet valid", "not issued for", "unknown issuer"]),
    "expired": ({"not_before": NOW - timedelta(days=400), "not_after": NOW - timedelta(days=35)},
                [SELF, f"expired: notAfter {NOW - timedelta(days=35):%Y-%m-%d}"],
                ["not yet valid", "not issued for"]),
    "not-yet-valid": ({"not_before": NOW + timedelta(days=3)},
                      [SELF, f"not yet valid: notBefore {NOW + timedelta(days=3):%Y-%m-%d}"],
                      ["expired", "not issued for"]),
    "wrong-name": ({"names": ("DNS:api.example", "DNS:www.api.example")},
                   [SELF, "not issued for 127.0.0.1: it names DNS:api.example, DNS:www.api.example"],
                   ["expired", "not yet valid"]),
    "unknown-ca": ({"ca": True},
                   ["issued by CN=whyloop throwaway CA, a CA this client does not trust"],
                   ["self-signed", "expired", "not yet valid", "not issued for"]),
    "everything": ({"ca": True, "names": ("DNS:api.example",), "not_after": NOW - timedelta(days=2),
                    "not_before": NOW - timedelta(days=20)},
                   ["(unknown issuer)", "not issued for 127.0.0.1: it names DNS:api.example",
                    f"expired: notAfter {NOW - timedelta(days=2):%Y-%m-%d}"],
                   ["self-signed", "not yet valid"]),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(CERTS))
def test_a_refused_certificate_reports_every_problem(tmp_path: Path, kind: str) -> None:
    options, problems, absent = CERTS[kind]
    if options.pop("ca", False):
        options = {**options, "ca": throwaway_ca(tmp_path / "ca")}
    with serve_app(local_app(), tls=certificate(tmp_path, **options)) as url:
        result = probe_http(url + "/ok", timeout=5 * TIMEOUT_SCALE)
        insecure = probe_http(url + "/ok", timeout=5 * TIMEOUT_SCALE, insecure=True)
    assert result.failed_stage == Stage.TLS
    tls = result.stage(Stage.TLS)
    assert tls is not None and tls.detail["read_unverified"] is True
    listed = tls.detail["problems"]
    assert len(listed) == len(problems), listed  # one each, none invented
    for want, got in zip(problems, listed, strict=True):
        assert want in got and got in result.diagnosis, (want, got)
    for phrase in absent:
        assert phrase not in result.diagnosis, (phrase, result.diagnosis)
    assert insecure.ok, insecure.diagnosis  # --insecure looks past it, and still says what it saw


def test_with_a_trusted_issuer_only_the_name_and_dates_are_blamed(tmp_path: Path) -> None:
    """A client trusting the CA: OpenSSL's first complaint is the name, and the dates are read."""
    ca = throwaway_ca(tmp_path / "ca")
    cert = certificate(
        tmp_path,
        names=("DNS:api.example",),
        not_before=NOW - timedelta(days=20),
        not_after=NOW - timedelta(days=2),
        ca=ca,
    )
    trusting = ssl.create_default_context(cafile=str(ca[0]))
    with serve_app(local_app(), tls=cert) as url:
        result = probe_http(
            url + "/ok",
            timeout=5 * TIMEOUT_SCALE,
            transport=httpx.AsyncHTTPTransport(verify=trusting),
        )
    assert result.failed_stage == Stage.TLS
    assert result.stage(Stage.TLS).detail["verify_code"] == 64  # IP address mismatch
    assert "not issued for 127.0.0.1: it names DNS:api.example" in result.diagnosis
    assert "expired: notAfter" in result.diagnosis
    assert "not trusted" not in result.diagnosis and "unknown issuer" not in result.diagnosis
