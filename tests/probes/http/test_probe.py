"""The HTTP probe against real servers: the sandbox, a local app with CORS/redirects, TLS."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import TIMEOUT_SCALE, free_port
from tests.support.sandbox import sandbox as _sandbox
from tests.support.servers import ALLOWED_ORIGIN, local_app, self_signed, serve_app
from whyloop.errors import ProbeError
from whyloop.probes.hosts import AllowList
from whyloop.probes.http.probe import probe_http
from whyloop.results import Stage
from whyloop.sandbox import Sandbox


def sandbox(state_dir, faults=()):
    # a 2 s rate window, so that Retry-After waits stay short
    return _sandbox(state_dir, faults, rate_window_s=2.0)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with sandbox(tmp_path_factory.mktemp("http-sandbox")) as running:
        yield running


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with serve_app(local_app()) as url:
        yield url


def test_health_ok_with_expected_json(box: Sandbox) -> None:
    result = probe_http(box.backend_url + "/health", expect_json=["status=ok"], expect_status=200)
    assert result.ok, result.diagnosis
    names = [s.name for s in result.stages]
    assert names == [
        Stage.DNS,
        Stage.TCP,
        Stage.REQUEST,
        Stage.FIRST_BYTE,
        Stage.BODY,
        Stage.EXPECT,
    ]
    assert all(s.ms is not None for s in result.stages if s.name != Stage.EXPECT)
    first_byte = result.stage(Stage.FIRST_BYTE)
    assert first_byte is not None and first_byte.detail["status"] == 200
    assert first_byte.detail["headers"]["content-type"] == "application/json"


def test_expect_status_mismatch_fails_at_expect(box: Sandbox) -> None:
    result = probe_http(box.backend_url + "/health", expect_status=204)
    assert result.failed_stage == Stage.EXPECT
    assert "expected status 204, got 200" in result.diagnosis
    assert result.to_dict()["failed_stage"] == "expect"


def test_unauthenticated_api_call_shows_the_401(box: Sandbox) -> None:
    result = probe_http(box.backend_url + "/api/me")
    assert result.failed_stage == Stage.EXPECT
    assert "401" in result.diagnosis
    assert any("www-authenticate: Bearer" in e for e in result.evidence)


def test_closed_port_fails_at_tcp_with_a_diagnosis() -> None:
    port = free_port()
    start = time.monotonic()
    result = probe_http(f"http://127.0.0.1:{port}/health", timeout=2 * TIMEOUT_SCALE)
    assert time.monotonic() - start < 5 * TIMEOUT_SCALE
    assert result.failed_stage == Stage.TCP
    assert f"127.0.0.1:{port}" in result.diagnosis and "refused" in result.diagnosis


def test_cors_preflight_against_the_sandbox_reports_no_cors(box: Sandbox) -> None:
    result = probe_http(box.backend_url + "/health", origin="http://localhost:3000")
    assert result.failed_stage == Stage.CORS
    cors = result.stage(Stage.CORS)
    assert cors is not None and cors.detail["preflight_status"] == 405
    assert cors.detail["origin_allowed"] is False
    assert "no CORS handling" in result.diagnosis


def test_cors_preflight_allowed_and_refused_origins(app_url: str) -> None:
    ok = probe_http(app_url + "/ok", origin=ALLOWED_ORIGIN, method="GET")
    cors = ok.stage(Stage.CORS)
    assert ok.ok, ok.diagnosis
    assert cors is not None and cors.detail["allow_origin"] == ALLOWED_ORIGIN
    assert cors.detail["allow_credentials"] is True and "GET" in cors.detail["allow_methods"]
    refused = probe_http(app_url + "/ok", origin="http://evil.example")
    assert refused.failed_stage == Stage.CORS
    assert "'http://evil.example' is not in the server's CORS allow list" in refused.diagnosis


def test_redirect_chain_is_recorded(app_url: str) -> None:
    result = probe_http(app_url + "/redirect", expect_json={"nested.items.1.name": "x"})
    assert result.ok, result.diagnosis
    hops = result.stage(Stage.FIRST_BYTE).detail["redirects"]
    assert [h["status"] for h in hops] == [301, 302]
    assert hops[-1]["location"].endswith("/ok")


def test_redirect_to_a_host_not_allowed_is_refused(app_url: str) -> None:
    with pytest.raises(
        ProbeError, match=re.escape("redirect host 'elsewhere.example' is not in the allow")
    ):
        probe_http(app_url + "/away")


def test_target_outside_the_allow_list_is_refused() -> None:
    with pytest.raises(ProbeError, match=re.escape("host 'example.org'")):
        probe_http("http://example.org/", allow=AllowList.of(["127.0.0.1"]))


def test_slow_endpoint_is_reported_not_hung(app_url: str) -> None:
    start = time.monotonic()
    result = probe_http(app_url + "/slow", timeout=0.3 * TIMEOUT_SCALE)
    assert time.monotonic() - start < 2 * TIMEOUT_SCALE
    assert result.failed_stage == Stage.FIRST_BYTE
    assert "no response headers" in result.diagnosis


def test_expect_json_on_a_text_body(app_url: str) -> None:
    result = probe_http(app_url + "/text", expect_json=["status=ok"])
    assert result.failed_stage == Stage.EXPECT
    assert "not JSON" in result.diagnosis


def test_tls_details_and_untrusted_certificate(tmp_path: Path) -> None:
    with serve_app(local_app(), tls=self_signed(tmp_path)) as url:
        strict = probe_http(url + "/ok")
        assert strict.failed_stage == Stage.TLS
        assert "not trusted" in strict.diagnosis
        loose = probe_http(url + "/ok", insecure=True)
    assert loose.ok, loose.diagnosis
    tls = loose.stage(Stage.TLS)
    assert tls is not None and tls.ms is not None
    assert tls.detail["version"].startswith("TLS")
    assert "whyloop test" in tls.detail["subject"]
    assert 0 < tls.detail["days_left"] <= 30


def test_sync_call_works_inside_a_running_loop(app_url: str) -> None:
    """As in a notebook cell: a loop is running, the sync wrapper still answers."""

    async def cell() -> bool:
        return probe_http(app_url + "/ok").ok

    assert asyncio.run(cell())
