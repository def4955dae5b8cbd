"""The sandbox services against bad input, hostile paths, other users and stale tokens."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from whyloop.sandbox import Sandbox
from whyloop.sandbox.tokens import issue_token

# the same variable conftest.py reads: one constant scales every timeout
T = 5.0 * float(os.environ.get("WHYLOOP_TEST_TIMEOUT_SCALE", "1"))


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=T) as client:
        yield client


def _login(http: httpx.Client, box: Sandbox) -> dict[str, str]:
    name = f"svc-{uuid.uuid4().hex[:8]}"
    resp = http.post(f"{box.auth_url}/auth/login", json={"username": name, "password": "pw-1234"})
    assert resp.status_code == 200, resp.text
    return {
        "name": name,
        "token": resp.json()["access_token"],
        "refresh": resp.json()["refresh_token"],
    }


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _crafted(box: Sandbox, *, audience: str | None = None, ttl_s: int = 60) -> str:
    return issue_token(
        secret=box.jwt_secret,
        user_id="usr_x",
        username="mallory",
        audience=audience or box.audience,
        issuer=box.issuer,
        ttl_s=ttl_s,
    )


def _ws(box: Sandbox, token: str | None, **kwargs: object) -> ClientConnection:
    headers = _auth(token) if token else {}
    return connect(
        box.ws_url, additional_headers=headers, open_timeout=T, close_timeout=T, **kwargs
    )


def test_health_names_service_and_revision(sandbox: Sandbox, http: httpx.Client) -> None:
    assert http.get(f"{sandbox.backend_url}/health").json() == {
        "status": "ok",
        "service": "backend",
        "revision": "sandbox-backend-00035-abc",
    }
    assert http.get(f"{sandbox.auth_url}/health").json()["service"] == "auth"


def test_state_file_records_the_sandbox_without_its_secret(sandbox: Sandbox) -> None:
    text = (sandbox.state_dir / "sandbox.json").read_text()
    state = json.loads(text)
    assert state["pids"] == sandbox.pids and state["ports"] == sandbox.ports
    assert state["urls"] == {
        "auth": sandbox.auth_url,
        "backend": sandbox.backend_url,
        "ws": sandbox.ws_url,
    }
    assert set(state["log_paths"]) == {"auth", "backend"} and state["faults"] == []
    assert sandbox.jwt_secret not in text


@pytest.mark.parametrize("service", ["auth", "backend"])
def test_malformed_json_is_400_with_a_clear_error(
    sandbox: Sandbox, http: httpx.Client, service: str
) -> None:
    user = _login(http, sandbox)
    url = (
        f"{sandbox.auth_url}/auth/login"
        if service == "auth"
        else f"{sandbox.backend_url}/api/threads"
    )
    resp = http.post(
        url,
        content=b'{"title": ',
        headers={**_auth(user["token"]), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    body = resp.json()
    assert body["error"] == "invalid_json" and "not valid JSON" in body["detail"]


def test_oversized_bodies_are_413_declared_or_streamed(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    user = _login(http, sandbox)
    url = f"{sandbox.backend_url}/api/threads"
    big = json.dumps({"title": "x" * 100_000}).encode()
    assert http.post(url, content=big, headers=_auth(user["token"])).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
        for _ in range(20):
            yield b"x" * 8192

    resp = http.post(url, content=chunks(), headers=_auth(user["token"]))
    assert resp.status_code == 413 and resp.json()["error"] == "payload_too_large"


def test_validation_errors_list_each_field(sandbox: Sandbox, http: httpx.Client) -> None:
    user = _login(http, sandbox)
    resp = http.put(
        f"{sandbox.backend_url}/api/agents/triage/config",
        json={"temperature": "hot", "max_steps": 0, "colour": "red"},
        headers=_auth(user["token"]),
    )
    assert resp.status_code == 422
    assert {e["field"] for e in resp.json()["errors"]} == {"temperature", "max_steps", "colour"}
    resp = http.post(f"{sandbox.auth_url}/auth/login", json={"username": "a b", "password": 1})
    assert resp.status_code == 422 and {e["field"] for e in resp.json()["errors"]} == {
        "username",
        "password",
    }


@pytest.mark.parametrize(
    "target",
    [
        b"/api/files/../../etc/passwd",
        b"/api/files/%2e%2e/%2e%2e/etc/passwd",
        b"/api/files/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        b"/api/files/..%5c..%5cetc%5cpasswd",
        b"/api/files//etc/passwd",
        b"/api/files/%252e%252e/%252e%252e/etc/passwd",
    ],
)
def test_path_traversal_is_refused_and_reads_nothing(
    sandbox: Sandbox, http: httpx.Client, target: bytes
) -> None:
    user = _login(http, sandbox)
    resp = http.get(
        f"{sandbox.backend_url}/x", headers=_auth(user["token"]), extensions={"target": target}
    )
    assert resp.status_code in (403, 404), resp.text
    assert "root:" not in resp.text and resp.json()["error"] in ("forbidden", "not_found")


def test_files_inside_the_root_are_served(sandbox: Sandbox, http: httpx.Client) -> None:
    user = _login(http, sandbox)
    resp = http.get(f"{sandbox.backend_url}/api/files/README.txt", headers=_auth(user["token"]))
    assert resp.status_code == 200 and "Sandbox files" in resp.text


def test_users_never_see_each_others_threads(sandbox: Sandbox, http: httpx.Client) -> None:
    alice, bob = _login(http, sandbox), _login(http, sandbox)
    thread = http.post(
        f"{sandbox.backend_url}/api/threads", json={"title": "mine"}, headers=_auth(alice["token"])
    )
    assert thread.status_code == 201
    url = f"{sandbox.backend_url}/api/threads/{thread.json()['id']}"
    for method, suffix in (("GET", ""), ("GET", "/messages"), ("POST", "/messages")):
        resp = http.request(
            method,
            url + suffix,
            json={"content": "hi"} if method == "POST" else None,
            headers=_auth(bob["token"]),
        )
        assert resp.status_code == 404, (method, suffix, resp.status_code)
    assert http.get(f"{sandbox.backend_url}/api/threads", headers=_auth(bob["token"])).json() == {
        "threads": []
    }


@pytest.mark.parametrize("kind", ["expired", "wrong audience", "refresh as access"])
def test_stale_or_misdirected_tokens_are_401(
    sandbox: Sandbox, http: httpx.Client, kind: str
) -> None:
    user = _login(http, sandbox)
    token = {
        "expired": _crafted(sandbox, ttl_s=-30),
        "wrong audience": _crafted(sandbox, audience="someone-else"),
        "refresh as access": user["refresh"],
    }[kind]
    for url in (f"{sandbox.auth_url}/auth/validate", f"{sandbox.backend_url}/api/me"):
        resp = http.get(url, headers=_auth(token))
        assert resp.status_code == 401, url
        assert resp.json()["error"] in ("token_expired", "invalid_token") and resp.json()["detail"]
    if kind == "expired":
        assert resp.json()["error"] == "token_expired"


def test_rate_limit_answers_429_with_retry_after(sandbox: Sandbox, http: httpx.Client) -> None:
    user = _login(http, sandbox)
    statuses = [
        http.get(f"{sandbox.backend_url}/api/me", headers=_auth(user["token"])).status_code
        for _ in range(45)
    ]
    assert statuses[:40] == [200] * 40 and statuses[40:] == [429] * 5
    resp = http.get(f"{sandbox.backend_url}/api/me", headers=_auth(user["token"]))
    assert 1 <= int(resp.headers["retry-after"]) <= 10


def test_ws_without_token_gets_401_on_the_upgrade(sandbox: Sandbox) -> None:
    with pytest.raises(InvalidStatus) as info:
        _ws(sandbox, None)
    assert info.value.response.status_code == 401


def test_ws_with_expired_token_is_closed_1008(sandbox: Sandbox) -> None:
    with _ws(sandbox, _crafted(sandbox, ttl_s=-30)) as ws, pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=T)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008
    assert "expired" in info.value.rcvd.reason


def test_ws_subprotocol_token_is_echoed(sandbox: Sandbox, http: httpx.Client) -> None:
    user = _login(http, sandbox)
    offered = f"jwt.{user['token']}"
    with connect(sandbox.ws_url, subprotocols=[offered], open_timeout=T) as ws:
        assert ws.subprotocol == offered
        assert json.loads(ws.recv(timeout=T))["type"] == "connection_established"


def test_ws_bad_messages_get_errors_and_the_socket_keeps_serving(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    user = _login(http, sandbox)
    with _ws(sandbox, user["token"]) as ws:
        welcome = json.loads(ws.recv(timeout=T))
        assert welcome["type"] == "connection_established" and welcome["user"] == user["name"]
        for frame, error in (
            ('{"type": "dance"}', "unknown_message_type"),
            ("{nope", "invalid_json"),
            (b"\x00\x01", "unsupported_frame"),
            ('["list"]', "unknown_message_type"),
            ('{"type": "user_message", "content": ""}', "validation_error"),
        ):
            ws.send(frame)
            reply = json.loads(ws.recv(timeout=T))
            assert reply["type"] == "error" and reply["error"] == error, (frame, reply)
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=T)) == {"type": "pong"}


def test_ws_oversized_frame_is_closed_1009(sandbox: Sandbox, http: httpx.Client) -> None:
    user = _login(http, sandbox)
    with _ws(sandbox, user["token"], max_size=None) as ws:
        ws.recv(timeout=T)
        ws.send(json.dumps({"type": "user_message", "content": "x" * 70_000}))
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=T)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


def test_ws_message_with_thread_persists_both_sides(sandbox: Sandbox, http: httpx.Client) -> None:
    user = _login(http, sandbox)
    thread = http.post(
        f"{sandbox.backend_url}/api/threads", json={"title": "ws"}, headers=_auth(user["token"])
    )
    with _ws(sandbox, user["token"]) as ws:
        ws.send(
            json.dumps(
                {"type": "user_message", "content": "hello", "thread_id": thread.json()["id"]}
            )
        )
        kinds = []
        while not kinds or kinds[-1] != "agent_completed":
            kinds.append(json.loads(ws.recv(timeout=T))["type"])
            assert len(kinds) < 10, kinds
    history = http.get(
        f"{sandbox.backend_url}/api/threads/{thread.json()['id']}/messages",
        headers=_auth(user["token"]),
    ).json()["messages"]
    assert [m["role"] for m in history][:1] == ["user"]


def test_client_leaving_mid_stream_costs_only_its_session(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    user = _login(http, sandbox)
    for _ in range(3):
        with _ws(sandbox, user["token"]) as ws:
            ws.recv(timeout=T)
            ws.send(json.dumps({"type": "user_message", "content": "go"}))
    with _ws(sandbox, user["token"]) as ws:
        ws.recv(timeout=T)
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=T)) == {"type": "pong"}


def test_trace_header_is_propagated_to_the_log(
    sandbox: Sandbox, http: httpx.Client, read_log
) -> None:
    trace = uuid.uuid4().hex
    resp = http.get(
        f"{sandbox.backend_url}/health", headers={"X-Cloud-Trace-Context": f"{trace}/1;o=1"}
    )
    assert resp.headers["x-cloud-trace-context"] == trace
    lines: list[dict] = []
    deadline = time.monotonic() + 5.0
    # the access line is written after the response is sent: poll for it, bounded
    while not lines and time.monotonic() < deadline:
        lines = [
            r
            for r in read_log(sandbox.log_paths["backend"])
            if r["logging.googleapis.com/trace"].endswith(trace)
        ]
        if not lines:
            time.sleep(0.05)
    assert lines and lines[0]["httpRequest"]["status"] == 200


def test_logs_have_the_cloud_run_shape_and_no_token(
    sandbox: Sandbox, http: httpx.Client, read_log, check_log_shape
) -> None:
    user = _login(http, sandbox)
    http.get(f"{sandbox.backend_url}/api/me", headers=_auth(user["token"]))
    http.get(f"{sandbox.backend_url}/api/me?token={user['token']}")
    for service, path in sandbox.log_paths.items():
        records = read_log(path)
        check_log_shape(records, service)
        assert user["token"] not in path.read_text()
    backend = read_log(sandbox.log_paths["backend"])
    assert any(r.get("httpRequest", {}).get("status") == 401 for r in backend)
    assert any(r.get("event") == "websocket_connected" for r in backend)
