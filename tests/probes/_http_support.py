"""Real servers for the HTTP probe and suite tests, all on 127.0.0.1, always stopped.

Imported explicitly by the test modules. :func:`serve_app` runs a Starlette app
under uvicorn in a thread (optionally with TLS); :func:`local_app` is a small
app with the behaviours the probe must tell apart (redirects, a slow handler,
a non-JSON body, CORS for one origin).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from whyloop.sandbox import Sandbox, up

#: one constant scales every timeout in these tests
TIMEOUT_SCALE = float(os.environ.get("WHYLOOP_TEST_TIMEOUT_SCALE", "1"))
ALLOWED_ORIGIN = "http://app.example"
#: a token-looking secret the tests hand to probes and then look for in every output
SECRET_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3aHlsb29wLXRlc3QifQ.c2VjcmV0LXNpZ25hdHVyZQ"


@contextlib.contextmanager
def sandbox(state_dir: Path, faults: tuple[str, ...] = (), **kwargs: object) -> Iterator[Sandbox]:
    """A sandbox (rate window 2 s so Retry-After waits stay short); always stopped."""
    kwargs.setdefault("rate_window_s", 2.0)
    box = up(faults=faults, state_dir=state_dir, **kwargs)  # type: ignore[arg-type]
    try:
        yield box
    finally:
        box.down()


def free_port() -> int:
    """A port nothing listens on right now (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_app() -> Starlette:
    """Endpoints for the probe tests; CORS allows :data:`ALLOWED_ORIGIN` only."""

    async def ok(_r: Request) -> Response:
        return JSONResponse({"status": "ok", "nested": {"items": [1, {"name": "x"}]}})

    async def redirect(_r: Request) -> Response:
        return RedirectResponse("/hop", status_code=301)

    async def hop(_r: Request) -> Response:
        return RedirectResponse("/ok", status_code=302)

    async def away(_r: Request) -> Response:
        return RedirectResponse("http://elsewhere.example/steal", status_code=302)

    async def slow(_r: Request) -> Response:
        await asyncio.sleep(3 * TIMEOUT_SCALE)
        return PlainTextResponse("late")

    async def text(_r: Request) -> Response:
        return PlainTextResponse("not json at all")

    async def echo(r: Request) -> Response:
        # a careless debug endpoint: sends the request's headers (credentials too) back
        return JSONResponse({"headers": dict(r.headers), "query": str(r.query_params)})

    return Starlette(
        routes=[
            Route("/ok", ok),
            Route("/redirect", redirect),
            Route("/hop", hop),
            Route("/away", away),
            Route("/slow", slow),
            Route("/text", text),
            Route("/echo", echo),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=[ALLOWED_ORIGIN],
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
                allow_credentials=True,
            )
        ],
    )


@contextlib.contextmanager
def serve_app(app: Starlette, *, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free port; yield its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ws="none",
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10 * TIMEOUT_SCALE
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
