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
from typing import Any

from whyloop.probes.ws import wording as text
from whyloop.probes.ws.judge_socket import (
    Verdict,
    judge_auth,
    judge_close_stage,
    judge_echo,
    judge_subprotocol,
    judge_welcome,
    names_subprotocol,
    stage,
    status_for_auth,
)
from whyloop.probes.ws.matrix import judge_matrix
from whyloop.probes.ws.observations import IoFailure, WsObservation, settled
from whyloop.results import ProbeResult, Stage

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

_Verdict = Verdict
_stage = stage
Others = list[WsObservation]


def classify_ws(obs: WsObservation, matrix: list[WsObservation] | None = None) -> ProbeResult:
    """Judge ``obs`` stage by stage; ``matrix`` holds the ``--auth auto`` attempts, if any.

    The result lists the stages that ran up to and including the first
    failure, ``failed_stage`` (None when all passed), the diagnosis and the
    evidence. Statements about the port or path are checked against the
    matrix's attempts on the same URL. Secrets are redacted by
    :meth:`ProbeResult.to_dict`; mask the token in ``obs`` first
    (:func:`~whyloop.probes.ws.observations.masked`).
    """
    obs = settled(obs)
    others = [settled(o) for o in matrix or []]
    result = ProbeResult(target=obs.url, kind="ws")
    for judge in _JUDGES:
        verdict = judge(obs, others)
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
        rows, evidence, note = judge_matrix(others)
        result.auth_matrix = rows
        result.evidence.extend(evidence)
        if note:
            result.diagnosis = f"{result.diagnosis} {note}"
    return result


# -- one judge per stage: None when the stage does not apply ------------------


def _judge_dns(obs: WsObservation, others: Others) -> _Verdict | None:
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


def _judge_tcp(obs: WsObservation, others: Others) -> _Verdict | None:
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


def _judge_tls(obs: WsObservation, others: Others) -> _Verdict | None:
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


def _judge_upgrade(obs: WsObservation, others: Others) -> _Verdict | None:
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
        summary, why = text.no_answer(obs, others)
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
            "the server, or a proxy in between, rewrote the Upgrade, Connection or "
            "Sec-WebSocket-Accept headers."
        )
        return _Verdict(_stage(Stage.UPGRADE, False, step.ms, summary, **detail), evidence, why)
    if obs.body:
        detail["body"] = text.snippet(obs.body, 300)
        evidence.append(f"upgrade: body {text.snippet(obs.body, 160)}")
    if obs.plain is not None:
        plain = obs.plain
        detail["plain_get"] = (
            {"status": plain.status, "error": plain.error}
            if plain.error
            else {
                "status": plain.status,
                "content_type": plain.header("content-type"),
            }
        )
        seen = f"HTTP {plain.status}" if plain.status is not None else f"no answer ({plain.error})"
        evidence.append(f"upgrade: a plain GET on the same URL got {seen}")
    if status_for_auth(obs, others) or names_subprotocol(obs):
        # the handshake was answered; the refusal is the auth (or subprotocol) stage's to judge
        which = "subprotocol" if names_subprotocol(obs) else "auth"
        return _Verdict(
            _stage(Stage.UPGRADE, True, step.ms, f"HTTP {obs.status}: see {which}", **detail),
            evidence,
        )
    summary = f"HTTP {obs.status} {obs.reason}".strip() + " instead of 101"
    return _Verdict(
        _stage(Stage.UPGRADE, False, step.ms, summary, **detail),
        evidence,
        text.status_diagnosis(obs, others),
    )


_JUDGES: tuple[Callable[[WsObservation, Others], _Verdict | None], ...] = (
    _judge_dns,
    _judge_tcp,
    _judge_tls,
    _judge_upgrade,
    judge_subprotocol,
    judge_auth,
    judge_welcome,
    judge_echo,
    judge_close_stage,
)
