"""The probe against a real Jupyter server's kernel channels, and against a plain echo server.

Jupyter reads its token from the ``?token=`` query parameter or an
``Authorization: token|bearer`` header and answers 403 without it; the
channels speak only when spoken to (``kernel_info_request`` on the shell
channel), and the kernel's status messages arrive on the same socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.probes.ws.live import matrix, probe, run_recipe, stage
from tests.support.ws_servers import TOKEN, echo_server, jupyter_server

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with jupyter_server(Path(tmp_path_factory.mktemp("jupyter"))) as (where, kernel):
        yield f"ws://{where}/api/kernels/{kernel}/channels"


def test_without_the_token_the_403_is_judged_at_auth(channels):
    data = probe(channels)
    assert data["failed_stage"] == "auth"
    assert "no credential was sent" in data["diagnosis"]
    assert "_xsrf" not in data["diagnosis"]  # an XSRF cookie is no session


def test_auth_auto_browsers_can_use_the_query_token(channels):
    data = probe(channels, token=TOKEN, auth="auto", client_first=True, send=[], timeout=2.0)
    assert matrix(data) == {
        "none": "refused",
        "header": "accepted",
        "subprotocol": "refused",
        "query": "accepted",
    }
    assert "browser clients will fail" not in data["diagnosis"]
    assert "browsers can still connect with it as query" in data["diagnosis"]


def test_the_readme_recipe_gets_the_kernel_info_reply(channels, monkeypatch, capsys):
    status, data = run_recipe("jupyter", channels, monkeypatch, capsys, "--timeout", "5")
    assert status == 0 and data["ok"], data["diagnosis"]
    assert stage(data, "echo")["detail"]["reply_type"] == "kernel_info_reply"
    status, data = run_recipe("jupyter", channels, monkeypatch, capsys, token="wrong-token-12345")
    # a 403 with a credential, and no matrix: the probe names every cause it cannot rule out
    assert status == 1 and data["failed_stage"] == "upgrade"
    assert "refuses the credential sent (bearer token in Authorization)" in data["diagnosis"]


def test_the_kernel_rest_url_is_not_a_websocket_endpoint(channels):
    url = channels.removesuffix("/channels")
    data = probe(url, token=TOKEN, auth="header")
    assert data["failed_stage"] == "upgrade" and "not a WebSocket endpoint" in data["diagnosis"]


def test_the_echo_recipe_against_a_plain_echo_server(monkeypatch, capsys):
    with echo_server() as where:
        status, data = run_recipe("echo", f"ws://{where}/", monkeypatch, capsys)
        assert status == 0 and data["ok"], data["diagnosis"]
        # without --client-first the probe waits for a first message that never comes
        silent = probe(f"ws://{where}/")
    assert silent["failed_stage"] == "welcome"
    assert "never sends connection_established" in silent["diagnosis"]
