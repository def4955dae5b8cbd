"""Staged WebSocket probes vs a bare websockets client, against the sandbox on loopback.

1,000 probes (dns, tcp, upgrade, subprotocol, auth, welcome, echo, close; 100
at a time) beside 1,000 bare ``websockets.asyncio.client.connect`` cycles
(connect, first message, close; 100 at a time) in the same run, same server.
The probe does one more round trip (the echo) and records every stage; its
overhead must stay under ``BUDGET`` x the bare client's time.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from whyloop.probes.ws.probe import probe_many
from whyloop.sandbox import up

N = 1_000
CONCURRENCY = 100
BUDGET = 1.5
ROUNDS = 2  # best of, alternating, so neither side gets a warmer server


async def _bare(url: str, token: str, n: int) -> tuple[float, int]:
    gate = asyncio.Semaphore(CONCURRENCY)
    failures = 0

    async def cycle() -> None:
        nonlocal failures
        async with gate:
            try:
                async with connect(
                    url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10
                ) as ws:
                    async with asyncio.timeout(10):
                        await ws.recv()
            except Exception:
                failures += 1

    start = time.perf_counter()
    await asyncio.gather(*(cycle() for _ in range(n)))
    return time.perf_counter() - start, failures


async def _probes(url: str, token: str, n: int) -> tuple[float, int]:
    targets = [{"url": url, "token": token, "auth": "header", "timeout": 10.0}] * n
    start = time.perf_counter()
    results = await probe_many(targets, concurrency=CONCURRENCY)
    return time.perf_counter() - start, sum(not r.ok for r in results)


def main() -> dict[str, Any]:
    """Run the benchmark; print the figures and return them."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-ws-") as tmp,
        up(state_dir=Path(tmp) / "sandbox", rate_limit=1_000_000) as box,
    ):
        answer = httpx.post(
            f"{box.auth_url}/auth/login",
            json={"username": "bench_user", "password": "bench-password"},
            timeout=10,
        )
        token = answer.json()["access_token"]
        asyncio.run(_bare(box.ws_url, token, 100))  # warm both paths up
        asyncio.run(_probes(box.ws_url, token, 100))
        bare_t, probe_t = [], []
        bare_fail = probe_fail = 0
        for _ in range(ROUNDS):
            t, f = asyncio.run(_bare(box.ws_url, token, N))
            bare_t.append(t)
            bare_fail += f
            t, f = asyncio.run(_probes(box.ws_url, token, N))
            probe_t.append(t)
            probe_fail += f
    bare, probe = min(bare_t), min(probe_t)
    ratio = probe / bare
    print(
        f"{N:,} WebSocket cycles to the sandbox on loopback, {CONCURRENCY} at a time (best of {ROUNDS})"
    )
    print(
        f"  bare websockets client (connect, first message, close)  {bare:6.2f} s  {N / bare:7,.0f}/s  failures {bare_fail}"
    )
    print(
        f"  whyloop staged probe (8 stages, + echo round trip)      {probe:6.2f} s  {N / probe:7,.0f}/s  failures {probe_fail}"
    )
    verdict = "within" if ratio < BUDGET else "OVER"
    print(f"  probe overhead {ratio:.2f}x ({verdict} the {BUDGET}x budget)")
    return {
        "n": N,
        "concurrency": CONCURRENCY,
        "bare_s": round(bare, 3),
        "probe_s": round(probe, 3),
        "bare_per_s": round(N / bare),
        "probe_per_s": round(N / probe),
        "ratio": round(ratio, 3),
        "budget": BUDGET,
        "within_budget": ratio < BUDGET,
        "bare_failures": bare_fail,
        "probe_failures": probe_fail,
    }


if __name__ == "__main__":
    figures = main()
    sys.exit(0 if figures["within_budget"] and not figures["probe_failures"] else 1)
