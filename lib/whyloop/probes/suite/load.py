"""The load probe's engine: N concurrent users x M requests, and the client's own ceiling.

A load probe must measure the server, not itself. Measured on loopback against
one uvicorn app at 100 concurrent requests (2 cores): httpx.AsyncClient with
default limits reached ~250-530 req/s at p50 ~190 ms, httpx with tuned limits
split over 4 clients ~370 req/s, aiohttp with ``TCPConnector(limit=100)``
~2,700-5,400 req/s at p50 ~20-35 ms. So the engine is aiohttp, one session,
one connection per user.

And because any client has a ceiling, :func:`client_ceiling` loads a trivial
asyncio HTTP server on 127.0.0.1 (in a thread of this process, answering a
fixed 200) the same way, right before the real run; a result close to that
ceiling measures this client, and :mod:`.verdicts` says so. The trivial
server shares this process (and its GIL), so the ceiling is a lower bound of
what the client can do: a warning errs on the side of caution.

Bounded: at most :data:`MAX_USERS` users and :data:`MAX_REQUESTS` requests; no
user starts a request after ``max_seconds``, and the run is cancelled
``timeout_s`` after that whatever is still in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from whyloop.errors import ProbeError
from whyloop.probes.suite.load_stats import LoadRun

__all__ = ["MAX_REQUESTS", "MAX_USERS", "LoadPlan", "LoadRun", "client_ceiling", "run_load"]

MAX_USERS = 1_000
MAX_REQUESTS = 200_000


@dataclass(frozen=True, kw_only=True)
class LoadPlan:
    """What to load: ``users`` concurrent users each sending ``requests_per_user`` requests."""

    url: str
    method: str = "GET"
    users: int = 10
    requests_per_user: int = 10
    headers: Mapping[str, str] = field(default_factory=dict)
    #: JSON body sent with every request (None: no body)
    body: Any = None
    #: per-request timeout
    timeout_s: float = 10.0
    #: no request starts after this many seconds; the run is cut ``timeout_s`` later
    max_seconds: float = 30.0

    def check(self) -> None:
        """Raise ProbeError when the plan is outside the bounds."""
        if not 1 <= self.users <= MAX_USERS:
            raise ProbeError(f"load users must be 1..{MAX_USERS}, got {self.users}")
        if self.requests_per_user < 1 or self.users * self.requests_per_user > MAX_REQUESTS:
            raise ProbeError(
                f"load requests must be 1..{MAX_REQUESTS} in total, got "
                f"{self.users} x {self.requests_per_user}"
            )
        if self.max_seconds <= 0 or self.timeout_s <= 0:
            raise ProbeError("load max_seconds and timeout_s must be positive")


async def run_load(plan: LoadPlan) -> LoadRun:
    """Run ``plan`` and return what every request got; a request error is counted, not raised."""
    plan.check()
    run = LoadRun(planned=plan.users * plan.requests_per_user, users=plan.users)
    connector = aiohttp.TCPConnector(limit=plan.users, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=plan.timeout_s)
    kwargs: dict[str, Any] = {"headers": dict(plan.headers)}
    if plan.body is not None:
        kwargs["json"] = plan.body
    start = time.perf_counter()
    stop_at = start + plan.max_seconds
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def user() -> None:
            for _ in range(plan.requests_per_user):
                began = time.perf_counter()
                if began > stop_at:
                    run.stopped_early = True
                    return
                try:
                    async with session.request(plan.method, plan.url, **kwargs) as response:
                        await response.read()
                        run.statuses[response.status] += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    run.errors[type(exc).__name__] += 1
                run.latencies_ms.append((time.perf_counter() - began) * 1000)

        tasks = [asyncio.create_task(user()) for _ in range(plan.users)]
        try:
            async with asyncio.timeout(plan.max_seconds + plan.timeout_s + 1):
                await asyncio.gather(*tasks)
        except TimeoutError:
            run.stopped_early = True
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    run.elapsed_s = time.perf_counter() - start
    return run


_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    b"Connection: keep-alive\r\n\r\nok"
)


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request on one keep-alive connection with a fixed 200."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1].strip() or 0)
                    if length:
                        await reader.readexactly(length)
            writer.write(_ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    except asyncio.CancelledError:
        # shutdown of the helper loop: end quietly (3.11 logs a cancelled handler as an error)
        pass
    finally:
        writer.close()


@contextlib.contextmanager
def trivial_server() -> Iterator[str]:
    """A fixed-200 HTTP server on 127.0.0.1 in a helper thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="whyloop-ceiling", daemon=True)
    thread.start()
    server_box: dict[str, asyncio.Server] = {}

    async def start() -> int:
        server = await asyncio.start_server(_answer, "127.0.0.1", 0, backlog=1024)
        server_box["server"] = server
        return int(server.sockets[0].getsockname()[1])

    try:
        port = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=5)
        yield f"http://127.0.0.1:{port}/"
    finally:

        async def stop() -> None:
            server = server_box.get("server")
            if server is not None:
                server.close()
            # the connection handlers: cancelling them runs their finally (closing the socket)
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if server is not None:
                await server.wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


async def client_ceiling(plan: LoadPlan) -> LoadRun:
    """Load a trivial local server exactly as ``plan`` would load its target; return that run.

    Its throughput is what this client reaches when the server costs nothing:
    a real result near it says more about the client than about the server.
    """
    plan.check()
    with trivial_server() as url:
        local = LoadPlan(
            url=url,
            method=plan.method,
            users=plan.users,
            requests_per_user=plan.requests_per_user,
            headers={k: v for k, v in plan.headers.items() if k.lower() != "authorization"},
            body=plan.body,
            timeout_s=plan.timeout_s,
            max_seconds=min(plan.max_seconds, 10.0),
        )
        return await run_load(local)
