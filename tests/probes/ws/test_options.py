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
    assert (header.port, header.host, header.secure) == (81, "h", False)
    assert header.messages == (DEFAULT_SEND,)


def test_subprotocol_format_and_defaults():
    opts = _options("wss://h/ws", token=TOKEN, subprotocol_format="bearer, {token}")
    assert opts.plan(AuthMethod.SUBPROTOCOL).subprotocols == ("bearer", TOKEN)
    assert opts.port == 443 and opts.secure
    assert _options("ws://h/ws", expect_first="NONE").expect_first is None
    assert _options("ws://h/ws", send={"type": "x"}).messages == ('{"type": "x"}',)
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
        ("ws://h/ws", {"send": "{token}"}, "send uses {token} but no token was given"),
        ("ws://h/ws", {"send_binary": "zz"}, "not hexadecimal"),
        ("ws://h/ws", {"cookies": ["sid"]}, "not of the form NAME=VALUE"),
        ("ws://h/ws", {"cookies": {"sid": "a b"}}, "a character a cookie cannot carry"),
        ("ws://h/ws", {"subprotocols": ["graphql ws"]}, "not a valid subprotocol name"),
        ("ws://h/ws", {"expect_reply": "re:("}, "not a valid regular expression"),
        ("ws://h/ws", {"reject": ["ok", "re:[a"]}, "not a valid regular expression"),
        ("ws://h/ws", {"headers": ["Sec-WebSocket-Protocol: x"]}, "use the subprotocols option"),
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
    assert opts.auth is AuthMode.AUTO and opts.timeout == 10.0 and opts.messages == (DEFAULT_SEND,)
    assert WsOptions(url="ws://h/ws", auth="header", token="t").auth is AuthMode.HEADER
    for name in (
        "url", "token", "auth", "origin", "headers", "cookies", "subprotocols", "expect_first",
        "send", "send_binary", "client_first", "expect_reply", "reject", "timeout",
    ):  # fmt: skip
        assert f"``{name}``" in WsOptions.__doc__


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"timeout": 0}, "timeout"),
        ({"auth": "cookie"}, "auth"),
        ({"send": "{token}"}, "send"),
        ({"send_binary": "x"}, "send_binary"),
        ({"cookies": "x"}, "cookies"),
        ({"subprotocols": "a b"}, "subprotocols"),
        ({"expect_first": "re:("}, "expect_first"),
        ({"expect_reply": "re:("}, "expect_reply"),
        ({"reject": "re:("}, "reject"),
    ],
)
def test_option_errors_name_the_parameter_not_a_flag(options, param):
    with pytest.raises(ProbeError) as err:
        WsOptions(url="ws://h/ws", **options)
    assert err.value.param == param and "--" not in str(err.value)


def test_any_text_is_a_message_in_order_with_binary_frames_and_the_token_filled_in():
    opts = _options(
        "ws://h/ws",
        token=TOKEN,
        send=["40", '{"type": "connection_init", "payload": {"token": "{token}"}}', b"\x01"],
        send_binary=["0a0b", "ff"],
    )
    assert opts.messages == (
        "40",
        f'{{"type": "connection_init", "payload": {{"token": "{TOKEN}"}}}}',
        b"\x01",
        b"\n\x0b",
        b"\xff",
    )
    assert _options("ws://h/ws", send=[]).messages == ()
    assert _options("ws://h/ws", send_binary="00").messages == (b"\x00",)


def test_client_first_drops_the_default_welcome_but_not_one_given():
    assert _options("ws://h/ws", client_first=True).first_pattern is None
    given = _options("ws://h/ws", client_first=True, expect_first="connection_established")
    assert given.first_pattern is not None and given.expect_first == "connection_established"
    assert _options("ws://h/ws").expect_first == "connection_established"


def test_subprotocols_are_offered_on_every_attempt_with_the_token_one_added():
    opts = _options("ws://h/ws", token=TOKEN, subprotocols=["graphql-transport-ws"])
    for method in opts.methods():
        assert opts.plan(method).subprotocols[0] == "graphql-transport-ws"
    assert opts.plan(AuthMethod.SUBPROTOCOL).subprotocols == (
        "graphql-transport-ws",
        f"jwt.{TOKEN}",
    )


def test_auto_sends_each_credential_alone_and_says_which_were_sent():
    opts = _options(
        "ws://h/ws",
        token=TOKEN,
        cookies=["sid=abc"],
        headers=["X-Api-Key: k1", "X-Trace: 1"],
    )
    assert [m.value for m in opts.methods()] == [
        "none", "header", "subprotocol", "query", "cookie", "credential-header"
    ]  # fmt: skip
    plans = {m: opts.plan(m) for m in opts.methods()}
    for method, plan in plans.items():
        names = {k.lower() for k, _v in plan.headers}
        assert "x-trace" in names
        assert ("x-api-key" in names) is (method is AuthMethod.CREDENTIAL_HEADER)
        assert ("cookie" in names) is (method is AuthMethod.COOKIE)
        assert ("authorization" in names) is (method is AuthMethod.HEADER)
    assert plans[AuthMethod.NONE].credentials == ()
    assert [c.phrase for c in plans[AuthMethod.COOKIE].credentials] == ["cookie sid"]
    assert [c.phrase for c in plans[AuthMethod.CREDENTIAL_HEADER].credentials] == [
        "header X-Api-Key"
    ]
    # outside auto, everything given goes on the one attempt
    fixed = _options(
        "ws://h/ws", token=TOKEN, auth="query", cookies={"sid": "abc"}, headers=["X-Api-Key: k"]
    )
    kinds = sorted(c.kind.value for c in fixed.plan(AuthMethod.QUERY).credentials)
    assert kinds == ["cookie", "header", "query token"]


def test_a_cookie_header_counts_as_cookies_and_url_and_message_credentials_are_always_sent():
    opts = _options(
        "ws://h/ws?token=abc&x=1", headers=["Cookie: a=1; b=2"], send='{"apiKey": "k123456789"}'
    )
    assert opts.cookies == (("a", "1"), ("b", "2"))
    none = opts.plan(AuthMethod.NONE)
    assert {(c.kind.value, c.always) for c in none.credentials} == {
        ("URL parameter", True),
        ("message", True),
    }
