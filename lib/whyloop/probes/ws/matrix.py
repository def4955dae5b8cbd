"""The ``--auth auto`` matrix: which credentials, sent alone, the server accepts (pure).

Each row comes from an auth-matrix attempt (a
:class:`~whyloop.probes.ws.observations.WsObservation` that stops before the
close stage); :func:`classify_attempt` turns it into an
:class:`~whyloop.results.AuthAttempt` with one of five outcomes, written at
the start of its ``detail`` unless accepted:

- **accepted**: 101, and no refusal after (no refusal close, no ``reject`` message);
- **refused**: 401, a redirect to a login page, 403, a refusal close or message;
- **negotiation failed**: the subprotocol, not the credential, ended it;
- **not reached**: the attempt never reached the application (no connection, 404, 5xx...);
- **unclear**: a close that names no reason (1000 at once), or no answer in time.

:func:`matrix_note` draws the conclusion from the rows that reached the
application only, and says when the rows cannot tell.
"""

from __future__ import annotations

from whyloop.probes.ws.observations import AuthMethod, EventKind, WsEvent, WsObservation, settled
from whyloop.probes.ws.protocols import CloseKind, is_early, judge_close, login_redirect
from whyloop.probes.ws.wording import close_name, label, server_says, snippet
from whyloop.results import AuthAttempt

__all__ = [
    "OUTCOMES",
    "classify_attempt",
    "judge_matrix",
    "matrix_evidence",
    "matrix_note",
    "outcome",
]

ACCEPTED, REFUSED, NEGOTIATION, NOT_REACHED, UNCLEAR = (
    "accepted",
    "refused",
    "negotiation failed",
    "not reached",
    "unclear",
)
#: the outcomes of a row, as the start of its detail says them
OUTCOMES = (ACCEPTED, REFUSED, NEGOTIATION, NOT_REACHED, UNCLEAR)
#: the rows a browser can send (it cannot set headers on a WebSocket)
_BROWSER = ("subprotocol", "query", "cookie")
_TOKEN_ROWS = ("header", "subprotocol", "query")


def outcome(row: AuthAttempt) -> str:
    """A row's outcome: ``accepted``, or the word its detail starts with."""
    if row.accepted:
        return ACCEPTED
    head = row.detail.split(":", 1)[0]
    return head if head in OUTCOMES else REFUSED


def _facts(row: AuthAttempt) -> str:
    if row.accepted:
        return row.detail
    head, sep, rest = row.detail.partition(": ")
    return rest if sep and head in OUTCOMES else row.detail


def _row(obs: WsObservation, result: str, facts: str) -> AuthAttempt:
    row = AuthAttempt(method=obs.method.value, accepted=result == ACCEPTED, status=obs.status)
    row.detail = facts if result == ACCEPTED else f"{result}: {facts}"
    return row


def classify_attempt(obs: WsObservation) -> AuthAttempt:
    """One auth-matrix row: what the server did with this attempt (see the module docstring)."""
    obs = settled(obs)
    for step, name in (
        (obs.dns, "dns"),
        (obs.tcp, "tcp"),
        (obs.tls, "tls"),
        (obs.upgrade, "upgrade"),
    ):
        if step is not None and not step.ok:
            return _row(obs, NOT_REACHED, f"{name} failed: {step.failure} {step.error}".strip())
    if obs.status is None:
        return _row(obs, NOT_REACHED, "no answer")
    said = f": {server_says(obs.body)}" if obs.body else ""
    if obs.status != 101:
        status = f"HTTP {obs.status}{said}"
        if obs.status in (401, 403):
            return _row(obs, REFUSED, status)
        if login_redirect(obs.status, obs.header("location")):
            return _row(
                obs, REFUSED, f"HTTP {obs.status} to the login page {obs.header('location')}"
            )
        body = obs.body.lower()
        if obs.status == 400 and ("subprotocol" in body or "sec-websocket-protocol" in body):
            return _row(obs, NEGOTIATION, status)
        return _row(obs, NOT_REACHED, status)
    for event in obs.events:
        if event.kind is EventKind.MESSAGE and set(event.matched) & {p.source for p in obs.reject}:
            return _row(obs, REFUSED, f"the application refused: {snippet(event.text, 80)}")
        if event.kind is EventKind.CLOSE:
            row = _closed(obs, event)
            row.close_code = event.code
            return row
        if event.kind is EventKind.EOF:
            return _row(obs, UNCLEAR, "connection dropped without a close frame")
    timeout = next((a for a in obs.answers if a.kind is EventKind.TIMEOUT), None)
    if timeout is not None:
        return _row(
            obs, UNCLEAR, f"no answer to message {len(obs.answers)} within {obs.timeout_s:g} s"
        )
    facts = "101"
    if obs.first is not None and obs.first.kind is EventKind.MESSAGE:
        facts += f", first message {label(obs.first)}"
    if obs.reply is not None and obs.reply.kind is EventKind.MESSAGE:
        facts += f", reply {label(obs.reply)}"
    if facts == "101":
        facts += f", still open after {obs.grace_s:g} s"
    if obs.offered and obs.selected is None:
        facts += "; subprotocol not echoed (browsers drop this)"
    return _row(obs, ACCEPTED, facts)


def _closed(obs: WsObservation, event: WsEvent) -> AuthAttempt:
    kind = judge_close(obs, event)
    when = (
        "right after the handshake"
        if is_early(obs, event)
        else f"after message {event.sent_before}"
    )
    facts = f"closed with {close_name(event.code, obs.protocol)} {when}" + (
        f": {event.reason}" if event.reason else ""
    )
    result = {
        CloseKind.REFUSED: REFUSED,
        CloseKind.NEGOTIATION: NEGOTIATION,
        CloseKind.TROUBLE: NOT_REACHED,
    }.get(kind, UNCLEAR)
    return _row(obs, result, facts)


def matrix_evidence(rows: list[AuthAttempt]) -> list[str]:
    """One evidence line per auth-matrix attempt."""
    return [f"auth matrix: {r.method} {outcome(r)} ({_facts(r)})" for r in rows]


def judge_matrix(attempts: list[WsObservation]) -> tuple[list[AuthAttempt], list[str], str]:
    """The rows, their evidence lines and the note the diagnosis ends with."""
    rows = [classify_attempt(a) for a in attempts]
    return rows, matrix_evidence(rows), matrix_note(rows, attempts)


def _by_application(row: AuthAttempt) -> bool:
    """A refusal that came after a message was sent (a reject message or a close in answer)."""
    facts = _facts(row)
    return facts.startswith("the application refused") or " after message " in facts


def _either(methods: list[str], word: str = "or") -> str:
    return ", ".join(methods[:-1]) + f" {word} " + methods[-1] if len(methods) > 1 else methods[0]


def _what(methods: list[str]) -> str:
    return "token" if all(m in _TOKEN_ROWS for m in methods) else "credential"


def matrix_note(rows: list[AuthAttempt], attempts: list[WsObservation] | None = None) -> str:
    """The sentences the auth matrix supports, or ''; ``attempts`` say what each row carried."""
    by = {r.method: r for r in rows}
    carried = {a.method.value: a for a in attempts or []}
    answered = [r for r in rows if r.status is not None]
    if answered and len(answered) == len(rows) and len({r.status for r in rows}) == 1:
        status = rows[0].status
        if status == 404:
            return "Every attempt got HTTP 404, with and without a credential, so the path is wrong, not the credential."
        if status == 403:
            return (
                "Every attempt got HTTP 403, with and without a credential, so either none of these "
                "credentials is accepted, or something other than the credential is refused (a "
                "path without a WebSocket route, an origin rule); the matrix cannot tell which."
            )
        if status not in (101, 401):
            return f"Every attempt got HTTP {status}, with and without a credential, so the credential is not what decides it."
    notes = []
    skipped = [r for r in rows if outcome(r) in (NEGOTIATION, NOT_REACHED, UNCLEAR)]
    if skipped and len(skipped) == len(rows) and len({_facts(r) for r in rows}) == 1:
        return (
            f"Every attempt ended the same way, with and without a credential ({outcome(rows[0])}, "
            f"{_facts(rows[0])}): the matrix shows nothing about the credential."
        )
    if skipped:
        notes.append(
            "These attempts did not show what the application makes of the credential and are not counted: "
            + "; ".join(f"{r.method} ({outcome(r)}: {_facts(r)})" for r in skipped)
            + "."
        )
    none = by.get(AuthMethod.NONE.value)
    always = [c.phrase for c in getattr(carried.get("none"), "credentials", []) if c.always]
    if none is not None and none.accepted and not always:
        notes.append(
            "It accepts connections without any credential, so the endpoint is not authenticated."
        )
    elif none is not None and none.accepted:
        notes.append(
            f"The attempt without a credential of its own was accepted, but every attempt "
            f"carried {', '.join(always)}: the matrix cannot tell whether the endpoint needs one."
        )
    creds = [r for r in rows if r.method != AuthMethod.NONE.value]
    accepted = [r.method for r in creds if r.accepted]
    refused = [r.method for r in creds if outcome(r) == REFUSED]
    header, sub = by.get("header"), by.get("subprotocol")
    browser_tried = [m for m in _BROWSER if m in by]
    browser_ok = [m for m in browser_tried if by[m].accepted]
    header_only = any(by[m].accepted for m in ("header", "credential-header") if m in by)
    if header and sub and header.accepted and outcome(sub) == REFUSED:
        how = f"HTTP {sub.status}" if sub.status and sub.status != 101 else _facts(sub)
        sentence = f"It accepts the token in the Authorization header but refuses it as a subprotocol ({how})"
        notes.append(sentence + _browsers(by, browser_tried, browser_ok))
    elif sub and sub.accepted and "not echoed" in sub.detail:
        notes.append(
            "It takes the token as a subprotocol but does not echo it: browsers drop that connection."
        )
    elif header_only and browser_tried and not browser_ok:
        notes.append(
            f"It accepts the credential only in a header ({_either(accepted)})"
            + _browsers(by, browser_tried, browser_ok)
        )
    elif accepted and refused:
        notes.append(
            f"The {_what(accepted + refused)} is accepted as {_either(accepted)} but not as {_either(refused)}."
        )
    elif refused and not accepted and len(refused) == len(creds):
        notes.append(
            f"The {_what(refused)} is refused however it is sent ({_either(refused, 'and')})."
        )
        if all(_by_application(by[m]) for m in refused):
            notes.append(
                "The refusals came from the application, in answer to the messages after the "
                "handshake: it may read the credential from a message (--send with {token} "
                "where the protocol carries it, such as a Socket.IO CONNECT packet or a "
                "connection_init payload)."
            )
    elif refused and not accepted:
        notes.append(f"The {_what(refused)} is refused as {_either(refused)}.")
    return " ".join(notes)


def _browsers(by: dict[str, AuthAttempt], tried: list[str], ok: list[str]) -> str:
    """The browser clause: browsers fail only when no way they can use was accepted."""
    if ok:
        return f"; browsers can still connect with it as {_either(ok)}, which was accepted."
    if not tried or any(outcome(by[m]) != REFUSED for m in tried):
        return "; whether browsers can connect another way is not shown (not every way they can use reached the application)."
    untried = ["a session cookie (--cookie)"] if "cookie" not in by else []
    untried.append("inside a message, such as an init payload (--send)")
    return (
        ": browsers cannot set headers on a WebSocket, and no way they can use was accepted "
        f"({_either(tried, 'and')} refused), so browser clients will fail unless they send it "
        f"a way not tried here: {_either(untried)}."
    )
