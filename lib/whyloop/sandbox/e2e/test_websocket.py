"""WebSocket: connecting three ways, refusing bad credentials, and streaming a message."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import ClientConnection

from whyloop.sandbox.e2e._support import (
    AGENT_EVENTS,
    AGENT_TIMEOUT_S,
    BROWSER_ORIGIN,
    WELCOME_TIMEOUT_S,
    connect_as_browser,
    refusal,
    wait_for,
    ws_connect,
)

pytestmark = [pytest.mark.category("WebSocket"), pytest.mark.priority(1)]


def _check_welcome(ws: ClientConnection, username: str) -> None:
    welcome, _ = wait_for(ws, "connection_established", WELCOME_TIMEOUT_S)
    assert welcome.get("user") == username, (
        f"welcome names {welcome.get('user')!r}, not {username!r}"
    )
    assert welcome.get("connection_id"), "welcome has no connection_id"
    ws.send(json.dumps({"type": "ping"}))
    wait_for(ws, "pong", WELCOME_TIMEOUT_S)


def test_websocket_connection_header_auth(targets, new_user) -> None:
    """A client sending the JWT in the Authorization header is welcomed."""
    user = new_user()
    with ws_connect(targets, user, via="header") as ws:
        _check_welcome(ws, user.username)


def test_websocket_connection_subprotocol_auth(targets, new_user) -> None:
    """A client sending the JWT as a jwt.<token> subprotocol gets it echoed and is welcomed."""
    user = new_user()
    with connect_as_browser(targets, user, origin=None) as ws:
        _check_welcome(ws, user.username)


def test_websocket_connection_browser_origin(targets, new_user) -> None:
    """A browser (Origin header, subprotocol token, strict echo check) is welcomed."""
    user = new_user()
    with connect_as_browser(targets, user, origin=BROWSER_ORIGIN) as ws:
        _check_welcome(ws, user.username)


def test_websocket_authentication(targets, new_user) -> None:
    """No token, a malformed token and a forged token are all refused (HTTP 401/403 or close 1008)."""
    user = new_user()
    head, payload, _sig = user.access_token.split(".")
    cases = {
        "no token": {"token": None},
        "malformed token": {"token": "not-a-jwt"},
        "forged signature": {"token": f"{head}.{payload}.{'A' * 43}"},
    }
    for what, kwargs in cases.items():
        how = refusal(targets, via="header", **kwargs)
        assert how in ("http 401", "http 403", "close 1008"), f"{what}: refused as {how}"


def test_websocket_message_send(targets, new_user) -> None:
    """A user_message streams the agent's events, in order, ending in agent_completed."""
    user = new_user()
    with ws_connect(targets, user, via="header") as ws:
        ws.send(json.dumps({"type": "user_message", "content": "How do rate limits work?"}))
        done, before = wait_for(ws, "agent_completed", AGENT_TIMEOUT_S)
    kinds = [m["type"] for m in before if m.get("type") in AGENT_EVENTS] + ["agent_completed"]
    assert kinds == list(AGENT_EVENTS), f"events arrived as {kinds}"
    run_ids = {m.get("run_id") for m in before if m.get("type") in AGENT_EVENTS} | {
        done.get("run_id")
    }
    assert len(run_ids) == 1 and None not in run_ids, f"events carry run ids {run_ids}"
    assert done.get("output"), "agent_completed has no output"
