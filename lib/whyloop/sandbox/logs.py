"""Structured JSON logs in the shape Cloud Run gives them, one line per event.

Each sandbox service appends to its own file (``<state_dir>/logs/<service>.log``)::

    {"timestamp": "2025-01-01T12:00:00.123456Z", "severity": "WARNING",
     "message": "GET /api/threads 401", "logging.googleapis.com/trace":
     "projects/sandbox/traces/<32 hex>", "resource": {"type": "cloud_run_revision",
     "labels": {"service_name": "backend", "revision_name": "sandbox-backend-00035-abc"}},
     "httpRequest": {...}, "request_id": "...", "user": "alice", "event": "http_request"}

Every record passes through :func:`whyloop.redact.redact_json` before it is
written (secret-named fields masked, every string scanned), so no token
reaches the file whole.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from whyloop.redact import redact_json

__all__ = [
    "AccessLogMiddleware",
    "JsonLog",
    "http_request_field",
    "rfc3339_now",
    "severity_for",
    "trace_id_from",
]

_TRACE_RE = re.compile(r"^([0-9a-fA-F]{32})(?:/|$)")
_TRACEPARENT_RE = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def rfc3339_now() -> str:
    """Return the current UTC time as RFC 3339 with microseconds and a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def severity_for(status: int) -> str:
    """INFO below 400, WARNING for 4xx, ERROR for 5xx: how Cloud Run grades request logs."""
    if status >= 500:
        return "ERROR"
    return "WARNING" if status >= 400 else "INFO"


def trace_id_from(headers: Headers) -> str:
    """Take the trace id from ``X-Cloud-Trace-Context`` or ``traceparent``, else make one."""
    match = _TRACE_RE.match(headers.get("x-cloud-trace-context", ""))
    if match:
        return match.group(1).lower()
    match = _TRACEPARENT_RE.match(headers.get("traceparent", "").strip().lower())
    if match:
        return match.group(1)
    return uuid.uuid4().hex


def _clean(value: Any) -> Any:
    return redact_json(value)  # secret-named fields masked whole, every string scanned


class JsonLog:
    """An append-only JSON-lines log for one service; safe to call from several threads."""

    def __init__(
        self, path: Path, *, service: str, revision: str, project: str = "sandbox"
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._resource = {
            "type": "cloud_run_revision",
            "labels": {"service_name": service, "revision_name": revision},
        }
        self._project = project
        self._lock = threading.Lock()
        self._fp = self.path.open("a", encoding="utf-8")

    def write(
        self,
        severity: str,
        message: str,
        *,
        trace: str | None = None,
        http: dict[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        """Append one line; ``fields`` go at the top level (Cloud Run's jsonPayload)."""
        record: dict[str, Any] = {
            "timestamp": rfc3339_now(),
            "severity": severity,
            "message": message,
            "logging.googleapis.com/trace": f"projects/{self._project}/traces/{trace or uuid.uuid4().hex}",
            "resource": self._resource,
        }
        if http is not None:
            record["httpRequest"] = http
        record.update({k: v for k, v in fields.items() if v is not None})
        line = json.dumps(_clean(record), separators=(",", ":"), default=str)
        with self._lock:
            if not self._fp.closed:
                self._fp.write(line + "\n")
                self._fp.flush()

    def close(self) -> None:
        """Close the file; later writes are dropped."""
        with self._lock:
            self._fp.close()


def http_request_field(
    scope: Scope, status: int, latency_s: float, headers: Headers | None = None
) -> dict[str, Any]:
    """Build Cloud Run's ``httpRequest`` object for one request or WebSocket upgrade."""
    headers = headers or Headers(scope=scope)
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")
    return {
        "requestMethod": scope.get("method", "GET"),
        "requestUrl": path + (f"?{query}" if query else ""),
        "status": status,
        "latency": f"{latency_s:.3f}s",
        "userAgent": headers.get("user-agent", ""),
        "protocol": "HTTP/" + scope.get("http_version", "1.1"),
    }


class AccessLogMiddleware:
    """Log one line per HTTP request and tag every request and response with its trace.

    The trace id goes into ``scope["sandbox.trace"]`` (WebSocket handlers log
    their own lines with it) and back to the client in ``X-Cloud-Trace-Context``
    and ``X-Request-ID``. Endpoints put the authenticated user name in
    ``scope["sandbox.user"]`` for this line.
    """

    def __init__(self, app: ASGIApp, *, log: JsonLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        trace = trace_id_from(headers)
        request_id = headers.get("x-request-id") or uuid.uuid4().hex[:16]
        scope["sandbox.trace"] = trace
        scope["sandbox.request_id"] = request_id
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [
                    (b"x-cloud-trace-context", trace.encode()),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.log.write(
                severity_for(status),
                f"{scope['method']} {scope['path']} {status}",
                trace=trace,
                http=http_request_field(scope, status, time.perf_counter() - start, headers),
                request_id=request_id,
                user=scope.get("sandbox.user"),
                event="http_request",
            )
