"""Staged WebSocket probe: dns, tcp, tls, upgrade, subprotocol, auth, welcome, echo, close.

::

    from whyloop.probes.ws.probe import probe_ws

    result = probe_ws("ws://127.0.0.1:8080/ws", token=token, auth="auto", timeout=2)
    result.failed_stage      # None, or the first Stage that failed
    result.diagnosis         # one or two sentences naming the likely cause
    result.to_dict()         # the --json object, secrets redacted

A protocol in which the client speaks first, with an application handshake::

    probe_ws(url, subprotocols=["graphql-transport-ws"], client_first=True,
             send=['{"type": "connection_init", "payload": {"token": "{token}"}}'],
             expect_reply="connection_ack", token=token, auth="none")

``probe_ws`` blocks (in a notebook too); in async code ``await probe_websocket(...)``.
The options are checked by :class:`~whyloop.probes.ws.options.WsOptions`
(:class:`~whyloop.errors.ProbeError` naming the bad parameter);
:mod:`.recorder` records one connection and
:mod:`.judge` judges it. Only the host named in the URL is contacted; every
stage has its own timeout and each connection a cap of ``CAP_STAGES`` of them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from whyloop.errors import ProbeError
from whyloop.probes.sync import run_sync
from whyloop.probes.ws.judge import classify_ws
from whyloop.probes.ws.matrix import classify_attempt
from whyloop.probes.ws.observations import AuthMethod, masked
from whyloop.probes.ws.options import AuthMode, WsOptions
from whyloop.probes.ws.recorder import record
from whyloop.redact import redact_frame, redact_text, redact_value
from whyloop.results import ProbeResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["probe_many", "probe_websocket", "probe_ws", "results_frame"]

#: the order auth auto prefers when several ways are accepted
_PREFERRED = (
    AuthMethod.HEADER,
    AuthMethod.CREDENTIAL_HEADER,
    AuthMethod.SUBPROTOCOL,
    AuthMethod.QUERY,
    AuthMethod.COOKIE,
)


async def _run(opts: WsOptions) -> ProbeResult:
    secret, shown = opts.token, redact_value(opts.token) if opts.token else ""
    matrix = None
    methods = opts.methods()
    # with nothing accepted, the staged probe shows the refusal of the first credential given
    method = methods[1] if len(methods) > 1 else AuthMethod.NONE
    if opts.auth is AuthMode.AUTO and len(methods) > 1:
        tried = await asyncio.gather(*(record(opts.plan(m, auth_only=True)) for m in methods))
        matrix = [masked(o, secret, shown) for o in tried]
        accepted = {o.method for o in matrix if classify_attempt(o).accepted}
        method = next((m for m in _PREFERRED if m in accepted), method)
    elif opts.auth is not AuthMode.AUTO:
        method = AuthMethod(opts.auth.value)
    obs = masked(await record(opts.plan(method)), secret, shown)
    return classify_ws(obs, matrix)


async def probe_websocket(url: str | WsOptions, **options: Any) -> ProbeResult:
    """Probe the WebSocket at ``url`` stage by stage and return the judged :class:`ProbeResult`.

    ``options`` are the fields of :class:`~whyloop.probes.ws.options.WsOptions`
    (token, auth, origin, headers, cookies, subprotocols, expect_first, send,
    send_binary, client_first, expect_reply, reject, timeout, insecure,
    subprotocol_format), documented there with their defaults; a built
    ``WsOptions`` may be passed instead of the URL. With ``auth="auto"`` and a
    credential the probe first tries no credential and each credential alone
    (the token as header, subprotocol and query parameter; the cookies; the
    credential headers) in ``result.auth_matrix``, then runs the staged probe
    with the first accepted way. Raises ProbeError for bad options; network
    trouble is reported in the result, never raised.
    """
    return await _run(_options(url, options))


def _signature() -> inspect.Signature:
    """``(url, *, token=None, auth=..., ...)``: the options of WsOptions, for help() and for
    callers that read the signature (the suite runner checks a probe's options against it)."""
    params = [inspect.Parameter("url", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
        for f in fields(WsOptions)
        if f.init and f.name != "url"
    ]
    return inspect.Signature(params, return_annotation=ProbeResult)


probe_websocket.__signature__ = _signature()  # type: ignore[attr-defined]


def _options(url: str | WsOptions, options: dict[str, Any]) -> WsOptions:
    if isinstance(url, WsOptions):
        if options:
            raise ProbeError("give a WsOptions or keyword options, not both", param="options")
        return url
    unknown = sorted(set(options) - {f.name for f in fields(WsOptions) if f.init})
    if unknown:
        raise ProbeError(f"{unknown[0]} is not an option of the WebSocket probe", param=unknown[0])
    return WsOptions(url=url, **options)


def probe_ws(url: str, **options: Any) -> ProbeResult:
    """Blocking :func:`probe_websocket`, for scripts and notebooks alike.

    Inside a running event loop (a Jupyter cell) the probe runs on a fresh
    loop in a helper thread and this call waits for it, as :func:`probe_http` does.
    """
    return run_sync(probe_websocket(url, **options))


async def probe_many(
    targets: Sequence[str | Mapping[str, Any] | WsOptions], concurrency: int = 100
) -> list[ProbeResult]:
    """Probe many targets, ``concurrency`` at a time; results come back in the order given.

    Each target is a URL or a dict of :func:`probe_websocket` arguments with
    a ``"url"`` key. Every target's options are checked before any starts.
    """
    if concurrency < 1:
        raise ProbeError(f"concurrency must be >= 1, not {concurrency}", param="concurrency")
    plans = []
    for target in targets:
        if isinstance(target, WsOptions):
            plans.append(target)
            continue
        kwargs = {"url": target} if isinstance(target, str) else dict(target)
        if "url" not in kwargs:
            raise ProbeError(f"targets: {redact_text(str(target))} has no 'url'", param="targets")
        plans.append(_options(kwargs.pop("url"), kwargs))
    gate = asyncio.Semaphore(concurrency)

    async def one(opts: WsOptions) -> ProbeResult:
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
