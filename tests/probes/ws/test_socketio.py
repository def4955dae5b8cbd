"""The probe against a real Socket.IO server (python-socketio over Engine.IO v4, ASGI).

The server opens every connection with an Engine.IO ``0{...}`` packet; its
``connect`` handler refuses a CONNECT packet (``40``) without the token in its
auth with a ``44`` CONNECT_ERROR packet. Under ASGI an Engine.IO URL without
``EIO=4&transport=websocket`` is refused with 403.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.probes.ws.live import matrix, probe, run_recipe, stage
from tests.support.ws_servers import TOKEN, serve_asgi, socketio_app

pytestmark = pytest.mark.timeout(120)

RECIPE = {
    "expect_first": r"re:^0\{",
    "expect_reply": "re:^40",
    "reject": ["re:^44"],
}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serve_asgi(socketio_app()) as where:
        yield f"ws://{where}/socket.io/"


def test_an_engine_io_url_without_its_query_is_explained_by_the_query(base):
    for url, said in ((base, "neither is given"), (base + "?EIO=3&transport=websocket", "EIO=3")):
        data = probe(url)
        assert data["failed_stage"] == "upgrade"
        assert stage(data, "upgrade")["detail"]["status"] == 403
        assert said in data["diagnosis"] and "EIO=4&transport=websocket" in data["diagnosis"]


def test_the_open_packet_is_named_and_never_taken_for_a_reply(base):
    url = base + "?EIO=4&transport=websocket"
    welcome = probe(url)  # the default welcome (connection_established) is not what comes
    assert welcome["failed_stage"] == "welcome"
    assert "Engine.IO open packet" in welcome["diagnosis"]
    data = probe(url, expect_first="none")  # the default ping is not Socket.IO
    assert data["failed_stage"] == "echo" and "works end to end" not in data["diagnosis"]
    assert any("unsolicited, not taken as a reply" in e for e in data["evidence"])


def test_a_connect_without_auth_is_refused_by_the_44_packet(base):
    data = probe(base + "?EIO=4&transport=websocket", send="40", **RECIPE)
    assert data["failed_stage"] == "echo"
    assert "44" in data["diagnosis"] and "not authorized" in data["diagnosis"]
    assert stage(data, "welcome")["ok"]


def test_the_token_in_the_connect_packet_is_accepted(base):
    url = base + "?EIO=4&transport=websocket"
    data = probe(url, token=TOKEN, auth="none", send='40{"token": "{token}"}', **RECIPE)
    assert data["ok"], data["diagnosis"]
    assert stage(data, "echo")["detail"]["reply"].startswith("40{")


def test_auth_auto_with_the_token_only_on_the_handshake_blames_the_application(base):
    url = base + "?EIO=4&transport=websocket"
    data = probe(url, token=TOKEN, auth="auto", send="40", **RECIPE)
    assert data["failed_stage"] == "echo"
    assert set(matrix(data).values()) == {"refused"}
    assert "refused however it is sent" in data["diagnosis"]
    assert "The refusals came from the application" in data["diagnosis"]
    assert "not authenticated" not in data["diagnosis"]


def test_auth_auto_with_the_token_in_the_connect_packet_cannot_tell_if_one_is_needed(base):
    url = base + "?EIO=4&transport=websocket"
    data = probe(url, token=TOKEN, auth="auto", send='40{"token": "{token}"}', **RECIPE)
    assert data["ok"], data["diagnosis"]
    assert "cannot tell whether the endpoint needs one" in data["diagnosis"]
    assert "not authenticated" not in data["diagnosis"]


def test_the_readme_recipe(base, monkeypatch, capsys):
    url = base + "?EIO=4&transport=websocket"
    status, data = run_recipe("socket.io", url, monkeypatch, capsys)
    assert status == 0 and data["ok"], data["diagnosis"]
    status, data = run_recipe("socket.io", url, monkeypatch, capsys, token="wrong-token-1234567")
    assert status == 1 and data["failed_stage"] == "echo" and "44" in data["diagnosis"]
