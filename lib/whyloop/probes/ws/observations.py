"""What a WebSocket probe sends and sees: plain data between the I/O edge and the judge.

A :class:`~whyloop.probes.ws.options.WsPlan` says what one connection attempt
sends. The edge (:mod:`whyloop.probes.ws.recorder`)
carries it out and fills a :class:`WsObservation` with
timings, statuses, headers, frames and exception texts; it decides nothing.
:func:`whyloop.probes.ws.judge.classify_ws` turns one into a
:class:`~whyloop.results.ProbeResult`. Tests build observations by hand to
cover every failure without a network. Nothing here imports I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from whyloop.probes.ws.patterns import Pattern, message_type

__all__ = [
    "BROWSER_KINDS",
    "AuthMethod",
    "Credential",
    "CredentialKind",
    "EventKind",
    "IoFailure",
    "PlainAnswer",
    "Step",
    "WsEvent",
    "WsObservation",
    "masked",
    "message_type",
    "parse_head",
    "parse_http_head",
    "settled",
]


class AuthMethod(StrEnum):
    """One way of sending the credential: a row of the ``auth="auto"`` matrix."""

    NONE = "none"  # no credential at all (what is in the URL and the messages excepted)
    HEADER = "header"  # Authorization: Bearer <token>
    SUBPROTOCOL = "subprotocol"  # Sec-WebSocket-Protocol: jwt.<token> (or --subprotocol-format)
    QUERY = "query"  # ?token=<token>
    COOKIE = "cookie"  # the cookies given (--cookie, or a Cookie --header)
    CREDENTIAL_HEADER = (
        "credential-header"  # the credential headers given (--header X-Api-Key: ...)
    )


class CredentialKind(StrEnum):
    """What kind of credential an attempt carried."""

    BEARER = "bearer token"  # the token in Authorization: Bearer
    SUBPROTOCOL = "subprotocol token"  # the token as a subprotocol
    QUERY = "query token"  # the token as ?token=
    URL = "URL parameter"  # a credential-named parameter already in the URL
    COOKIE = "cookie"
    HEADER = "header"  # a credential header given with --header
    MESSAGE = "message"  # a message carries the token or a secret-named field


#: the kinds a browser's WebSocket can send (it cannot set headers)
BROWSER_KINDS = frozenset(
    {
        CredentialKind.SUBPROTOCOL,
        CredentialKind.QUERY,
        CredentialKind.URL,
        CredentialKind.COOKIE,
        CredentialKind.MESSAGE,
    }
)


@dataclass(frozen=True)
class Credential:
    """One credential an attempt sent: its kind and its name (``Authorization``, ``sid``)."""

    kind: CredentialKind
    name: str
    #: sent on every attempt of an auth matrix (in the URL or a message), not only this one
    always: bool = False

    @property
    def phrase(self) -> str:
        """``cookie sid``, ``bearer token in Authorization``, ``token in message 1``."""
        return {
            CredentialKind.BEARER: "bearer token in Authorization",
            CredentialKind.SUBPROTOCOL: f"token as subprotocol {self.name}",
            CredentialKind.QUERY: f"token in the query parameter {self.name}",
            CredentialKind.URL: f"the URL's query parameter {self.name}",
            CredentialKind.COOKIE: f"cookie {self.name}",
            CredentialKind.HEADER: f"header {self.name}",
            CredentialKind.MESSAGE: f"a credential in {self.name}",
        }[self.kind]


class IoFailure(StrEnum):
    """How a timed I/O step ended without its result."""

    TIMEOUT = "timeout"
    NXDOMAIN = "nxdomain"  # the name does not resolve
    REFUSED = "refused"  # nothing listens on the port
    UNREACHABLE = "unreachable"
    RESET = "reset"
    EOF = "eof"  # the peer closed the TCP connection
    CERTIFICATE = "certificate"  # the TLS certificate failed verification
    TLS = "tls"  # any other TLS handshake failure
    INVALID = "invalid"  # bytes that are not a valid HTTP or WebSocket answer
    ERROR = "error"


class EventKind(StrEnum):
    """What came back while waiting on an open WebSocket."""

    MESSAGE = "message"
    CLOSE = "close"  # a close frame (code, reason)
    EOF = "eof"  # TCP closed without a close frame
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass
class Step:
    """One timed step before the socket is open (dns, tcp, tls, upgrade)."""

    ms: float | None = None
    failure: IoFailure | None = None
    #: the exception text when the step failed
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class WsEvent:
    """The outcome of one wait on the open socket; ``ms`` counts from the start of the wait."""

    kind: EventKind
    ms: float
    #: message text (cut to 1,000 characters, redacted) or the error text
    text: str = ""
    binary: bool = False
    code: int | None = None
    reason: str = ""
    #: how many messages the probe had sent when this came (0: unsolicited)
    sent_before: int = 0
    #: for a close: True when the server started it, False when it answered the probe's close
    by_server: bool | None = None
    #: the patterns (their sources) the raw message matched: expect_first, expect_reply, reject
    matched: tuple[str, ...] = ()
    #: the message's type, read from the whole raw message (``text`` may be cut)
    type: str | None = None

    @property
    def unsolicited(self) -> bool:
        """True when it came before the probe sent anything."""
        return self.sent_before == 0


@dataclass
class PlainAnswer:
    """The answer to a plain GET (no Upgrade) on the same URL, asked after a refused upgrade."""

    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    #: the connection failure, when there is no answer
    error: str = ""
    version: str = ""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


@dataclass
class WsObservation:
    """Everything one connection attempt observed, stage by stage; ``None`` means not reached."""

    url: str
    host: str
    port: int
    secure: bool
    timeout_s: float
    method: AuthMethod = AuthMethod.NONE
    origin: str | None = None
    #: subprotocols offered in the request, in order
    offered: list[str] = field(default_factory=list)
    #: the server's first message expected (None: the welcome stage is skipped)
    expect_first: Pattern | None = field(default_factory=lambda: Pattern("connection_established"))
    #: what the answer to the last message must match (None: any message)
    expect_reply: Pattern | None = None
    #: messages that mean the application refused the connection
    reject: tuple[Pattern, ...] = ()
    #: the probe sends its messages right after the handshake, without waiting for the server
    client_first: bool = False
    #: the messages the probe meant to send, in order, as shown (redacted; binary as hex)
    messages: list[str] = field(default_factory=list)
    #: how long an auth-matrix attempt watches the open socket, and the unsolicited watch
    grace_s: float = 1.0
    #: an auth-matrix attempt (it stops before the close stage)
    auth_only: bool = False
    #: the credentials this attempt sent
    credentials: list[Credential] = field(default_factory=list)
    #: request headers as sent (secrets are redacted when reported)
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    # dns
    dns: Step | None = None
    addresses: list[str] = field(default_factory=list)
    literal: bool = False
    # tcp
    tcp: Step | None = None
    peer: str = ""
    # tls (wss only)
    tls: Step | None = None
    insecure: bool = False
    tls_version: str = ""
    cipher: str = ""
    #: certificate facts from :func:`whyloop.probes.tls.describe_certificate`
    cert: dict[str, Any] | None = None
    # upgrade
    upgrade: Step | None = None
    status: int | None = None
    reason: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    #: websockets' complaint about a 101 answer (bad Upgrade or Sec-WebSocket-Accept...)
    handshake_error: str = ""
    #: the raw Sec-WebSocket-Protocol answer (None: the header was absent)
    selected: str | None = None
    #: a plain GET on the same URL after a refused upgrade (400, 403, 404, 405, 426)
    plain: PlainAnswer | None = None
    # on the open socket
    #: the server's first event before the probe sent anything (the welcome, or the watch)
    first: WsEvent | None = None
    #: the answer to each message sent, in order: the event that ended the wait for it
    answers: list[WsEvent] = field(default_factory=list)
    #: the answer to the last message sent (``answers[-1]``)
    reply: WsEvent | None = None
    #: the end of the close stage: the server's close frame, or what came instead
    closing: WsEvent | None = None
    #: every event on the open socket, in order (the first 200)
    events: list[WsEvent] = field(default_factory=list)
    #: set when the probe's overall cap cut a stage short
    capped: str = ""

    def header(self, name: str) -> str | None:
        """The first response header called ``name`` (case-insensitive), or None."""
        name = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == name), None)

    @property
    def protocol(self) -> str | None:
        """The subprotocol the server selected, when it was one of those offered."""
        return self.selected if self.selected in self.offered else None

    @property
    def sent(self) -> list[str]:
        """The messages actually sent (as shown), one per answer."""
        return self.messages[: len(self.answers)]

    @property
    def own_credentials(self) -> list[Credential]:
        """The credentials this attempt sent that not every attempt sent."""
        return [c for c in self.credentials if not c.always]


def masked(value: Any, secret: str | None, replacement: str) -> Any:
    """Return ``value`` (observations, lists, dicts, strings) with ``secret`` replaced everywhere.

    The probe applies this with the token before judging, so no later step
    (classifier, printer, JSON) ever holds the whole credential.
    """
    if not secret or isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return value.replace(secret, replacement)
    if isinstance(value, list):
        return [masked(v, secret, replacement) for v in value]
    if isinstance(value, tuple):
        return tuple(masked(v, secret, replacement) for v in value)
    if isinstance(value, dict):
        return {k: masked(v, secret, replacement) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: masked(getattr(value, f.name), secret, replacement)
            for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value


def parse_head(raw: bytes) -> PlainAnswer | None:
    """Status, headers and body (the first 2,000 characters) of a raw HTTP answer; None if not HTTP."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    words = lines[0].split(" ", 2)
    if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
        return None
    return PlainAnswer(
        status=int(words[1]),
        reason=words[2] if len(words) > 2 else "",
        headers=[
            (k.strip(), v.strip())
            for k, sep, v in (line.partition(":") for line in lines[1:])
            if sep
        ],
        body=body[:2000].decode("utf-8", "replace"),
        version=words[0],
    )


def parse_http_head(raw: bytes, obs: WsObservation) -> bool:
    """Fill status, headers and body from an HTTP answer websockets rejected; False if not HTTP."""
    answer = parse_head(raw)
    if answer is None:
        return False
    obs.status, obs.reason = answer.status, answer.reason
    obs.response_headers, obs.body = answer.headers, answer.body
    if obs.status == 101:
        obs.handshake_error = f"{answer.version} answer: a WebSocket handshake needs HTTP/1.1"
    return True


def settled(obs: WsObservation) -> WsObservation:
    """``obs`` with its derived fields filled, for observations built by hand (tests, old records).

    ``answers`` defaults to ``[reply]``; ``events`` to the first event, the
    answers and the close in order, each answer marked as coming after its
    message. A recorded observation is returned as it is.
    """
    if obs.events:
        return obs
    patterns = [p for p in (obs.expect_first, obs.expect_reply, *obs.reject) if p is not None]

    def matched(event: WsEvent | None, sent: int) -> WsEvent | None:
        if event is None:
            return None
        found = event.matched or tuple(
            dict.fromkeys(
                p.source
                for p in patterns
                if event.kind is EventKind.MESSAGE and p.matches(event.text, binary=event.binary)
            )
        )
        return dataclasses.replace(event, sent_before=max(event.sent_before, sent), matched=found)

    first = matched(obs.first, 0)
    given = obs.answers or ([obs.reply] if obs.reply is not None else [])
    answers = [e for i, a in enumerate(given, 1) if (e := matched(a, i)) is not None]
    closing = obs.closing
    if closing is not None:
        closing = dataclasses.replace(closing, sent_before=max(closing.sent_before, len(answers)))
        if closing.kind is EventKind.CLOSE and closing.by_server is None:
            closing.by_server = False
    events = [e for e in (first, *answers, closing) if e is not None]
    messages = obs.messages or (['{"type": "ping"}'] * len(answers))
    return dataclasses.replace(
        obs,
        first=first,
        answers=answers,
        reply=answers[-1] if answers else None,
        closing=closing,
        events=events,
        messages=messages,
    )
