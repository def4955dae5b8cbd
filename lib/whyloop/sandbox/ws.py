"""The backend's WebSocket endpoint, ``/ws``: authenticated chat with streamed agent runs.

Handshake: the JWT comes in ``Authorization: Bearer <token>`` or as the
subprotocol ``jwt.<token>``, which the server echoes in its answer. No token:
HTTP 401 on the upgrade. A token that fails verification: the socket is
accepted and closed with 1008 (policy violation) and the reason.

Then the server sends ``{"type": "connection_established", "user", "connection_id"}``
and serves client messages::

    {"type": "ping"}                                  -> {"type": "pong"}
    {"type": "user_message", "content": ..., "thread_id": ..., "agent_id": ...}
        -> agent_started, agent_thinking, tool_executing, tool_completed, agent_completed
    anything else                                     -> {"type": "error", ...}; the socket stays open

Frames above ``ws_max_size`` are closed by the server with 1009. A client that
leaves mid-stream only ends its own runs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from whyloop.sandbox.agents import AGENTS
from whyloop.sandbox.faults import Fault
from whyloop.sandbox.logs import http_request_field
from whyloop.sandbox.tokens import TokenError, bearer_token

if TYPE_CHECKING:
    from whyloop.sandbox.backend import Backend

__all__ = ["MAX_RUNS_PER_CONNECTION", "websocket_endpoint"]

#: concurrent agent runs one connection may have; more get an error message
MAX_RUNS_PER_CONNECTION = 4


async def _deny(
    b: Backend, ws: WebSocket, status: int, code: str, detail: str, started: float
) -> None:
    trace = ws.scope.get("sandbox.trace")
    b.log.write(
        "WARNING",
        f"GET /ws {status}",
        trace=trace,
        http=http_request_field(ws.scope, status, time.perf_counter() - started),
        event="websocket_rejected",
        reason=detail,
    )
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(
            JSONResponse({"error": code, "detail": detail}, status_code=status)
        )
    else:  # servers without the denial extension answer 403 to a close before accept
        await ws.close(code=1008, reason=detail)


def _credentials(b: Backend, ws: WebSocket) -> tuple[str | None, str | None, str | None]:
    """Return (token, how it came, the subprotocol to echo)."""
    offered = [p for p in ws.scope.get("subprotocols", []) if p.startswith("jwt.")]
    use_subprotocol = not b.config.has(Fault.WS_HEADER_AUTH_ONLY)
    echo = offered[0] if offered and use_subprotocol else None
    if b.config.has(Fault.WS_SUBPROTOCOL_NOT_ECHOED):
        echo = None
    token = bearer_token(ws.headers.get("authorization"))
    if token is not None:
        return token, "header", echo
    if offered and use_subprotocol:
        return offered[0][len("jwt.") :], "subprotocol", echo
    return None, None, echo


async def websocket_endpoint(b: Backend, ws: WebSocket) -> None:
    """Serve one WebSocket connection from handshake to close."""
    started = time.perf_counter()
    trace = ws.scope.get("sandbox.trace")
    if b.config.has(Fault.WS_REJECT_ORIGIN) and "origin" in ws.headers:
        await _deny(b, ws, 403, "forbidden", "origin not allowed", started)
        return
    token, via, echo = _credentials(b, ws)
    if token is None:
        await _deny(
            b,
            ws,
            401,
            "missing_token",
            "no token in the Authorization header or a jwt.<token> subprotocol",
            started,
        )
        return
    try:
        claims = b.verify(token)
    except TokenError as err:
        b.token_rejected(trace, err, "/ws")
        await ws.accept(subprotocol=echo)
        await ws.close(code=1008, reason=err.detail)
        b.log.write(
            "WARNING",
            f"websocket closed with 1008: {err.detail}",
            trace=trace,
            event="websocket_closed",
            close_code=1008,
            reason=err.detail,
        )
        return
    await ws.accept(subprotocol=echo)
    connection_id = "conn_" + uuid.uuid4().hex[:12]
    b.log.write(
        "INFO",
        "GET /ws 101",
        trace=trace,
        http=http_request_field(ws.scope, 101, time.perf_counter() - started),
        event="websocket_connected",
        user=claims.username,
        connection_id=connection_id,
        auth=via,
    )
    session = _Session(b, ws, claims, connection_id)
    if not b.config.has(Fault.WS_NO_WELCOME):
        await session.send(
            {
                "type": "connection_established",
                "user": claims.username,
                "connection_id": connection_id,
            }
        )
    code = await session.serve()
    severity = "INFO" if code in (1000, 1001, 1005) else "WARNING"
    b.log.write(
        severity,
        f"websocket closed with {code}",
        trace=trace,
        event="websocket_closed",
        close_code=code,
        user=claims.username,
        connection_id=connection_id,
    )


class _Session:
    """One authenticated connection: its receive loop and its running agent runs."""

    def __init__(self, b: Backend, ws: WebSocket, claims: Any, connection_id: str) -> None:
        self.b = b
        self.ws = ws
        self.claims = claims
        self.connection_id = connection_id
        self.trace = ws.scope.get("sandbox.trace")
        self.runs: set[asyncio.Task[None]] = set()
        self._send_lock = asyncio.Lock()
        self.open = True

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON message; does nothing once the client has gone."""
        if not self.open:
            return
        async with self._send_lock:
            try:
                await self.ws.send_text(json.dumps(message))
            except Exception:  # the client went away; its runs end with the session
                self.open = False

    async def error(self, code: str, detail: str) -> None:
        """Tell the client its message was not served; the socket stays open."""
        await self.send({"type": "error", "error": code, "detail": detail})

    async def serve(self) -> int:
        """Receive until the client closes; return the close code."""
        code = 1005
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    code = int(message.get("code", 1005))
                    break
                text = message.get("text")
                if text is None:
                    await self.error("unsupported_frame", "send JSON text frames")
                    continue
                await self.handle(text)
        finally:
            self.open = False
            for task in list(self.runs):
                task.cancel()
            if self.runs:
                await asyncio.gather(*self.runs, return_exceptions=True)
        return code

    async def handle(self, text: str) -> None:
        """Dispatch one client message by its ``type``."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            await self.error("invalid_json", f"message is not valid JSON: {exc}")
            return
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "user_message":
            await self.user_message(data)
        else:
            await self.error("unknown_message_type", f"unknown message type {kind!r}")

    async def user_message(self, data: dict[str, Any]) -> None:
        """Validate a user message and start its agent run in the background."""
        content = data.get("content")
        thread_id = data.get("thread_id")
        agent_id = data.get("agent_id", "triage")
        if not isinstance(content, str) or not content.strip() or len(content) > 10_000:
            await self.error(
                "validation_error", "content must be a string of 1 to 10000 characters"
            )
            return
        if thread_id is not None and not isinstance(thread_id, str):
            await self.error("validation_error", "thread_id must be a string or null")
            return
        if agent_id not in AGENTS:
            await self.error("not_found", f"no agent {agent_id!r}")
            return
        if len(self.runs) >= MAX_RUNS_PER_CONNECTION:
            await self.error("too_many_runs", f"at most {MAX_RUNS_PER_CONNECTION} runs at once")
            return
        task = asyncio.create_task(self.run(agent_id, content, thread_id))
        self.runs.add(task)
        task.add_done_callback(self.runs.discard)

    async def run(self, agent_id: str, content: str, thread_id: str | None) -> None:
        """Persist the message when a thread is given, then stream the agent's events."""
        store, user_id = self.b.store, self.claims.user_id
        try:
            if thread_id is not None:
                saved = await asyncio.to_thread(
                    store.add_message, user_id, thread_id, "user", content
                )
                if saved is None:
                    await self.error("not_found", f"no thread {thread_id!r}")
                    return
            result = await self.b.execute(self.claims, agent_id, content, self.send, thread_id)
            if thread_id is not None:
                await asyncio.to_thread(
                    store.add_message, user_id, thread_id, "assistant", result["output"]
                )
        except asyncio.CancelledError:
            self.b.log.write(
                "INFO",
                "agent run cancelled: client disconnected",
                trace=self.trace,
                event="run_cancelled",
                user=self.claims.username,
                connection_id=self.connection_id,
            )
            raise
        except Exception as exc:  # a failed run must not take the connection down
            self.b.log.write(
                "ERROR",
                f"agent run failed: {type(exc).__name__}: {exc}",
                trace=self.trace,
                event="run_failed",
                user=self.claims.username,
            )
            await self.error("internal_error", "the agent run failed")
