"""The WebSocket probe against the real sandbox, each fault, a closed port, DNS and plain HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.probes.ws.claims import assert_no_contradiction
from tests.support import free_port
from tests.support.sandbox import OK_S, STAGE_S, login, sandbox
from tests.support.servers import plain_http_server
from whyloop.probes.ws.probe import probe_websocket, probe_ws
from whyloop.results import Stage
from whyloop.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


def no_secret(result, token: str) -> dict:
    """The result's dict, checked: no token in it, no claim its evidence contradicts."""
    data = assert_no_contradiction(result, token)
    assert token[:20] not in json.dumps(data), "a token prefix leaked into the result"
    return data


def matrix(result) -> dict[str, bool]:
    return {row.method: row.accepted for row in result.auth_matrix}


def test_no_fault_every_stage_passes_and_the_matrix_says_header_and_subprotocol(box):
    token = login(box)
    result = probe_ws(box.ws_url, token=token, auth="auto", timeout=OK_S)
    assert result.ok, result.diagnosis
    assert [s.name.value for s in result.stages] == [
        "dns", "tcp", "upgrade", "subprotocol", "auth", "welcome", "echo", "close"
    ]  # fmt: skip
    assert all(s.ok and (s.ms is None or s.ms >= 0) for s in result.stages)
    assert matrix(result) == {"none": False, "header": True, "subprotocol": True, "query": False}
    none = result.auth_matrix[0]
    assert none.status == 401
    assert result.stage(Stage.CLOSE).detail["close_code"] == 1000
    no_secret(result, token)


def test_subprotocol_auth_passes_and_is_echoed(box):
    token = login(box)
    result = probe_ws(box.ws_url, token=token, auth="subprotocol", timeout=OK_S)
    assert result.ok, result.diagnosis
    detail = result.stage(Stage.SUBPROTOCOL).detail
    assert detail["selected"] == detail["offered"][0] and detail["selected"].startswith("jwt.")
    data = no_secret(result, token)
    shown = detail["offered"][0]
    assert f"subprotocol: offered {shown}, selected {shown}" in data["evidence"]


def test_no_token_is_refused_at_auth(box):
    result = probe_ws(box.ws_url, timeout=OK_S)
    assert result.failed_stage is Stage.AUTH
    assert "none was sent" in result.diagnosis
    assert_no_contradiction(result)


def test_wrong_path_answers_403(box):
    result = probe_ws(
        box.ws_url.replace("/ws", "/health"), token=login(box), auth="header", timeout=OK_S
    )
    # uvicorn answers 403 to a WebSocket upgrade on a path that has no WebSocket route
    assert result.failed_stage is Stage.UPGRADE
    assert result.stage(Stage.UPGRADE).detail["status"] == 403
    assert "no WebSocket route" in result.diagnosis
    assert "plain HTTP route" in result.diagnosis  # a plain GET on /health got 200
    assert_no_contradiction(result)


def test_ws_no_welcome(tmp_path: Path):
    with sandbox(tmp_path, ("ws-no-welcome",)) as running:
        token = login(running)
        result = probe_ws(running.ws_url, token=token, auth="subprotocol", timeout=STAGE_S)
    assert result.failed_stage is Stage.WELCOME
    assert f"no first message arrived within {STAGE_S:g} s" in result.diagnosis
    assert "never sends connection_established" in result.diagnosis
    assert "echoed the offered subprotocol" in result.diagnosis
    assert f"welcome: no message within {STAGE_S:.1f} s" in result.evidence
    no_secret(result, token)


def test_ws_subprotocol_not_echoed(tmp_path: Path):
    with sandbox(tmp_path, ("ws-subprotocol-not-echoed",)) as running:
        token = login(running)
        result = probe_ws(running.ws_url, token=token, auth="subprotocol", timeout=OK_S)
        header = probe_ws(running.ws_url, token=token, auth="header", timeout=OK_S)
    assert result.failed_stage is Stage.SUBPROTOCOL
    assert "did not echo the offered subprotocol" in result.diagnosis
    assert "browsers drop" in result.diagnosis
    data = no_secret(result, token)
    shown = result.stage(Stage.SUBPROTOCOL).detail["offered"][0]
    assert (
        shown.startswith("jwt.")
        and f"subprotocol: offered {shown}, selected none" in data["evidence"]
    )
    assert header.ok, header.diagnosis  # no subprotocol offered, nothing to echo


def test_ws_header_auth_only(tmp_path: Path):
    with sandbox(tmp_path, ("ws-header-auth-only",)) as running:
        token = login(running)
        result = probe_ws(running.ws_url, token=token, auth="subprotocol", timeout=OK_S)
        auto = probe_ws(running.ws_url, token=token, auth="auto", timeout=OK_S)
    assert result.failed_stage is Stage.AUTH
    assert result.stage(Stage.UPGRADE).detail["status"] == 401
    assert "does not read credentials from there" in result.diagnosis
    # one command answers "is it the header or the subprotocol?"
    assert auto.ok, auto.diagnosis
    assert matrix(auto) == {"none": False, "header": True, "subprotocol": False, "query": False}
    assert next(r for r in auto.auth_matrix if r.method == "subprotocol").status == 401
    assert "refuses it as a subprotocol (HTTP 401)" in auto.diagnosis
    no_secret(auto, token)


def test_ws_reject_origin(tmp_path: Path):
    with sandbox(tmp_path, ("ws-reject-origin",)) as running:
        token = login(running)
        result = probe_ws(
            running.ws_url,
            token=token,
            auth="header",
            origin="https://app.example",
            timeout=OK_S,
        )
        without = probe_ws(running.ws_url, token=token, auth="header", timeout=OK_S)
    assert result.failed_stage is Stage.UPGRADE
    assert result.stage(Stage.UPGRADE).detail["status"] == 403
    assert (
        "Origin: https://app.example" in result.diagnosis
        and "refuses this origin" in result.diagnosis
    )
    assert without.ok, without.diagnosis
    assert_no_contradiction(result, token)
    assert_no_contradiction(without, token)


def test_jwt_audience_mismatch(tmp_path: Path):
    with sandbox(tmp_path, ("jwt-audience-mismatch",)) as running:
        token = login(running)
        result = probe_ws(running.ws_url, token=token, auth="auto", timeout=OK_S)
    assert result.failed_stage is Stage.AUTH
    auth = result.stage(Stage.AUTH)
    assert auth.detail["close_code"] == 1008 and auth.detail["close_reason"] == "invalid audience"
    assert "another audience" in result.diagnosis
    assert not any(row.accepted for row in result.auth_matrix)
    no_secret(result, token)


def test_nothing_listening_is_a_tcp_failure():
    result = probe_ws(f"ws://127.0.0.1:{free_port()}/ws", timeout=OK_S)
    assert result.failed_stage is Stage.TCP
    assert "connection refused" in result.diagnosis
    assert result.auth_matrix is None  # no token: nothing to compare
    assert_no_contradiction(result)


def test_unresolvable_host_is_a_dns_failure():
    # .invalid never resolves (RFC 6761): the local resolver says so, no probe traffic leaves
    result = probe_ws("ws://nonexistent.invalid/ws", timeout=OK_S)
    assert result.failed_stage is Stage.DNS
    assert [s.name for s in result.stages] == [Stage.DNS]
    assert "nonexistent.invalid" in result.diagnosis
    assert_no_contradiction(result)


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.1"])
def test_plain_http_server_answers_200(version):
    with plain_http_server(version) as base:
        result = probe_ws(base.replace("http://", "ws://") + "/ws", timeout=OK_S)
    assert result.failed_stage is Stage.UPGRADE
    assert result.stage(Stage.UPGRADE).detail["status"] == 200
    assert "HTTP 200 instead of 101" in result.diagnosis
    assert "not a WebSocket endpoint" in result.diagnosis and "'Welcome'" in result.diagnosis
    assert_no_contradiction(result)


def test_probe_websocket_is_awaitable_and_probe_ws_works_in_a_running_loop(box):
    token = login(box)

    async def in_a_notebook():
        # a Jupyter cell runs inside an event loop: the blocking call works there too
        blocking = probe_ws(box.ws_url, token=token, auth="header", timeout=OK_S)
        awaited = await probe_websocket(box.ws_url, token=token, auth="header", timeout=OK_S)
        return blocking, awaited

    blocking, awaited = asyncio.run(in_a_notebook())
    assert blocking.ok and awaited.ok, (blocking.diagnosis, awaited.diagnosis)
