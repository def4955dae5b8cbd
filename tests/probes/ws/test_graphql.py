"""The probe against a real GraphQL subscription server (Strawberry), both protocols.

The server refuses a ``connection_init`` without the token (in its payload,
or as ``Authorization: Bearer`` on the upgrade): graphql-transport-ws closes
4403, the legacy graphql-ws answers ``connection_error``. It closes 4406 when
no subprotocol it speaks is offered.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.probes.ws.live import STAGE, matrix, probe, run_recipe, stage
from tests.support.ws_servers import TOKEN, graphql_app, serve_asgi

pytestmark = pytest.mark.timeout(120)

INIT = '{"type": "connection_init"}'
SUBSCRIBE = '{"id": "1", "type": "subscribe", "payload": {"query": "subscription { count }"}}'
TRANSPORT = {
    "subprotocols": ["graphql-transport-ws"],
    "client_first": True,
    "send": [INIT, SUBSCRIBE],
    "expect_reply": "next",
}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_asgi(graphql_app()) as where:
        yield f"ws://{where}/graphql"


def test_without_a_subprotocol_the_4406_is_negotiation_not_a_refused_token(url):
    data = probe(url)
    assert data["failed_stage"] == "subprotocol"
    assert "4406" in data["diagnosis"] and "--subprotocol" in data["diagnosis"]
    assert "Subprotocol not acceptable" in data["diagnosis"]


def test_auth_auto_without_a_subprotocol_says_the_matrix_shows_nothing(url):
    data = probe(url, token=TOKEN, auth="auto")
    assert data["failed_stage"] == "subprotocol"
    assert set(matrix(data).values()) == {"negotiation failed"}
    assert "the matrix shows nothing about the credential" in data["diagnosis"]
    assert "refused" not in data["diagnosis"]


def test_transport_ws_without_credential_is_refused_at_connection_init(url):
    data = probe(url, **TRANSPORT)
    assert data["failed_stage"] == "echo"
    echo = stage(data, "echo")
    assert echo["detail"]["close_code"] == 4403 and echo["detail"]["sent"] == INIT
    assert "graphql-transport-ws: Forbidden" in data["diagnosis"]
    assert "refused the connection in answer to connection_init" in data["diagnosis"]
    assert stage(data, "auth")["detail"]["summary"].startswith("no credential sent")


def test_transport_ws_with_the_token_in_the_init_payload_works(url):
    init = '{"type": "connection_init", "payload": {"token": "{token}"}}'
    data = probe(url, token=TOKEN, auth="none", **{**TRANSPORT, "send": [init, SUBSCRIBE]})
    assert data["ok"], data["diagnosis"]
    assert stage(data, "echo")["detail"]["reply_type"] == "next"
    assert stage(data, "auth")["detail"]["sent"] == ["a credential in message 1"]
    assert any("got connection_ack" in e for e in data["evidence"])


def test_transport_ws_auth_auto_reaches_the_application_on_every_row(url):
    data = probe(url, token=TOKEN, auth="auto", **TRANSPORT)
    assert data["ok"], data["diagnosis"]
    assert matrix(data) == {
        "none": "refused",
        "header": "accepted",
        "subprotocol": "refused",
        "query": "refused",
    }
    assert "not authenticated" not in data["diagnosis"]
    assert "refuses it as a subprotocol" in data["diagnosis"]
    assert "inside a message" in data["diagnosis"]  # browsers could still send it in the init


def test_legacy_graphql_ws_refusal_is_the_connection_error_message(url):
    data = probe(
        url,
        subprotocols=["graphql-ws"],
        client_first=True,
        send=[INIT, '{"id": "1", "type": "start", "payload": {"query": "{ hello }"}}'],
        expect_reply="data",
        reject=["connection_error"],
    )
    assert data["failed_stage"] == "echo"
    assert "connection_error" in data["diagnosis"] and "unauthorized" in data["diagnosis"]
    assert "in answer to connection_init" in data["diagnosis"]


@pytest.mark.parametrize("name", ["graphql-transport-ws", "graphql-ws"])
def test_the_readme_recipe_works_and_refuses_a_wrong_token(name, url, monkeypatch, capsys):
    status, data = run_recipe(name, url, monkeypatch, capsys)
    assert status == 0 and data["ok"], data["diagnosis"]
    assert stage(data, "subprotocol")["detail"]["selected"] == name
    status, data = run_recipe(name, url, monkeypatch, capsys, token="not-the-right-token-42")
    assert status == 1 and data["failed_stage"] == "echo"
    assert "refused the connection" in data["diagnosis"]


def test_a_negotiation_failure_is_not_found_to_be_an_unechoed_subprotocol(url):
    from whyloop.analyze import derive_findings
    from whyloop.probes.ws.probe import probe_ws

    result = probe_ws(url, timeout=STAGE)
    assert result.failed_stage is not None and result.failed_stage.value == "subprotocol"
    rules = {f.rule for f in derive_findings([result])}
    assert "subprotocol-not-echoed" not in rules
