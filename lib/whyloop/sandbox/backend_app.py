"""The sandbox backend: agents, threads and messages behind Bearer JWT auth.

Routes (all under ``/api`` need ``Authorization: Bearer <access token>``)::

    GET  /health                                 {"status": "ok", "service": "backend", ...}
    GET  /api/me                                 the caller's user context
    GET  /api/agents                             agent discovery
    GET  /api/agents/{id}/config                 configuration (PUT to change it)
    POST /api/agents/{id}/execute                {"input": ...} -> the run's result
    GET  /api/agents/{id}/status                 idle/running, run count, last run
    POST /api/agents/{id}/tools/{tool}/execute   {"arguments": {...}} -> the tool's result
    POST /api/threads, GET /api/threads          create / list the caller's threads
    GET  /api/threads/{id}                       switch to a thread (with its messages)
    POST /api/threads/{id}/messages              append a message; GET for the history
    GET  /api/files/{path}                       read-only files; traversal refused with 403
    WS   /ws                                     see :mod:`whyloop.sandbox.ws`

Answers: 401 for a missing or refused token, 404 for another user's thread,
422 with field errors, 413 above ``max_body``, 429 with ``Retry-After`` past
the per-user rate limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from whyloop.sandbox.agents import AGENTS, DEFAULT_CONFIG, ToolError, run_tool
from whyloop.sandbox.backend import Backend, read_file
from whyloop.sandbox.config import BACKEND_REVISION, ServiceConfig
from whyloop.sandbox.logs import AccessLogMiddleware, JsonLog
from whyloop.sandbox.web import ApiError, FieldErrors, error_handlers, read_json
from whyloop.sandbox.ws import websocket_endpoint

__all__ = ["create_backend_app"]


def _agent(request: Request) -> str:
    agent_id = request.path_params["agent_id"]
    if agent_id not in AGENTS:
        raise ApiError(404, f"no agent {agent_id!r}")
    return agent_id


def _routes(b: Backend) -> list[BaseRoute]:
    cfg = b.config

    async def health(_r: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "backend", "revision": BACKEND_REVISION})

    async def me(r: Request) -> Response:
        c = await b.user(r)
        return JSONResponse(
            {"user_id": c.user_id, "username": c.username, "expires_at": c.expires_at}
        )

    async def agents(r: Request) -> Response:
        await b.user(r)
        return JSONResponse({"agents": [{"id": k, **v} for k, v in AGENTS.items()]})

    async def agent_config(r: Request) -> Response:
        c = await b.user(r)
        agent_id = _agent(r)
        current = b.agent_config(c.user_id, agent_id)
        if r.method == "PUT":
            body = await read_json(r, max_body=cfg.max_body)
            check = FieldErrors(body)
            update = {
                "model": check.string("model", max_len=100, required=False),
                "temperature": check.number("temperature", low=0, high=2),
                "max_steps": check.number("max_steps", low=1, high=50, integer=True),
                "system_prompt": check.string("system_prompt", max_len=4000, required=False),
            }
            for key in sorted(set(body) - set(DEFAULT_CONFIG)):
                check.add(key, "unknown configuration field")
            check.raise_if_any()
            current.update({k: v for k, v in update.items() if v is not None})
        return JSONResponse({"agent_id": agent_id, "config": current})

    async def execute(r: Request) -> Response:
        c = await b.user(r)
        agent_id = _agent(r)
        check = FieldErrors(await read_json(r, max_body=cfg.max_body))
        text = check.string("input", max_len=4000)
        check.raise_if_any()

        async def ignore(_event: dict[str, Any]) -> None:
            return None

        run = asyncio.create_task(b.execute(c, agent_id, text or "", ignore))
        gone = asyncio.create_task(_client_gone(r))
        await asyncio.wait({run, gone}, return_when=asyncio.FIRST_COMPLETED)
        if run.done():
            gone.cancel()
            return JSONResponse(run.result())
        # the client gave up: stop its run rather than finish work nobody will read
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        b.log.write(
            "WARNING",
            "agent run abandoned: client closed the request",
            trace=r.scope.get("sandbox.trace"),
            event="run_abandoned",
            user=c.username,
            agent_id=agent_id,
        )
        return JSONResponse(
            {"error": "client_closed_request", "detail": "client closed the request"},
            status_code=499,
        )

    async def agent_status(r: Request) -> Response:
        c = await b.user(r)
        return JSONResponse(b.status_of(c.user_id, _agent(r)))

    async def tool_execute(r: Request) -> Response:
        c = await b.user(r)
        agent_id = _agent(r)
        tool = r.path_params["tool"]
        if tool not in AGENTS[agent_id]["tools"]:
            raise ApiError(404, f"agent {agent_id!r} has no tool {tool!r}")
        body = await read_json(r, max_body=cfg.max_body)
        arguments = body.get("arguments", {})
        if not isinstance(arguments, dict):
            raise ApiError(
                422,
                "invalid fields: arguments",
                errors=[{"field": "arguments", "message": "must be a JSON object"}],
            )
        try:
            result = run_tool(tool, arguments)
        except ToolError as exc:
            raise ApiError(
                422, str(exc), errors=[{"field": "arguments", "message": str(exc)}]
            ) from None
        b.log.write(
            "INFO",
            f"tool {tool} executed",
            trace=r.scope.get("sandbox.trace"),
            event="tool_executed",
            user=c.username,
            agent_id=agent_id,
            tool=tool,
        )
        return JSONResponse({"agent_id": agent_id, "tool": tool, "status": "ok", "result": result})

    async def threads(r: Request) -> Response:
        c = await b.user(r)
        if r.method == "GET":
            return JSONResponse(
                {"threads": await asyncio.to_thread(b.store.list_threads, c.user_id)}
            )
        check = FieldErrors(await read_json(r, max_body=cfg.max_body))
        title = check.string("title", max_len=200)
        check.raise_if_any()
        thread = await b.write(
            r.scope.get("sandbox.trace"), "create thread", b.store.create_thread, c.user_id, title
        )
        return JSONResponse(thread, status_code=201)

    async def thread(r: Request) -> Response:
        c = await b.user(r)
        thread_id = r.path_params["thread_id"]
        found = await asyncio.to_thread(b.store.get_thread, c.user_id, thread_id)
        if found is None:
            raise ApiError(404, f"no thread {thread_id!r}")
        messages = await asyncio.to_thread(b.store.list_messages, c.user_id, thread_id)
        return JSONResponse({**found, "messages": messages or []})

    async def messages(r: Request) -> Response:
        c = await b.user(r)
        thread_id = r.path_params["thread_id"]
        trace = r.scope.get("sandbox.trace")
        if r.method == "GET":
            history = await asyncio.to_thread(b.store.list_messages, c.user_id, thread_id)
            if history is None:
                raise ApiError(404, f"no thread {thread_id!r}")
            return JSONResponse({"thread_id": thread_id, "messages": history})
        check = FieldErrors(await read_json(r, max_body=cfg.max_body))
        content = check.string("content", max_len=10_000)
        role = _role(check)
        check.raise_if_any()
        if await asyncio.to_thread(b.store.get_thread, c.user_id, thread_id) is None:
            raise ApiError(404, f"no thread {thread_id!r}")
        if b.upstream_flaked():
            b.log.write(
                "ERROR",
                "message delivery failed: upstream connect error or disconnect/reset "
                "before headers",
                trace=trace,
                event="upstream_error",
                user=c.username,
            )
            raise ApiError(
                503,
                "upstream connect error or disconnect/reset before headers",
                headers={"Retry-After": "1"},
            )
        message = await b.write(
            trace, "append message", b.store.add_message, c.user_id, thread_id, role, content
        )
        if message is None:
            raise ApiError(404, f"no thread {thread_id!r}")
        return JSONResponse(message, status_code=201)

    async def files(r: Request) -> Response:
        await b.user(r)
        return read_file(b, r)

    async def ws(websocket: WebSocket) -> None:
        await websocket_endpoint(b, websocket)

    return [
        Route("/health", health, methods=["GET"]),
        Route("/api/me", me, methods=["GET"]),
        Route("/api/agents", agents, methods=["GET"]),
        Route("/api/agents/{agent_id}/config", agent_config, methods=["GET", "PUT"]),
        Route("/api/agents/{agent_id}/execute", execute, methods=["POST"]),
        Route("/api/agents/{agent_id}/status", agent_status, methods=["GET"]),
        Route("/api/agents/{agent_id}/tools/{tool}/execute", tool_execute, methods=["POST"]),
        Route("/api/threads", threads, methods=["GET", "POST"]),
        Route("/api/threads/{thread_id}", thread, methods=["GET"]),
        Route("/api/threads/{thread_id}/messages", messages, methods=["GET", "POST"]),
        Route("/api/files/{path:path}", files, methods=["GET"]),
        WebSocketRoute("/ws", ws),
    ]


async def _client_gone(request: Request) -> None:
    """Return once the client has closed the connection (the body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _role(check: FieldErrors) -> str:
    role = check.data.get("role", "user")
    if role not in ("user", "assistant"):
        check.add("role", "must be 'user' or 'assistant'")
    return str(role)


def create_backend_app(config: ServiceConfig, *, log: JsonLog | None = None) -> Starlette:
    """Build the backend app; threads live in ``<state_dir>/backend.db``."""
    log = log or JsonLog(
        config.state_dir / "logs" / "backend.log", service="backend", revision=BACKEND_REVISION
    )
    backend = Backend(config, log)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        backend.start()
        try:
            yield
        finally:
            backend.stop()

    app = Starlette(
        routes=_routes(backend),
        middleware=[Middleware(AccessLogMiddleware, log=log)],
        exception_handlers=error_handlers(),
        lifespan=lifespan,
    )
    app.state.backend = backend
    return app
