"""The judge's rules for real servers' behaviour, on hand-built observations (no network).

Each test is one false claim the probe used to make on a server it did not
write; ``judged`` also runs the no-contradiction checks on every result.
"""

from __future__ import annotations

import json

from tests.probes.ws.recorded import BEARER, good, judged, msg, refused, row
from whyloop.probes.ws.observations import (
    AuthMethod,
    Credential,
    CredentialKind,
    EventKind,
    IoFailure,
    PlainAnswer,
    Step,
    WsEvent,
    settled,
)
from whyloop.probes.ws.patterns import Pattern
from whyloop.results import Stage

COOKIE = Credential(CredentialKind.COOKIE, "session")
QUERY = Credential(CredentialKind.QUERY, "token")
SUB = Credential(CredentialKind.SUBPROTOCOL, "jwt.eyJh...")


def close(code: int, reason: str = "", sent_before: int = 0, **kw: object) -> WsEvent:
    return WsEvent(EventKind.CLOSE, 1.0, code=code, reason=reason, sent_before=sent_before, **kw)  # type: ignore[arg-type]


def text(body: str, sent_before: int = 1) -> WsEvent:
    return WsEvent(EventKind.MESSAGE, 1.0, text=body, sent_before=sent_before)


# -- subprotocols apart from tokens --------------------------------------------------------------


def test_4406_right_after_the_handshake_is_negotiation_not_a_refused_credential():
    obs = good(first=close(4406, "Subprotocol not acceptable"), reply=None, closing=None)
    result = judged(obs)
    assert result.failed_stage is Stage.SUBPROTOCOL
    assert "no subprotocol was offered" in result.diagnosis and "--subprotocol" in result.diagnosis
    assert "4406" in result.diagnosis and "Subprotocol not acceptable" in result.diagnosis


def test_a_matrix_of_negotiation_closes_never_says_the_token_is_refused():
    rows = [
        row(method=m, first=close(4406, "Subprotocol not acceptable"), reply=None)
        for m in (AuthMethod.NONE, AuthMethod.HEADER, AuthMethod.SUBPROTOCOL, AuthMethod.QUERY)
    ]
    result = judged(good(first=close(4406), reply=None, closing=None), rows)
    assert all(r.detail.startswith("negotiation failed") for r in result.auth_matrix)
    assert "refused" not in result.diagnosis
    assert "the matrix shows nothing about the credential" in result.diagnosis


def test_1002_right_after_a_client_first_send_without_a_selected_subprotocol_is_negotiation():
    obs = good(
        client_first=True,
        expect_first=None,
        first=None,
        reply=close(1002, "", sent_before=1),
        closing=None,
    )
    assert judged(obs).failed_stage is Stage.SUBPROTOCOL


def test_a_400_naming_the_subprotocol_is_judged_at_the_subprotocol_stage():
    body = "Failed to open a WebSocket connection: missing subprotocol."
    obs = good(status=400, body=body, first=None, reply=None, closing=None)
    result = judged(obs)
    assert result.failed_stage is Stage.SUBPROTOCOL and result.stage(Stage.UPGRADE).ok
    assert "naming the subprotocol" in result.diagnosis


# -- credentials in all their forms ---------------------------------------------------------------


def test_a_cookie_sent_is_never_no_credential():
    obs = good(method=AuthMethod.NONE, credentials=[COOKIE], request_headers=[])
    result = judged(obs)
    assert (
        result.stage(Stage.AUTH).detail["summary"] == "sent cookie session; upgrade accepted (101)"
    )


def test_401_without_credential_reads_www_authenticate():
    obs = good(
        method=AuthMethod.NONE,
        credentials=[],
        status=401,
        response_headers=[("WWW-Authenticate", 'Bearer realm="api"')],
        first=None,
        reply=None,
        closing=None,
    )
    result = judged(obs)
    assert result.failed_stage is Stage.AUTH
    assert "bearer token" in result.diagnosis and "WWW-Authenticate" in result.diagnosis


def test_a_redirect_to_a_login_page_says_a_session_cookie_is_wanted():
    obs = good(
        method=AuthMethod.NONE,
        credentials=[],
        status=302,
        response_headers=[("Location", "/login?next=/ws")],
        first=None,
        reply=None,
        closing=None,
    )
    result = judged(obs)
    assert result.failed_stage is Stage.AUTH
    assert "/login?next=/ws" in result.diagnosis and "--cookie" in result.diagnosis


def test_403_without_credential_says_what_may_be_wanted_and_that_it_cannot_tell():
    obs = good(
        method=AuthMethod.NONE, credentials=[], status=403, first=None, reply=None, closing=None
    )
    result = judged(obs)
    assert result.failed_stage is Stage.AUTH
    assert "may want a credential" in result.diagnosis and "--cookie" in result.diagnosis


def test_not_authenticated_only_when_the_attempt_without_credentials_was_accepted():
    rows = [
        refused(AuthMethod.NONE, credentials=[]),
        row(),
        refused(AuthMethod.SUBPROTOCOL, credentials=[SUB]),
        refused(AuthMethod.QUERY, credentials=[QUERY]),
    ]
    result = judged(good(), rows)
    assert "not authenticated" not in result.diagnosis
    open_rows = [row(method=AuthMethod.NONE, credentials=[]), row()]
    assert "not authenticated" in judged(good(), open_rows).diagnosis


def test_the_none_row_carrying_a_message_credential_cannot_say_not_authenticated():
    carried = Credential(CredentialKind.MESSAGE, "message 1", always=True)
    rows = [row(method=AuthMethod.NONE, credentials=[carried]), row(credentials=[BEARER, carried])]
    result = judged(good(), rows)
    assert "not authenticated" not in result.diagnosis
    assert "cannot tell whether the endpoint needs one" in result.diagnosis


def test_browser_clients_fail_only_when_no_browser_way_was_accepted():
    rows = [
        refused(AuthMethod.NONE, status=403, credentials=[]),
        row(),
        refused(AuthMethod.SUBPROTOCOL, status=403, credentials=[SUB]),
        row(method=AuthMethod.QUERY, credentials=[QUERY]),
    ]
    result = judged(good(), rows)
    assert "browser clients will fail" not in result.diagnosis
    assert "browsers can still connect with it as query" in result.diagnosis
    rows[3] = refused(AuthMethod.QUERY, status=403, credentials=[QUERY])
    result = judged(good(), rows)
    assert "browser clients will fail" in result.diagnosis and "--cookie" in result.diagnosis


def test_the_same_404_on_every_attempt_is_a_path_problem():
    rows = [refused(m, status=404) for m in (AuthMethod.NONE, AuthMethod.HEADER, AuthMethod.QUERY)]
    obs = good(status=404, first=None, reply=None, closing=None)
    result = judged(obs, rows)
    assert result.failed_stage is Stage.UPGRADE
    assert "the path is wrong, not the credential" in result.diagnosis
    assert all(r.detail.startswith("not reached") for r in result.auth_matrix)


def test_a_1000_close_right_after_the_handshake_is_judged_alike_in_auth_and_matrix():
    obs = good(first=close(1000), reply=None, closing=None)
    result = judged(obs, [row(first=close(1000), reply=None)])
    assert result.failed_stage is Stage.AUTH
    assert "without a reason the probe can read" in result.diagnosis
    assert result.auth_matrix[0].detail.startswith("unclear: closed with 1000")
    assert "refused however" not in result.diagnosis


# -- client first, application handshakes ---------------------------------------------------------


def test_an_unsolicited_greeting_is_never_taken_for_the_reply():
    greeting = WsEvent(EventKind.MESSAGE, 1.0, text='0{"sid":"abc"}', sent_before=0)
    refusal = text('44{"message":"not authorized"}')
    obs = good(
        expect_first=None,
        reject=(Pattern("re:^44"),),
        first=greeting,
        reply=refusal,
        closing=None,
        messages=["40"],
    )
    result = judged(obs)
    assert result.failed_stage is Stage.ECHO
    assert "refused the connection in answer to 40" in result.diagnosis
    assert "not authorized" in result.diagnosis
    assert any("unsolicited" in e for e in result.evidence)


def test_a_reject_message_first_fails_the_welcome():
    obs = good(reject=(Pattern("connection_error"),), first=msg("connection_error"), reply=None)
    result = judged(obs)
    assert result.failed_stage is Stage.WELCOME and "refused the connection" in result.diagnosis


def test_expect_reply_names_what_came_instead():
    obs = good(
        expect_reply=Pattern("connection_ack"),
        reply=WsEvent(EventKind.TIMEOUT, 2000.0, sent_before=1),
        closing=None,
    )
    obs = settled(obs)  # then a keep-alive arrives between the send and the timeout
    obs.events.insert(1, text(json.dumps({"type": "ka"})))
    result = judged(obs)
    assert result.failed_stage is Stage.ECHO
    assert "no connection_ack message" in result.diagnosis and "ka instead" in result.diagnosis


def test_graphql_transport_ws_close_codes_are_named_and_4403_after_init_is_a_refusal():
    obs = good(
        offered=["graphql-transport-ws"],
        selected="graphql-transport-ws",
        client_first=True,
        expect_first=None,
        first=None,
        messages=['{"type": "connection_init"}'],
        reply=close(4403, "Forbidden", sent_before=1),
        closing=None,
    )
    result = judged(obs)
    assert result.failed_stage is Stage.ECHO
    assert "graphql-transport-ws: Forbidden" in result.diagnosis
    assert "refused the connection in answer to connection_init" in result.diagnosis


# -- closes ---------------------------------------------------------------------------------------


def test_a_close_the_server_starts_is_told_apart_from_the_answer_to_the_probes_close():
    own = judged(good(closing=close(1000, by_server=False, sent_before=1)))
    assert "answered the probe's close" in own.stage(Stage.CLOSE).detail["summary"]
    theirs = judged(good(closing=close(1000, by_server=True, sent_before=1)))
    assert "the server closed first" in theirs.stage(Stage.CLOSE).detail["summary"]
    assert "the server closed first" in theirs.diagnosis


# -- cross-checks -----------------------------------------------------------------------------------


def test_no_http_answer_is_checked_against_the_other_attempts_on_the_port():
    obs = good(
        upgrade=Step(ms=1.0, failure=IoFailure.EOF, error="connection closed"),
        status=None,
        first=None,
        reply=None,
        closing=None,
    )
    result = judged(obs, [row(method=AuthMethod.NONE, credentials=[])])
    assert result.failed_stage is Stage.UPGRADE
    assert "does not speak HTTP" not in result.diagnosis
    assert "got HTTP 101" in result.diagnosis


def test_a_400_from_a_plain_http_route_blames_no_proxy():
    obs = good(
        status=400,
        response_headers=[("Server", "TornadoServer/6.4")],
        body="Bad Request",
        plain=PlainAnswer(status=200, headers=[("Content-Type", "text/html")]),
        first=None,
        reply=None,
        closing=None,
    )
    result = judged(obs)
    assert result.failed_stage is Stage.UPGRADE
    assert "not a WebSocket route" in result.diagnosis and "proxy" not in result.diagnosis


def test_a_403_on_an_engine_io_url_considers_the_query():
    obs = good(
        url="ws://127.0.0.1:8080/socket.io/?EIO=3&transport=websocket",
        status=403,
        credentials=[],
        method=AuthMethod.NONE,
        first=None,
        reply=None,
        closing=None,
    )
    result = judged(obs)
    assert result.failed_stage is Stage.UPGRADE
    assert "EIO=3" in result.diagnosis and "EIO=4&transport=websocket" in result.diagnosis


def test_a_proxy_is_blamed_only_with_a_via_or_proxy_server_header():
    bare = judged(good(status=404, first=None, reply=None, closing=None))
    assert "did not forward" not in bare.diagnosis
    via = judged(
        good(
            status=404, response_headers=[("Via", "1.1 edge")], first=None, reply=None, closing=None
        )
    )
    assert "did not forward the upgrade" in via.diagnosis
