"""The network side of the suite's checks: log in, burst, send bad requests, time out, retry.

Each function sends bounded traffic with an httpx client the suite owns
(``trust_env=False``, follow no redirects) to URLs the allow-list already
passed, records what came back in the observation types of
:mod:`.verdicts`, and leaves the judging to the pure ``judge_*``
functions there. Every wait is bounded by a client timeout, and the waits
these checks choose (Retry-After, backoff) by a maximum.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx

from whyloop.probes.http.judge import dotted
from whyloop.probes.suite.verdicts import (
    Check,
    Exchange,
    RateLimitObservation,
    RetryObservation,
    retry_after_seconds,
)

__all__ = ["burst", "error_exchanges", "login", "reconnects", "retries", "timed_request"]

#: characters of a body kept as evidence
BODY_CHARS = 1_000
#: waiting a Retry-After this much longer absorbs timer granularity on both sides
RETRY_AFTER_MARGIN_S = 0.1
_BAD_TOKEN = "whyloop-probe-invalid-token"


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _answer(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def login(
    client: httpx.AsyncClient, url: str, username: str, password: str, token_field: str
) -> tuple[str | None, Check]:
    """POST the credentials to ``url``; return the token (None on failure) and the login row."""
    start = time.perf_counter()
    try:
        response = await client.post(url, json={"username": username, "password": password})
    except httpx.HTTPError as exc:
        why = f"login at {url} got no answer: {_answer(exc)}"
        return None, Check("login", "status", None, False, "200", why, [why])
    ms = (time.perf_counter() - start) * 1000
    token = None
    try:
        value = dotted(response.json(), token_field)
        token = value if isinstance(value, str) and value else None
    except (ValueError, KeyError):
        pass
    ok = response.is_success and token is not None
    why = ""
    if not ok:
        why = (
            f"login at {url} as {username!r} answered {response.status_code}"
            + ("" if response.is_success else f": {response.text[:300]}")
            + ("" if token else f"; the answer has no {token_field!r}")
        )
    return token, Check(
        "login",
        "status",
        float(response.status_code),
        ok,
        "200",
        why,
        [f"POST {url} -> {response.status_code} in {ms:.1f} ms"],
        {"ms": round(ms, 2)},
    )


async def burst(
    client: httpx.AsyncClient,
    url: str,
    *,
    token: str | None,
    method: str,
    body: Any,
    count: int,
    max_wait_s: float,
) -> RateLimitObservation:
    """Send up to ``count`` requests back to back as one user; stop at the first 429.

    Then wait what its Retry-After asks (when at most ``max_wait_s``) and send
    one more request to see whether waiting was enough.
    """
    obs = RateLimitObservation(burst=count, max_wait_s=max_wait_s)
    headers = _bearer(token)
    for _ in range(count):
        try:
            response = await client.request(method, url, headers=headers, json=body)
        except httpx.HTTPError as exc:
            obs.statuses.append(None)
            obs.errors.append(_answer(exc))
            continue
        obs.statuses.append(response.status_code)
        if response.status_code == 429:
            obs.retry_after = response.headers.get("retry-after")
            obs.retry_after_s = retry_after_seconds(obs.retry_after, now=time.time())
            break
    if obs.first_429 is None or obs.retry_after_s is None or obs.retry_after_s > max_wait_s:
        return obs
    start = time.perf_counter()
    await asyncio.sleep(obs.retry_after_s + RETRY_AFTER_MARGIN_S)
    obs.waited_s = time.perf_counter() - start
    try:
        response = await client.request(method, url, headers=headers, json=body)
        obs.status_after_wait = response.status_code
    except httpx.HTTPError as exc:
        obs.errors.append(_answer(exc))
    return obs


async def _exchange(
    client: httpx.AsyncClient, ex: Exchange, url: str, headers: dict[str, str], body: Any = None
) -> Exchange:
    try:
        response = await client.request(ex.method, url, headers=headers, json=body)
    except httpx.HTTPError as exc:
        ex.error = _answer(exc)
        return ex
    ex.status = response.status_code
    ex.body = response.text[:BODY_CHARS]
    return ex


async def error_exchanges(
    client: httpx.AsyncClient, base: str, options: dict[str, Any], token: str | None
) -> list[Exchange]:
    """Send the error-handling requests: unknown path, invalid payload, no/bad token, traversal."""
    auth = _bearer(token)
    out: list[Exchange] = []
    if options.get("unknown_path"):
        path = str(options["unknown_path"])
        out.append(
            await _exchange(
                client, Exchange("unknown_path", "GET", path, (404,)), base + path, auth
            )
        )
    invalid = options.get("invalid_payload")
    if invalid:
        ex = Exchange(
            "invalid_payload",
            str(invalid.get("method", "POST")).upper(),
            str(invalid["path"]),
            tuple(invalid.get("expect", (422, 400))),
        )
        out.append(await _exchange(client, ex, base + ex.path, auth, invalid.get("body", {})))
    if options.get("auth_path"):
        path = str(options["auth_path"])
        expect = tuple(int(s) for s in options.get("auth_expect") or (401, 403))
        out.append(
            await _exchange(client, Exchange("no_token", "GET", path, expect), base + path, {})
        )
        bad = {"Authorization": f"Bearer {_BAD_TOKEN}"}
        out.append(
            await _exchange(client, Exchange("bad_token", "GET", path, expect), base + path, bad)
        )
    for i, path in enumerate(options.get("traversal") or ()):
        name = "traversal" if i == 0 else f"traversal_{i + 1}"
        ex = Exchange(name, "GET", str(path), (400, 403, 404), forbidden=("root:",))
        out.append(await _exchange(client, ex, base + str(path), auth))
    return out


async def timed_request(
    client: httpx.AsyncClient,
    url: str,
    *,
    method: str,
    body: Any,
    token: str | None,
    timeout_s: float,
) -> tuple[float, int | None, str | None]:
    """One request with a short client timeout: ``(elapsed_s, status, error)``; never hangs.

    httpx enforces ``timeout_s`` per phase; a hard bound of 1.5x + 1 s covers
    a server that trickles bytes to dodge it.
    """
    start = time.perf_counter()
    try:
        response = await asyncio.wait_for(
            client.request(
                method, url, headers=_bearer(token), json=body, timeout=httpx.Timeout(timeout_s)
            ),
            timeout_s * 1.5 + 1,
        )
    except httpx.HTTPError as exc:
        return time.perf_counter() - start, None, _answer(exc)
    except TimeoutError:
        return time.perf_counter() - start, None, "no complete answer (hard bound reached)"
    return time.perf_counter() - start, response.status_code, None


async def reconnects(
    url: str, *, count: int, timeout_s: float
) -> list[tuple[int | None, float, str | None]]:
    """Open ``count`` new connections one after another (a fresh client each); ``(status, ms, error)``."""
    results: list[tuple[int | None, float, str | None]] = []
    for _ in range(count):
        start = time.perf_counter()
        async with httpx.AsyncClient(timeout=timeout_s, trust_env=False) as fresh:
            try:
                response = await fresh.get(url)
                results.append((response.status_code, (time.perf_counter() - start) * 1000, None))
            except httpx.HTTPError as exc:
                results.append((None, (time.perf_counter() - start) * 1000, _answer(exc)))
    return results


_SETUP_FIELD = re.compile(r"\{setup\.([A-Za-z0-9_.-]+)\}")


async def retries(
    client: httpx.AsyncClient, base: str, options: dict[str, Any], token: str | None
) -> RetryObservation:
    """Call a (possibly flaky) endpoint ``count`` times, retrying with bounded backoff.

    An optional ``setup`` request runs first; ``{setup.FIELD}`` in the path is
    replaced from its JSON answer (e.g. a thread created to post messages to).
    A retry waits ``backoff_s * 2**n`` or the answer's Retry-After, whichever
    is longer, never more than ``max_backoff_s``.
    """
    headers = _bearer(token)
    path = str(options["path"])
    max_retries = int(options.get("max_retries", 3))
    retry_on = {int(s) for s in options.get("retry_on", (500, 502, 503, 504))}
    backoff_s = float(options.get("backoff_s", 0.2))
    max_backoff_s = float(options.get("max_backoff_s", 2.0))
    obs = RetryObservation(path=path, max_retries=max_retries)
    setup = options.get("setup")
    if setup:
        method = str(setup.get("method", "POST")).upper()
        obs.setup = f"{method} {setup['path']}"
        try:
            response = await client.request(
                method, base + str(setup["path"]), headers=headers, json=setup.get("body")
            )
        except httpx.HTTPError as exc:
            obs.setup_error = _answer(exc)
            return obs
        if not response.is_success:
            obs.setup_error = f"{response.status_code} {response.text[:300]}"
            return obs
        try:
            answer = response.json()
            path = _SETUP_FIELD.sub(lambda m: str(dotted(answer, m.group(1))), path)
        except (ValueError, KeyError) as exc:
            obs.setup_error = f"its answer has no field for {path!r} ({exc})"
            return obs
        obs.path = path
    method = str(options.get("method", "POST")).upper()
    for _ in range(int(options.get("count", 5))):
        answers: list[int | str] = []
        for attempt in range(max_retries + 1):
            retry_after = None
            try:
                response = await client.request(
                    method, base + path, headers=headers, json=options.get("body")
                )
                answers.append(response.status_code)
                if response.status_code >= 400 and len(obs.bodies) < 3:
                    obs.bodies.append(f"{response.status_code} {response.text[:300]}")
                if response.status_code < 400 or response.status_code not in retry_on:
                    break
                retry_after = retry_after_seconds(
                    response.headers.get("retry-after"), now=time.time()
                )
            except httpx.TransportError as exc:
                answers.append(type(exc).__name__)
            if attempt == max_retries:
                break
            delay = min(max_backoff_s, max(backoff_s * 2**attempt, retry_after or 0.0))
            obs.backoff_s += delay
            await asyncio.sleep(delay)
        obs.attempts.append(answers)
    return obs
