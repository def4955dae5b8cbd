"""HTTP helpers shared by the sandbox services: JSON errors, bounded bodies, field checks.

Every error a service answers is JSON ``{"error": <code>, "detail": <text>}``,
plus ``"errors": [{"field", "message"}]`` for 422. Endpoints raise
:class:`ApiError`; the handlers installed by :func:`error_handlers` turn it and
Starlette's own 404/405 into that shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from whyloop.sandbox.tokens import bearer_token

__all__ = [
    "ApiError",
    "FieldErrors",
    "error_handlers",
    "error_response",
    "read_json",
    "require_bearer",
]

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """An error answer: status, a short machine code and a human detail."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = errors


def require_bearer(request: Request) -> str:
    """The request's bearer token; a 401 with ``WWW-Authenticate: Bearer`` when it has none."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise ApiError(
            401,
            "missing bearer token",
            code="missing_token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token


def error_response(err: ApiError) -> JSONResponse:
    """Render an :class:`ApiError` as the JSON error shape."""
    body: dict[str, Any] = {"error": err.code, "detail": err.detail}
    if err.errors is not None:
        body["errors"] = err.errors
    return JSONResponse(body, status_code=err.status, headers=err.headers)


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(ApiError(exc.status_code, str(exc.detail), headers=exc.headers))


def error_handlers() -> dict[Any, Callable[..., Any]]:
    """The exception handlers every sandbox app installs."""
    return {ApiError: _api_error, HTTPException: _http_error}


async def read_json(request: Request, *, max_body: int) -> dict[str, Any]:
    """Read a JSON object body of at most ``max_body`` bytes.

    Raises ApiError 413 for a larger body (by Content-Length or while
    streaming), 400 for a body that is not JSON, 422 when it is not an object.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body:
        raise ApiError(413, f"request body is larger than {max_body} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise ApiError(413, f"request body is larger than {max_body} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "request body is empty; send a JSON object", code="invalid_json")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError(
            422,
            "request body must be a JSON object",
            errors=[{"field": "body", "message": "must be a JSON object"}],
        )
    return data


class FieldErrors:
    """Collects field errors for one body and raises a single 422 with all of them."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: list[dict[str, str]] = []

    def add(self, name: str, message: str) -> None:
        """Record that field ``name`` is invalid."""
        self.errors.append({"field": name, "message": message})

    def string(
        self, name: str, *, min_len: int = 1, max_len: int = 10_000, required: bool = True
    ) -> str | None:
        """Return the string field ``name``, recording an error if it is missing or out of range."""
        value = self.data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or len(value) > max_len or len(value.strip()) < min_len:
            self.add(name, f"must be a string of {min_len} to {max_len} characters")
            return None
        return value

    def number(self, name: str, *, low: float, high: float, integer: bool = False) -> float | None:
        """Return the optional numeric field ``name`` if present and within [low, high]."""
        if name not in self.data:
            return None
        value = self.data[name]
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or not (low <= value <= high):
            kind = "an integer" if integer else "a number"
            self.add(name, f"must be {kind} between {low:g} and {high:g}")
            return None
        return value

    def raise_if_any(self) -> None:
        """Raise ApiError 422 listing every recorded field error."""
        if self.errors:
            fields = ", ".join(e["field"] for e in self.errors)
            raise ApiError(422, f"invalid fields: {fields}", errors=self.errors)
