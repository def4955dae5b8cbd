"""The backend's shared state and the checks every route makes.

:class:`Backend` holds the thread store, the per-user rate limiter, agent
configs and statuses, and decides how the switched-on faults show: which
audience tokens must carry, whether a message post meets an unavailable
upstream, how long an agent thinks, whether the database's write lock is held.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from whyloop.sandbox.agents import DEFAULT_CONFIG, Emit, run_agent
from whyloop.sandbox.config import ServiceConfig
from whyloop.sandbox.db import ThreadStore, hold_write_lock
from whyloop.sandbox.faults import Fault
from whyloop.sandbox.logs import JsonLog
from whyloop.sandbox.ratelimit import RateLimiter
from whyloop.sandbox.tokens import Claims, TokenError, verify_token
from whyloop.sandbox.web import ApiError, require_bearer

__all__ = ["Backend", "read_file"]

_README = "Sandbox files.\nOnly files under this directory can be read through /api/files/.\n"


class Backend:
    """The backend's state and the checks every route shares (auth, rate limit, storage)."""

    def __init__(self, config: ServiceConfig, log: JsonLog) -> None:
        self.config = config
        self.log = log
        self.store = ThreadStore(
            config.state_dir / "backend.db", busy_timeout_s=config.db_busy_timeout_s
        )
        self.limiter = RateLimiter(config.rate_limit, config.rate_window_s)
        # Auth and backend are configured separately in real deployments; drift
        # between their audience settings is a classic cause of blanket 401s.
        self.audience = config.audience + (
            "-api" if config.has(Fault.JWT_AUDIENCE_MISMATCH) else ""
        )
        self.files_root = (config.state_dir / "files").resolve()
        self.files_root.mkdir(parents=True, exist_ok=True)
        (self.files_root / "README.txt").write_text(_README, encoding="utf-8")
        self.agent_configs: dict[tuple[str, str], dict[str, Any]] = {}
        self.agent_status: dict[tuple[str, str], dict[str, Any]] = {}
        self._rng = random.Random(config.flaky_seed)
        self._lock_holder: sqlite3.Connection | None = None

    # -- lifecycle --------------------------------------------------------
    def start(self) -> None:
        """Called at startup: take the write lock when the database is meant to be stuck."""
        if self.config.has(Fault.DB_LOCKED):
            self._lock_holder = hold_write_lock(self.store.path)
        self.log.write("INFO", "service started", event="startup")

    def stop(self) -> None:
        """Called at shutdown: release the lock and close the log."""
        if self._lock_holder is not None:
            self._lock_holder.close()
        self.log.write("INFO", "service stopped", event="shutdown")
        self.log.close()

    # -- shared checks ----------------------------------------------------
    def verify(self, token: str) -> Claims:
        """Verify an access token against the backend's expected audience."""
        return verify_token(
            token, secret=self.config.jwt_secret, audience=self.audience, issuer=self.config.issuer
        )

    def token_rejected(self, trace: str | None, err: TokenError, where: str) -> None:
        """Log a refused token (never the token itself)."""
        self.log.write(
            "WARNING",
            f"token rejected: {err.detail}",
            trace=trace,
            event="token_rejected",
            reason=err.code,
            path=where,
        )

    async def user(self, request: Request) -> Claims:
        """Authenticate the request and apply the per-user rate limit."""
        trace = request.scope.get("sandbox.trace")
        token = require_bearer(request)
        try:
            claims = self.verify(token)
        except TokenError as err:
            self.token_rejected(trace, err, request.url.path)
            raise ApiError(
                401,
                err.detail,
                code=err.code,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        request.scope["sandbox.user"] = claims.username
        if not self.config.has(Fault.RATE_LIMIT_OFF):
            retry_after = self.limiter.hit(claims.user_id)
            if retry_after is not None:
                self.log.write(
                    "WARNING",
                    "rate limit exceeded",
                    trace=trace,
                    event="rate_limited",
                    user=claims.username,
                    retry_after=retry_after,
                )
                raise ApiError(
                    429,
                    f"too many requests; retry after {retry_after} s",
                    headers={"Retry-After": str(retry_after)},
                )
        return claims

    async def write(self, trace: str | None, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a store write in a worker thread; a database error becomes a logged 500."""
        try:
            return await asyncio.to_thread(fn, *args)
        except sqlite3.Error as exc:
            self.log.write(
                "ERROR",
                f"{what} failed: {type(exc).__module__}.{type(exc).__name__}: {exc}",
                trace=trace,
                event="db_error",
                error=str(exc),
            )
            raise ApiError(500, "internal server error") from None

    def upstream_flaked(self) -> bool:
        """Draw from the seeded RNG: does this message post hit an unavailable upstream?"""
        return self.config.has(Fault.FLAKY_MESSAGES) and self._rng.random() < self.config.flaky_rate

    def agent_config(self, user_id: str, agent_id: str) -> dict[str, Any]:
        """The user's config of ``agent_id`` (defaults until they change it)."""
        return self.agent_configs.setdefault((user_id, agent_id), dict(DEFAULT_CONFIG))

    def status_of(self, user_id: str, agent_id: str) -> dict[str, Any]:
        """The user's view of ``agent_id``'s lifecycle."""
        return self.agent_status.setdefault(
            (user_id, agent_id),
            {"agent_id": agent_id, "state": "idle", "runs": 0, "last_run": None},
        )

    def think_s(self) -> float | None:
        """How long the thinking step takes: None means the normal step delay."""
        return self.config.slow_agent_s if self.config.has(Fault.SLOW_AGENT) else None

    async def execute(
        self, claims: Claims, agent_id: str, text: str, emit: Emit, thread_id: str | None = None
    ) -> dict[str, Any]:
        """Run an agent for a user, tracking its status; used by HTTP and WebSocket alike."""
        status = self.status_of(claims.user_id, agent_id)
        status["state"] = "running"
        try:
            result = await run_agent(
                agent_id,
                text,
                emit,
                config=self.agent_config(claims.user_id, agent_id),
                step_delay_s=self.config.step_delay_s,
                think_s=self.think_s(),
                thread_id=thread_id,
            )
        finally:
            status["state"] = "idle"
        status["runs"] += 1
        status["last_run"] = {k: result[k] for k in ("run_id", "status", "duration_ms")}
        return result


def read_file(b: Backend, r: Request) -> Response:
    """Serve a file under the files root; refuse anything that could climb out of it."""
    rel = str(r.path_params["path"])
    parts = rel.replace("\\", "/").split("/")
    unsafe = ".." in parts or rel.startswith("/") or "\x00" in rel
    target = b.files_root if unsafe else (b.files_root / rel).resolve()
    if unsafe or not target.is_relative_to(b.files_root):  # the second catches symlinks
        b.log.write(
            "WARNING",
            "path traversal attempt refused",
            trace=r.scope.get("sandbox.trace"),
            event="path_refused",
            user=r.scope.get("sandbox.user"),
            path=rel,
        )
        raise ApiError(403, "path is outside the files directory")
    if not target.is_file():
        raise ApiError(404, f"no file {rel!r}")
    return PlainTextResponse(target.read_text(encoding="utf-8"))
