"""The probe against a WebSocket route protected by a session cookie (Starlette + itsdangerous).

``POST /login`` sets a signed ``session`` cookie; ``/ws`` refuses a socket
without a session (close before accept: uvicorn answers 403), ``/ws-login``
redirects to the login page instead; ``/`` is a plain HTTP page.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.probes.ws.live import matrix, probe, stage
from tests.support import TIMEOUT_SCALE
from tests.support.ws_servers import TOKEN, serve_asgi, session_app
from whyloop import cli

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def host() -> Iterator[str]:
    with serve_asgi(session_app()) as where:
        yield where


@pytest.fixture(scope="module")
def cookie(host: str) -> str:
    answer = httpx.post(f"http://{host}/login", timeout=5 * TIMEOUT_SCALE)
    return answer.cookies["session"]


def test_without_the_cookie_the_403_says_what_may_be_wanted(host):
    data = probe(f"ws://{host}/ws")
    assert data["failed_stage"] == "auth"
    assert "no credential was sent" in data["diagnosis"] and "--cookie" in data["diagnosis"]


def test_the_redirect_to_the_login_page_names_the_session(host):
    data = probe(f"ws://{host}/ws-login")
    assert data["failed_stage"] == "auth"
    assert "/login?next=/ws-login" in data["diagnosis"] and "session cookie" in data["diagnosis"]


def test_with_the_cookie_it_works_and_the_auth_stage_says_a_cookie_was_sent(host, cookie):
    data = probe(f"ws://{host}/ws", cookie, cookies={"session": cookie})
    assert data["ok"], data["diagnosis"]
    assert stage(data, "auth")["detail"]["sent"] == ["cookie session"]
    assert stage(data, "upgrade")["detail"]["request_headers"]["Cookie"].startswith("sess")


def test_auth_auto_adds_a_cookie_row_and_a_cookie_header_counts_too(host, cookie):
    data = probe(f"ws://{host}/ws", cookie, cookies={"session": cookie}, auth="auto")
    assert data["ok"], data["diagnosis"]
    assert matrix(data) == {"none": "refused", "cookie": "accepted"}
    header = probe(f"ws://{host}/ws", cookie, headers=[f"Cookie: session={cookie}"], auth="auto")
    assert matrix(header) == {"none": "refused", "cookie": "accepted"}


def test_a_token_and_a_cookie_the_matrix_credits_the_cookie(host, cookie):
    data = probe(f"ws://{host}/ws", cookie, token=TOKEN, cookies={"session": cookie}, auth="auto")
    assert data["ok"], data["diagnosis"]
    assert matrix(data) == {
        "none": "refused",
        "header": "refused",
        "subprotocol": "refused",
        "query": "refused",
        "cookie": "accepted",
    }
    assert stage(data, "auth")["detail"]["sent"] == ["cookie session"]
    assert "accepted as cookie but not as header, subprotocol or query" in data["diagnosis"]


def test_a_bad_cookie_is_refused_on_every_attempt_and_the_matrix_says_it_cannot_tell(host):
    data = probe(f"ws://{host}/ws", "garbage", cookies={"session": "garbage"}, auth="auto")
    assert data["failed_stage"] == "upgrade"
    assert "cookie session" in data["diagnosis"]
    assert "the matrix cannot tell which" in data["diagnosis"]


def test_a_plain_http_route_is_named_not_a_websocket_route(host):
    data = probe(f"ws://{host}/")
    assert data["failed_stage"] == "upgrade"
    assert "plain HTTP route, not a WebSocket route" in data["diagnosis"]
    assert "proxy" not in data["diagnosis"]


def test_cookie_env_in_the_cli_is_sent_and_redacted(host, cookie, monkeypatch, capsys):
    monkeypatch.setenv("WHYLOOP_TEST_SESSION", cookie)
    argv = ["probe", "ws", f"ws://{host}/ws", "--cookie-env", "session=WHYLOOP_TEST_SESSION"]
    assert cli.main([*argv, "--timeout", str(TIMEOUT_SCALE), "--auth", "auto"]) == 0
    out = capsys.readouterr().out
    assert cookie not in out
    assert "cookie" in out and "accepted" in out and "ok: The WebSocket works" in out
