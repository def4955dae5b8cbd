"""Pure classification of one HTTP probe: observations in, a :class:`ProbeResult` out.

:mod:`whyloop.probes.http.probe` does the network part and records what it saw in
an :class:`HttpObservation`: the DNS answer, httpcore's trace events (seconds
since the request started), the error if one ended the request, status,
selected headers, the redirect chain, a body excerpt, TLS details and the CORS
preflight. :func:`classify_http` turns that into stages, picks the first stage
that failed and writes the diagnosis and evidence. Nothing here touches the
network, so every rule is unit-tested with recorded observations.

Stages, in order: ``dns``, ``tcp``, ``tls`` (https only), ``request``,
``first_byte``, ``body``, ``cors`` (with an origin), ``expect``. Without
``expect_status`` the expectation is "status below 400", like ``curl -f``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from whyloop.results import ProbeResult, Stage, StageResult

__all__ = [
    "SELECTED_HEADERS",
    "Hop",
    "HttpObservation",
    "Preflight",
    "check_expect_json",
    "classify_http",
    "dotted",
    "parse_expect_json",
]

#: response headers recorded in a probe's details (secret ones are redacted on output)
SELECTED_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "server",
    "date",
    "location",
    "retry-after",
    "cache-control",
    "www-authenticate",
    "x-request-id",
    "via",
    "strict-transport-security",
    "set-cookie",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
    "access-control-max-age",
    "vary",
)

# trace event names (httpcore) and the one whyloop adds when the body has been read
_TCP = "connection.connect_tcp"
_TLS = "connection.start_tls"
_SEND_HEADERS = "http11.send_request_headers"
_SEND_BODY = "http11.send_request_body"
_RECV_HEADERS = "http11.receive_response_headers"
_BODY_DONE = "whyloop.body.complete"
#: a connect error this fast on a reachable host means a refusal, not a silent drop
_FAST_FAIL_S = 0.5
_MISSING = object()


@dataclass
class Hop:
    """One answered request of a redirect chain."""

    url: str
    status: int
    ms: float
    location: str | None = None


@dataclass
class Preflight:
    """What a CORS preflight (OPTIONS with Access-Control-Request-Method) got back."""

    origin: str
    request_method: str
    #: the Access-Control-Request-Headers sent (None: no non-simple headers)
    request_headers: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ms: float | None = None
    error: str | None = None


@dataclass
class HttpObservation:
    """Everything the HTTP probe saw, as plain data (the input of :func:`classify_http`)."""

    url: str
    method: str = "GET"
    timeout_s: float = 10.0
    dns_ms: float | None = None
    addresses: list[str] = field(default_factory=list)
    dns_error: str | None = None
    #: trace event name -> seconds since the final request started (``*.started``/``*.complete``)
    events: dict[str, float] = field(default_factory=dict)
    error_type: str | None = None
    error: str | None = None
    status: int | None = None
    http_version: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body_bytes: int | None = None
    body_excerpt: str = ""
    json_body: Any = _MISSING
    redirects: list[Hop] = field(default_factory=list)
    tls: dict[str, Any] = field(default_factory=dict)
    preflight: Preflight | None = None
    expect_status: int | None = None
    #: dotted path -> expected value (already parsed, see :func:`parse_expect_json`)
    expect_json: dict[str, Any] = field(default_factory=dict)

    @property
    def has_json(self) -> bool:
        return self.json_body is not _MISSING


def parse_expect_json(items: list[str]) -> dict[str, Any]:
    """Turn ``["status=ok", "count=3"]`` into ``{"status": "ok", "count": 3}``.

    A value that parses as JSON (numbers, true/false/null, quoted strings) is
    compared as that; anything else as a string. ValueError on an item with no ``=``.
    """
    out: dict[str, Any] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        if not sep or not path.strip():
            raise ValueError(f"expected PATH=VALUE, got {item!r}")
        try:
            out[path.strip()] = json.loads(raw)
        except ValueError:
            out[path.strip()] = raw
    return out


def dotted(data: Any, path: str) -> Any:
    """The value at dotted ``path`` (``a.b.0.c``) in JSON data; KeyError when it is absent."""
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif (
            isinstance(current, list)
            and part.lstrip("-").isdigit()
            and -len(current) <= int(part) < len(current)
        ):
            current = current[int(part)]
        else:
            raise KeyError(path)
    return current


def check_expect_json(data: Any, expected: dict[str, Any]) -> list[str]:
    """The mismatches between JSON ``data`` and ``expected`` (empty when all match)."""
    problems = []
    for path, want in expected.items():
        try:
            got = dotted(data, path)
        except KeyError:
            problems.append(f"JSON has no field {path!r} (expected {want!r})")
            continue
        if got != want and not (isinstance(want, str) and str(got) == want):
            problems.append(f"JSON {path} is {got!r}, expected {want!r}")
    return problems


def _span(events: dict[str, float], start: str, end: str) -> float | None:
    if start in events and end in events:
        return max(0.0, (events[end] - events[start]) * 1000)
    return None


def _where(obs: HttpObservation) -> str:
    parts = urlsplit(obs.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def _transport_failure(obs: HttpObservation) -> tuple[Stage, str]:
    """The stage an exception ended the request in, and why (from the events reached)."""
    ev = obs.events
    kind = obs.error_type or "Error"
    msg = obs.error or kind
    where = _where(obs)
    timeout = "Timeout" in kind
    if _TCP + ".complete" not in ev:
        spent = ev.get(_TCP + ".failed", 0.0) - ev.get(_TCP + ".started", 0.0)
        if timeout:
            return Stage.TCP, (
                f"no TCP answer from {where} within {obs.timeout_s:g} s: the host drops "
                "connections (firewall, wrong address) or is down"
            )
        if spent < _FAST_FAIL_S:
            return Stage.TCP, (
                f"TCP connect to {where} was refused ({msg}): nothing accepts connections "
                "there; is the service running, and on this port?"
            )
        return Stage.TCP, f"TCP connect to {where} failed after {spent:.1f} s: {msg}"
    tls_error = "ssl" in msg.lower() or "certificate" in msg.lower()
    if (_TLS + ".started" in ev and _TLS + ".complete" not in ev) or (
        tls_error and _SEND_HEADERS + ".started" not in ev
    ):
        if "certificate verify failed" in msg.lower() or "certificate" in msg.lower():
            return Stage.TLS, (
                f"TLS handshake with {where} failed: the certificate is not trusted ({msg}); "
                "fix the certificate, or use --insecure to look past it"
            )
        if timeout:
            return (
                Stage.TLS,
                f"TLS handshake with {where} did not finish within {obs.timeout_s:g} s",
            )
        return Stage.TLS, f"TLS handshake with {where} failed: {msg}"
    if _SEND_BODY + ".complete" not in ev and _RECV_HEADERS + ".started" not in ev:
        return Stage.REQUEST, f"the connection broke while sending the request ({kind}: {msg})"
    if _RECV_HEADERS + ".complete" not in ev:
        if timeout:
            return Stage.FIRST_BYTE, (
                f"the server took the request but sent no response headers within "
                f"{obs.timeout_s:g} s: it is stuck or too slow (look for slow handlers or "
                "blocked workers in its logs)"
            )
        return Stage.FIRST_BYTE, (
            f"the server closed the connection without answering ({kind}: {msg}): a crash, "
            "a proxy reset or a worker restart"
        )
    got = f" after {obs.body_bytes} bytes" if obs.body_bytes else ""
    if timeout:
        return Stage.BODY, f"the response body stalled{got}: no data for {obs.timeout_s:g} s"
    return Stage.BODY, f"the response body broke off{got} ({kind}: {msg})"


def _cors_stage(obs: HttpObservation) -> tuple[StageResult, str]:
    pf = obs.preflight
    assert pf is not None
    h = {k.lower(): v for k, v in pf.headers.items()}
    allow_origin = h.get("access-control-allow-origin")
    methods = [m.strip().upper() for m in h.get("access-control-allow-methods", "").split(",")]
    credentials = h.get("access-control-allow-credentials", "").lower() == "true"
    main_origin = obs.headers.get("access-control-allow-origin")
    origin_ok = allow_origin in (pf.origin, "*")
    method_ok = pf.request_method.upper() in methods or "*" in methods
    simple = pf.request_method.upper() in ("GET", "HEAD", "POST")
    detail: dict[str, Any] = {
        "origin": pf.origin,
        "request_method": pf.request_method,
        "request_headers": pf.request_headers,
        "preflight_status": pf.status,
        "allow_origin": allow_origin,
        "allow_methods": h.get("access-control-allow-methods"),
        "allow_headers": h.get("access-control-allow-headers"),
        "allow_credentials": credentials,
        "response_allow_origin": main_origin,
    }
    why = ""
    if pf.error:
        why = f"the CORS preflight (OPTIONS) got no answer: {pf.error}"
    elif (pf.status is None or not 200 <= pf.status < 300) and not h:
        why = (
            f"the CORS preflight (OPTIONS) answered {pf.status} with no Access-Control-* "
            "headers: the server has no CORS handling here"
        )
    elif pf.status is None or not 200 <= pf.status < 300:
        why = f"the CORS preflight (OPTIONS) was refused with {pf.status}" + (
            f": origin {pf.origin!r} is not in the server's CORS allow list"
            if not origin_ok
            else f" although it allows the origin: the method {pf.request_method} or the "
            f"headers ({pf.request_headers or 'none'}) are not allowed (Allow-Methods "
            f"{h.get('access-control-allow-methods')!r}, Allow-Headers "
            f"{h.get('access-control-allow-headers')!r})"
        )
    elif not origin_ok:
        why = (
            f"origin {pf.origin!r} is not allowed: the preflight's Access-Control-Allow-Origin is "
            f"{allow_origin!r}; add the origin to the server's CORS allow list"
        )
    elif not method_ok and not simple:
        why = (
            f"method {pf.request_method} is not in Access-Control-Allow-Methods "
            f"({h.get('access-control-allow-methods')!r})"
        )
    elif allow_origin == "*" and credentials:
        why = "Access-Control-Allow-Origin '*' with credentials: browsers refuse that combination"
    elif obs.status is not None and main_origin not in (pf.origin, "*"):
        why = (
            f"the preflight allows {pf.origin!r} but the response itself carries "
            f"Access-Control-Allow-Origin {main_origin!r}, so the browser drops it"
        )
    detail["origin_allowed"] = not why
    return StageResult(Stage.CORS, not why, pf.ms, detail), why


def _expect_stage(obs: HttpObservation) -> tuple[StageResult, str]:
    problems = []
    want = obs.expect_status
    if want is not None and obs.status != want:
        problems.append(f"expected status {want}, got {obs.status}")
    elif want is None and (obs.status or 0) >= 400:
        problems.append(f"status {obs.status} (an error; pass --expect-status to expect it)")
    if obs.expect_json:
        if not obs.has_json:
            ctype = obs.headers.get("content-type", "no content-type")
            problems.append(f"the body is not JSON ({ctype})")
        else:
            problems.extend(check_expect_json(obs.json_body, obs.expect_json))
    detail = {
        "status": obs.status,
        "expect_status": want if want is not None else "<400",
        "expect_json": obs.expect_json,
        "problems": problems,
    }
    why = "; ".join(problems)
    if why and obs.body_excerpt:
        why += f"; body: {obs.body_excerpt[:200]}"
    return StageResult(Stage.EXPECT, not problems, None, detail), why


def classify_http(obs: HttpObservation) -> ProbeResult:
    """Build the stages of one HTTP probe, pick the first failure, diagnose it, cite evidence."""
    ev = obs.events
    result = ProbeResult(target=obs.url, kind="http")
    failures: dict[Stage, str] = {}
    evidence: list[str] = []
    https = obs.url.lower().startswith("https:")

    dns_ok = obs.dns_error is None
    result.stages.append(
        StageResult(Stage.DNS, dns_ok, obs.dns_ms, {"addresses": obs.addresses[:8]})
    )
    if not dns_ok:
        failures[Stage.DNS] = (
            f"DNS lookup of {_where(obs).rsplit(':', 1)[0]} failed: {obs.dns_error}"
        )
    else:
        broken: Stage | None = None
        if obs.error_type is not None:
            broken, why = _transport_failure(obs)
            failures[broken] = why
            evidence.append(f"{obs.method} {obs.url}: {obs.error_type}: {obs.error}")
        order = [Stage.TCP, *([Stage.TLS] if https else []), Stage.REQUEST, Stage.FIRST_BYTE]
        order.append(Stage.BODY)
        spans = {
            Stage.TCP: _span(ev, _TCP + ".started", _TCP + ".complete"),
            Stage.TLS: _span(ev, _TLS + ".started", _TLS + ".complete"),
            Stage.REQUEST: _span(ev, _SEND_HEADERS + ".started", _SEND_BODY + ".complete")
            or _span(ev, _SEND_HEADERS + ".started", _SEND_HEADERS + ".complete"),
            Stage.FIRST_BYTE: _span(ev, _SEND_BODY + ".complete", _RECV_HEADERS + ".complete"),
            Stage.BODY: _span(ev, _RECV_HEADERS + ".complete", _BODY_DONE),
        }
        details: dict[Stage, dict[str, Any]] = {
            Stage.TCP: {"address": _where(obs)},
            Stage.TLS: dict(obs.tls),
            Stage.REQUEST: {"method": obs.method, "url": obs.url},
            Stage.FIRST_BYTE: {
                "status": obs.status,
                "http_version": obs.http_version,
                "headers": dict(obs.headers),
                "redirects": [vars(h) for h in obs.redirects],
            },
            Stage.BODY: {"bytes": obs.body_bytes, "excerpt": obs.body_excerpt[:500]},
        }
        for stage in order:
            ok = stage != broken
            result.stages.append(StageResult(stage, ok, spans[stage], details[stage]))
            if not ok:
                break
        if obs.preflight is not None:
            cors, why = _cors_stage(obs)
            result.stages.append(cors)
            if why:
                failures[Stage.CORS] = why
        if broken is None and obs.status is not None:
            expect, why = _expect_stage(obs)
            result.stages.append(expect)
            if why:
                failures[Stage.EXPECT] = why

    for hop in obs.redirects:
        evidence.append(f"{hop.status} {hop.url} -> {hop.location} ({hop.ms:.1f} ms)")
    if obs.status is not None:
        evidence.append(f"{obs.method} {obs.url} -> {obs.status}")
        for name in ("retry-after", "www-authenticate", "location"):
            if name in obs.headers:
                evidence.append(f"{name}: {obs.headers[name]}")
    if obs.preflight is not None and obs.preflight.status is not None:
        evidence.append(
            f"OPTIONS (preflight, Origin {obs.preflight.origin}) -> {obs.preflight.status}, "
            f"Access-Control-Allow-Origin: "
            f"{obs.preflight.headers.get('access-control-allow-origin')}"
        )
    days = obs.tls.get("days_left")
    if isinstance(days, (int, float)) and days < 14:
        evidence.append(f"TLS certificate expires in {days:.0f} days ({obs.tls.get('not_after')})")

    for stage in result.stages:
        if not stage.ok:
            result.failed_stage = stage.name
            result.diagnosis = failures.get(stage.name, f"{stage.name.value} failed")
            break
    if result.failed_stage is None:
        ttfb = result.stage(Stage.FIRST_BYTE)
        ms = f" in {ttfb.ms:.1f} ms to first byte" if ttfb and ttfb.ms is not None else ""
        result.diagnosis = f"{obs.method} {obs.url} answered {obs.status}{ms}"
    result.evidence = evidence
    return result
