"""The WebSocket probe's options, checked once, and the plan of one connection attempt.

:class:`WsOptions` is every option of :func:`~whyloop.probes.probe_websocket`
with its default, validated and normalised when built (a
:class:`~whyloop.errors.ProbeError` naming the bad parameter otherwise).
:meth:`WsOptions.plan` says what one attempt sends for one way of sending
the credential (:class:`~whyloop.probes.ws.observations.AuthMethod`); the
recorder carries a plan out. No network here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from whyloop.errors import ProbeError
from whyloop.probes.ws.inputs import (
    TOKEN_CHARS,
    TOKEN_PLACEHOLDER,
    Cookies,
    Headers,
    Messages,
    is_credential_header,
    message_carries_credential,
    parse_cookies,
    parse_headers,
    parse_messages,
    show_message,
    url_credentials,
)
from whyloop.probes.ws.observations import AuthMethod, Credential, CredentialKind
from whyloop.probes.ws.patterns import Pattern, parse_pattern, parse_patterns
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


class _Default(str):
    """A default that can be told apart from the same text passed on purpose."""

    __slots__ = ()


DEFAULT_SEND = '{"type": "ping"}'
#: the sandbox's welcome; with ``client_first`` the default is no welcome stage
DEFAULT_EXPECT: str = _Default("connection_established")
#: one connection may take at most this many stage timeouts in all
CAP_STAGES = 5
#: how long an auth-matrix attempt watches the open socket for a refusal (1008 and kin),
#: and how long a probe without a welcome watches for an unsolicited first message
AUTH_GRACE_S = 1.0


class AuthMode(StrEnum):
    """How the probe sends the token: one :class:`AuthMethod`, or ``auto`` to try each."""

    AUTO = "auto"
    HEADER = "header"
    SUBPROTOCOL = "subprotocol"
    QUERY = "query"
    NONE = "none"


AUTH_CHOICES: tuple[str, ...] = tuple(m.value for m in AuthMode)


@dataclass(frozen=True, kw_only=True)
class WsOptions:
    """Every option of one WebSocket probe, with its default; checked when built.

    ``url``: a ws:// or wss:// URL; only its host is contacted.
    ``token``: the credential, sent as ``auth`` says.
    ``auth``: ``auto`` (default) tries each credential alone (none, the token as
    header, subprotocol and query parameter, the cookies, the credential
    headers) and then probes with the first accepted way; or one of
    ``header``, ``subprotocol``, ``query``, ``none`` for where the token goes
    (cookies and headers are then sent as given).
    ``origin``: an Origin header, as a browser page would send.
    ``headers``: extra request headers (a mapping, ``"Name: value"`` strings or
    pairs); ``Authorization``, ``Cookie`` and API-key style names count as credentials.
    ``cookies``: cookies to send (a mapping, ``"NAME=VALUE"`` strings or pairs).
    ``subprotocols``: subprotocols offered on every attempt (``graphql-transport-ws``).
    ``expect_first``: the server's first message, as a pattern (a JSON ``type``
    value, or ``re:`` and a regular expression); None or ``"none"`` skips the
    welcome stage. Default ``connection_established`` (the sandbox's welcome),
    or none with ``client_first``.
    ``send``: the messages sent after the welcome, in order: text (any, JSON
    or not; ``{token}`` is replaced by the token), a dict (sent as JSON) or
    bytes (a binary frame), one or a sequence; default ``{"type": "ping"}``;
    an empty sequence sends nothing.
    ``send_binary``: binary frames (hex digits, or bytes) sent after ``send``.
    ``client_first``: send right after the handshake instead of first waiting
    for the server's first message (default False).
    ``expect_reply``: what the answer to the last message must match (a
    pattern; default None: any message); other messages meanwhile are skipped.
    ``reject``: patterns of messages meaning the application refused the
    connection (``connection_error``, ``re:^44``); one seen fails the probe.
    ``timeout``: seconds per stage (0 < timeout <= 600).
    ``insecure``: skip TLS verification (the certificate is still reported).
    ``subprotocol_format``: the subprotocols built from the token, comma-separated.
    """

    url: str
    token: str | None = None
    auth: AuthMode | str = AuthMode.AUTO
    origin: str | None = None
    headers: Headers = ()
    cookies: Cookies = ()
    subprotocols: Sequence[str] = ()
    expect_first: str | None = DEFAULT_EXPECT
    send: Messages = None
    send_binary: str | bytes | Sequence[str | bytes] | None = None
    client_first: bool = False
    expect_reply: str | None = None
    reject: str | Sequence[str] = ()
    timeout: float = 10.0
    insecure: bool = False
    subprotocol_format: str = "jwt.{token}"
    host: str = field(init=False, default="")
    port: int = field(init=False, default=0)
    secure: bool = field(init=False, default=False)
    #: the subprotocols offered when the token travels as a subprotocol
    token_subprotocols: tuple[str, ...] = field(init=False, default=())
    #: every message to send, in order: text as str, binary as bytes (``{token}`` filled in)
    messages: tuple[str | bytes, ...] = field(init=False, default=())
    #: the patterns, parsed
    first_pattern: Pattern | None = field(init=False, default=None)
    reply_pattern: Pattern | None = field(init=False, default=None)
    reject_patterns: tuple[Pattern, ...] = field(init=False, default=())

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
        if not all(TOKEN_CHARS.match(p) for p in offered):
            raise ProbeError(
                "subprotocol_format gives a subprotocol that is not an HTTP token",
                param="subprotocol_format",
            )
        subprotocols = _subprotocols(self.subprotocols)
        headers = parse_headers(self.headers)
        cookies = parse_cookies(self.cookies)
        for name, value in headers:  # a Cookie header is cookies like any other
            if name.lower() == "cookie":
                cookies += parse_cookies(value, param="headers")
        headers = tuple((k, v) for k, v in headers if k.lower() != "cookie")
        messages = parse_messages(self.send, self.send_binary, DEFAULT_SEND)
        if any(isinstance(m, str) and TOKEN_PLACEHOLDER in m for m in messages):
            if not token:
                raise ProbeError("send uses {token} but no token was given", param="send")
            messages = tuple(
                m.replace(TOKEN_PLACEHOLDER, token) if isinstance(m, str) else m for m in messages
            )
        client_first = bool(self.client_first)
        expect = self.expect_first
        if client_first and expect is DEFAULT_EXPECT:
            expect = None
        first = parse_pattern(expect, "expect_first")
        put("url", url)
        put("host", parts.hostname or "")  # parse_uri refused a URL without one
        put("port", port)
        put("secure", scheme == "wss")
        put("token", token)
        put("auth", auth)
        put("origin", self.origin or None)
        put("headers", headers)
        put("cookies", cookies)
        put("subprotocols", subprotocols)
        put("token_subprotocols", offered if token else ())
        put("expect_first", first.source if first else None)
        put("first_pattern", first)
        put("client_first", client_first)
        put("messages", messages)
        put("send", tuple(m for m in messages if isinstance(m, str)))
        reply = parse_pattern(self.expect_reply, "expect_reply")
        put("expect_reply", reply.source if reply else None)
        put("reply_pattern", reply)
        put("reject_patterns", parse_patterns(self.reject, "reject"))
        put("reject", tuple(p.source for p in self.reject_patterns))
        put("timeout", float(self.timeout))
        put("insecure", bool(self.insecure))

    @property
    def credential_headers(self) -> tuple[tuple[str, str], ...]:
        """The headers given that carry a credential (``Authorization``, ``X-Api-Key``...)."""
        return tuple((k, v) for k, v in self.headers if is_credential_header(k))

    def methods(self) -> tuple[AuthMethod, ...]:
        """The rows of the ``auth="auto"`` matrix: no credential, then each one given, alone."""
        rows = [AuthMethod.NONE]
        if self.token:
            rows += [AuthMethod.HEADER, AuthMethod.SUBPROTOCOL, AuthMethod.QUERY]
        if self.cookies:
            rows.append(AuthMethod.COOKIE)
        if self.credential_headers:
            rows.append(AuthMethod.CREDENTIAL_HEADER)
        return tuple(rows)

    def plan(self, method: AuthMethod, *, auth_only: bool = False) -> WsPlan:
        """What one attempt sends when the credential travels by ``method``.

        With ``auth="auto"`` an attempt sends only its own credential (the
        credential headers and cookies given are left out of the other
        attempts); otherwise the cookies and headers go as given and
        ``method`` says where the token goes. ``auth_only`` marks an
        auth-matrix attempt: it stops before the close stage, and watches
        for a first message only :data:`AUTH_GRACE_S`.
        """
        alone = self.auth is AuthMode.AUTO
        headers, cookies, url = self.headers, self.cookies, self.url
        offered = self.subprotocols
        credentials = [Credential(CredentialKind.URL, n, always=True) for n in url_credentials(url)]
        if alone:
            keep = method is AuthMethod.CREDENTIAL_HEADER
            headers = tuple((k, v) for k, v in headers if keep or not is_credential_header(k))
            cookies = cookies if method is AuthMethod.COOKIE else ()
        if method is AuthMethod.HEADER:
            headers = tuple((k, v) for k, v in headers if k.lower() != "authorization")
        credentials += [
            Credential(CredentialKind.HEADER, k) for k, _v in headers if is_credential_header(k)
        ]
        if method is AuthMethod.HEADER:
            headers = (*headers, ("Authorization", f"Bearer {self.token}"))
            credentials.append(Credential(CredentialKind.BEARER, "Authorization"))
        elif method is AuthMethod.SUBPROTOCOL:
            offered = (*offered, *self.token_subprotocols)
            shown = next((p for p in self.token_subprotocols if self.token and self.token in p), "")
            credentials.append(Credential(CredentialKind.SUBPROTOCOL, shown))
        elif method is AuthMethod.QUERY:
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}token={quote(self.token or '', safe='')}"
            credentials.append(Credential(CredentialKind.QUERY, "token"))
        credentials += [Credential(CredentialKind.COOKIE, k) for k, _v in cookies]
        credentials += [
            Credential(CredentialKind.MESSAGE, f"message {i}", always=True)
            for i, m in enumerate(self.messages, 1)
            if message_carries_credential(m, self.token)
        ]
        if cookies:
            headers = (*headers, ("Cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
        return WsPlan(
            options=self,
            method=method,
            connect_url=url,
            headers=headers,
            subprotocols=tuple(dict.fromkeys(offered)),
            credentials=tuple(credentials),
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
    #: the credentials this attempt sends
    credentials: tuple[Credential, ...] = ()
    #: an auth-matrix attempt: no close stage, and a short watch for a first message
    auth_only: bool = False
    grace_s: float = AUTH_GRACE_S
    #: cap on the whole connection, every stage included
    total_s: float = 50.0

    url = property(lambda self: self.options.url, doc="the URL as the user wrote it (reported)")
    host = property(lambda self: self.options.host)
    port = property(lambda self: self.options.port)
    secure = property(lambda self: self.options.secure)
    origin = property(lambda self: self.options.origin)
    timeout = property(lambda self: self.options.timeout)
    insecure = property(lambda self: self.options.insecure)
    messages = property(lambda self: self.options.messages)
    client_first = property(lambda self: self.options.client_first)
    first_pattern = property(lambda self: self.options.first_pattern)
    reply_pattern = property(lambda self: self.options.reply_pattern)
    reject_patterns = property(lambda self: self.options.reject_patterns)

    def shown_messages(self) -> list[str]:
        """The messages as evidence shows them (redacted, binary as hex)."""
        return [show_message(m) for m in self.messages]


def _subprotocols(value: str | Sequence[str] | None) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else list(value or ())
    out = tuple(str(p).strip() for p in items if str(p).strip())
    bad = next((p for p in out if not TOKEN_CHARS.match(p)), None)
    if bad is not None:
        raise ProbeError(
            f"subprotocols: {redact_text(bad)!r} is not a valid subprotocol name (an HTTP token)",
            param="subprotocols",
        )
    return out
