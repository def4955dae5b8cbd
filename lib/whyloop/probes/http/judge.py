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
A redirect loop, or more redirects than ``max_redirects``, fails ``expect``
(no final answer came); 429/502/503/504 and refused certificates are worded
by :mod:`.wording` and :func:`whyloop.probes.tls.certificate_problems`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from whyloop.probes.http.certs import refused_certificate, tls_detail, tls_evidence
from whyloop.probes.http.cors import cors_stage
from whyloop.probes.http.observations import SELECTED_HEADERS, Hop, HttpObservation, Preflight
from whyloop.probes.http.wording import EXPLAINED, loop_sentence, proxy_sign, status_sentence
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

# trace event names (httpcore) and the one whyloop adds when the body has been read
_TCP = "connection.connect_tcp"
_TLS = "connection.start_tls"
_SEND_HEADERS = "http11.send_request_headers"
_SEND_BODY = "http11.send_request_body"
_RECV_HEADERS = "http11.receive_response_headers"
_BODY_DONE = "whyloop.body.complete"
#: a connect error this fast on a reachable host means a refusal, not a silent drop
_FAST_FAIL_S = 0.5


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
        if obs.verify_code is not None or "certificate verify failed" in msg.lower():
            return Stage.TLS, refused_certificate(obs, where)
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


def _expect_stage(obs: HttpObservation) -> tuple[StageResult, str]:
    problems = []
    if obs.redirect_loop:
        problems.append(loop_sentence(obs.redirect_loop))
    elif obs.redirects_exhausted:
        last = obs.redirects[-1].location if obs.redirects else obs.url
        problems.append(
            f"too many redirects: {len(obs.redirects)} followed (--max-redirects "
            f"{obs.max_redirects}) and {last} still redirects ({obs.status}) to "
            f"{obs.headers.get('location')}; no URL repeated, so it is a long chain, not a loop"
        )
    want = obs.expect_status
    why_status = ""
    if obs.status is not None and obs.status in EXPLAINED and obs.status != want:
        why_status = status_sentence(obs.status, obs.headers, obs.body_excerpt, obs.received_at)
    if want is not None and obs.status != want:
        mismatch = f"expected status {want}, got {obs.status}"
        problems.append(f"{mismatch}: {why_status}" if why_status else mismatch)
    elif why_status:
        problems.append(why_status)
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
        why += f"; body: {' '.join(obs.body_excerpt[:300].split())[:200]}"
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
            Stage.TLS: tls_detail(obs),
            Stage.REQUEST: {"method": obs.method, "url": obs.url},
            Stage.FIRST_BYTE: {
                "status": obs.status,
                "http_version": obs.http_version,
                "headers": dict(obs.headers),
                "redirects": [vars(h) for h in obs.redirects],
                "redirect_loop": list(obs.redirect_loop),
                "redirects_exhausted": obs.redirects_exhausted,
            },
            Stage.BODY: {"bytes": obs.body_bytes, "excerpt": obs.body_excerpt[:500]},
        }
        for stage in order:
            ok = stage != broken
            result.stages.append(StageResult(stage, ok, spans[stage], details[stage]))
            if not ok:
                break
        if obs.preflight is not None:
            cors, why = cors_stage(obs)
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
    if obs.redirect_loop:
        cycle = obs.redirect_loop
        evidence.append(f"{obs.status} {cycle[-2]} -> {cycle[-1]} (not followed: visited before)")
    elif obs.redirects_exhausted:
        last = obs.redirects[-1].location if obs.redirects else obs.url
        evidence.append(
            f"{obs.status} {last} -> {obs.headers.get('location')} (not followed: "
            f"--max-redirects {obs.max_redirects} reached)"
        )
    if obs.status is not None:
        evidence.append(f"{obs.method} {obs.url} -> {obs.status}")
        cited = ["server", "via", "date"] if obs.status in EXPLAINED else []
        for name in [*cited, "retry-after", "www-authenticate", "location"]:
            if name in obs.headers:
                evidence.append(f"{name}: {obs.headers[name]}")
        page = proxy_sign(obs.headers, obs.body_excerpt).own_page
        if obs.status in EXPLAINED and page:
            evidence.append(f"the body is the proxy's own error page: {page!r}")
    if obs.preflight is not None and obs.preflight.status is not None:
        evidence.append(
            f"OPTIONS (preflight, Origin {obs.preflight.origin}) -> {obs.preflight.status}, "
            f"Access-Control-Allow-Origin: "
            f"{obs.preflight.headers.get('access-control-allow-origin')}"
        )
    evidence.extend(tls_evidence(obs))

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
