"""Load probe benchmark: whyloop's load engine against a bare aiohttp loop, same run.

Starts a sandbox (rate limit out of the way) and loads its ``/health`` at
concurrency 100 (100 users x 30 requests) with

* ``whyloop.probes.suite.load.run_load`` (what the ``load`` suite probe runs),
* a bare aiohttp loop: one session, ``TCPConnector(limit=100)``, 100 coroutines,
* for reference, httpx.AsyncClient with default limits (fewer requests: it is slow),
* and the load probe's own client ceiling (a trivial in-process server).

Rounds alternate the probe and the bare loop; each figure is the best of
:data:`ROUNDS`. Targets: bare-aiohttp throughput / probe throughput < 1.5 and
probe p50 / bare-aiohttp p50 < 1.5. ``main()`` prints the table and returns
the figures.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from whyloop.probes.suite.load import LoadPlan, client_ceiling, run_load
from whyloop.probes.suite.load_stats import summarize
from whyloop.sandbox import up

USERS = 100
REQUESTS_PER_USER = 30
HTTPX_REQUESTS_PER_USER = 5
ROUNDS = 3
TARGET_RATIO = 1.5


async def _bare_aiohttp(url: str, users: int, per_user: int) -> tuple[float, float]:
    """(req/s, p50 ms) of the plainest aiohttp loop at this concurrency."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def user() -> None:
            for _ in range(per_user):
                began = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                latencies.append((time.perf_counter() - began) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(user() for _ in range(users)))
        elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, statistics.median(latencies)


async def _httpx_default(url: str, users: int, per_user: int) -> tuple[float, float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(trust_env=False) as client:

        async def user() -> None:
            for _ in range(per_user):
                began = time.perf_counter()
                await client.get(url)
                latencies.append((time.perf_counter() - began) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(user() for _ in range(users)))
        elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, statistics.median(latencies)


def main() -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="whyloop-bench-load-") as state,
        up(state_dir=state, rate_limit=10_000_000, rate_window_s=1.0) as box,
    ):
        url = box.backend_url + "/health"
        plan = LoadPlan(url=url, users=USERS, requests_per_user=REQUESTS_PER_USER, max_seconds=60)
        asyncio.run(_bare_aiohttp(url, USERS, 5))  # warm both sides up
        probe: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        for _ in range(ROUNDS):
            stats = summarize(asyncio.run(run_load(plan)))
            assert stats.success_rate == 1.0, stats
            probe.append((stats.rps, stats.p50_ms))
            bare.append(asyncio.run(_bare_aiohttp(url, USERS, REQUESTS_PER_USER)))
        ceiling = summarize(asyncio.run(client_ceiling(plan)))
        httpx_rps, httpx_p50 = asyncio.run(_httpx_default(url, USERS, HTTPX_REQUESTS_PER_USER))
    probe_rps = max(r for r, _ in probe)
    probe_p50 = min(p for _, p in probe)
    bare_rps = max(r for r, _ in bare)
    bare_p50 = min(p for _, p in bare)
    figures = {
        "concurrency": USERS,
        "requests": USERS * REQUESTS_PER_USER,
        "probe_rps": round(probe_rps),
        "probe_p50_ms": round(probe_p50, 1),
        "bare_aiohttp_rps": round(bare_rps),
        "bare_aiohttp_p50_ms": round(bare_p50, 1),
        "throughput_ratio": round(bare_rps / probe_rps, 3),
        "p50_ratio": round(probe_p50 / bare_p50, 3),
        "client_ceiling_rps": round(ceiling.rps),
        "client_ceiling_p50_ms": round(ceiling.p50_ms, 1),
        "httpx_default_rps": round(httpx_rps),
        "httpx_default_p50_ms": round(httpx_p50, 1),
    }
    figures["within_target"] = (
        figures["throughput_ratio"] < TARGET_RATIO and figures["p50_ratio"] < TARGET_RATIO
    )
    print(
        f"sandbox /health, {USERS} concurrent users x {REQUESTS_PER_USER} requests, best of {ROUNDS}"
    )
    print(f"  whyloop load probe   {probe_rps:8.0f} req/s   p50 {probe_p50:7.1f} ms")
    print(f"  bare aiohttp loop    {bare_rps:8.0f} req/s   p50 {bare_p50:7.1f} ms")
    print(f"  httpx default (ref)  {httpx_rps:8.0f} req/s   p50 {httpx_p50:7.1f} ms")
    print(
        f"  probe's ceiling      {ceiling.rps:8.0f} req/s   p50 {ceiling.p50_ms:7.1f} ms (trivial server)"
    )
    print(
        f"  ratios: throughput {figures['throughput_ratio']:.2f}x, p50 {figures['p50_ratio']:.2f}x "
        f"(target < {TARGET_RATIO}x): {'ok' if figures['within_target'] else 'MISSED'}"
    )
    return figures


if __name__ == "__main__":
    main()
