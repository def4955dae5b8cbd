"""Judge a recorded WebSocket probe: each stage's verdict, ``failed_stage``, diagnosis, evidence.

Pure: takes a :class:`~whyloop.probes.ws.observations.WsObservation` (and the
auth-matrix attempts) and returns a :class:`~whyloop.results.ProbeResult`.
No asyncio, socket, websockets or httpx here, so every rule is unit-tested
with hand-built observations. Stages run in order; the first one that fails
stops the walk and writes the diagnosis: one or two plain sentences naming
the likely cause, with the concrete observations in ``evidence``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from whyloop.probes.ws import wording as text
from whyloop.probes.ws.matrix import classify_attempt, matrix_evidence, matrix_note
from whyloop.probes.ws.observations import (
    AuthMethod,
    EventKind,
    IoFailure,
    WsObservation,
    message_type,
)
from whyloop.results import ProbeResult, Stage, StageResult

__all__ = ["AUTH_CLOSE_CODES", "WS_STAGES", "classify_ws"]

#: the stages of a WebSocket probe, in order (tls only for wss://, welcome only when expected)
WS_STAGES = (
    Stage.DNS,
    Stage.TCP,
    Stage.TLS,
    Stage.UPGRADE,
    Stage.SUBPROTOCOL,
    Stage.AUTH,
    Stage.WELCOME,
    Stage.ECHO,
    Stage.CLOSE,
)
#: close codes that mean "your credential was refused": policy violation, the IANA
#: registry's Unauthorized/Forbidden, and the application codes servers commonly use
AUTH_CLOSE_CODES = frozenset({1008, 3000, 3003, 4001, 4003, 4401, 4403})


@dataclass
class _Verdict:
    stage: StageResult
    evidence: list[str] = field(default_factory=list)
    diagnosis: str = ""


def classify_ws(obs: WsObservation, matrix: list[WsObservation] | None = None) -> ProbeResult:
    """Judge ``obs`` stage by stage; ``matrix`` holds the ``--auth auto`` attempts, if any.

    The result lists the stages that ran up to and including the first
    failure, ``failed_stage`` (None when all passed), the diagnosis and the
    evidence. Secrets are redacted by :meth:`ProbeResult.to_dict`; mask the
    token in ``obs`` first (:func:`~whyloop.probes.ws.observations.masked`).
    """
    result = ProbeResult(target=obs.url, kind="ws")
    for judge in _JUDGES:
        verdict = judge(obs)
        if verdict is None:
            continue
        result.stages.append(verdict.stage)
        result.evidence.extend(verdict.evidence)
        if not verdict.stage.ok:
            result.failed_stage = verdict.stage.name
            result.diagnosis = verdict.diagnosis
            break
    if result.ok:
        result.diagnosis = text.all_good(obs)
    if obs.capped:
        result.evidence.append(f"overall cap: {obs.capped}")
    if matrix is not None:
        result.auth_matrix = [classify_attempt(a) for a in matrix]
        result.evidence.extend(matrix_evidence(result.auth_matrix))
        note = matrix_note(result.auth_matrix)
        if note:
            result.diagnosis = f"{result.diagnosis} {note}"
    return result


# -- one judge per stage: None when the stage does not apply ------------------


def _stage(name: Stage, ok: bool, ms: float | None, summary: str, **detail: Any) -> StageResult:
    return StageResult(name=name, ok=ok, ms=ms, detail={"summary": summary, **detail})


def _judge_dns(obs: WsObservation) -> _Verdict | None:
    step = obs.dns
    if step is None:
        return None
    if obs.literal:
        summary = f"{obs.host} is an address, no lookup"
        return _Verdict(
            _stage(Stage.DNS, True, step.ms, summary, addresses=obs.addresses), [f"dns: {summary}"]
        )
    if step.ok:
        summary = f"{obs.host} -> {', '.join(obs.addresses[:4])}"
        return _Verdict(
            _stage(Stage.DNS, True, step.ms, summary, addresses=obs.addresses),
            [f"dns: {summary} in {text.ms(step.ms)}"],
        )
    if step.failure is IoFailure.TIMEOUT:
        summary = f"no answer within {obs.timeout_s:.1f} s"
        why = (
            f"The DNS lookup of {obs.host} got no answer within {obs.timeout_s:g} s: "
            "the resolver is unreachable or very slow."
        )
    elif step.failure is IoFailure.NXDOMAIN:
        summary = f"{obs.host} does not resolve ({step.error})"
        why = (
            f"The name {obs.host} does not resolve ({step.error}): check the hostname for typos, "
            "or that the DNS record exists in the resolver this machine uses (VPN, split DNS)."
        )
    else:
        summary = f"lookup failed: {step.error}"
        why = f"The DNS lookup of {obs.host} failed: {step.error}."
    return _Verdict(
        _stage(Stage.DNS, False, step.ms, summary, error=step.error), [f"dns: {summary}"], why
    )


def _judge_tcp(obs: WsObservation) -> _Verdict | None:
    step = obs.tcp
    if step is None:
        return None
    where = f"{obs.peer or obs.host}:{obs.port}"
    if step.ok:
        return _Verdict(
            _stage(Stage.TCP, True, step.ms, f"connected to {where}", peer=where),
            [f"tcp: connected to {where} in {text.ms(step.ms)}"],
        )
    why = {
        IoFailure.REFUSED: (
            f"Nothing is listening on {where} (connection refused): the service is down, "
            "not started yet, or listening on another port."
        ),
        IoFailure.TIMEOUT: (
            f"The TCP connection to {where} got no answer within {obs.timeout_s:g} s: "
            "a firewall drops the packets, or the host is down."
        ),
        IoFailure.UNREACHABLE: f"There is no route to {where} ({step.error}): check the network path.",
    }.get(step.failure or IoFailure.ERROR, f"The TCP connection to {where} failed: {step.error}.")
    summary = {
        IoFailure.REFUSED: "connection refused",
        IoFailure.TIMEOUT: f"no answer within {obs.timeout_s:.1f} s",
    }.get(step.failure or IoFailure.ERROR, step.error or str(step.failure))
    return _Verdict(
        _stage(Stage.TCP, False, step.ms, summary, peer=where, error=step.error),
        [f"tcp: {where} {summary}" + (f" in {text.ms(step.ms)}" if step.ms is not None else "")],
        why,
    )


def _judge_tls(obs: WsObservation) -> _Verdict | None:
    step = obs.tls
    if step is None or not obs.secure:
        return None
    cert = obs.cert or {}
    facts = text.cert_facts(cert)
    evidence = [f"tls: {facts}"] if facts else []
    if step.ok:
        summary = f"{obs.tls_version or 'TLS'}, " + (
            "verified" if not obs.insecure else "NOT verified (--insecure)"
        )
        warnings = text.cert_warnings(obs.host, cert)
        if obs.insecure and warnings:
            evidence.append("tls: " + "; ".join(warnings))
        evidence.insert(0, f"tls: {summary} in {text.ms(step.ms)}")
        detail = {
            "version": obs.tls_version,
            "cipher": obs.cipher,
            "verified": not obs.insecure,
            **cert,
        }
        return _Verdict(_stage(Stage.TLS, True, step.ms, summary, **detail), evidence)
    if step.failure is IoFailure.CERTIFICATE:
        summary = f"certificate rejected: {step.error}"
        why = (
            f"The server's TLS certificate was rejected ({step.error}): fix the certificate "
            "(issuer, expiry, names), or pass --insecure to probe past it (the certificate is then still reported)."
        )
    elif step.failure is IoFailure.TIMEOUT:
        summary = f"no handshake within {obs.timeout_s:.1f} s"
        why = (
            f"The TLS handshake did not finish within {obs.timeout_s:g} s: the port probably "
            "does not speak TLS (try ws:// instead of wss://)."
        )
    elif step.failure in (IoFailure.EOF, IoFailure.RESET):
        summary = f"connection closed during the handshake ({step.error})"
        why = (
            "The server closed the connection during the TLS handshake: the port probably does "
            "not speak TLS (try ws:// instead of wss://), or it refuses this client's TLS version."
        )
    else:
        summary = f"handshake failed: {step.error}"
        why = (
            f"The TLS handshake failed ({step.error}): the port probably does not speak TLS "
            "(try ws:// instead of wss://), or client and server share no protocol version."
        )
    evidence.insert(0, f"tls: {summary}")
    return _Verdict(
        _stage(Stage.TLS, False, step.ms, summary, error=step.error, **cert), evidence, why
    )


def _judge_upgrade(obs: WsObservation) -> _Verdict | None:
    step = obs.upgrade
    if step is None:
        return None
    detail: dict[str, Any] = {
        "status": obs.status,
        "reason": obs.reason,
        "request_headers": dict(obs.request_headers),
        "response_headers": dict(obs.response_headers),
    }
    if not step.ok:
        summary, why = text.no_answer(obs)
        detail["error"] = step.error
        if obs.body:
            detail["received"] = text.snippet(obs.body, 300)
        return _Verdict(
            _stage(Stage.UPGRADE, False, step.ms, summary, **detail), [f"upgrade: {summary}"], why
        )
    served_by = text.server_name(obs)
    line = f"upgrade: HTTP {obs.status} in {text.ms(step.ms)}" + (
        f" (Server: {served_by})" if served_by else ""
    )
    evidence = [line]
    if obs.status == 101 and not obs.handshake_error:
        return _Verdict(
            _stage(Stage.UPGRADE, True, step.ms, "HTTP 101 Switching Protocols", **detail), evidence
        )
    if obs.status == 101:
        summary = f"101 with an invalid handshake: {obs.handshake_error}"
        why = (
            f"The server answered 101 but the handshake is invalid ({obs.handshake_error}): "
            "a proxy or the server rewrote the Upgrade, Connection or Sec-WebSocket-Accept headers."
        )
        return _Verdict(_stage(Stage.UPGRADE, False, step.ms, summary, **detail), evidence, why)
    if obs.body:
        detail["body"] = text.snippet(obs.body, 300)
        evidence.append(f"upgrade: body {text.snippet(obs.body, 160)}")
    if (
        obs.status == 401
    ):  # the handshake was answered; refusing the credential is the auth stage's call
        return _Verdict(
            _stage(
                Stage.UPGRADE, True, step.ms, "HTTP 401: credential refused (see auth)", **detail
            ),
            evidence,
        )
    summary = f"HTTP {obs.status} {obs.reason}".strip() + " instead of 101"
    return _Verdict(
        _stage(Stage.UPGRADE, False, step.ms, summary, **detail),
        evidence,
        text.status_diagnosis(obs),
    )


def _judge_subprotocol(obs: WsObservation) -> _Verdict | None:
    if obs.status != 101:
        return None
    offered = ", ".join(obs.offered) or "none"
    selected = obs.selected
    summary = f"offered {offered}, selected {selected or 'none'}"
    detail = {"offered": obs.offered, "selected": selected}
    evidence = [f"subprotocol: {summary}"]
    if (not obs.offered and selected is None) or (selected is not None and selected in obs.offered):
        return _Verdict(_stage(Stage.SUBPROTOCOL, True, None, summary, **detail), evidence)
    if selected is None:
        later = ""
        if obs.first is not None and obs.first.kind is EventKind.MESSAGE:
            kind = message_type(obs.first.text) or "a message"
            later = f" (clients that do not check, like this probe, went on to receive {kind})"
        why = (
            f"The handshake succeeded (101) but the server did not echo the offered subprotocol "
            f"{obs.offered[0]}: browsers drop such a connection at once{later}; the server must "
            "answer with Sec-WebSocket-Protocol set to one of the offered values."
        )
    elif not obs.offered:
        why = f"The server selected the subprotocol {selected} although none was offered: clients must fail such a connection."
    else:
        why = f"The server selected the subprotocol {selected}, which was not offered ({offered}): clients must fail such a connection."
    return _Verdict(_stage(Stage.SUBPROTOCOL, False, None, summary, **detail), evidence, why)


def _judge_auth(obs: WsObservation) -> _Verdict | None:
    if obs.status == 401:
        summary = "HTTP 401 on the upgrade"
        detail = {"method": obs.method.value, "status": 401}
        return _Verdict(
            _stage(Stage.AUTH, False, obs.upgrade.ms if obs.upgrade else None, summary, **detail),
            [f"auth: {text.method_phrase(obs)}, {summary}"],
            text.auth_401(obs),
        )
    if obs.status != 101:
        return None
    event = obs.first if obs.first is not None else obs.reply
    detail: dict[str, Any] = {"method": obs.method.value}
    if event is not None and event.kind is EventKind.CLOSE and event.code in AUTH_CLOSE_CODES:
        summary = f"closed with {text.close_name(event.code)} after the handshake"
        detail.update(close_code=event.code, close_reason=event.reason)
        evidence = [f"auth: {text.method_phrase(obs)}, {summary} in {text.ms(event.ms)}"]
        if event.reason:
            evidence.append(f"auth: close reason {event.reason!r}")
        return _Verdict(
            _stage(Stage.AUTH, False, event.ms, summary, **detail),
            evidence,
            text.auth_close(obs, event),
        )
    ms = event.ms if event is not None and event.kind is EventKind.MESSAGE else None
    summary = "no credential needed" if obs.method is AuthMethod.NONE else "accepted"
    return _Verdict(
        _stage(Stage.AUTH, True, ms, summary, **detail),
        [f"auth: {text.method_phrase(obs)}, {summary}"],
    )


def _judge_welcome(obs: WsObservation) -> _Verdict | None:
    if obs.status != 101 or obs.expect_first is None or obs.first is None:
        return None
    event, want = obs.first, obs.expect_first
    got = message_type(event.text) if event.kind is EventKind.MESSAGE else None
    detail: dict[str, Any] = {"expected": want, "received": got}
    if event.kind is EventKind.MESSAGE and got == want:
        return _Verdict(
            _stage(Stage.WELCOME, True, event.ms, f"{want} after {text.ms(event.ms)}", **detail),
            [f"welcome: {want} after {text.ms(event.ms)}"],
        )
    if event.kind is EventKind.MESSAGE:
        detail["message"] = text.snippet(event.text, 300)
        summary = f"first message was {got or 'not a typed JSON object'}, not {want}"
        why = (
            f"The first message was {got or 'not a JSON object with a type'} "
            f"({text.snippet(event.text, 120)}), not {want}: the server speaks another protocol "
            "version, or answered with an error."
        )
        return _Verdict(
            _stage(Stage.WELCOME, False, event.ms, summary, **detail), [f"welcome: {summary}"], why
        )
    summary, why = text.welcome_missing(obs, event)
    return _Verdict(
        _stage(Stage.WELCOME, False, event.ms, summary, **detail), [f"welcome: {summary}"], why
    )


def _judge_echo(obs: WsObservation) -> _Verdict | None:
    event = obs.reply
    if obs.status != 101 or event is None:
        return None
    sent = message_type(obs.sent) or text.snippet(obs.sent, 40)
    detail: dict[str, Any] = {"sent": obs.sent}
    if event.kind is EventKind.MESSAGE:
        got = message_type(event.text)
        detail.update(reply_type=got, reply=text.snippet(event.text, 300))
        summary = f"sent {sent}, got {got or text.snippet(event.text, 40)} in {text.ms(event.ms)}"
        evidence = [f"echo: {summary}"]
        if got == "error":
            evidence.append(
                f"echo: the server answered with an error: {text.snippet(event.text, 160)}"
            )
        return _Verdict(_stage(Stage.ECHO, True, event.ms, summary, **detail), evidence)
    summary, why = text.echo_missing(obs, event, sent)
    if event.kind is EventKind.CLOSE:
        detail.update(close_code=event.code, close_reason=event.reason)
    return _Verdict(
        _stage(Stage.ECHO, False, event.ms, summary, **detail), [f"echo: {summary}"], why
    )


def _judge_close(obs: WsObservation) -> _Verdict | None:
    event = obs.closing
    if obs.status != 101 or event is None:
        return None
    detail: dict[str, Any] = {"close_code": event.code, "close_reason": event.reason}
    if event.kind is EventKind.CLOSE and event.code in (1000, 1001, 1005):
        summary = f"{text.close_name(event.code)} in {text.ms(event.ms)}"
        return _Verdict(
            _stage(Stage.CLOSE, True, event.ms, summary, **detail), [f"close: {summary}"]
        )
    if event.kind is EventKind.CLOSE:
        summary = f"closed with {text.close_name(event.code)}" + (
            f": {event.reason}" if event.reason else ""
        )
        why = f"The server answered the normal close (1000) with {text.close_name(event.code)}: it ended the session in error."
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
    return _Verdict(
        _stage(Stage.CLOSE, False, event.ms, summary, **detail), [f"close: {summary}"], why
    )


_JUDGES: tuple[Callable[[WsObservation], _Verdict | None], ...] = (
    _judge_dns,
    _judge_tcp,
    _judge_tls,
    _judge_upgrade,
    _judge_subprotocol,
    _judge_auth,
    _judge_welcome,
    _judge_echo,
    _judge_close,
)
