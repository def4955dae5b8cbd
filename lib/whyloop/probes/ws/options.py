"""The WebSocket probe's options, checked once, and the plan of one connection attempt.

:class:`WsOptions` is every option of :func:`~whyloop.probes.probe_websocket`
with its default, validated and normalised when built (a
:class:`~whyloop.errors.ProbeError` naming the bad parameter otherwise).
:meth:`WsOptions.plan` says what one attempt sends for one way of sending
the credential (:class:`~whyloop.probes.ws.observations.AuthMethod`); the
recorder carries a plan out. No network here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from whyloop.errors import ProbeError
from whyloop.probes.ws.observations import AuthMethod
from whyloop.redact import redact_text

__all__ = [
    "AUTH_CHOICES",
    "AUTH_GRACE_S",
    "CAP_STAGES",
    "DEFAULT_EXPECT",
    "DEFAULT_SEND",
    "AuthMethod",
    "AuthMode",
    "WsOptions",
    "WsPlan",
]

DEFAULT_SEND = '{"type": "ping"}'
DEFAULT_EXPECT = "connection_established"
#: one connection may take at most this many stage timeouts in all
CAP_STAGES = 5
#: how long an auth-matrix attempt watches the open socket for a refusal (1008 and kin)
AUTH_GRACE_S = 1.0
_TOKEN_CHARS = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_OWN_HEADERS = {
    "host": "a probe only targets the host named in the URL",
    "origin": "use the origin option",
    "sec-websocket-protocol": "use auth='subprotocol' and subprotocol_format",
    "upgrade": "the probe sets it",
    "connection": "the probe sets it",
    "sec-websocket-key": "the probe sets it",
    "sec-websocket-version": "the probe sets it",
    "sec-websocket-extensions": "the probe offers no extensions",
}


class AuthMode(StrEnum):
    """How the probe sends the token: one :class:`AuthMethod`, or ``auto`` to try each."""

    AUTO = "auto"
    HEADER = "header"
    SUBPROTOCOL = "subprotocol"
    QUERY = "query"
    NONE = "none"


AUTH_CHOICES: tuple[str, ...] = tuple(m.value for m in AuthMode)

Headers = Mapping[str, str] | Iterable[str | tuple[str, str]] | None


@dataclass(frozen=True, kw_only=True)
class WsOptions:
    """Every option of one WebSocket probe, with its default; checked when built.

    ``url``: a ws:// or wss:// URL; only its host is contacted.
    ``token``: the credential, sent as ``auth`` says.
    ``auth``: ``auto`` (default) tries no credential and the token as header,
    subprotocol and query parameter, then probes with the first accepted way;
    or one of ``header``, ``subprotocol``, ``query``, ``none``.
    ``origin``: an Origin header, as a browser page would send.
    ``headers``: extra request headers (a mapping, ``"Name: value"`` strings or pairs).
    ``expect_first``: the ``type`` of the server's first message; None or
    ``"none"`` skips the welcome stage.
    ``send``: the echo message (JSON text, or a dict sent as JSON).
    ``timeout``: seconds per stage (0 < timeout <= 600).
    ``insecure``: skip TLS verification (the certificate is still reported).
    ``subprotocol_format``: the subprotocols built from the token, comma-separated.
    """

    url: str
    token: str | None = None
    auth: AuthMode | str = AuthMode.AUTO
    origin: str | None = None
    headers: Headers = ()
    expect_first: str | None = DEFAULT_EXPECT
    send: str | Mapping[str, Any] | None = DEFAULT_SEND
    timeout: float = 10.0
    insecure: bool = False
    subprotocol_format: str = "jwt.{token}"
    host: str = field(init=False, default="")
    port: int = field(init=False, default=0)
    secure: bool = field(init=False, default=False)
    #: the subprotocols offered when the token travels as a subprotocol
    subprotocols: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        url = str(self.url).strip()
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("ws", "wss"):
            hint = {"http": " (use ws://)", "https": " (use wss://)"}.get(scheme, "")
            raise ProbeError(
                f"url {redact_text(url)}: must start with ws:// or wss://{hint}", param="url"
            )
        from websockets.exceptions import InvalidURI  # here: building options stays light
        from websockets.uri import parse_uri

        try:
            parse_uri(url)
            port = parts.port or (443 if scheme == "wss" else 80)
        except (InvalidURI, ValueError) as exc:
            raise ProbeError(
                f"url {redact_text(url)}: not a valid WebSocket URL: {exc}", param="url"
            ) from None
        try:
            auth = AuthMode(self.auth)
        except ValueError:
            raise ProbeError(
                f"auth must be one of {', '.join(AUTH_CHOICES)}, not {self.auth!r}", param="auth"
            ) from None
        token = self.token or None
        if auth not in (AuthMode.AUTO, AuthMode.NONE) and not token:
            raise ProbeError(f"token is required for auth {auth}", param="token")
        if not 0 < float(self.timeout) <= 600:
            raise ProbeError(
                f"timeout must be between 0 and 600 seconds, not {self.timeout}", param="timeout"
            )
        fmt = self.subprotocol_format
        if "{token}" not in fmt:
            raise ProbeError(
                f"subprotocol_format must contain {{token}}, got {fmt!r}",
                param="subprotocol_format",
            )
        offered = tuple(p.strip() for p in fmt.replace("{token}", token or "x").split(","))
        if not all(_TOKEN_CHARS.match(p) for p in offered):
            raise ProbeError(
                "subprotocol_format gives a subprotocol that is not an HTTP token",
                param="subprotocol_format",
            )
        expect = self.expect_first
        if expect is not None and expect.strip().lower() in ("", "none"):
            expect = None
        put("url", url)
        put("host", parts.hostname or "")  # parse_uri refused a URL without one
        put("port", port)
        put("secure", scheme == "wss")
        put("token", token)
        put("auth", auth)
        put("origin", self.origin or None)
        put("headers", _parse_headers(self.headers))
        put("subprotocols", offered if token else ())
        put("expect_first", expect)
        put("send", _parse_send(self.send))
        put("timeout", float(self.timeout))
        put("insecure", bool(self.insecure))

    def plan(self, method: AuthMethod, *, auth_only: bool = False) -> WsPlan:
        """What one attempt sends when the credential travels by ``method``.

        ``auth_only`` marks an auth-matrix attempt: it stops after a short
        watch for a refusal on the open socket (:data:`AUTH_GRACE_S`).
        """
        headers, offered, url = self.headers, (), self.url
        if method is AuthMethod.HEADER:
            kept = tuple((k, v) for k, v in headers if k.lower() != "authorization")
            headers = (*kept, ("Authorization", f"Bearer {self.token}"))
        elif method is AuthMethod.SUBPROTOCOL:
            offered = self.subprotocols
        elif method is AuthMethod.QUERY:
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}token={quote(self.token or '', safe='')}"
        return WsPlan(
            options=self,
            method=method,
            connect_url=url,
            headers=headers,
            subprotocols=offered,
            auth_only=auth_only,
            grace_s=min(self.timeout, AUTH_GRACE_S),
            total_s=self.timeout * CAP_STAGES,
        )


@dataclass(frozen=True, kw_only=True)
class WsPlan:
    """One connection attempt: the probe's options, and what this attempt sends differently."""

    options: WsOptions
    method: AuthMethod
    #: the URL connected to (with ``?token=`` for the query method)
    connect_url: str
    headers: tuple[tuple[str, str], ...]
    subprotocols: tuple[str, ...]
    #: an auth-matrix attempt: stop after ``grace_s`` of waiting for a refusal
    auth_only: bool = False
    grace_s: float = AUTH_GRACE_S
    #: cap on the whole connection, every stage included
    total_s: float = 50.0

    url = property(lambda self: self.options.url, doc="the URL as the user wrote it (reported)")
    host = property(lambda self: self.options.host)
    port = property(lambda self: self.options.port)
    secure = property(lambda self: self.options.secure)
    origin = property(lambda self: self.options.origin)
    expect_first = property(lambda self: self.options.expect_first)
    send = property(lambda self: self.options.send)
    timeout = property(lambda self: self.options.timeout)
    insecure = property(lambda self: self.options.insecure)


def _parse_headers(headers: Headers) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for item in items:
        if isinstance(item, str):
            name, sep, value = item.partition(":")
            if not sep:
                raise ProbeError(
                    f"headers: {redact_text(item)!r} is not of the form Name:Value",
                    param="headers",
                )
        else:
            name, value = item
        name, value = name.strip(), str(value).strip()
        if not _TOKEN_CHARS.match(name):
            raise ProbeError(f"headers: {name!r} is not a valid HTTP header name", param="headers")
        if "\r" in value or "\n" in value:
            raise ProbeError(f"headers: {name} has a line break in its value", param="headers")
        if name.lower() in _OWN_HEADERS:
            raise ProbeError(
                f"headers: {name} is not allowed: {_OWN_HEADERS[name.lower()]}", param="headers"
            )
        out.append((name, value))
    return tuple(out)


def _parse_send(send: str | Mapping[str, Any] | None) -> str:
    if send is None:
        return DEFAULT_SEND
    if not isinstance(send, str):
        return json.dumps(send)
    try:
        json.loads(send)
    except ValueError as exc:
        raise ProbeError(f"send is not valid JSON: {exc}", param="send") from None
    return send
