"""Option checking and per-method plans of the WebSocket probe (no network)."""

from __future__ import annotations

import re

import pytest

from whyloop.errors import ProbeError
from whyloop.probes.websocket import DEFAULT_SEND, _options, probe_many
from whyloop.probes.ws_observations import AuthMethod

TOKEN = "abcdefghijklmnopqrstuvwxyz"


def test_plans_send_the_token_one_way_each():
    opts = _options("ws://h:81/ws?x=1", token=TOKEN, headers=["Authorization: Basic old", "X-A: 1"])
    header = opts.plan(AuthMethod.HEADER)
    assert header.headers == (("X-A", "1"), ("Authorization", f"Bearer {TOKEN}"))
    assert header.subprotocols == () and header.connect_url == "ws://h:81/ws?x=1"
    sub = opts.plan(AuthMethod.SUBPROTOCOL)
    assert (
        sub.subprotocols == (f"jwt.{TOKEN}",)
        and ("Authorization", f"Bearer {TOKEN}") not in sub.headers
    )
    assert opts.plan(AuthMethod.QUERY).connect_url == f"ws://h:81/ws?x=1&token={TOKEN}"
    none = opts.plan(AuthMethod.NONE)
    assert none.connect_url == "ws://h:81/ws?x=1" and none.subprotocols == ()
    assert (header.port, header.host, header.secure, header.send) == (81, "h", False, DEFAULT_SEND)


def test_subprotocol_format_and_defaults():
    opts = _options("wss://h/ws", token=TOKEN, subprotocol_format="bearer, {token}")
    assert opts.plan(AuthMethod.SUBPROTOCOL).subprotocols == ("bearer", TOKEN)
    assert opts.port == 443 and opts.secure
    assert _options("ws://h/ws", expect_first="NONE").expect_first is None
    assert _options("ws://h/ws", send={"type": "x"}).send == '{"type": "x"}'
    assert _options("ws://[::1]:9/ws").host == "::1"


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("https://h/ws", {}, "use wss://"),
        ("ftp://h/ws", {}, "must start with ws:// or wss://"),
        ("ws://h:99999/ws", {}, "not a valid WebSocket URL"),
        ("ws:///ws", {}, "hostname isn't provided"),
        ("ws://h/ws", {"auth": "header"}, "needs a token"),
        ("ws://h/ws", {"auth": "cookie"}, "--auth must be one of"),
        ("ws://h/ws", {"timeout": -1}, "--timeout"),
        ("ws://h/ws", {"headers": ["Origin: x"]}, "use --origin"),
        ("ws://h/ws", {"headers": {"Bad Name": "x"}}, "not a valid HTTP header name"),
        ("ws://h/ws", {"headers": {"X": "a\r\nb"}}, "line break"),
        ("ws://h/ws", {"send": "{"}, "not valid JSON"),
        ("ws://h/ws", {"token": "t", "subprotocol_format": "jwt"}, "must contain {token}"),
        ("ws://h/ws", {"token": "t", "subprotocol_format": "a b.{token}"}, "not an HTTP token"),
    ],
)
def test_bad_options_raise_probe_error(url, options, message):
    with pytest.raises(ProbeError, match=re.escape(message)):
        _options(url, **options)


def test_probe_many_checks_every_target_before_starting():
    import asyncio

    with pytest.raises(ProbeError, match="has no 'url'"):
        asyncio.run(probe_many([{"token": TOKEN}]))
    with pytest.raises(ProbeError, match="concurrency"):
        asyncio.run(probe_many(["ws://h/ws"], concurrency=0))
