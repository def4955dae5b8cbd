"""The ``--auth auto`` matrix: which ways of sending the token the server accepts (pure).

Each row comes from an auth-only connection attempt (a
:class:`~whyloop.probes.ws.observations.WsObservation` that stops after a
short grace window on the open socket); :func:`classify_attempt` turns it into
an :class:`~whyloop.results.AuthAttempt`, :func:`matrix_note` into the
sentence the diagnosis ends with.
"""

from __future__ import annotations

from whyloop.probes.ws.observations import EventKind, WsObservation, message_type
from whyloop.probes.ws.wording import close_name, server_says, snippet
from whyloop.results import AuthAttempt

__all__ = ["classify_attempt", "matrix_evidence", "matrix_note"]


def classify_attempt(obs: WsObservation) -> AuthAttempt:
    """One auth-matrix row: did the server take the credential sent as ``obs.method``?

    Accepted means HTTP 101 and no refusal close (1008 and kin) within the
    grace window after the handshake.
    """
    row = AuthAttempt(method=obs.method.value, accepted=False, status=obs.status)
    for step, name in (
        (obs.dns, "dns"),
        (obs.tcp, "tcp"),
        (obs.tls, "tls"),
        (obs.upgrade, "upgrade"),
    ):
        if step is not None and not step.ok:
            row.detail = f"{name} failed: {step.failure} {step.error}".strip()
            return row
    if obs.status is None:
        row.detail = "no answer"
        return row
    if obs.status != 101:
        row.detail = f"HTTP {obs.status}" + (f": {server_says(obs.body)}" if obs.body else "")
        return row
    first = obs.first
    if first is not None and first.kind is EventKind.CLOSE:
        row.close_code = first.code
        row.detail = f"closed with {close_name(first.code)}" + (
            f": {first.reason}" if first.reason else ""
        )
        return row
    if first is not None and first.kind is EventKind.EOF:
        row.detail = "connection dropped right after the handshake"
        return row
    row.accepted = True
    if first is not None and first.kind is EventKind.MESSAGE:
        row.detail = f"101, first message {message_type(first.text) or snippet(first.text, 60)}"
    else:
        row.detail = f"101, still open after {obs.timeout_s:g} s"
    if obs.offered and obs.selected is None:
        row.detail += "; subprotocol not echoed (browsers drop this)"
    return row


def matrix_evidence(rows: list[AuthAttempt]) -> list[str]:
    """One evidence line per auth-matrix attempt."""
    return [f"auth matrix: {r.method} {_verdict(r)} ({r.detail})" for r in rows]


def _verdict(row: AuthAttempt) -> str:
    if row.accepted:
        return "accepted"
    return "refused" if row.status is not None else "not reached"


def matrix_note(rows: list[AuthAttempt]) -> str:
    """A sentence on what the auth matrix shows, or ''."""
    by = {r.method: r for r in rows}
    accepted = [r.method for r in rows if r.accepted and r.method != "none"]
    refused = [r.method for r in rows if not r.accepted and r.method != "none" and r.status]
    notes = []
    if "none" in by and by["none"].accepted:
        notes.append(
            "It accepts connections without any credential: the endpoint is not authenticated."
        )
    header, sub = by.get("header"), by.get("subprotocol")
    if header and sub and header.accepted and not sub.accepted:
        how = f"HTTP {sub.status}" if sub.status and sub.status != 101 else sub.detail
        notes.append(
            f"It accepts the token in the Authorization header but refuses it as a subprotocol ({how}): "
            "browsers cannot set headers on a WebSocket, so browser clients will fail."
        )
    elif sub and sub.accepted and "not echoed" in sub.detail:
        notes.append(
            "It takes the token as a subprotocol but does not echo it: browsers drop that connection."
        )
    elif accepted and refused:
        notes.append(f"The token is accepted as {_either(accepted)} but not as {_either(refused)}.")
    elif refused:
        notes.append(f"The token is refused however it is sent ({_either(refused, 'and')}).")
    return " ".join(notes)


def _either(methods: list[str], word: str = "or") -> str:
    return ", ".join(methods[:-1]) + f" {word} " + methods[-1] if len(methods) > 1 else methods[0]
