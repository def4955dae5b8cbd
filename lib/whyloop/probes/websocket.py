"""Staged WebSocket probe: dns, tcp, tls, upgrade, subprotocol, auth, welcome, echo, close.

::

    from whyloop.probes.websocket import probe_ws

    result = probe_ws("ws://127.0.0.1:8080/ws", token=token, auth="auto", timeout=2)
    result.failed_stage      # None, or the first Stage that failed
    result.diagnosis         # one or two sentences naming the likely cause
    result.to_dict()         # the --json object, secrets redacted

In a notebook (a loop is already running) ``await probe_websocket(...)``.
The options are validated here (:class:`~whyloop.errors.ProbeError` for a bad
URL, header, JSON or auth choice); :mod:`._ws_io` records one connection and
:mod:`.stages` judges it. Only the host named in the URL is contacted; every
stage has its own timeout and each connection a cap of ``CAP_STAGES`` of them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from websockets.exceptions import InvalidURI
from websockets.uri import parse_uri

from whyloop.errors import ProbeError
from whyloop.probes._ws_io import record
from whyloop.probes.model import ProbeResult
from whyloop.probes.stages import classify_ws
from whyloop.probes.ws_matrix import classify_attempt
from whyloop.probes.ws_observations import AuthMethod, WsPlan, masked
from whyloop.redact import redact_frame, redact_text, redact_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AUTH_CHOICES",
    "AUTH_GRACE_S",
    "CAP_STAGES",
    "DEFAULT_EXPECT",
    "DEFAULT_SEND",
    "probe_many",
    "probe_websocket",
    "probe_ws",
    "results_frame",
]

DEFAULT_SEND = '{"type": "ping"}'
DEFAULT_EXPECT = "connection_established"
AUTH_CHOICES = ("auto", "header", "subprotocol", "query", "none")
#: one connection may take at most this many stage timeouts in all
CAP_STAGES = 5
#: how long an auth-matrix attempt watches the open socket for a refusal (1008 and kin)
AUTH_GRACE_S = 1.0
#: the order --auth auto prefers when several methods are accepted
_PREFERRED = (AuthMethod.HEADER, AuthMethod.SUBPROTOCOL, AuthMethod.QUERY)
_TOKEN_CHARS = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_OWN_HEADERS = {
    "host": "a probe only targets the host named in the URL",
    "origin": "use --origin",
    "sec-websocket-protocol": "use --auth subprotocol and --subprotocol-format",
    "upgrade": "the probe sets it",
    "connection": "the probe sets it",
    "sec-websocket-key": "the probe sets it",
    "sec-websocket-version": "the probe sets it",
    "sec-websocket-extensions": "the probe offers no extensions",
}


@dataclass(frozen=True)
class _Options:
    """Validated options of one probe; :meth:`plan` gives one connection's plan."""

    url: str
    host: str
    port: int
    secure: bool
    token: str | None
    auth: str
    headers: tuple[tuple[str, str], ...]
    subprotocols: tuple[str, ...]
    origin: str | None
    expect_first: str | None
    send: str
    timeout: float
    insecure: bool

    def plan(self, method: AuthMethod, *, auth_only: bool = False) -> WsPlan:
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
            url=self.url,
            connect_url=url,
            host=self.host,
            port=self.port,
            secure=self.secure,
            method=method,
            headers=headers,
            subprotocols=offered,
            origin=self.origin,
            expect_first=self.expect_first,
            send=self.send,
            timeout=self.timeout,
            insecure=self.insecure,
            total_s=self.timeout * CAP_STAGES,
            auth_only=auth_only,
            grace_s=min(self.timeout, AUTH_GRACE_S),
        )


def _options(
    url: str,
    *,
    token: str | None = None,
    auth: str = "auto",
    origin: str | None = None,
    headers: Mapping[str, str] | Iterable[str | tuple[str, str]] | None = None,
    expect_first: str | None = DEFAULT_EXPECT,
    send: str | Mapping[str, Any] | None = None,
    timeout: float = 10.0,
    insecure: bool = False,
    subprotocol_format: str = "jwt.{token}",
) -> _Options:
    """Check every option; raise ProbeError naming the first bad one."""
    parts = urlsplit(str(url).strip())
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss"):
        hint = {"http": " (use ws://)", "https": " (use wss://)"}.get(scheme, "")
        raise ProbeError(f"{redact_text(str(url))}: the URL must start with ws:// or wss://{hint}")
    try:
        parse_uri(str(url).strip())
        port = parts.port or (443 if scheme == "wss" else 80)
    except (InvalidURI, ValueError) as exc:
        raise ProbeError(f"{redact_text(str(url))}: not a valid WebSocket URL: {exc}") from None
    if auth not in AUTH_CHOICES:
        raise ProbeError(f"--auth must be one of {', '.join(AUTH_CHOICES)}, not {auth!r}")
    if auth in ("header", "subprotocol", "query") and not token:
        raise ProbeError(f"--auth {auth} needs a token (--token or --token-env)")
    if not 0 < float(timeout) <= 600:
        raise ProbeError(f"--timeout must be between 0 and 600 seconds, not {timeout}")
    if "{token}" not in subprotocol_format:
        raise ProbeError(f"--subprotocol-format must contain {{token}}, got {subprotocol_format!r}")
    offered = tuple(
        p.strip() for p in subprotocol_format.replace("{token}", token or "x").split(",")
    )
    if not all(_TOKEN_CHARS.match(p) for p in offered):
        raise ProbeError("--subprotocol-format gives a subprotocol that is not an HTTP token")
    expect = (
        None
        if expect_first is None or expect_first.strip().lower() in ("", "none")
        else expect_first
    )
    return _Options(
        url=str(url).strip(),
        host=parts.hostname or "",  # parse_uri refused a URL without one
        port=port,
        secure=scheme == "wss",
        token=token or None,
        auth=auth,
        headers=_parse_headers(headers),
        subprotocols=offered if token else (),
        origin=origin or None,
        expect_first=expect,
        send=_parse_send(send),
        timeout=float(timeout),
        insecure=bool(insecure),
    )


def _parse_headers(
    headers: Mapping[str, str] | Iterable[str | tuple[str, str]] | None,
) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for item in items:
        if isinstance(item, str):
            name, sep, value = item.partition(":")
            if not sep:
                raise ProbeError(f"--header {redact_text(item)!r} is not of the form Name:Value")
        else:
            name, value = item
        name, value = name.strip(), str(value).strip()
        if not _TOKEN_CHARS.match(name):
            raise ProbeError(f"--header name {name!r} is not a valid HTTP header name")
        if "\r" in value or "\n" in value:
            raise ProbeError(f"--header {name} has a line break in its value")
        if name.lower() in _OWN_HEADERS:
            raise ProbeError(f"--header {name} is not allowed: {_OWN_HEADERS[name.lower()]}")
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
        raise ProbeError(f"--send is not valid JSON: {exc}") from None
    return send


async def _run(opts: _Options) -> ProbeResult:
    secret, shown = opts.token, redact_value(opts.token) if opts.token else ""
    matrix = None
    method = AuthMethod.HEADER if opts.token else AuthMethod.NONE
    if opts.auth == "auto" and opts.token:
        methods = (AuthMethod.NONE, *_PREFERRED)
        tried = await asyncio.gather(*(record(opts.plan(m, auth_only=True)) for m in methods))
        matrix = [masked(o, secret, shown) for o in tried]
        accepted = {o.method for o in matrix if classify_attempt(o).accepted}
        method = next((m for m in _PREFERRED if m in accepted), method)
    elif opts.auth != "auto":
        method = AuthMethod(opts.auth)
    obs = masked(await record(opts.plan(method)), secret, shown)
    return classify_ws(obs, matrix)


async def probe_websocket(
    url: str,
    *,
    token: str | None = None,
    auth: str = "auto",
    origin: str | None = None,
    headers: Mapping[str, str] | Iterable[str | tuple[str, str]] | None = None,
    expect_first: str | None = DEFAULT_EXPECT,
    send: str | Mapping[str, Any] | None = None,
    timeout: float = 10.0,
    insecure: bool = False,
    subprotocol_format: str = "jwt.{token}",
) -> ProbeResult:
    """Probe the WebSocket at ``url`` stage by stage and return the judged :class:`ProbeResult`.

    ``auth``: ``"auto"`` first tries no credential and the token as header,
    subprotocol and query parameter (``result.auth_matrix``), then runs the
    staged probe with the first accepted way; ``"header"``, ``"subprotocol"``,
    ``"query"`` or ``"none"`` use one way. ``expect_first`` is the ``type`` of
    the first server message (None or ``"none"`` skips that stage); ``send``
    is the echo message (JSON text or a dict); ``timeout`` bounds each stage
    in seconds. ``subprotocol_format`` builds the offered subprotocols from the
    token (``"bearer,{token}"`` offers two). Raises ProbeError for bad options;
    network trouble is reported in the result, never raised.
    """
    opts = _options(
        url,
        token=token,
        auth=auth,
        origin=origin,
        headers=headers,
        expect_first=expect_first,
        send=send,
        timeout=timeout,
        insecure=insecure,
        subprotocol_format=subprotocol_format,
    )
    return await _run(opts)


def probe_ws(url: str, **options: Any) -> ProbeResult:
    """Blocking :func:`probe_websocket` for scripts; in a notebook, ``await probe_websocket(...)``."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(probe_websocket(url, **options))
    raise ProbeError(
        "probe_ws() cannot run inside a running event loop (Jupyter runs one): "
        "use `await probe_websocket(...)` instead"
    )


async def probe_many(
    targets: Sequence[str | Mapping[str, Any]], concurrency: int = 100
) -> list[ProbeResult]:
    """Probe many targets, ``concurrency`` at a time; results come back in the order given.

    Each target is a URL or a dict of :func:`probe_websocket` arguments with
    a ``"url"`` key. Every target's options are checked before any starts.
    """
    if concurrency < 1:
        raise ProbeError(f"concurrency must be >= 1, not {concurrency}")
    plans = []
    for target in targets:
        kwargs = {"url": target} if isinstance(target, str) else dict(target)
        if "url" not in kwargs:
            raise ProbeError(f"probe_many: target {redact_text(str(target))} has no 'url'")
        plans.append(_options(kwargs.pop("url"), **kwargs))
    gate = asyncio.Semaphore(concurrency)

    async def one(opts: _Options) -> ProbeResult:
        async with gate:
            return await _run(opts)

    return list(await asyncio.gather(*(one(o) for o in plans)))


def results_frame(results: Iterable[ProbeResult]) -> pd.DataFrame:
    """One row per stage run (target, ok, failed_stage, stage, stage_ok, ms, summary, diagnosis), redacted."""
    import pandas as pd

    rows = []
    for result in results:
        data = result.to_dict()
        for stage in data["stages"]:
            rows.append(
                {
                    "target": data["target"],
                    "ok": data["ok"],
                    "failed_stage": data["failed_stage"],
                    "stage": stage["name"],
                    "stage_ok": stage["ok"],
                    "ms": stage["ms"],
                    "summary": stage["detail"].get("summary", ""),
                    "diagnosis": data["diagnosis"],
                }
            )
    columns = ["target", "ok", "failed_stage", "stage", "stage_ok", "ms", "summary", "diagnosis"]
    return redact_frame(pd.DataFrame(rows, columns=columns))
