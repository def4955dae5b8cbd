"""The sentences of a WebSocket probe's diagnosis and evidence (pure, used by :mod:`.judge`).

Kept apart from the rules so :mod:`.judge` reads as the decision table and
this module as the wording. Every function takes recorded facts and returns text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from whyloop.probes.ws.observations import EventKind, IoFailure, WsEvent, WsObservation
from whyloop.probes.ws.patterns import Pattern, message_type
from whyloop.probes.ws.protocols import CLOSE_NAMES, protocol_query
from whyloop.probes.ws.protocols import close_name as _close_name

__all__ = [
    "CLOSE_NAMES",
    "all_good",
    "cert_facts",
    "cert_warnings",
    "close_name",
    "close_phrase",
    "echo_missing",
    "label",
    "ms",
    "no_answer",
    "proxy_name",
    "server_name",
    "server_says",
    "snippet",
    "status_diagnosis",
    "welcome_missing",
]

#: Server / Via values that mean a reverse proxy or load balancer answered
_PROXIES = re.compile(
    r"(?i)\b(nginx|openresty|envoy|haproxy|cloudflare|awselb|elb|apache|caddy|traefik|istio|"
    r"google frontend|gfe|varnish|squid|akamai|cloudfront|kong|azure)\b"
)
_PROXY_FIX = (
    "it needs `proxy_http_version 1.1`, `proxy_set_header Upgrade $http_upgrade` and "
    '`proxy_set_header Connection "upgrade"` (or its equivalent)'
)


def ms(value: float | None) -> str:
    """``3.2 ms``, or ``1.50 s`` from a second on."""
    if value is None:
        return "? ms"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def snippet(value: str, limit: int) -> str:
    """``value`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def close_name(code: int | None, protocol: str | None = None) -> str:
    """``1008 (policy violation)``; an application code named by its subprotocol when known."""
    return _close_name(code, protocol)


def close_phrase(obs: WsObservation, event: WsEvent) -> str:
    """``4403 (graphql-transport-ws: Forbidden: ...), reason "Forbidden"`` for a close event."""
    reason = f', reason "{event.reason}"' if event.reason else ", no reason given"
    return close_name(event.code, obs.protocol) + reason


def label(message: str | WsEvent) -> str:
    """A message named for a sentence: its JSON type, else a short snippet of it."""
    if isinstance(message, WsEvent):
        return message.type or label(message.text)
    return message_type(message) or snippet(message, 60)


def server_name(obs: WsObservation) -> str | None:
    """The Server header, or the Via header when there is no Server header."""
    return obs.header("server") or obs.header("via")


def proxy_name(obs: WsObservation) -> str | None:
    """The proxy product that answered (``nginx``), when Server or Via names one."""
    for value in (obs.header("server"), obs.header("via")):
        match = _PROXIES.search(value or "")
        if match:
            return match.group(1)
    return "a proxy" if obs.header("via") else None


def cert_facts(cert: dict[str, Any]) -> str:
    """``subject CN=x, issuer CN=y, expires 2027-01-01 (400 days), hostname matches``."""
    if not cert:
        return ""
    parts = [f"subject {cert.get('subject') or '?'}", f"issuer {cert.get('issuer') or '?'}"]
    if cert.get("not_after"):
        days = cert.get("days_left")
        parts.append(
            f"expires {cert['not_after']}" + (f" ({days} days)" if days is not None else "")
        )
    if cert.get("hostname_match") is not None:
        parts.append("hostname matches" if cert["hostname_match"] else "hostname does NOT match")
    return ", ".join(parts)


def cert_warnings(host: str, cert: dict[str, Any]) -> list[str]:
    """What verification would have refused: self-signed, expired, another name."""
    out = []
    if cert.get("self_signed"):
        out.append("the certificate is self-signed")
    if (cert.get("days_left") or 0) < 0:
        out.append("the certificate has expired")
    if cert.get("hostname_match") is False:
        out.append(f"the certificate is not valid for {host}")
    return out


def _answered_elsewhere(
    obs: WsObservation, others: Sequence[WsObservation]
) -> WsObservation | None:
    """Another attempt on the same host and port that got an HTTP answer (101 first)."""
    same = [o for o in others if (o.host, o.port) == (obs.host, obs.port) and o.status is not None]
    return next((o for o in same if o.status == 101), same[0] if same else None)


def no_answer(obs: WsObservation, others: Sequence[WsObservation] = ()) -> tuple[str, str]:
    """Summary and diagnosis when the upgrade request got no usable HTTP answer.

    A statement about the port is checked against ``others`` (the auth
    matrix's attempts): when one of them got an HTTP answer on the same port,
    the port speaks HTTP and only this attempt was dropped.
    """
    step = obs.upgrade
    assert step is not None
    t = obs.timeout_s
    hint = " (is it a TLS port? try wss://)" if not obs.secure and obs.port in (443, 8443) else ""
    other = _answered_elsewhere(obs, others)
    if other is not None:
        what = {
            IoFailure.TIMEOUT: f"no answer within {t:.1f} s",
            IoFailure.EOF: "connection closed without an HTTP answer",
            IoFailure.RESET: "connection reset without an HTTP answer",
        }.get(step.failure or IoFailure.ERROR, f"not an HTTP answer: {step.error}")
        return (
            what,
            f"This attempt got no usable answer to its upgrade request ({what}), but the attempt "
            f"with {other.method.value} on the same port got HTTP {other.status}: the server speaks "
            "HTTP there and dropped this request; compare what the two sent (the auth matrix).",
        )
    if step.failure is IoFailure.TIMEOUT:
        got = f"; received only {snippet(obs.body, 80)!r}" if obs.body else ""
        return (
            f"no HTTP answer within {t:.1f} s{got}",
            f"The TCP connection opened but no answer to the upgrade request arrived within {t:g} s: "
            f"the server (or a proxy in front) holds the request without answering{hint}.",
        )
    if step.failure in (IoFailure.EOF, IoFailure.RESET):
        return (
            "connection closed without an HTTP answer",
            "The server closed the connection without answering the upgrade request: it does not "
            f"speak HTTP on this port, or something in between dropped the request{hint}.",
        )
    return (
        f"not an HTTP answer: {step.error}",
        f"The answer to the upgrade request is not valid HTTP ({step.error}){hint}: "
        "another protocol listens on this port.",
    )


def _plain_route(obs: WsObservation) -> str:
    """What the plain GET on the same URL showed, as a clause; '' when it was not asked."""
    plain = obs.plain
    if plain is None or plain.status is None:
        return ""
    ctype = (plain.header("content-type") or "").split(";")[0].strip()
    return f"a plain GET (no Upgrade) on the same URL got HTTP {plain.status}" + (
        f" {ctype}" if ctype else ""
    )


def _query_clause(obs: WsObservation) -> str:
    """For Engine.IO-style URLs: the query parameters that select the protocol, as a clause."""
    found = protocol_query(obs.url)
    if not found:
        return ""
    given = ", ".join(f"{k}={v}" for k, v in found.items() if k != "path")
    given = f"here {given}" if given else "here neither is given"
    return (
        f"the query of an Engine.IO URL selects the protocol (EIO, transport; {given}): an "
        "Engine.IO/Socket.IO server refuses "
        "an upgrade without transport=websocket or with an EIO version it does not speak "
        "(python-engineio under ASGI answers 403, others 400); today's clients send "
        "?EIO=4&transport=websocket"
    )


def status_diagnosis(obs: WsObservation, others: Sequence[WsObservation] = ()) -> str:
    """Why a handshake answered with a status other than 101 (and not one the auth stage judges).

    A proxy is named only with evidence of one (a ``Via`` header, a proxy's
    ``Server`` header); what the plain GET and the URL's query show is said
    beside the status, and ``others`` (attempts on the same URL) are checked
    before anything is said about the path.
    """
    status = obs.status or 0
    proxy = proxy_name(obs)
    html = "<html" in obs.body.lower() or "text/html" in (obs.header("content-type") or "")
    page = f" (an HTML page: {server_says(obs.body)!r})" if html else ""
    said = f' (the server says: "{server_says(obs.body)}")' if obs.body and not html else ""
    head = f"The server answered HTTP {status} instead of 101 Switching Protocols{page}{said}"
    if proxy:
        head = f"{proxy} answered HTTP {status} instead of 101 Switching Protocols{page}{said}"
    plain = _plain_route(obs)
    plain_ok = (
        obs.plain is not None and obs.plain.status is not None and 200 <= obs.plain.status < 300
    )
    query = _query_clause(obs)
    upgraded = [o for o in others if o.status == 101 and o.host == obs.host and o.port == obs.port]
    if upgraded and status in (400, 403, 404):
        return (
            f"{head}, while the attempt with {upgraded[0].method.value} on the same URL got 101: "
            "the path serves WebSocket; this attempt's request was refused for what it carried."
        )
    if proxy and status in (200, 400, 404, 405, 426):
        return (
            f"{head}: the request reached {proxy}, which most likely did not forward the upgrade "
            f"(the backend then sees a plain GET on {_path(obs.url)}); {_PROXY_FIX}."
        )
    if status == 200:
        return f"{head}: a plain HTTP endpoint served the request as an ordinary GET, so this URL is not a WebSocket endpoint (wrong path or port)."
    if plain_ok and status in (400, 403, 405, 426):
        return (
            f"{head}, and {plain}: {_path(obs.url)} is a plain HTTP route, not a WebSocket "
            "route (no WebSocket route at this path: check the path and port)."
        )
    if query and status in (400, 403):
        return f"{head}: {query}."
    if status == 403 and obs.origin:
        return f"{head} to a request carrying Origin: {obs.origin}: the server most likely refuses this origin; add it to the server's allowed origins, or probe without --origin to confirm."
    if status == 403:
        sent = ", ".join(c.phrase for c in obs.credentials)
        cred = f", or it refuses the credential sent ({sent})" if sent else ""
        return f"{head}: the server refused the upgrade; a path with no WebSocket route (Starlette and uvicorn answer 403), an access rule, or an origin check{cred}."
    if status == 404:
        return f"{head}: nothing serves WebSocket on {_path(obs.url)}; check the path."
    if status == 426:
        return f"{head}: the server wants a WebSocket upgrade but did not see one, so the Upgrade/Connection headers were dropped on the way (by a proxy, if one is in between)."
    if status == 400:
        seen = f"; {plain}" if plain else ""
        return (
            f"{head}: the server refused the upgrade request as a bad request{seen}. No proxy "
            "answered (no Via or proxy Server header): the route does not take this upgrade (a "
            "WebSocket route wanting a query parameter, header or subprotocol it did not get, or "
            "a plain HTTP route); the body above is its own account."
        )
    if status in (301, 302, 303, 307, 308):
        where = obs.header("location") or "?"
        return f"{head}: a redirect to {where}; the probe does not follow redirects (it only targets the host you named), so probe that URL if it is right."
    if status in (502, 503, 504):
        return f"{head}: {proxy or 'a proxy or load balancer'} could not get an answer from the backend (down, wrong upstream, or too slow)."
    if status == 429:
        return f"{head}: the client is rate limited; retry later or raise the limit."
    return f"{head}."


def _path(url: str) -> str:
    match = re.match(r"^[a-z]+://[^/?#]*([^?#]*)", url, re.IGNORECASE)
    return (match.group(1) if match else "") or "/"


def welcome_missing(obs: WsObservation, event: WsEvent) -> tuple[str, str]:
    """Summary and diagnosis when the expected first message did not come."""
    want, t = obs.expect_first, obs.timeout_s
    echoed = " and the server echoed the offered subprotocol" if obs.selected else ""
    if event.kind is EventKind.TIMEOUT:
        return (
            f"no message within {t:.1f} s",
            f"The handshake succeeded (101){echoed}, but no first message arrived within {t:g} s: "
            f"the server accepts connections but never sends {want}"
            + (
                " (if the client speaks first in this protocol, use --client-first)."
                if want is not None and want.source != "connection_established"
                else "."
            ),
        )
    if event.kind is EventKind.CLOSE:
        return (
            f"closed with {close_name(event.code, obs.protocol)} before {want}",
            f"The server closed the connection with {close_phrase(obs, event)}, {ms(event.ms)} "
            f"after the handshake, before sending {want}.",
        )
    if event.kind is EventKind.EOF:
        return (
            f"TCP closed before {want}",
            f"The connection dropped without a close frame before {want} arrived: the server "
            "crashed or something in between cut the connection.",
        )
    return (f"error while waiting: {event.text}", f"Waiting for {want} failed: {event.text}.")


def echo_missing(obs: WsObservation, event: WsEvent, sent: str) -> tuple[str, str]:
    """Summary and diagnosis when a message sent got no answer."""
    t = obs.timeout_s
    if event.kind is EventKind.TIMEOUT:
        want = (
            ("no " + obs.expect_reply.describe().removeprefix("a "))
            if obs.expect_reply
            else "no reply"
        )
        skipped = [
            label(e)
            for e in obs.events
            if e.kind is EventKind.MESSAGE and e.sent_before == len(obs.answers) and e is not event
        ]
        instead = f"; it sent {', '.join(skipped[:5])} instead" if skipped else ""
        return (
            f"no {'reply' if not obs.expect_reply else obs.expect_reply} to {sent} within {t:.1f} s",
            f"The server took {sent} but sent {want} within "
            f"{t:g} s{instead}: it does not answer this message, or its processing stalls.",
        )
    if event.kind is EventKind.CLOSE:
        why = {
            1009: "the message is larger than it accepts",
            1003: "it does not accept this kind of data",
            1007: "the payload is invalid for it",
            1011: "it hit an internal error",
        }.get(event.code or 0, "")
        return (
            f"closed with {close_name(event.code, obs.protocol)} after {sent}",
            f"The server closed the connection with {close_phrase(obs, event)} after receiving "
            f"{sent}" + (f": {why}." if why else "."),
        )
    if event.kind is EventKind.EOF:
        return (
            f"TCP closed after {sent}",
            f"The server dropped the connection without a close frame after receiving {sent}: "
            "some servers hang up on a message they cannot parse (is it what this protocol "
            "expects?); otherwise it crashed or something in between cut the connection.",
        )
    return (f"error: {event.text}", f"Sending {sent} failed: {event.text}.")


def _named(pattern: Pattern) -> str:
    return pattern.describe() if pattern.is_regex else pattern.source


def all_good(obs: WsObservation) -> str:
    """The one-sentence summary of a probe where every stage passed."""
    parts = [f"handshake 101 in {ms(obs.upgrade.ms if obs.upgrade else None)}"]
    if obs.first is not None and obs.expect_first and obs.first.kind is EventKind.MESSAGE:
        parts.append(f"{_named(obs.expect_first)} after {ms(obs.first.ms)}")
    if obs.reply is not None:
        what = _named(obs.expect_reply) if obs.expect_reply else f"a reply ({label(obs.reply)})"
        parts.append(f"{what} in {ms(obs.reply.ms)}")
    if obs.closing is not None and obs.closing.by_server:
        parts.append(f"the server closed first ({obs.closing.code})")
    elif obs.closing is not None:
        parts.append(f"a clean close ({obs.closing.code})")
    return "The WebSocket works end to end: " + ", ".join(parts) + "."


def server_says(body: str) -> str:
    """The human part of an error body: its JSON ``detail``/``message``/``error``, else a snippet."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("detail", "message", "error_description", "error"):
            if isinstance(data.get(key), str):
                return snippet(data[key], 160)
    title = re.search(r"(?is)<title>(.*?)</title>", body)
    return snippet(title.group(1), 120) if title else snippet(body, 120)
