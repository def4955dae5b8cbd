"""Suites of probes: one YAML file lists the checks of a target; the results are a DataFrame.

    from whyloop.probes import run_suite
    df = run_suite("staging.yaml", variables={"STAGING_TOKEN": token})
    df[~df.ok][["probe", "check", "metric", "value", "sla", "diagnosis"]]

The file (``lib/whyloop/sandbox/suites/sandbox.yaml`` is a full example)::

    name: staging                      # default: the file's stem
    targets:                           # base URLs, by name; ${VAR} / ${VAR:-default} expand
      auth: ${WHYLOOP_AUTH_URL:-http://127.0.0.1:8080}
      backend: ${WHYLOOP_BACKEND_URL:-http://127.0.0.1:8081}
    allow_hosts: [127.0.0.1]           # default: the hosts of the targets; others are refused
    timeout_s: 10                      # per request, unless a probe says otherwise
    max_seconds: 300                   # the whole suite; probes past it are reported, not run
    credentials:                       # optional: where the Bearer token comes from
      login: auth                      # target (or URL) of a POST {username, password} login
      login_path: /auth/login
      username: whyloop-probe
      password: ${WHYLOOP_PROBE_PASSWORD:-change-me}
      token_field: access_token        # dotted path in the login answer
      # token_env: STAGING_TOKEN       # ...or take the token from this variable instead
    probes:                            # run in this order; each has name, kind, target or url
      - {name: health, kind: http, target: backend, path: /health,
         expect_status: 200, expect_json: {status: ok}}     # also method, headers, body, origin
      - {name: health-load, kind: load, path: /health, users: 50, requests_per_user: 20,
         max_seconds: 20, sla: {p95_ms: 500, success_rate: 0.99}}
         # sla keys: p50_ms p95_ms p99_ms max_ms (upper bounds), success_rate min_rps (lower)
      - name: errors
        kind: error_handling
        unknown_path: /api/no-such-thing                     # expects 404
        invalid_payload: {method: POST, path: /api/threads, body: {title: 42}}  # 422 (or 400)
        auth_path: /api/me                                   # 401/403 with no and a bad token
        traversal: [/api/files/..%2f..%2fetc%2fpasswd]      # 400/403/404, no "root:" in body
      - name: resilience
        kind: resilience
        timeout: {method: POST, path: /api/agents/triage/execute, body: {input: hi}, timeout_s: 3}
        reconnects: {path: /health, count: 5}
        retries: {setup: {method: POST, path: /api/threads, body: {title: t}},
                  method: POST, path: "/api/threads/{setup.id}/messages",
                  body: {content: hi}, count: 8, max_retries: 3, backoff_s: 0.2, max_backoff_s: 1}
      - {name: ws, kind: ws, target: ws}                    # options go to probe_websocket
      - {name: rate-limit, kind: rate_limit, path: /api/me, burst: 60, max_wait_s: 15}

``auth`` (default true, false for ``load``) sends the suite's token. Put
``rate_limit`` last: its burst spends the user's budget for a window.

Each check is a row: ``suite, probe, kind, check, target, ok, failed_stage,
metric, value, sla, detail`` (JSON), ``evidence`` (JSON list), ``diagnosis,
warning, started, duration_ms``. A ``warning`` marks a passing check worth a
look (an endpoint that needed retries, a load result near the client's own
ceiling); they are also collected in ``df.attrs["warnings"]``. ``failed_stage``
is the stage for http/ws probes and the check's name for the others. Every string is redacted (and the token
itself masked wherever it appears) before the frame is returned or stored.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pandas as pd

from whyloop.errors import ConfigError, WhyloopError
from whyloop.probes.http.probe import probe_http_async
from whyloop.probes.suite import checks as net
from whyloop.probes.suite.load import LoadPlan, client_ceiling, run_load
from whyloop.probes.suite.load_stats import judge_load, summarize
from whyloop.probes.suite.spec import ProbeKind, ProbeSpec, SuiteSpec, load_suite
from whyloop.probes.suite.verdicts import (
    Check,
    judge_errors,
    judge_rate_limit,
    judge_reconnects,
    judge_retries,
    judge_timeout,
)
from whyloop.probes.sync import run_sync
from whyloop.redact import redact_frame, redact_text, redact_value
from whyloop.results import ProbeResult

__all__ = ["COLUMNS", "load_suite", "run_suite"]

COLUMNS = [
    "suite",
    "probe",
    "kind",
    "check",
    "target",
    "ok",
    "failed_stage",
    "metric",
    "value",
    "sla",
    "detail",
    "evidence",
    "diagnosis",
    "warning",
    "started",
    "duration_ms",
]


def _row(spec: ProbeSpec, check: Check, started: datetime, ms: float) -> dict[str, Any]:
    return {
        "probe": spec.name,
        "kind": spec.kind.value,
        "check": check.check,
        "target": spec.url,
        "ok": check.ok,
        "failed_stage": None if check.ok else (check.failed_stage or check.check),
        "metric": check.metric,
        "value": check.value,
        "sla": check.sla,
        "detail": json.dumps(check.detail, default=str, sort_keys=True),
        "evidence": json.dumps(check.evidence, default=str),
        "diagnosis": check.diagnosis,
        "warning": check.warning,
        "started": started,
        "duration_ms": round(ms, 2),
    }


def _probe_check(result: ProbeResult, ms: float) -> Check:
    data = result.to_dict()
    return Check(
        "probe",
        "total_ms",
        round(ms, 2),
        result.ok,
        "",
        result.diagnosis,
        list(data["evidence"]),
        {
            "stages": data["stages"],
            **({"auth_matrix": data["auth_matrix"]} if "auth_matrix" in data else {}),
        },
        data["failed_stage"],
    )


async def _ws(spec: ProbeSpec, token: str | None) -> list[Check]:
    try:  # imported here: the WebSocket probe is optional for every other kind
        from whyloop.probes.ws.probe import probe_websocket
    except ImportError:
        why = "the WebSocket probe (whyloop.probes.ws.probe) is not available in this install"
        return [Check("probe", "total_ms", None, False, "", why)]
    accepted = set(inspect.signature(probe_websocket).parameters) - {"url"}
    unknown = sorted(set(spec.options) - accepted)
    if unknown:
        why = f"unknown ws option {unknown[0]!r} (known: {', '.join(sorted(accepted))})"
        return [Check("probe", "total_ms", None, False, "", why)]
    kwargs = {"timeout": spec.timeout_s, **spec.options}
    if spec.auth and token:
        kwargs["token"] = token
    start = time.perf_counter()
    result = await probe_websocket(spec.url, **kwargs)
    return [_probe_check(result, (time.perf_counter() - start) * 1000)]


async def _http(spec: SuiteSpec, probe: ProbeSpec, token: str | None) -> list[Check]:
    o = probe.options
    start = time.perf_counter()
    result = await probe_http_async(
        probe.url,
        method=o["method"],
        headers=o["headers"],
        token=token if probe.auth else None,
        data=o["body"],
        timeout=probe.timeout_s,
        insecure=bool(o["insecure"]),
        origin=o["origin"],
        expect_status=o["expect_status"],
        expect_json=o["expect_json"],
        allow=spec.allow,
    )
    return [_probe_check(result, (time.perf_counter() - start) * 1000)]


async def _load(probe: ProbeSpec, token: str | None) -> list[Check]:
    o = probe.options
    headers = dict(o["headers"])
    if probe.auth and token:
        headers["Authorization"] = f"Bearer {token}"
    plan = LoadPlan(
        url=probe.url,
        method=str(o["method"]).upper(),
        users=int(o["users"]),
        requests_per_user=int(o["requests_per_user"]),
        headers=headers,
        body=o["body"],
        timeout_s=probe.timeout_s,
        max_seconds=float(o["max_seconds"]),
    )
    ceiling = summarize(await client_ceiling(plan))
    stats = summarize(await run_load(plan))
    return judge_load(stats, ceiling, dict(o["sla"] or {}))


async def _resilience(
    client: httpx.AsyncClient, probe: ProbeSpec, token: str | None
) -> list[Check]:
    o, base = probe.options, probe.url.rstrip("/")
    tok = token if probe.auth else None
    checks = []
    if o.get("timeout"):
        t = o["timeout"]
        timeout_s = float(t.get("timeout_s", 2.0))
        elapsed, status, error = await net.timed_request(
            client,
            base + t["path"],
            method=str(t.get("method", "GET")).upper(),
            body=t.get("body"),
            token=tok,
            timeout_s=timeout_s,
        )
        checks.append(judge_timeout(t["path"], timeout_s, elapsed, status, error))
    if o.get("reconnects"):
        r = o["reconnects"]
        results = await net.reconnects(
            base + r.get("path", "/"), count=int(r.get("count", 5)), timeout_s=probe.timeout_s
        )
        checks.append(judge_reconnects(r.get("path", "/"), results))
    if o.get("retries"):
        checks.append(judge_retries(await net.retries(client, base, o["retries"], tok)))
    return checks


async def _one(
    spec: SuiteSpec, probe: ProbeSpec, client: httpx.AsyncClient, token: str | None
) -> list[Check]:
    o = probe.options
    tok = token if probe.auth else None
    match probe.kind:
        case ProbeKind.HTTP:
            return await _http(spec, probe, token)
        case ProbeKind.WS:
            return await _ws(probe, token)
        case ProbeKind.LOAD:
            return await _load(probe, token)
        case ProbeKind.RATE_LIMIT:
            obs = await net.burst(
                client,
                probe.url,
                token=tok,
                method=str(o["method"]).upper(),
                body=o["body"],
                count=int(o["burst"]),
                max_wait_s=float(o["max_wait_s"]),
            )
            return judge_rate_limit(obs)
        case ProbeKind.ERROR_HANDLING:
            return judge_errors(await net.error_exchanges(client, probe.url.rstrip("/"), o, tok))
        case ProbeKind.RESILIENCE:
            return await _resilience(client, probe, token)
    raise ConfigError(f"unsupported probe kind {probe.kind}")  # pragma: no cover


async def _token(spec: SuiteSpec, client: httpx.AsyncClient) -> tuple[str | None, Check | None]:
    cred = spec.credentials
    if cred is None:
        return None, None
    if cred.token_env:
        token = os.environ.get(cred.token_env)
        if not token:
            why = f"credentials.token_env: ${cred.token_env} is not set or empty"
            return None, Check("login", "token", None, False, "set", why)
        return token, None
    assert cred.login_url and cred.username and cred.password
    return await net.login(client, cred.login_url, cred.username, cred.password, cred.token_field)


async def _run(spec: SuiteSpec) -> tuple[list[dict[str, Any]], str | None]:
    rows: list[dict[str, Any]] = []
    deadline = time.monotonic() + spec.max_seconds
    async with httpx.AsyncClient(timeout=10.0, trust_env=False, follow_redirects=False) as client:
        started = datetime.now(UTC)
        token, login = await _token(spec, client)
        if login is not None:
            assert spec.credentials is not None
            who = ProbeSpec(
                "login", ProbeKind.HTTP, spec.credentials.login_url or "", False, 10.0, {}
            )
            rows.append(_row(who, login, started, 0.0) | {"kind": "login"})
        for probe in spec.probes:
            client.timeout = httpx.Timeout(probe.timeout_s)
            started, start = datetime.now(UTC), time.perf_counter()
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                async with asyncio.timeout(remaining):
                    checks = await _one(spec, probe, client, token)
            except TimeoutError:
                why = f"not finished within the suite's max_seconds ({spec.max_seconds:g} s)"
                checks = [Check("suite_time", "seconds", None, False, "", why)]
            except (WhyloopError, httpx.HTTPError, aiohttp.ClientError, OSError) as exc:
                why = f"the probe could not run: {type(exc).__name__}: {exc}"
                checks = [Check("error", "", None, False, "", why)]
            ms = (time.perf_counter() - start) * 1000
            rows.extend(_row(probe, c, started, ms) for c in checks)
    return rows, token


def _frame(spec: SuiteSpec, rows: list[dict[str, Any]], token: str | None) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df.insert(0, "suite", spec.name)
    df = df.reindex(columns=COLUMNS)
    df["ok"] = df["ok"].astype(bool)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    df["started"] = pd.to_datetime(df["started"], utc=True)
    for col in (
        "suite",
        "probe",
        "kind",
        "check",
        "target",
        "failed_stage",
        "metric",
        "sla",
        "detail",
        "evidence",
        "diagnosis",
        "warning",
    ):
        df[col] = df[col].astype(object)
    if token:  # an opaque token that no pattern recognises is masked all the same
        masked = redact_value(token)
        for col in ("target", "detail", "evidence", "diagnosis", "warning"):
            df[col] = [v.replace(token, masked) if isinstance(v, str) else v for v in df[col]]
    redact_frame(df)
    warnings = list(dict.fromkeys(w for w in df["warning"] if isinstance(w, str) and w))
    df.attrs["warnings"] = [redact_text(w) for w in warnings]
    df.attrs["suite"] = spec.name
    return df


def run_suite(
    source: str | Path | Mapping[str, Any],
    *,
    variables: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Run every probe of a suite (a YAML file's path, or the same as a dict) and judge each check.

    ``variables`` feed ``${VAR}`` (default: the environment). The bundled
    suite of the sandbox is ``whyloop.sandbox.SUITE``, its URLs
    ``whyloop.sandbox.suite_variables()``. Raises ConfigError or ProbeError
    before any traffic when the suite cannot run; a failing check is a row
    with ``ok`` False, not an error. To keep the frame, write it to the store
    (``Store.write(loop, probes=df)``): the probes never write files.
    """
    values = dict(os.environ if variables is None else variables)
    spec = load_suite(source, variables=values)
    rows, token = run_sync(_run(spec))
    df = _frame(spec, rows, token)
    df.attrs["source"] = spec.source
    return df
