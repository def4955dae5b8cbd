"""Performance and resilience: concurrency, rate limits, errors, reconnects, sessions, lifecycles."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from whyloop.sandbox.e2e._support import (
    AGENT_TIMEOUT_S,
    HTTP_TIMEOUT_S,
    MAX_BURST,
    create_thread,
    execute_agent,
    expect,
    expect_error,
    post_message,
    unique_name,
    wait_for,
    ws_connect,
)

pytestmark = [pytest.mark.category("Performance & Resilience"), pytest.mark.priority(1)]

CONCURRENT_USERS = 20


async def _one_user(client: httpx.AsyncClient, targets, index: int) -> str | None:
    """Log in, create a thread, see it listed; return a failure description or None."""
    name = unique_name(f"load{index}")
    resp = await client.post(
        f"{targets.auth}/auth/login", json={"username": name, "password": "pw-load-1"}
    )
    if resp.status_code != 200:
        return f"user {index}: login {resp.status_code}"
    headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    resp = await client.post(
        f"{targets.backend}/api/threads", json={"title": f"load {index}"}, headers=headers
    )
    if resp.status_code != 201:
        return f"user {index}: create thread {resp.status_code}"
    thread_id = resp.json()["id"]
    resp = await client.get(f"{targets.backend}/api/threads", headers=headers)
    if resp.status_code != 200 or [t["id"] for t in resp.json()["threads"]] != [thread_id]:
        return f"user {index}: list threads {resp.status_code}"
    return None


def test_concurrent_users(targets) -> None:
    """20 users log in and create threads at once; every one succeeds and sees only its own."""

    async def main() -> list[str | None]:
        limits = httpx.Limits(max_connections=CONCURRENT_USERS)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, limits=limits) as client:
            jobs = [_one_user(client, targets, i) for i in range(CONCURRENT_USERS)]
            return await asyncio.wait_for(asyncio.gather(*jobs), timeout=3 * HTTP_TIMEOUT_S)

    failures = [f for f in asyncio.run(main()) if f]
    assert not failures, f"{len(failures)}/{CONCURRENT_USERS} users failed: {failures[:5]}"


def test_rate_limiting(client, targets, new_user) -> None:
    """A burst from one user is answered 429 with Retry-After; another user is unaffected."""
    user, other = new_user(), new_user()
    limited = None
    for sent in range(1, MAX_BURST + 1):
        resp = client.get(f"{targets.backend}/api/agents", headers=user.headers)
        if resp.status_code == 429:
            limited = resp
            break
        assert resp.status_code == 200, f"request {sent}: HTTP {resp.status_code}"
    assert limited is not None, f"no 429 after a burst of {MAX_BURST} requests"
    retry_after = limited.headers.get("retry-after", "")
    assert retry_after.isdigit() and int(retry_after) >= 1, f"Retry-After is {retry_after!r}"
    expect_error(limited, (429,), "rate limited")
    expect(client.get(f"{targets.backend}/api/agents", headers=other.headers), 200, "another user")


def test_error_handling(client, targets, new_user) -> None:
    """Errors are JSON with a code; traversal is refused and nothing outside is read."""
    user = new_user()
    api = targets.backend
    served = client.get(f"{api}/api/files/README.txt", headers=user.headers)
    assert served.status_code == 200 and served.text, f"README.txt: HTTP {served.status_code}"
    expect_error(
        client.get(f"{api}/api/does-not-exist", headers=user.headers), (404,), "unknown route"
    )
    expect_error(client.delete(f"{api}/api/agents", headers=user.headers), (405,), "wrong method")
    expect_error(client.get(f"{api}/api/agents"), (401,), "no token")
    expect_error(
        client.post(
            f"{api}/api/threads",
            content=b"{not json",
            headers={**user.headers, "Content-Type": "application/json"},
        ),
        (400,),
        "malformed JSON",
    )
    for target in (
        b"/api/files/../../etc/passwd",
        b"/api/files/%2e%2e/%2e%2e/etc/passwd",
        b"/api/files/..%2f..%2f..%2fetc%2fpasswd",
    ):
        resp = client.get(f"{api}/api/files/x", headers=user.headers, extensions={"target": target})
        assert "root:" not in resp.text, f"{target!r} read a file outside the root"
        expect_error(resp, (400, 403, 404), f"traversal {target!r}")


def test_connection_resilience(targets, new_user) -> None:
    """A client leaving mid-stream and reconnecting is served again, as is everyone else."""
    user = new_user()
    with ws_connect(targets, user) as ws:
        ws.send(json.dumps({"type": "user_message", "content": "start something long"}))
        wait_for(ws, "agent_started", AGENT_TIMEOUT_S)
    # left mid-stream; a new connection must work normally
    with ws_connect(targets, user) as ws:
        ws.send(json.dumps({"type": "ping"}))
        wait_for(ws, "pong", AGENT_TIMEOUT_S)
        ws.send(json.dumps({"type": "user_message", "content": "are you still there?"}))
        done, _ = wait_for(ws, "agent_completed", AGENT_TIMEOUT_S)
    assert done.get("output"), done
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        expect(client.get(f"{targets.backend}/health"), 200, "backend health after the disconnect")


def test_session_persistence(client, targets, new_user) -> None:
    """A thread and its messages survive a new login and a token refresh."""
    user = new_user()
    thread = create_thread(client, targets, user, "Persistent")
    post_message(client, targets, user, thread["id"], "remember me")
    relogin = expect(
        client.post(
            f"{targets.auth}/auth/login",
            json={"username": user.username, "password": user.password},
        ),
        200,
        "re-login",
    )
    refreshed = expect(
        client.post(f"{targets.auth}/auth/refresh", json={"refresh_token": user.refresh_token}),
        200,
        "refresh",
    )
    for token in (relogin["access_token"], refreshed["access_token"]):
        headers = {"Authorization": f"Bearer {token}"}
        history = expect(
            client.get(f"{targets.backend}/api/threads/{thread['id']}/messages", headers=headers),
            200,
            "history in a new session",
        )
        assert [m["content"] for m in history["messages"]] == ["remember me"], history


def test_agent_lifecycle(client, targets, new_user) -> None:
    """An agent goes idle -> run completed -> idle, and its status counts the run."""
    user = new_user()
    url = f"{targets.backend}/api/agents/ops/status"
    before = expect(client.get(url, headers=user.headers), 200, "status before")
    assert before["state"] == "idle", before
    run = execute_agent(client, targets, user, "ops", "how many instances do we need?")
    after = expect(client.get(url, headers=user.headers), 200, "status after")
    assert after["state"] == "idle" and after["runs"] == before["runs"] + 1, after
    assert (after.get("last_run") or {}).get("run_id") == run["run_id"], after
