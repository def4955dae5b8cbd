"""Helpers the e2e tests share: targets, timeouts, users, and bounded WebSocket waits."""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

#: one constant scales every timeout (slow CI machines set it above 1)
SCALE = float(os.environ.get("WHYLOOP_E2E_TIMEOUT_SCALE", "1") or 1)
HTTP_TIMEOUT_S = 5.0 * SCALE
#: how long a client waits for connection_established after the handshake
WELCOME_TIMEOUT_S = 3.0 * SCALE
#: how long a client waits for an agent run to complete (HTTP or WebSocket)
AGENT_TIMEOUT_S = 5.0 * SCALE
OPEN_TIMEOUT_S = 5.0 * SCALE
#: the largest burst the rate-limit test sends looking for a 429
MAX_BURST = 150

AGENT_EVENTS = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)
BROWSER_ORIGIN = "http://localhost:3000"


@dataclass(frozen=True)
class Targets:
    """Where the system under test answers."""

    backend: str
    auth: str
    ws: str


@dataclass(frozen=True)
class User:
    """A logged-in test user."""

    username: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header for backend calls."""
        return {"Authorization": f"Bearer {self.access_token}"}


def targets_from_env() -> Targets:
    """Read the targets; raise RuntimeError naming the missing variables."""
    names = ("WHYLOOP_BACKEND_URL", "WHYLOOP_AUTH_URL", "WHYLOOP_WS_URL")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise RuntimeError(f"set {', '.join(missing)} to the system under test")
    backend, auth, ws = (os.environ[n].rstrip("/") for n in names)
    return Targets(backend=backend, auth=auth, ws=ws)


def unique_name(prefix: str) -> str:
    """A username no other run has used."""
    return f"e2e-{prefix}-{uuid.uuid4().hex[:10]}"


def login(
    client: httpx.Client, targets: Targets, prefix: str, password: str = "pw-e2e-1234"
) -> User:
    """Log a fresh user in (creating it) and return its tokens."""
    username = unique_name(prefix)
    resp = client.post(
        f"{targets.auth}/auth/login", json={"username": username, "password": password}
    )
    assert resp.status_code == 200, f"login failed with {resp.status_code}: {resp.text[:200]}"
    body = resp.json()
    return User(username, password, body["access_token"], body["refresh_token"])


def expect(resp: httpx.Response, status: int, what: str) -> Any:
    """Assert ``resp`` has ``status`` and return its JSON body."""
    assert resp.status_code == status, (
        f"{what}: expected HTTP {status}, got {resp.status_code}: {resp.text[:200]}"
    )
    return resp.json() if resp.content else None


def expect_error(resp: httpx.Response, statuses: tuple[int, ...], what: str) -> dict[str, Any]:
    """Assert an error status in ``statuses`` with a JSON ``{"error": ...}`` body."""
    assert resp.status_code in statuses, (
        f"{what}: expected HTTP {'/'.join(map(str, statuses))}, got {resp.status_code}: {resp.text[:200]}"
    )
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"{what}: error body is not JSON: {resp.text[:200]!r}") from None
    assert isinstance(body, dict) and body.get("error"), (
        f"{what}: error body has no 'error': {body}"
    )
    return body


def create_thread(client: httpx.Client, targets: Targets, user: User, title: str) -> dict[str, Any]:
    """Create a thread for ``user`` and return it."""
    resp = client.post(
        f"{targets.backend}/api/threads", json={"title": title}, headers=user.headers
    )
    return expect(resp, 201, "create thread")


def post_message(
    client: httpx.Client, targets: Targets, user: User, thread_id: str, content: str
) -> dict[str, Any]:
    """Post a message to the user's thread and return it."""
    resp = client.post(
        f"{targets.backend}/api/threads/{thread_id}/messages",
        json={"content": content},
        headers=user.headers,
    )
    return expect(resp, 201, "post message")


def execute_agent(
    client: httpx.Client, targets: Targets, user: User, agent_id: str, text: str
) -> dict[str, Any]:
    """Execute an agent over HTTP, waiting at most AGENT_TIMEOUT_S for the result."""
    try:
        resp = client.post(
            f"{targets.backend}/api/agents/{agent_id}/execute",
            json={"input": text},
            headers=user.headers,
            timeout=AGENT_TIMEOUT_S,
        )
    except httpx.TimeoutException:
        raise TimeoutError(
            f"timed out after {AGENT_TIMEOUT_S:g} s waiting for agent {agent_id} execution to complete"
        ) from None
    return expect(resp, 200, f"execute agent {agent_id}")


def ws_connect(
    targets: Targets,
    user: User | None,
    *,
    via: str = "header",
    origin: str | None = None,
    token: str | None = None,
) -> ClientConnection:
    """Open the WebSocket, sending the token in the header or as a ``jwt.<token>`` subprotocol."""
    token = token if token is not None else (user.access_token if user else None)
    headers: dict[str, str] = {}
    subprotocols = None
    if token is not None and via == "header":
        headers["Authorization"] = f"Bearer {token}"
    elif token is not None:
        subprotocols = [f"jwt.{token}"]
    agent = "Mozilla/5.0 (X11; Linux x86_64) e2e-browser" if origin is not None else "whyloop-e2e"
    return connect(
        targets.ws,
        additional_headers=headers,
        subprotocols=subprotocols,  # type: ignore[arg-type]
        origin=origin,
        user_agent_header=agent,  # type: ignore[arg-type]
        open_timeout=OPEN_TIMEOUT_S,
        close_timeout=2.0 * SCALE,
        max_size=2**20,
    )


def connect_as_browser(targets: Targets, user: User, *, origin: str | None) -> ClientConnection:
    """Connect with the token as a subprotocol and check the echo a browser insists on."""
    offered = f"jwt.{user.access_token}"
    try:
        ws = ws_connect(targets, user, via="subprotocol", origin=origin)
    except InvalidStatus as exc:
        raise AssertionError(
            f"WebSocket upgrade refused with HTTP {exc.response.status_code}: "
            f"{exc.response.body.decode(errors='replace')[:200] if exc.response.body else ''}"
        ) from None
    if ws.subprotocol != offered:
        ws.close()
        raise AssertionError(
            "server accepted the WebSocket without echoing the offered Sec-WebSocket-Protocol "
            f"(answered {ws.subprotocol!r}); browsers fail such a handshake"
        )
    return ws


def wait_for(
    ws: ClientConnection, kind: str, timeout_s: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Receive until a message of type ``kind``; return it and everything received before it.

    Raises TimeoutError naming ``kind`` if it does not come within ``timeout_s``.
    """
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            raw = ws.recv(timeout=remaining)
        except TimeoutError:
            break
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else "none"
            reason = exc.rcvd.reason if exc.rcvd else ""
            raise AssertionError(
                f"connection closed with code {code} ({reason}) while waiting for {kind}"
            ) from None
        message = json.loads(raw)
        if message.get("type") == kind:
            return message, seen
        seen.append(message)
    got = [m.get("type") for m in seen]
    raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {kind} (received {got})")


def refusal(targets: Targets, **kwargs: Any) -> str:
    """Try to connect and return how the server refused: ``"http 401"`` or ``"close 1008"``.

    Raises AssertionError if the server accepts and serves the connection.
    """
    try:
        ws = ws_connect(targets, None, **kwargs)
    except InvalidStatus as exc:
        return f"http {exc.response.status_code}"
    with ws:
        try:
            raw = ws.recv(timeout=WELCOME_TIMEOUT_S)
        except ConnectionClosed as exc:
            return f"close {exc.rcvd.code if exc.rcvd else 'none'}"
        except TimeoutError:
            raise AssertionError("server accepted the connection and kept it open") from None
    raise AssertionError(f"server accepted the connection and sent {raw[:200]!r}")
