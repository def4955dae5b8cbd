"""Real third-party WebSocket servers for the probe's tests, on 127.0.0.1, always stopped.

Each app is built from a library this project did not write, configured as
its documentation shows, and run by :func:`serve_asgi` under uvicorn (the
websockets sans-I/O implementation) in a thread on a free port:

- :func:`graphql_app`: a Strawberry GraphQL server speaking graphql-transport-ws
  and the legacy graphql-ws; its ``connection_init`` check refuses a client
  without :data:`TOKEN` (in the init payload, or as ``Authorization: Bearer``);
- :func:`socketio_app`: a python-socketio server whose ``connect`` handler
  refuses a CONNECT packet without ``{"token": TOKEN}``, with an ``echo`` event;
- :func:`session_app`: Starlette with ``SessionMiddleware`` (itsdangerous
  signed cookies): ``POST /login`` sets the session; ``/ws`` refuses a socket
  without one; ``/ws-login`` redirects to the login page instead; ``/`` is a
  plain HTTP page.

Two more run on their own: :func:`jupyter_server` (a real Jupyter server in a
subprocess, with one kernel started) and :func:`echo_server` (websockets'
own threaded server, echoing every message).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.support import TIMEOUT_SCALE, free_port
from tests.support.servers import serve_app

#: the credential every server here accepts (a JWT-looking string, so leaks are easy to spot)
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3cy1zZXJ2ZXJzIn0.c2VydmVyLXNpZ25hdHVyZQ"
SESSION_SECRET = "whyloop-test-session-secret"


@contextlib.contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Run an ASGI ``app`` under uvicorn (WebSockets on) in a thread; yield ``host:port``."""
    with serve_app(app, ws="websockets-sansio", log_level="critical") as url:
        yield url.removeprefix("http://")


def graphql_app() -> Any:
    """Strawberry's ASGI GraphQL app: a ``count`` subscription; ``connection_init`` checked."""
    import strawberry
    from strawberry.asgi import GraphQL
    from strawberry.exceptions import ConnectionRejectionError

    @strawberry.type
    class Query:
        hello: str = "world"

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def count(self, to: int = 2) -> AsyncGenerator[int, None]:
            for i in range(to):
                yield i
                await asyncio.sleep(0)

    class Checked(GraphQL):
        async def on_ws_connect(self, context: dict[str, Any]) -> dict[str, Any]:
            params = context.get("connection_params") or {}
            header = context["request"].headers.get("authorization", "")
            if params.get("token") != TOKEN and header != f"Bearer {TOKEN}":
                raise ConnectionRejectionError({"reason": "unauthorized"})
            return {"user": "probe"}

    schema = strawberry.Schema(query=Query, subscription=Subscription)
    return Checked(schema, keep_alive=False)


def socketio_app() -> Any:
    """python-socketio's ASGI app at /socket.io/: auth in the CONNECT packet, an ``echo`` event."""
    import socketio

    sio = socketio.AsyncServer(async_mode="asgi", logger=False, engineio_logger=False)

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        if not isinstance(auth, dict) or auth.get("token") != TOKEN:
            raise socketio.exceptions.ConnectionRefusedError("not authorized")

    @sio.on("echo")
    async def echo(sid: str, data: Any) -> Any:
        return data

    return socketio.ASGIApp(sio)


def session_app() -> Any:
    """Starlette with signed-cookie sessions: ``POST /login`` logs in; ``/ws`` needs the session."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def login(request: Request) -> JSONResponse:
        request.session["user"] = "probe"
        return JSONResponse({"ok": True})

    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse("<html><head><title>Home</title></head><body>home</body></html>")

    async def chat(websocket: WebSocket) -> None:
        if "user" not in websocket.session:
            await websocket.close(code=1008)  # before accept: uvicorn answers 403
            return
        await websocket.accept()
        await websocket.send_json({"type": "connection_established", "user": "probe"})
        try:
            while True:
                message = await websocket.receive_text()
                await websocket.send_json({"type": "echo", "text": message})
        except WebSocketDisconnect:
            pass

    async def chat_login(websocket: WebSocket) -> None:
        if "user" not in websocket.session:
            await websocket.send_denial_response(RedirectResponse("/login?next=/ws-login", 302))
            return
        await chat(websocket)

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login, methods=["POST"]),
            WebSocketRoute("/ws", chat),
            WebSocketRoute("/ws-login", chat_login),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SESSION_SECRET)],
    )


@contextlib.contextmanager
def jupyter_server(workdir: Path) -> Iterator[tuple[str, str]]:
    """A Jupyter server on 127.0.0.1 (token :data:`TOKEN`) with one kernel; yields
    (``host:port``, kernel id). The subprocess is always stopped."""
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
        "JUPYTER_DATA_DIR": str(workdir / "data"),
        "JUPYTER_CONFIG_DIR": str(workdir / "config"),
    }
    log = (workdir / "jupyter.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", f"--port={port}", "--ip=127.0.0.1",
         "--no-browser", "--allow-root", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={workdir}"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"token {TOKEN}"}
    try:
        deadline = time.monotonic() + 60 * TIMEOUT_SCALE
        while True:
            try:
                httpx.get(f"{base}/api", timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(
                        f"jupyter server did not start: {workdir}/jupyter.log"
                    ) from None
                time.sleep(0.1)
        kernel = httpx.post(
            f"{base}/api/kernels",
            headers=auth,
            json={"name": "python3"},
            timeout=60 * TIMEOUT_SCALE,
        ).json()
        yield f"127.0.0.1:{port}", kernel["id"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


@contextlib.contextmanager
def echo_server() -> Iterator[str]:
    """websockets' threaded server on 127.0.0.1, echoing every message; yields ``host:port``."""
    from websockets.sync.server import ServerConnection, serve

    def echo(ws: ServerConnection) -> None:
        for message in ws:
            ws.send(message)

    server = serve(echo, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.socket.getsockname()[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
