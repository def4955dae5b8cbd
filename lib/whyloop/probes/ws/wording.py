"""The sentences of a WebSocket probe's diagnosis and evidence (pure, used by :mod:`.judge`).

Kept apart from the rules so :mod:`.judge` reads as the decision table and
this module as the wording. Every function takes recorded facts and returns text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from whyloop.probes.ws.observations import AuthMethod, EventKind, IoFailure, WsEvent, WsObservation

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
#: Server / Via values that mean a reverse proxy or load balancer answered
_PROXIES = re.compile(
    r"(?i)\b(nginx|openresty|envoy|haproxy|cloudflare|awselb|elb|apache|caddy|traefik|istio|"
    r"google frontend|gfe|varnish|squid|akamai|cloudfront|kong|azure)\b"
)
_MISSING_TOKEN = re.compile(r"(?i)\b(no|missing)\b[^.]{0,40}\b(token|credential|authori[sz]ation)")
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


def close_name(code: int | None) -> str:
    """``1008 (policy violation)``."""
    if code is None:
        return "no close code"
    name = CLOSE_NAMES.get(code, "application code" if 4000 <= code < 5000 else "")
    return f"{code} ({name})" if name else str(code)


def method_phrase(obs: WsObservation) -> str:
    """How the credential was sent, as a phrase."""
    return {
        AuthMethod.NONE: "no credential sent",
        AuthMethod.HEADER: "token in the Authorization header",
        AuthMethod.SUBPROTOCOL: f"token as subprotocol {obs.offered[-1] if obs.offered else ''}".strip(),
        AuthMethod.QUERY: "token in the ?token= query parameter",
    }[obs.method]


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


def no_answer(obs: WsObservation) -> tuple[str, str]:
    """Summary and diagnosis when the upgrade request got no usable HTTP answer."""
    step = obs.upgrade
    assert step is not None
    t = obs.timeout_s
    hint = " (is it a TLS port? try wss://)" if not obs.secure and obs.port in (443, 8443) else ""
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
            f"speak HTTP on this port, or a proxy dropped the request{hint}.",
        )
    return (
        f"not an HTTP answer: {step.error}",
        f"The answer to the upgrade request is not valid HTTP ({step.error}){hint}: "
        "another protocol listens on this port.",
    )


def status_diagnosis(obs: WsObservation) -> str:
    """Why a handshake answered with a status other than 101 (and not 401)."""
    status = obs.status or 0
    proxy = proxy_name(obs)
    html = "<html" in obs.body.lower() or "text/html" in (obs.header("content-type") or "")
    page = f" (an HTML page: {server_says(obs.body)!r})" if html else ""
    head = f"The server answered HTTP {status} instead of 101 Switching Protocols{page}"
    if proxy:
        head = f"{proxy} answered HTTP {status} instead of 101 Switching Protocols{page}"
    if proxy and status in (200, 400, 404, 405, 426):
        return (
            f"{head}: the request reached {proxy}, which most likely did not forward the upgrade "
            f"(the backend then sees a plain GET on {_path(obs.url)}); {_PROXY_FIX}."
        )
    if status == 200:
        return f"{head}: a plain HTTP endpoint served the request as an ordinary GET, so this URL is not a WebSocket endpoint (wrong path or port)."
    if status == 403 and obs.origin:
        return f"{head} to a request carrying Origin: {obs.origin}: the server most likely refuses this origin; add it to the server's allowed origins, or probe without --origin to confirm."
    if status == 403:
        return f"{head}: the server refused the upgrade; a path with no WebSocket route (Starlette and uvicorn answer 403), an access rule, or an origin check."
    if status == 404:
        return f"{head}: nothing serves WebSocket on {_path(obs.url)}; check the path."
    if status == 426:
        return f"{head}: the server wants a WebSocket upgrade but did not see one, so something in between dropped the Upgrade/Connection headers."
    if status == 400:
        return f"{head}: the upgrade request was refused as malformed; a proxy stripping the Upgrade/Connection headers, or an unsupported WebSocket version."
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


def auth_401(obs: WsObservation) -> str:
    """Why the upgrade got 401."""
    said = f' (the server says: "{server_says(obs.body)}")' if obs.body else ""
    if obs.method is AuthMethod.NONE:
        return (
            f"The server requires a credential and none was sent: HTTP 401 on the upgrade{said}. "
            "Pass --token (or --token-env) and --auth auto to see which way it accepts one."
        )
    where = method_phrase(obs).replace("token in ", "").replace("token as ", "the ")
    if _MISSING_TOKEN.search(obs.body):
        return (
            f"The server answered HTTP 401 saying it found no token, although the token was sent in "
            f"{where}{said}: it does not read credentials from there; --auth auto shows which way it accepts."
        )
    return (
        f"The server refused the token sent in {where} with HTTP 401{said}: the token is invalid "
        "or expired, or the server does not read it from there (--auth auto shows which way it accepts)."
    )


_CLOSE_HINTS = (
    (
        "audience",
        "the token was issued for another audience than the server expects: auth and backend disagree on the aud claim",
    ),
    ("expired", "the token has expired: get a fresh one"),
    (
        "signature",
        "the token's signature does not verify: auth and backend use different signing keys",
    ),
    ("issuer", "the token's issuer is not the one the server trusts"),
)


def auth_close(obs: WsObservation, event: WsEvent) -> str:
    """Why the server closed with a refusal code right after accepting the socket."""
    reason = f', reason "{event.reason}"' if event.reason else ""
    hint = next(
        (h for key, h in _CLOSE_HINTS if key in event.reason.lower()), "it refused the credential"
    )
    return (
        f"The handshake succeeded (101) but the server closed the connection with "
        f"{close_name(event.code)} right after accepting it{reason}: {hint}."
    )


def welcome_missing(obs: WsObservation, event: WsEvent) -> tuple[str, str]:
    """Summary and diagnosis when the expected first message did not come."""
    want, t = obs.expect_first, obs.timeout_s
    echoed = " and the server echoed the offered subprotocol" if obs.selected else ""
    if event.kind is EventKind.TIMEOUT:
        return (
            f"no message within {t:.1f} s",
            f"The handshake succeeded (101){echoed}, but no first message arrived within {t:g} s: "
            f"the server accepts connections but never sends {want}.",
        )
    if event.kind is EventKind.CLOSE:
        reason = f": {event.reason}" if event.reason else ""
        return (
            f"closed with {close_name(event.code)} before {want}{reason}",
            f"The server closed the connection with {close_name(event.code)} {ms(event.ms)} after the "
            f"handshake, before sending {want}{reason}.",
        )
    if event.kind is EventKind.EOF:
        return (
            f"TCP closed before {want}",
            f"The connection dropped without a close frame before {want} arrived: the server "
            "crashed or a proxy cut the connection.",
        )
    return (f"error while waiting: {event.text}", f"Waiting for {want} failed: {event.text}.")


def echo_missing(obs: WsObservation, event: WsEvent, sent: str) -> tuple[str, str]:
    """Summary and diagnosis when the echo message got no reply."""
    t = obs.timeout_s
    if event.kind is EventKind.TIMEOUT:
        return (
            f"no reply to {sent} within {t:.1f} s",
            f"The server took {sent} but sent no reply within {t:g} s: it does not answer this "
            "message type, or its processing stalls.",
        )
    if event.kind is EventKind.CLOSE:
        why = {
            1009: "the message is larger than it accepts",
            1003: "it does not accept this kind of data",
            1007: "the payload is invalid for it",
            1011: "it hit an internal error",
        }.get(event.code or 0, "")
        return (
            f"closed with {close_name(event.code)} after {sent}",
            f"The server closed the connection with {close_name(event.code)} after receiving {sent}"
            + (f": {why}." if why else "."),
        )
    if event.kind is EventKind.EOF:
        return (
            f"TCP closed after {sent}",
            f"The connection dropped without a close frame after sending {sent}: the server crashed or a proxy cut the connection.",
        )
    return (f"error: {event.text}", f"Sending {sent} failed: {event.text}.")


def all_good(obs: WsObservation) -> str:
    """The one-sentence summary of a probe where every stage passed."""
    parts = [f"handshake 101 in {ms(obs.upgrade.ms if obs.upgrade else None)}"]
    if obs.first is not None and obs.expect_first:
        parts.append(f"{obs.expect_first} after {ms(obs.first.ms)}")
    if obs.reply is not None:
        parts.append(f"a reply in {ms(obs.reply.ms)}")
    if obs.closing is not None:
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
