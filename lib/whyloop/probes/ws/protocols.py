"""What common WebSocket protocols mean by their close codes and URLs, and the one close rule (pure).

- :func:`close_name` names a close code: RFC 6455's, the IANA registry's
  3000/3003, and the application codes (4000-4999) of the subprotocol in use
  (graphql-transport-ws's 4400-4499, for instance);
- :func:`close_kind` is the one rule that says what a close means, used by
  the auth stage, the subprotocol stage and the auth matrix alike, so the
  three never disagree about the same close;
- :func:`login_redirect`, :func:`auth_schemes`, :func:`protocol_query` read
  what a refusal says about the credential or protocol the server wants.
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from whyloop.probes.ws.observations import EventKind, WsEvent, WsObservation

__all__ = [
    "APP_CLOSE_CODES",
    "CLOSE_NAMES",
    "GRAPHQL_TRANSPORT_WS",
    "GRAPHQL_WS",
    "JUPYTER_V1",
    "CloseKind",
    "auth_schemes",
    "close_kind",
    "close_name",
    "first_close",
    "is_early",
    "judge_close",
    "login_redirect",
    "protocol_query",
    "sniff",
]

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
GRAPHQL_WS = "graphql-ws"  # the legacy subscriptions-transport-ws protocol
JUPYTER_V1 = "v1.kernel.websocket.jupyter.org"

CLOSE_NAMES = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status",
    1006: "abnormal closure",
    1007: "invalid payload",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
    3000: "unauthorized",
    3003: "forbidden",
}
#: subprotocol -> its application close codes (from each protocol's specification)
APP_CLOSE_CODES: dict[str, dict[int, str]] = {
    GRAPHQL_TRANSPORT_WS: {
        4400: "Bad request: an invalid message",
        4401: "Unauthorized: a subscribe before connection_ack",
        4403: "Forbidden: the connection_init was refused",
        4406: "Subprotocol not acceptable",
        4408: "Connection initialisation timeout",
        4409: "Subscriber already exists",
        4429: "Too many initialisation requests",
        4499: "Terminated",
        4500: "Internal server error",
    },
    GRAPHQL_WS: {4400: "Bad request", 4401: "Unauthorized", 4406: "Subprotocol not acceptable"},
}
#: codes that say "your credential was refused" whatever the protocol
_REFUSAL_CODES = frozenset({1008, 3000, 3003, 4001, 4003, 4401, 4403})
#: codes that say the server failed or went away, not that it judged the client
_TROUBLE_CODES = frozenset({1006, 1011, 1012, 1013, 1014})
_AUTH_WORDS = re.compile(
    r"(?i)unauthori[sz]ed|forbidden|token|credential|\bauth|log ?in|permission|denied|session"
    r"|expired|audience|signature|not allowed"
)
_PROTOCOL_WORDS = re.compile(r"(?i)sub-?protocol|sec-websocket-protocol")
_LOGIN = re.compile(r"(?i)log[-_]?in|sign[-_]?in|/auth\b|/sso\b|oauth|/account|/session")


class CloseKind(StrEnum):
    """What a close frame says about the connection, as far as it can be told."""

    REFUSED = "refused"  # the server refused the client (credential, policy)
    NEGOTIATION = "negotiation"  # the server wants a subprotocol it was not offered
    TROUBLE = "trouble"  # the server failed, restarts or went away
    UNCLEAR = "unclear"  # a close that names no reason the probe can read (1000 at once, ...)


def close_name(code: int | None, protocol: str | None = None) -> str:
    """``1008 (policy violation)``, ``4403 (graphql-transport-ws: Forbidden: ...)``."""
    if code is None:
        return "no close code"
    app = APP_CLOSE_CODES.get(protocol or "", {}).get(code)
    if app:
        return f"{code} ({protocol}: {app})"
    known = APP_CLOSE_CODES[GRAPHQL_TRANSPORT_WS].get(code)
    if known and protocol is None:
        return f"{code} (application code; in graphql-transport-ws: {known})"
    name = CLOSE_NAMES.get(code, "application code" if 4000 <= code < 5000 else "")
    return f"{code} ({name})" if name else str(code)


def close_kind(code: int | None, reason: str, *, early: bool, protocol: str | None) -> CloseKind:
    """The one rule for what a server's close means.

    ``early``: the close came right after the handshake, before the server
    had an answer to give (nothing sent yet, or the first event after a
    client-first send). ``protocol``: the selected subprotocol, if any.
    4406, or 1002 early, or a reason naming the subprotocol is negotiation;
    1008, 3000, 3003, 4001, 4003, 4401, 4403 or a reason about credentials is
    a refusal; 1011 and kin are trouble; anything else (1000 at once, an
    unnamed 4xxx) is unclear: the server said no without saying why.
    """
    code = code or 1005
    if code == 4406 or _PROTOCOL_WORDS.search(reason) or (early and code == 1002):
        return CloseKind.NEGOTIATION
    app = APP_CLOSE_CODES.get(protocol or "", {}).get(code, "")
    if code in _REFUSAL_CODES or _AUTH_WORDS.search(reason) or _AUTH_WORDS.search(app):
        return CloseKind.REFUSED
    if code in _TROUBLE_CODES or 4500 <= code < 4600:
        return CloseKind.TROUBLE
    return CloseKind.UNCLEAR


def login_redirect(status: int | None, location: str | None) -> bool:
    """True for a redirect whose Location looks like a login page (``/login?next=/ws``)."""
    return (
        status in (301, 302, 303, 307, 308)
        and bool(location)
        and bool(_LOGIN.search(location or ""))
    )


def auth_schemes(www_authenticate: str | None) -> list[str]:
    """The schemes a ``WWW-Authenticate`` header offers, lowercased: ``["bearer", "basic"]``."""
    if not www_authenticate:
        return []
    found = re.findall(r"(?:^|,)\s*([A-Za-z][\w-]*)(?=\s|,|$)", www_authenticate)
    return list(dict.fromkeys(s.lower() for s in found))


def protocol_query(url: str) -> dict[str, str]:
    """The query parameters that select a protocol (Engine.IO's ``EIO`` and ``transport``),
    plus ``path`` when the path is an Engine.IO one; empty for other URLs."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    found = {k: query[k] for k in ("EIO", "transport") if k in query}
    if found or re.search(r"/(socket|engine)\.io\b", parts.path):
        found["path"] = parts.path
    return found


def is_early(obs: WsObservation, event: WsEvent) -> bool:
    """True when ``event`` came right after the handshake: the first event on the socket,
    before the probe sent anything, or right after a client-first send when no subprotocol
    was selected (a server that wants one closes at once, whatever was sent)."""
    if not obs.events or obs.events[0] is not event:
        return False
    return event.sent_before == 0 or (obs.client_first and obs.protocol is None)


def judge_close(obs: WsObservation, event: WsEvent) -> CloseKind:
    """:func:`close_kind` for a close event of ``obs`` (early or not, in its subprotocol)."""
    return close_kind(event.code, event.reason, early=is_early(obs, event), protocol=obs.protocol)


def first_close(obs: WsObservation) -> WsEvent | None:
    """The close frame that came right after the handshake, if the first event was one."""
    event = obs.events[0] if obs.events else None
    if event is not None and event.kind is EventKind.CLOSE and is_early(obs, event):
        return event
    return None


_SNIFF = (
    (
        re.compile(r'^0\{"sid"'),
        "an Engine.IO open packet: a Socket.IO server (see its recipe: "
        "expect-first re:^0, send 40, reject re:^44)",
    ),
    (re.compile(r'^\{"header":\s*\{.*"msg_type"'), "a Jupyter kernel message"),
    (re.compile(r'^\{"type":\s*"(?:ka|connection_ack)"'), "a GraphQL subscription message"),
)


def sniff(text: str) -> str:
    """What protocol a message looks like, as a clause for a diagnosis; '' when unknown."""
    return next((what for pattern, what in _SNIFF if pattern.search(text)), "")
