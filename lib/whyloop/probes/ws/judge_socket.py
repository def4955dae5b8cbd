"""The judges of the stages after the HTTP answer: subprotocol, auth, welcome, echo, close (pure).

Each takes the observation and the other attempts on the same URL (the auth
matrix's) and returns a :class:`Verdict`, or None when its stage does not
apply. A close right after the handshake is judged by one rule
(:func:`~whyloop.probes.ws.protocols.judge_close`), here and in the matrix:
negotiation at the subprotocol stage, a refusal or an unreadable close at the
auth stage. A message matching a ``reject`` pattern fails the stage it came in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from whyloop.probes.ws import wording as text
from whyloop.probes.ws.observations import EventKind, WsEvent, WsObservation
from whyloop.probes.ws.patterns import message_type
from whyloop.probes.ws.protocols import (
    CloseKind,
    first_close,
    judge_close,
    login_redirect,
    protocol_query,
    sniff,
)
from whyloop.probes.ws.wording_auth import auth_close, auth_status, sent_phrase
from whyloop.results import Stage, StageResult

__all__ = [
    "Verdict",
    "judge_auth",
    "judge_close_stage",
    "judge_echo",
    "judge_subprotocol",
    "judge_welcome",
    "names_subprotocol",
    "stage",
    "status_for_auth",
]

Others = list[WsObservation]


@dataclass
class Verdict:
    """One stage's result, its evidence lines, and the diagnosis when it failed."""

    stage: StageResult
    evidence: list[str] = field(default_factory=list)
    diagnosis: str = ""


def stage(name: Stage, ok: bool, ms: float | None, summary: str, **detail: Any) -> StageResult:
    """A StageResult whose detail starts with its one-line summary."""
    return StageResult(name=name, ok=ok, ms=ms, detail={"summary": summary, **detail})


def names_subprotocol(obs: WsObservation) -> bool:
    """A 400 whose body names the subprotocol: a negotiation failure, not a bad request."""
    body = obs.body.lower()
    return obs.status == 400 and ("subprotocol" in body or "sec-websocket-protocol" in body)


def status_for_auth(obs: WsObservation, others: Others) -> bool:
    """Whether the auth stage judges this non-101 answer (401; a redirect to a login page;
    a 403 when no credential was sent or another attempt on the URL got 101)."""
    if obs.status == 401 or login_redirect(obs.status, obs.header("location")):
        return True
    if obs.status != 403:
        return False
    if any(o.status == 101 for o in others):
        return True  # the path serves WebSocket to another attempt: this one's credential decides
    plain = obs.plain
    if plain is not None and plain.status is not None and 200 <= plain.status < 300:
        return False  # a plain HTTP route: the upgrade stage says so
    return not obs.credentials and not protocol_query(obs.url)


def _refusal(obs: WsObservation, event: WsEvent | None) -> bool:
    rejects = {p.source for p in obs.reject}
    return (
        event is not None and event.kind is EventKind.MESSAGE and bool(rejects & set(event.matched))
    )


def _refused(obs: WsObservation, event: WsEvent, where: str) -> str:
    return (
        f"The application refused the connection {where}: {text.snippet(event.text, 200)} "
        f"(a message matching --reject {', '.join(p.source for p in obs.reject if p.source in event.matched)})."
    )


def judge_subprotocol(obs: WsObservation, others: Others) -> Verdict | None:
    offered = ", ".join(obs.offered) or "none"
    detail: dict[str, Any] = {"offered": obs.offered, "selected": obs.selected}
    if names_subprotocol(obs):
        summary = f"HTTP 400 naming the subprotocol (offered {offered})"
        why = (
            f"The server refused the upgrade with HTTP 400 naming the subprotocol "
            f'("{text.server_says(obs.body)}"); offered: {offered}. Offer one it speaks with '
            "--subprotocol NAME."
        )
        return Verdict(
            stage(Stage.SUBPROTOCOL, False, None, summary, **detail),
            [f"subprotocol: {summary}"],
            why,
        )
    if obs.status != 101:
        return None
    selected = obs.selected
    summary = f"offered {offered}, selected {selected or 'none'}"
    evidence = [f"subprotocol: {summary}"]
    close = first_close(obs)
    if close is not None and judge_close(obs, close) is CloseKind.NEGOTIATION:
        detail.update(close_code=close.code, close_reason=close.reason)
        closed = f"closed with {text.close_phrase(obs, close)} right after the handshake"
        if not obs.offered:
            why = (
                f"The server {closed}, and no subprotocol was offered: it wants one. Offer it with "
                "--subprotocol NAME (GraphQL servers: graphql-transport-ws, or graphql-ws for the "
                "legacy protocol)."
            )
        else:
            why = f"The server {closed}: it speaks none of the subprotocols offered ({offered})."
        return Verdict(
            stage(Stage.SUBPROTOCOL, False, close.ms, f"{summary}; {closed}", **detail),
            evidence,
            why,
        )
    if (not obs.offered and selected is None) or (selected is not None and selected in obs.offered):
        return Verdict(stage(Stage.SUBPROTOCOL, True, None, summary, **detail), evidence)
    if selected is None:
        later = ""
        if obs.first is not None and obs.first.kind is EventKind.MESSAGE:
            later = f" (clients that do not check, like this probe, went on to receive {text.label(obs.first)})"
        why = (
            f"The handshake succeeded (101) but the server did not echo the offered subprotocol "
            f"{obs.offered[0]}: browsers drop such a connection at once{later}; the server must "
            "answer with Sec-WebSocket-Protocol set to one of the offered values."
        )
    elif not obs.offered:
        why = f"The server selected the subprotocol {selected} although none was offered: clients must fail such a connection."
    else:
        why = f"The server selected the subprotocol {selected}, which was not offered ({offered}): clients must fail such a connection."
    return Verdict(stage(Stage.SUBPROTOCOL, False, None, summary, **detail), evidence, why)


def judge_auth(obs: WsObservation, others: Others) -> Verdict | None:
    detail: dict[str, Any] = {
        "method": obs.method.value,
        "sent": [c.phrase for c in obs.credentials],
    }
    if obs.status is not None and obs.status != 101:
        if not status_for_auth(obs, others):
            return None
        summary = f"HTTP {obs.status} on the upgrade"
        detail["status"] = obs.status
        return Verdict(
            stage(Stage.AUTH, False, obs.upgrade.ms if obs.upgrade else None, summary, **detail),
            [f"auth: {sent_phrase(obs)}, {summary}"],
            auth_status(obs, others),
        )
    if obs.status != 101:
        return None
    close = first_close(obs)
    kind = judge_close(obs, close) if close is not None else None
    if (
        close is not None
        and close.sent_before == 0
        and kind in (CloseKind.REFUSED, CloseKind.UNCLEAR)
    ):
        summary = (
            f"closed with {text.close_name(close.code, obs.protocol)} right after the handshake"
        )
        if kind is CloseKind.UNCLEAR:
            summary += " (no reason the probe can read)"
        detail.update(close_code=close.code, close_reason=close.reason)
        evidence = [f"auth: {sent_phrase(obs)}, {summary} in {text.ms(close.ms)}"]
        if close.reason:
            evidence.append(f"auth: close reason {close.reason!r}")
        return Verdict(
            stage(Stage.AUTH, False, close.ms, summary, **detail),
            evidence,
            auth_close(obs, close, kind),
        )
    summary = (
        f"{sent_phrase(obs)}; upgrade accepted (101)"
        if obs.credentials
        else "no credential sent; not refused at the handshake"
    )
    return Verdict(stage(Stage.AUTH, True, None, summary, **detail), [f"auth: {summary}"])


def _first_message(obs: WsObservation) -> WsEvent | None:
    """The server's first event as the welcome stage reads it."""
    if not obs.client_first:
        return obs.first
    return next(
        (e for e in obs.events if e.kind is EventKind.MESSAGE),
        obs.events[0] if obs.events else None,
    )


def judge_welcome(obs: WsObservation, others: Others) -> Verdict | None:
    if obs.status != 101:
        return None
    event, want = _first_message(obs), obs.expect_first
    if event is None or (want is None and not (_refusal(obs, event) and event.unsolicited)):
        return None  # a refusal in answer to a message is the echo stage's
    got = text.label(event) if event.kind is EventKind.MESSAGE else None
    detail: dict[str, Any] = {"expected": str(want) if want else None, "received": got}
    if _refusal(obs, event):
        detail["message"] = text.snippet(event.text, 300)
        summary = f"refused: {text.snippet(event.text, 80)}"
        where = "with its first message" if event.unsolicited else "in its first message"
        return Verdict(
            stage(Stage.WELCOME, False, event.ms, summary, **detail),
            [f"welcome: {summary}"],
            _refused(obs, event, where),
        )
    assert want is not None
    if event.kind is EventKind.MESSAGE and want.source in event.matched:
        return Verdict(
            stage(Stage.WELCOME, True, event.ms, f"{want} after {text.ms(event.ms)}", **detail),
            [f"welcome: {want} after {text.ms(event.ms)}"],
        )
    if event.kind is EventKind.MESSAGE:
        detail["message"] = text.snippet(event.text, 300)
        kind = message_type(event.text)
        if want.is_regex:
            summary = f"first message does not match {want}"
            what = "a message that does not match it"
        else:
            what = kind or "not a JSON object with a type"
            summary = f"first message was {what}, not {want}"
        looks = sniff(event.text)
        why = (
            f"The first message was {what} ({text.snippet(event.text, 120)}), not "
            f"{want.describe()}: "
            + (
                f"it looks like {looks}"
                if looks
                else "the server speaks another protocol or version, or answered with an error"
            )
            + (
                " (with --client-first the first message is the answer to the client's)."
                if obs.client_first
                else "."
            )
        )
        return Verdict(
            stage(Stage.WELCOME, False, event.ms, summary, **detail), [f"welcome: {summary}"], why
        )
    summary, why = text.welcome_missing(obs, event)
    if event.kind is EventKind.CLOSE:
        detail.update(close_code=event.code, close_reason=event.reason)
    return Verdict(
        stage(Stage.WELCOME, False, event.ms, summary, **detail), [f"welcome: {summary}"], why
    )


def judge_echo(obs: WsObservation, others: Others) -> Verdict | None:
    if obs.status != 101 or not obs.answers:
        return None
    evidence: list[str] = []
    if obs.first is not None and obs.first.kind is EventKind.MESSAGE and obs.expect_first is None:
        evidence.append(
            f"echo: before sending, the server sent {text.snippet(obs.first.text, 120)} (unsolicited, not taken as a reply)"
        )
    for index, (event, sent_text) in enumerate(zip(obs.answers, obs.messages, strict=False), 1):
        last = index == len(obs.answers) and index == len(obs.messages)
        sent = text.label(sent_text)
        detail: dict[str, Any] = {
            "sent": sent_text,
            "message": index,
            "messages": len(obs.messages),
        }
        if event.kind is EventKind.MESSAGE:
            got = text.label(event)
            detail.update(reply_type=got, reply=text.snippet(event.text, 300))
            summary = f"sent {sent}, got {got} in {text.ms(event.ms)}"
            evidence.append(f"echo: {summary}")
            if _refusal(obs, event):
                return Verdict(
                    stage(Stage.ECHO, False, event.ms, f"refused after {sent}: {got}", **detail),
                    evidence,
                    _refused(obs, event, f"in answer to {sent}"),
                )
            if got == "error":
                evidence.append(
                    f"echo: the server answered with an error: {text.snippet(event.text, 160)}"
                )
            if last:
                return Verdict(stage(Stage.ECHO, True, event.ms, summary, **detail), evidence)
            continue
        if event.kind is EventKind.CLOSE:
            detail.update(close_code=event.code, close_reason=event.reason)
            if judge_close(obs, event) is CloseKind.REFUSED:
                summary = f"closed with {text.close_name(event.code, obs.protocol)} after {sent}"
                why = (
                    f"The application refused the connection in answer to {sent}: the server "
                    f"closed it with {text.close_phrase(obs, event)} ({sent_phrase(obs)})."
                )
                evidence.append(f"echo: {summary}")
                return Verdict(stage(Stage.ECHO, False, event.ms, summary, **detail), evidence, why)
        summary, why = text.echo_missing(obs, event, sent)
        evidence.append(f"echo: {summary}")
        return Verdict(stage(Stage.ECHO, False, event.ms, summary, **detail), evidence, why)
    return None  # the last message was not sent: the stage before says why


def judge_close_stage(obs: WsObservation, others: Others) -> Verdict | None:
    event = obs.closing
    if obs.status != 101 or event is None:
        return None
    detail: dict[str, Any] = {
        "close_code": event.code,
        "close_reason": event.reason,
        "by_server": event.by_server,
    }
    who = "the server closed first" if event.by_server else "answered the probe's close"
    if event.kind is EventKind.CLOSE and event.code in (1000, 1001, 1005):
        summary = f"{text.close_name(event.code)} in {text.ms(event.ms)} ({who})"
        return Verdict(stage(Stage.CLOSE, True, event.ms, summary, **detail), [f"close: {summary}"])
    if event.kind is EventKind.CLOSE:
        summary = (
            f"closed with {text.close_name(event.code, obs.protocol)}"
            + (f": {event.reason}" if event.reason else "")
            + f" ({who})"
        )
        if event.by_server:
            why = f"After the exchange the server ended the session on its own with {text.close_phrase(obs, event)}."
        else:
            why = f"The server answered the normal close (1000) with {text.close_phrase(obs, event)}: it ended the session in error."
    elif event.kind is EventKind.TIMEOUT:
        summary = f"no close frame within {obs.timeout_s:.1f} s"
        why = f"The server did not answer the close frame within {obs.timeout_s:g} s: it ignores the close handshake, so clients see 1006 after their own timeout."
    else:
        summary = (
            "TCP closed without a close frame (1006)"
            if event.kind is EventKind.EOF
            else f"error: {event.text}"
        )
        why = "The server dropped the TCP connection without answering the close frame: clients see 1006 (abnormal closure)."
    return Verdict(
        stage(Stage.CLOSE, False, event.ms, summary, **detail), [f"close: {summary}"], why
    )
