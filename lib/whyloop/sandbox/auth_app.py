"""The sandbox auth service: logins that create users, refresh, and token validation.

Routes::

    GET  /health          {"status": "ok", "service": "auth", "revision": ...}
    POST /auth/login      {username, password} -> access and refresh tokens
                          (the first login of a username creates the user)
    POST /auth/refresh    {refresh_token} -> a new access token (and refresh token)
    GET  /auth/validate   Authorization: Bearer <access token> -> the user

Refused tokens get 401 ``{"error": "token_expired" | "invalid_token", "detail": ...}``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from whyloop.sandbox.config import AUTH_REVISION, ServiceConfig
from whyloop.sandbox.db import UserStore
from whyloop.sandbox.logs import AccessLogMiddleware, JsonLog
from whyloop.sandbox.tokens import TokenError, issue_token, verify_token
from whyloop.sandbox.web import ApiError, FieldErrors, error_handlers, read_json, require_bearer

__all__ = ["create_auth_app"]

_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


def create_auth_app(config: ServiceConfig, *, log: JsonLog | None = None) -> Starlette:
    """Build the auth app; its users live in ``<state_dir>/auth.db``."""
    log = log or JsonLog(
        config.state_dir / "logs" / "auth.log", service="auth", revision=AUTH_REVISION
    )
    users = UserStore(config.state_dir / "auth.db")

    def tokens_for(user: dict[str, str]) -> dict[str, object]:
        common = {
            "secret": config.jwt_secret,
            "user_id": user["id"],
            "username": user["username"],
            "audience": config.audience,
            "issuer": config.issuer,
        }
        return {
            "access_token": issue_token(**common, ttl_s=config.access_ttl_s, kind="access"),
            "refresh_token": issue_token(**common, ttl_s=config.refresh_ttl_s, kind="refresh"),
            "token_type": "Bearer",
            "expires_in": config.access_ttl_s,
            "user": {"id": user["id"], "username": user["username"]},
        }

    def reject(request: Request, err: TokenError) -> ApiError:
        log.write(
            "WARNING",
            f"token rejected: {err.detail}",
            trace=request.scope.get("sandbox.trace"),
            event="token_rejected",
            reason=err.code,
            path=request.url.path,
        )
        return ApiError(401, err.detail, code=err.code, headers={"WWW-Authenticate": "Bearer"})

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": "auth", "revision": AUTH_REVISION})

    async def login(request: Request) -> JSONResponse:
        body = await read_json(request, max_body=config.max_body)
        check = FieldErrors(body)
        username = check.string("username", min_len=3, max_len=64)
        password = check.string("password", min_len=4, max_len=256)
        if username is not None and not _USERNAME.match(username):
            check.add("username", "may only hold letters, digits and _ . @ -")
        check.raise_if_any()
        assert username is not None and password is not None
        user, created = await asyncio.to_thread(users.login, username, password)
        if user is None:
            log.write(
                "WARNING",
                "login failed: wrong password",
                trace=request.scope.get("sandbox.trace"),
                event="login_failed",
                user=username,
            )
            raise ApiError(401, "wrong username or password", code="invalid_credentials")
        request.scope["sandbox.user"] = username
        if created:
            log.write(
                "INFO",
                "user created",
                trace=request.scope.get("sandbox.trace"),
                event="user_created",
                user=username,
            )
        return JSONResponse({**tokens_for(user), "created": created})

    async def refresh(request: Request) -> JSONResponse:
        body = await read_json(request, max_body=config.max_body)
        check = FieldErrors(body)
        token = check.string("refresh_token", max_len=4096)
        check.raise_if_any()
        assert token is not None
        try:
            claims = verify_token(
                token,
                secret=config.jwt_secret,
                audience=config.audience,
                issuer=config.issuer,
                kind="refresh",
            )
        except TokenError as err:
            raise reject(request, err) from None
        user = await asyncio.to_thread(users.get, claims.user_id)
        if user is None:
            raise reject(request, TokenError("invalid_token", "unknown user"))
        request.scope["sandbox.user"] = user["username"]
        return JSONResponse(tokens_for(user))

    async def validate(request: Request) -> JSONResponse:
        token = require_bearer(request)
        try:
            claims = verify_token(
                token, secret=config.jwt_secret, audience=config.audience, issuer=config.issuer
            )
        except TokenError as err:
            raise reject(request, err) from None
        request.scope["sandbox.user"] = claims.username
        return JSONResponse(
            {
                "valid": True,
                "user": claims.username,
                "user_id": claims.user_id,
                "expires_at": claims.expires_at,
            }
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        log.write("INFO", "service started", event="startup")
        try:
            yield
        finally:
            log.write("INFO", "service stopped", event="shutdown")
            log.close()

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/auth/login", login, methods=["POST"]),
            Route("/auth/refresh", refresh, methods=["POST"]),
            Route("/auth/validate", validate, methods=["GET"]),
        ],
        middleware=[Middleware(AccessLogMiddleware, log=log)],
        exception_handlers=error_handlers(),
        lifespan=lifespan,
    )
