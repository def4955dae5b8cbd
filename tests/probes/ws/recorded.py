"""Hand-built observations of the WebSocket probe: a probe where every stage passed, and variants.

``good(**changes)`` breaks one thing; ``row`` and ``refused`` build auth-matrix
attempts; ``judged`` runs the judge and checks the shape every result must
have, and that the diagnosis contradicts none of its evidence.
"""

from __future__ import annotations

import dataclasses
import json

from tests.probes.ws.claims import assert_no_contradiction
from whyloop.probes.ws.judge import classify_ws
from whyloop.probes.ws.observations import (
    AuthMethod,
    Credential,
    CredentialKind,
    EventKind,
    Step,
    WsEvent,
    WsObservation,
)
from whyloop.results import ProbeResult, Stage

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
SHOWN = "eyJh..."  # a masked token, as the probe masks it before judging
BEARER = Credential(CredentialKind.BEARER, "Authorization")


def msg(kind: str, ms: float = 1.0) -> WsEvent:
    return WsEvent(EventKind.MESSAGE, ms, text=json.dumps({"type": kind}))


def good(**changes: object) -> WsObservation:
    """A recorded probe where every stage passed; ``changes`` break one thing."""
    obs = WsObservation(
        url="ws://127.0.0.1:8080/ws",
        host="127.0.0.1",
        port=8080,
        secure=False,
        timeout_s=10.0,
        method=AuthMethod.HEADER,
        messages=['{"type": "ping"}'],
        request_headers=[("Authorization", f"Bearer {TOKEN}")],
        credentials=[BEARER],
        dns=Step(ms=0.0),
        addresses=["127.0.0.1"],
        literal=True,
        tcp=Step(ms=0.3),
        peer="127.0.0.1",
        upgrade=Step(ms=3.2),
        status=101,
        reason="Switching Protocols",
        response_headers=[("Upgrade", "websocket"), ("Server", "uvicorn")],
        first=msg("connection_established", 0.5),
        reply=msg("pong", 0.4),
        closing=WsEvent(EventKind.CLOSE, 0.6, code=1000),
    )
    return dataclasses.replace(obs, **changes)


def judged(obs: WsObservation, matrix: list[WsObservation] | None = None) -> ProbeResult:
    result = classify_ws(obs, matrix)
    names = [s.name for s in result.stages]
    assert names == sorted(names, key=list(Stage).index), "stages out of order"
    if result.failed_stage is not None:
        assert names[-1] == result.failed_stage and not result.stages[-1].ok
        assert all(s.ok for s in result.stages[:-1])
    assert result.diagnosis and result.evidence
    assert_no_contradiction(result)
    return result


def row(**changes: object) -> WsObservation:
    """An auth-matrix attempt: no close stage; by default it got the welcome and a pong."""
    return good(**{"auth_only": True, "closing": None, **changes})


def refused(method: AuthMethod, status: int = 401, **changes: object) -> WsObservation:
    return row(method=method, status=status, first=None, reply=None, **changes)
