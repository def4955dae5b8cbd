"""Option checking and per-method plans of the WebSocket probe (no network)."""

from __future__ import annotations

import re

import pytest

from whyloop.errors import ProbeError
from whyloop.probes.ws.options import DEFAULT_SEND, AuthMethod, AuthMode, WsOptions
from whyloop.probes.ws.probe import probe_many


def _options(url, **options):
    return WsOptions(url=url, **options)


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
        ("ws://h/ws", {"auth": "header"}, "token is required for auth header"),
        ("ws://h/ws", {"auth": "cookie"}, "auth must be one of"),
        ("ws://h/ws", {"timeout": -1}, "timeout must be between"),
        ("ws://h/ws", {"headers": ["Origin: x"]}, "use the origin option"),
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


def test_options_are_one_public_dataclass_with_documented_defaults():
    opts = WsOptions(url="ws://h/ws")
    assert opts.auth is AuthMode.AUTO and opts.timeout == 10.0 and opts.send == DEFAULT_SEND
    assert WsOptions(url="ws://h/ws", auth="header", token="t").auth is AuthMode.HEADER
    for name in ("url", "token", "auth", "origin", "headers", "expect_first", "send", "timeout"):
        assert name in WsOptions.__doc__


@pytest.mark.parametrize(
    ("options", "param"),
    [({"timeout": 0}, "timeout"), ({"auth": "cookie"}, "auth"), ({"send": "{"}, "send")],
)
def test_option_errors_name_the_parameter_not_a_flag(options, param):
    with pytest.raises(ProbeError) as err:
        WsOptions(url="ws://h/ws", **options)
    assert err.value.param == param and "--" not in str(err.value)
