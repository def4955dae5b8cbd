"""The WebSocket probe through a real reverse proxy (nginx), with and without upgrade forwarding, and TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sandbox import OK_S, login, sandbox
from tests.support.servers import nginx, nginx_binary
from whyloop.probes.ws.probe import probe_ws
from whyloop.results import Stage
from whyloop.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    nginx_binary()  # skip the module before starting anything when nginx is absent
    with sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


def test_nginx_configured_for_websockets_passes(box: Sandbox, tmp_path: Path):
    token = login(box)
    with nginx(tmp_path, box.ports["backend"], forward_upgrade=True) as port:
        result = probe_ws(f"ws://127.0.0.1:{port}/ws", token=token, auth="auto", timeout=OK_S)
    assert result.ok, result.diagnosis
    assert result.stage(Stage.UPGRADE).detail["response_headers"]["Server"].startswith("nginx")
    assert {r.method: r.accepted for r in result.auth_matrix}["header"]


def test_nginx_without_upgrade_headers_fails_the_upgrade(box: Sandbox, tmp_path: Path):
    token = login(box)
    with nginx(tmp_path, box.ports["backend"], forward_upgrade=False) as port:
        result = probe_ws(f"ws://127.0.0.1:{port}/ws", token=token, auth="header", timeout=OK_S)
    assert result.failed_stage is Stage.UPGRADE
    upgrade = result.stage(Stage.UPGRADE)
    # nginx proxies a plain HTTP/1.0 GET /ws; the backend has no HTTP route there: 404
    assert upgrade.detail["status"] == 404
    assert upgrade.detail["response_headers"]["Server"].startswith("nginx")
    assert "nginx answered HTTP 404" in result.diagnosis
    assert "did not forward the upgrade" in result.diagnosis
    assert "proxy_set_header Upgrade" in result.diagnosis
    log = box.log_paths["backend"].read_text()
    assert '"requestUrl":"/ws","status":404' in log and '"protocol":"HTTP/1.0"' in log


def test_wss_self_signed_fails_tls_then_insecure_reports_the_certificate(
    box: Sandbox, tmp_path: Path
):
    token = login(box)
    with nginx(tmp_path, box.ports["backend"], forward_upgrade=True, tls=True) as port:
        url = f"wss://127.0.0.1:{port}/ws"
        strict = probe_ws(url, token=token, auth="header", timeout=OK_S)
        insecure = probe_ws(url, token=token, auth="header", timeout=OK_S, insecure=True)
    assert strict.failed_stage is Stage.TLS
    assert "self-signed" in strict.diagnosis and "--insecure" in strict.diagnosis
    tls = strict.stage(Stage.TLS)
    assert tls.detail["subject"] == "CN=localhost, O=whyloop test" and tls.detail["self_signed"]
    assert insecure.ok, insecure.diagnosis
    tls = insecure.stage(Stage.TLS)
    assert tls.detail["verified"] is False and tls.detail["hostname_match"] is True
    assert tls.detail["version"].startswith("TLS") and 0 < tls.detail["days_left"] <= 30
    assert any("the certificate is self-signed" in e for e in insecure.evidence)


def test_wss_to_a_plain_http_port_fails_tls(box: Sandbox):
    url = box.ws_url.replace("ws://", "wss://")
    result = probe_ws(url, token=login(box), auth="header", timeout=OK_S)
    assert result.failed_stage is Stage.TLS
    # uvicorn answers the ClientHello with HTTP 400 and hangs up: an SSL error or a reset
    assert "try ws:// instead of wss://" in result.diagnosis
