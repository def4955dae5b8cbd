"""User context and authentication: login, refresh, refused tokens, isolation."""

from __future__ import annotations

import base64
import json

import pytest

from whyloop.sandbox.e2e._support import create_thread, expect, expect_error, unique_name

pytestmark = [pytest.mark.category("User Context & Authentication"), pytest.mark.priority(1)]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_user_login(client, targets) -> None:
    """First login creates the user; the token validates; a wrong password is 401."""
    username, url = unique_name("login"), f"{targets.auth}/auth/login"
    first = expect(
        client.post(url, json={"username": username, "password": "pw-1234"}), 200, "first login"
    )
    assert first.get("access_token") and first.get("refresh_token") and first.get("created") is True
    valid = expect(
        client.get(
            f"{targets.auth}/auth/validate",
            headers={"Authorization": f"Bearer {first['access_token']}"},
        ),
        200,
        "validate",
    )
    assert valid.get("user") == username, valid
    again = expect(
        client.post(url, json={"username": username, "password": "pw-1234"}), 200, "second login"
    )
    assert again.get("created") is False, again
    expect_error(
        client.post(url, json={"username": username, "password": "wrong-pw"}),
        (401,),
        "wrong password",
    )


def test_token_refresh(client, targets, new_user) -> None:
    """A refresh token buys a new access token that works on the backend."""
    user = new_user()
    fresh = expect(
        client.post(f"{targets.auth}/auth/refresh", json={"refresh_token": user.refresh_token}),
        200,
        "refresh",
    )
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    expect(
        client.get(f"{targets.auth}/auth/validate", headers=headers),
        200,
        "validate refreshed token",
    )
    me = expect(
        client.get(f"{targets.backend}/api/me", headers=headers),
        200,
        "backend with refreshed token",
    )
    assert me.get("username") == user.username, me
    expect_error(
        client.post(f"{targets.auth}/auth/refresh", json={"refresh_token": user.access_token}),
        (401,),
        "refresh with an access token",
    )


def test_invalid_tokens_rejected(client, targets, new_user) -> None:
    """Malformed, forged, tampered and unsigned tokens get 401 from auth and backend alike."""
    user = new_user()
    head, payload, sig = user.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    bad = {
        "malformed": "not-a-jwt",
        "forged signature": f"{head}.{payload}.{'A' * len(sig)}",
        "tampered claims": f"{head}.{_b64({**claims, 'username': 'admin'})}.{sig}",
        "unsigned (alg none)": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
    }
    for what, token in {**bad, "missing": None}.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        expect_error(
            client.get(f"{targets.auth}/auth/validate", headers=headers), (401,), f"auth, {what}"
        )
        expect_error(
            client.get(f"{targets.backend}/api/me", headers=headers), (401,), f"backend, {what}"
        )


def test_user_isolation(client, targets, new_user) -> None:
    """One user can neither see, read nor write another user's thread."""
    alice, bob = new_user(), new_user()
    thread = create_thread(client, targets, alice, "Alice's private thread")
    base = f"{targets.backend}/api/threads/{thread['id']}"
    expect_error(client.get(base, headers=bob.headers), (404,), "bob reads alice's thread")
    expect_error(
        client.get(f"{base}/messages", headers=bob.headers), (404,), "bob reads alice's history"
    )
    expect_error(
        client.post(f"{base}/messages", json={"content": "hi"}, headers=bob.headers),
        (404,),
        "bob writes to alice's thread",
    )
    listed = expect(
        client.get(f"{targets.backend}/api/threads", headers=bob.headers), 200, "bob's threads"
    )
    assert thread["id"] not in [t["id"] for t in listed["threads"]], (
        "alice's thread is in bob's list"
    )
    expect(client.get(base, headers=alice.headers), 200, "alice reads her thread")
