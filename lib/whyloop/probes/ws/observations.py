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
import json
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

__all__ = [
    "AuthMethod",
    "EventKind",
    "IoFailure",
    "Step",
    "WsEvent",
    "WsObservation",
    "masked",
    "message_type",
    "parse_http_head",
]


class AuthMethod(StrEnum):
    """How the credential travels on the upgrade request."""

    NONE = "none"
    HEADER = "header"  # Authorization: Bearer <token>
    SUBPROTOCOL = "subprotocol"  # Sec-WebSocket-Protocol: jwt.<token> (or --subprotocol-format)
    QUERY = "query"  # ?token=<token>


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
    #: message text (cut to 1,000 characters) or the error text
    text: str = ""
    binary: bool = False
    code: int | None = None
    reason: str = ""


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
    #: the first message type expected (None: the welcome stage is skipped)
    expect_first: str | None = "connection_established"
    #: the text sent in the echo stage
    sent: str = ""
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
    # on the open socket
    first: WsEvent | None = None
    reply: WsEvent | None = None
    closing: WsEvent | None = None
    #: set when the probe's overall cap cut a stage short
    capped: str = ""

    def header(self, name: str) -> str | None:
        """The first response header called ``name`` (case-insensitive), or None."""
        name = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == name), None)


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


def message_type(message: str) -> str | None:
    """The ``type`` field of a JSON object message, or None."""
    try:
        data = json.loads(message)
    except ValueError:
        return None
    kind = data.get("type") if isinstance(data, dict) else None
    return str(kind) if kind is not None else None


def parse_http_head(raw: bytes, obs: WsObservation) -> bool:
    """Fill status, headers and body from an HTTP answer websockets rejected; False if not HTTP."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    words = lines[0].split(" ", 2)
    if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
        return False
    obs.status, obs.reason = int(words[1]), words[2] if len(words) > 2 else ""
    obs.response_headers = [
        (k.strip(), v.strip()) for k, sep, v in (line.partition(":") for line in lines[1:]) if sep
    ]
    obs.body = body[:2000].decode("utf-8", "replace")
    if obs.status == 101:
        obs.handshake_error = f"{words[0]} answer: a WebSocket handshake needs HTTP/1.1"
    return True
