"""Misbehaving servers the sandbox cannot play: silent, hanging up, garbage, no echo, bad close.

Each server is an asyncio server on 127.0.0.1:0 started in the same loop as
the probe and closed when the test's coroutine ends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.probes.ws.claims import assert_no_contradiction
from tests.support import TIMEOUT_SCALE
from tests.support.sandbox import OK_S
from whyloop.probes.ws.observations import AuthMethod, EventKind
from whyloop.probes.ws.options import WsOptions
from whyloop.probes.ws.probe import probe_websocket
from whyloop.probes.ws.recorder import record
from whyloop.results import ProbeResult, Stage

pytestmark = pytest.mark.timeout(60)
SHORT = 0.5 * TIMEOUT_SCALE
WELCOME = json.dumps({"type": "connection_established"})


def raw_server(answer: bytes | None, *, close: bool) -> Callable[[], Awaitable[asyncio.Server]]:
    """A TCP server that reads the request, writes ``answer`` (if any), then closes or idles."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        if answer:
            writer.write(answer)
            await writer.drain()
        if not close:
            await reader.read()  # until the probe hangs up
        writer.close()

    return lambda: asyncio.start_server(handle, "127.0.0.1", 0)


def probe_raw(answer: bytes | None, *, close: bool, **options: Any) -> ProbeResult:
    async def go() -> ProbeResult:
        server = await raw_server(answer, close=close)()
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await probe_websocket(f"ws://127.0.0.1:{port}/ws", timeout=SHORT, **options)

    return checked(asyncio.run(go()))


def checked(result: ProbeResult) -> ProbeResult:
    """``result``, once its diagnosis is checked against its evidence."""
    assert_no_contradiction(result)
    return result


def probe_ws_server(
    handler: Callable[[ServerConnection], Awaitable[None]], **options: Any
) -> ProbeResult:
    options.setdefault("timeout", SHORT)

    async def go() -> ProbeResult:
        async with serve(handler, "127.0.0.1", 0, **options.pop("server", {})) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            return await probe_websocket(f"ws://127.0.0.1:{port}/ws", **options)

    return checked(asyncio.run(go()))


def test_silent_server_times_out_the_upgrade():
    result = probe_raw(None, close=False)
    assert result.failed_stage is Stage.UPGRADE
    assert "no answer to the upgrade request arrived within" in result.diagnosis


def test_hang_up_without_answer():
    result = probe_raw(None, close=True)
    assert result.failed_stage is Stage.UPGRADE
    assert "closed the connection without answering" in result.diagnosis


def test_another_protocol_on_the_port():
    result = probe_raw(b"SSH-2.0-OpenSSH_9.2\r\n", close=True)
    assert result.failed_stage is Stage.UPGRADE
    assert "not valid HTTP" in result.diagnosis
    assert "SSH-2.0" in result.stages[-1].detail["received"]


def test_proxy_html_error_page():
    page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    answer = (
        b"HTTP/1.1 502 Bad Gateway\r\nServer: nginx\r\nContent-Type: text/html\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(page), page)
    )
    result = probe_raw(answer, close=True)
    assert result.failed_stage is Stage.UPGRADE
    assert "nginx answered HTTP 502" in result.diagnosis and "'502 Bad Gateway'" in result.diagnosis
    assert "could not get an answer from the backend" in result.diagnosis


def test_no_reply_to_the_echo():
    async def handler(ws: ServerConnection) -> None:
        await ws.send(WELCOME)
        await ws.wait_closed()  # never answers; returns when the probe hangs up

    result = probe_ws_server(handler)
    assert result.failed_stage is Stage.ECHO
    assert "sent no reply within" in result.diagnosis


def test_close_1011_on_the_echo():
    async def handler(ws: ServerConnection) -> None:
        await ws.send(WELCOME)
        await ws.recv()
        await ws.close(1011, "boom")

    result = probe_ws_server(handler)
    assert result.failed_stage is Stage.ECHO
    assert "1011 (internal error)" in result.diagnosis
    assert result.stages[-1].detail["close_reason"] == "boom"


def test_expect_none_and_a_custom_send():
    async def handler(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(json.dumps({"type": "echo", "got": json.loads(message)}))

    result = probe_ws_server(handler, expect_first="none", send={"type": "hello"}, timeout=OK_S)
    assert result.ok, result.diagnosis
    assert Stage.WELCOME not in [s.name for s in result.stages]
    assert result.stage(Stage.ECHO).detail["reply_type"] == "echo"


def test_fragmented_and_binary_messages_are_assembled():
    async def handler(ws: ServerConnection) -> None:
        await ws.send(iter(['{"type": "connection', '_established"}']))
        await ws.recv()
        await ws.send(b"\x00\x01")

    result = probe_ws_server(handler, timeout=OK_S)
    assert result.ok, result.diagnosis
    assert result.stage(Stage.ECHO).detail["reply"] == "<2 bytes of binary>"


def test_server_selecting_an_unoffered_subprotocol():
    async def handler(ws: ServerConnection) -> None:
        await ws.send(WELCOME)

    result = probe_ws_server(
        handler,
        token="opaque-token-1234567890",
        auth="subprotocol",
        server={"select_subprotocol": lambda _conn, _offered: "chat.v2"},
    )
    assert result.failed_stage is Stage.SUBPROTOCOL
    assert "chat.v2" in result.diagnosis and "not offered" in result.diagnosis
    assert "opaque-token-1234567890" not in json.dumps(result.to_dict())


def test_the_overall_cap_cuts_a_stage_short():
    async def go():
        server = await raw_server(None, close=False)()
        port = server.sockets[0].getsockname()[1]
        async with server:
            opts = WsOptions(url=f"ws://127.0.0.1:{port}/ws", timeout=5.0)
            plan = opts.plan(AuthMethod.NONE)
            plan = type(plan)(**{**plan.__dict__, "total_s": SHORT})
            return await record(plan)

    obs = asyncio.run(go())
    assert obs.upgrade is not None and obs.upgrade.error == "overall cap"
    assert "exceeded" in obs.capped and obs.first is None


def test_auth_only_attempt_stops_after_the_grace_window():
    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()  # never answers; returns when the probe hangs up

    async def go():
        async with serve(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            opts = WsOptions(
                url=f"ws://127.0.0.1:{port}/ws", timeout=SHORT, token="t" * 20, auth="auto"
            )
            return await record(opts.plan(AuthMethod.HEADER, auth_only=True))

    obs = asyncio.run(go())
    assert obs.status == 101 and obs.first is not None and obs.first.kind is EventKind.TIMEOUT
    assert obs.reply is None and obs.closing is None


def test_a_greeting_before_the_send_is_recorded_unsolicited_and_skipped_by_expect_reply():
    async def handler(ws: ServerConnection) -> None:
        await ws.send("hello from the server")
        async for message in ws:
            await ws.send(message)

    result = probe_ws_server(
        handler, expect_first="none", send="x", expect_reply="re:^x$", timeout=OK_S
    )
    assert result.ok, result.diagnosis
    assert result.stage(Stage.ECHO).detail["reply"] == "x"
    assert any("(unsolicited, not taken as a reply)" in e for e in result.evidence)


def test_client_first_waits_for_the_answer_to_each_message_in_turn():
    async def handler(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(json.dumps({"type": "ack" if message == "init" else "result"}))

    result = probe_ws_server(
        handler, client_first=True, send=["init", "go"], expect_reply="result", timeout=OK_S
    )
    assert result.ok, result.diagnosis
    assert "echo: sent init, got ack" in " ".join(result.evidence)
    assert result.stage(Stage.ECHO).detail["reply_type"] == "result"


def test_binary_frames_are_sent_and_echoed():
    async def handler(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    result = probe_ws_server(
        handler, client_first=True, send_binary="00ff", expect_reply="re:^00ff$", timeout=OK_S
    )
    assert result.ok, result.diagnosis
    assert result.stage(Stage.ECHO).detail["reply"] == "<2 bytes of binary>"


def test_a_close_the_server_starts_is_told_apart():
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send("done")
        await ws.close(1000, "bye")

    result = probe_ws_server(handler, client_first=True, send="x", timeout=OK_S)
    assert result.ok, result.diagnosis
    close = result.stage(Stage.CLOSE)
    assert (
        close.detail["by_server"] is True and "the server closed first" in close.detail["summary"]
    )


def test_an_unanswered_first_message_stops_the_exchange():
    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    result = probe_ws_server(handler, client_first=True, send=["a", "b"])
    assert result.failed_stage is Stage.ECHO
    assert "sent no reply" in result.diagnosis and "took a" in result.diagnosis
    assert result.stage(Stage.ECHO).detail["message"] == 1


def test_a_refusal_close_right_after_accept_is_auth_with_and_without_a_welcome():
    async def handler(ws: ServerConnection) -> None:
        await ws.close(4401, "unauthorized")

    for expect in ("connection_established", "none"):
        result = probe_ws_server(handler, expect_first=expect, timeout=OK_S)
        assert result.failed_stage is Stage.AUTH, result.diagnosis
        assert "4401" in result.diagnosis and "unauthorized" in result.diagnosis


@pytest.mark.parametrize("offered", [[], ["superchat"]])
def test_a_400_naming_the_subprotocol_is_a_negotiation_failure(offered):
    async def handler(ws: ServerConnection) -> None:
        await ws.send(WELCOME)

    result = probe_ws_server(handler, subprotocols=offered, server={"subprotocols": ["chat"]})
    assert result.failed_stage is Stage.SUBPROTOCOL, result.diagnosis
    assert result.stage(Stage.UPGRADE).detail["status"] == 400
    assert "naming the subprotocol" in result.diagnosis and "--subprotocol" in result.diagnosis
