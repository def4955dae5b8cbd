"""The HTTP probe: one request, timed phase by phase, classified by :mod:`.judge`.

The phases come from httpx's own hooks: the ``trace`` request extension hands
us httpcore's events (``connection.connect_tcp.*``, ``connection.start_tls.*``,
``http11.send_request_headers.*``, ``http11.receive_response_headers.*`` ...)
with their times, so nothing is guessed from wall-clock totals. DNS is timed
separately (``getaddrinfo``) because httpcore resolves inside its connect.
Redirects are followed by hand so each hop is recorded and checked against the
allow-list; a hop to a host not allowed raises :class:`~whyloop.errors.ProbeError`.
A redirect to a URL already requested (with the same method) is recorded as a
loop and not followed; a chain longer than ``max_redirects`` stops there.
When verification refuses the certificate, :mod:`.peer` reads it over a
second, unverified connection so that every problem can be reported.

Every wait is bounded: httpx's per-phase timeout, plus a total of three times
that for the whole probe (a body trickling in byte by byte cannot hold it)::

    from whyloop.probes.http.probe import probe_http
    result = probe_http("http://127.0.0.1:8081/health", expect_json={"status": "ok"})
    result.ok, result.failed_stage, result.diagnosis

Proxies from the environment are ignored (``trust_env=False``): a proxy would
be another host, outside the allow-list.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from whyloop.errors import ProbeError
from whyloop.probes.hosts import AllowList, host_of
from whyloop.probes.http.judge import (
    SELECTED_HEADERS,
    Hop,
    HttpObservation,
    Preflight,
    classify_http,
    parse_expect_json,
)
from whyloop.probes.http.peer import unverified_certificate
from whyloop.probes.sync import run_sync
from whyloop.probes.tls import describe_certificate
from whyloop.results import ProbeResult

__all__ = ["probe_http", "probe_http_async"]

T = TypeVar("T")

#: bytes of a response body read at most (the rest is left unread and counted as truncated)
MAX_BODY_BYTES = 1_000_000
#: characters of the body kept as evidence
EXCERPT_CHARS = 2_000
_BODY_DONE = "whyloop.body.complete"


async def _resolve(url: str, timeout_s: float, obs: HttpObservation) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        ipaddress.ip_address(host)
        obs.dns_ms, obs.addresses = 0.0, [host]
        return True
    except ValueError:
        pass
    start = time.perf_counter()
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
            timeout_s,
        )
    except TimeoutError:
        obs.dns_error = f"no answer within {timeout_s:g} s"
    except OSError as exc:
        obs.dns_error = f"{exc.strerror or exc} (is the host name right?)"
    obs.dns_ms = (time.perf_counter() - start) * 1000
    if obs.dns_error:
        return False
    obs.addresses = sorted({str(info[4][0]) for info in infos})
    return True


def _tls_details(response: httpx.Response) -> dict[str, Any]:
    """Protocol, cipher and certificate facts of the connection (also with --insecure)."""
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return {}
    out: dict[str, Any] = {"version": ssl_object.version()}
    cipher = ssl_object.cipher()
    if cipher:
        out["cipher"] = cipher[0]
    der = ssl_object.getpeercert(binary_form=True)
    if der:
        out.update(describe_certificate(der, response.url.host))
    return out


async def _read_body(response: httpx.Response, obs: HttpObservation) -> None:
    chunks: list[bytes] = []
    size = 0
    obs.body_bytes = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        obs.body_bytes = size
        chunks.append(chunk)
        if size >= MAX_BODY_BYTES:
            obs.headers["x-whyloop-truncated"] = f"body read stopped at {MAX_BODY_BYTES} bytes"
            break
    raw = b"".join(chunks)
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    obs.body_excerpt = text[:EXCERPT_CHARS]
    ctype = response.headers.get("content-type", "")
    if "json" in ctype or text.lstrip()[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            obs.json_body = json.loads(text)


def _next_request(method: str, status: int, data: Any) -> tuple[str, Any]:
    # what browsers and httpx do: 303 always becomes GET; 301/302 turn POST into GET
    if status == 303 or (status in (301, 302) and method == "POST"):
        return ("GET" if method != "HEAD" else "HEAD"), None
    return method, data


def _tracer(events: dict[str, float], start: float) -> Any:
    """An httpcore trace callback recording each event's time (seconds since ``start``)."""

    async def trace(name: str, _info: Mapping[str, Any]) -> None:
        events[name] = time.perf_counter() - start

    return trace


def _record_error(obs: HttpObservation, exc: httpx.HTTPError) -> None:
    """The error that ended the request; the verifier's complaint when it refused a certificate."""
    obs.error_type, obs.error = type(exc).__name__, str(exc) or repr(exc)
    cause: BaseException | None = exc
    for _ in range(8):  # httpx.ConnectError <- httpcore.ConnectError <- ssl error
        if cause is None or isinstance(cause, ssl.SSLCertVerificationError):
            break
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        obs.verify_code = cause.verify_code
        obs.verify_message = cause.verify_message


async def _exchange(
    client: httpx.AsyncClient,
    obs: HttpObservation,
    allow: AllowList,
    headers: dict[str, str],
    data: Any,
    max_redirects: int,
) -> None:
    url, method = obs.url, obs.method
    requested: list[tuple[str, str]] = []  # (method, URL) of every request sent, in order
    for hop in range(max_redirects + 1):
        events: dict[str, float] = {}
        start = time.perf_counter()
        request = client.build_request(
            method, url, headers=headers, json=data, extensions={"trace": _tracer(events, start)}
        )
        obs.events = events
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            _record_error(obs, exc)
            return
        try:
            obs.received_at = datetime.now(UTC)
            requested.append((method, str(response.url)))
            obs.status = response.status_code
            obs.http_version = response.http_version
            obs.headers = {k: ", ".join(response.headers.get_list(k)) for k in SELECTED_HEADERS}
            obs.headers = {k: v for k, v in obs.headers.items() if v}
            obs.tls = obs.tls or _tls_details(response)
            location = response.headers.get("location")
            follow = bool(response.is_redirect and location and max_redirects > 0)
            if follow:
                target = str(response.url.join(location or ""))
                next_method, next_data = _next_request(method, response.status_code, data)
                if (next_method, target) in requested:  # visited before: a loop, not followed
                    first = requested.index((next_method, target))
                    obs.redirect_loop = [u for _m, u in requested[first:]] + [target]
                    follow = False
                elif hop == max_redirects:
                    obs.redirects_exhausted, follow = True, False
            if follow:
                allow.check(target, what="redirect")
                obs.redirects.append(
                    Hop(url, response.status_code, (time.perf_counter() - start) * 1000, target)
                )
                if host_of(target) != host_of(url):  # never carry credentials to another host
                    headers = {
                        k: v
                        for k, v in headers.items()
                        if k.lower() not in ("authorization", "cookie")
                    }
                method, data, url = next_method, next_data, target
                continue
            try:
                await _read_body(response, obs)
                events[_BODY_DONE] = time.perf_counter() - start
            except httpx.HTTPError as exc:
                _record_error(obs, exc)
            return
        finally:
            await response.aclose()


#: headers a browser never lists in Access-Control-Request-Headers (forbidden or safelisted)
_NOT_ASKED = frozenset(
    {"accept", "accept-language", "content-language", "cookie", "host", "connection",
     "content-length", "origin", "referer", "user-agent"}
)  # fmt: skip


async def _preflight(
    client: httpx.AsyncClient,
    url: str,
    origin: str,
    method: str,
    headers: dict[str, str],
    data: Any,
) -> Preflight:
    """Send the OPTIONS a browser would send before ``method`` with ``headers`` from ``origin``."""
    asked = {k.lower() for k in headers} - _NOT_ASKED
    if data is not None:
        asked.add("content-type")  # application/json is not a "simple" content type
    pf = Preflight(origin=origin, request_method=method)
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if asked:
        pf.request_headers = request_headers["Access-Control-Request-Headers"] = ", ".join(
            sorted(asked)
        )
    start = time.perf_counter()
    try:
        response = await client.request("OPTIONS", url, headers=request_headers)
    except httpx.HTTPError as exc:
        pf.error = f"{type(exc).__name__}: {exc}"
    else:
        pf.status = response.status_code
        pf.headers = {
            k.lower(): v
            for k, v in response.headers.items()
            if k.lower().startswith("access-control-")
        }
    pf.ms = (time.perf_counter() - start) * 1000
    return pf


async def probe_http_async(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    data: Any = None,
    timeout: float = 10.0,
    insecure: bool = False,
    origin: str | None = None,
    expect_status: int | None = None,
    expect_json: Mapping[str, Any] | list[str] | None = None,
    allow: AllowList | None = None,
    max_redirects: int = 5,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProbeResult:
    """Probe ``url`` once and return the classified :class:`ProbeResult`.

    ``token`` is sent as ``Authorization: Bearer``; ``data`` as a JSON body;
    ``origin`` adds a CORS preflight and an ``Origin`` header; ``expect_json``
    maps dotted paths to values (or takes ``["status=ok"]``). ``allow`` defaults
    to the URL's own host. Raises ProbeError for a bad argument or a host (or
    redirect) outside the allow-list; network failures are a failed stage, not an error.
    """
    timeout_s = timeout  # seconds per phase, as in probe_ws
    allow = allow if allow is not None else AllowList.from_urls([url])
    allow.check(url)
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProbeError(f"url: not an http(s) URL: {url!r}", param="url")
    if timeout_s <= 0:
        raise ProbeError(f"timeout must be positive, got {timeout_s}", param="timeout")
    if isinstance(expect_json, list):
        try:
            expect_json = parse_expect_json(expect_json)
        except ValueError as exc:
            raise ProbeError(f"expect_json: {exc}", param="expect_json") from None
    method = method.upper()
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    if origin:
        sent["Origin"] = origin
    obs = HttpObservation(
        url=url,
        method=method,
        timeout_s=timeout_s,
        insecure=insecure,
        max_redirects=max_redirects,
        expect_status=expect_status,
        expect_json=dict(expect_json or {}),
    )
    if not await _resolve(url, timeout_s, obs):
        return classify_http(obs)
    async with httpx.AsyncClient(
        verify=not insecure,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
        transport=transport,
    ) as client:
        total_s = timeout_s * 3
        try:
            async with asyncio.timeout(total_s):
                await _exchange(client, obs, allow, sent, data, max_redirects)
                if obs.verify_code is not None:
                    parts = urlsplit(url)
                    obs.tls = await unverified_certificate(
                        parts.hostname or "", parts.port or 443, timeout_s
                    )
                if origin:
                    obs.preflight = await _preflight(client, url, origin, method, sent, data)
        except TimeoutError:
            obs.error_type = "TotalTimeout"
            obs.error = f"the probe did not finish within {total_s:g} s in total"
    return classify_http(obs)


def probe_http(url: str, **options: Any) -> ProbeResult:
    """Sync wrapper of :func:`probe_http_async` (works in scripts and notebooks alike)."""
    return run_sync(probe_http_async(url, **options))
