"""The finding rules: a table of (predicate over the evidence, plain-words template).

Pure data. Each :class:`Rule` says when it applies to one subject's
:class:`~whyloop.analyze.evidence.Evidence`, what was seen, the likely cause,
how sure it is, which log lines support it and which failed tests it
explains. :func:`whyloop.analyze.findings.derive_findings` tries the rules of
:data:`RULES` in order, most specific first; the first that applies explains
the subject. To add a cause, add a Rule here and a test with a hand-built
ProbeResult or frame in ``tests/probes/test_findings*.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from whyloop.analyze.evidence import Evidence, attempt_outcome
from whyloop.schema import Confidence, Stage

__all__ = ["RULES", "Confidence", "Rule"]


Check = Callable[[Evidence], bool]


@dataclass(frozen=True)
class Rule:
    """One cause whyloop can name.

    ``observation`` and ``likely_cause`` are templates over
    :meth:`Evidence.fields` (``{statuses}``, ``{codes}``, ``{close}``, ``{tests}``,
    ``{intermittent}``, ``{pass_fraction}``, ``{burst}``). ``stage`` is named
    when the evidence has no failed stage of its own. ``strong`` raises the
    confidence from ``confidence`` to high. ``log_pattern`` (a regex) picks the
    log lines to cite first, ``statuses`` the HTTP statuses whose lines are
    worth citing, ``test_pattern`` the failed tests (by message) it explains.
    """

    name: str
    stage: Stage | None
    when: Check
    observation: str
    likely_cause: str
    confidence: Confidence = Confidence.MEDIUM
    strong: Check | None = None
    log_pattern: str = ""
    statuses: tuple[int, ...] = ()
    test_pattern: str = ""
    #: cite the window's warnings when no line matches: off where they would mislead
    cite_warnings: bool = True

    def confidence_for(self, ev: Evidence) -> Confidence:
        """``confidence``, or high when ``strong`` holds for ``ev``."""
        return Confidence.HIGH if self.strong is not None and self.strong(ev) else self.confidence


# -- small predicates -------------------------------------------------------------


def _failed(*stages: Stage) -> Check:
    return lambda ev: ev.failed_stage in stages


def _any_status(*codes: int) -> Check:
    return lambda ev: bool(ev.statuses & set(codes))


def _is_probe(ev: Evidence) -> bool:
    return ev.probe is not None


def _header_ok_subprotocol_refused(ev: Evidence) -> bool:
    header, sub = ev.auth.get("header"), ev.auth.get("subprotocol")
    # a subprotocol row that failed negotiation or never reached the app was not refused
    return bool(header and header.accepted and sub and attempt_outcome(sub) == "refused")


_DNS = r"name or service not known|nodename nor servname|getaddrinfo|name resolution|nxdomain|could not resolve|does not resolve|no address associated"
_REFUSED = r"connection refused|errno 111|econnrefused|nothing is listening"
_WELCOME = (
    r"(timed out|timeout|no (first )?message)[^(\[]{0,60}(waiting for|before) "
    r"(connection_established|welcome|hello)|never sends"
)
_AUDIENCE = r"\baudience\b|\baud\b claim"
_LOCKED = r"database is locked|database table is locked|sqlite_busy|lock wait timeout|could not obtain lock|deadlock detected"
_UPSTREAM = r"upstream|unavailable|reset before headers|no healthy|connection reset|bad gateway"
_NO_429 = r"no 429|429 never|never (got|answered|returned|saw) (a )?429|without (a )?429|rate limit\w* (is )?not (enforced|applied)"
_NOT_ECHOED = (
    r"sec-websocket-protocol.{0,80}(echo|answered none|missing)|without echoing|"
    r"subprotocol not echoed|(does not|did not|doesn't) echo"
)
#: the probe's words for a subprotocol negotiation failure (whyloop.probes.ws.judge_socket)
_NEGOTIATION = (
    r"it wants one|speaks none of the subprotocols|naming the subprotocol|although none was "
    r"offered|which was not offered"
)
_TIMEOUT = r"timed out|timeout|deadline exceeded|took longer than"
_ABANDONED = r"\b499\b|client closed|abandoned|context canceled"
_UNAUTHORIZED = r"\b401\b|\b1008\b|unauthori[sz]ed|invalid[_ ]token|token rejected"


def _welcome_missing(ev: Evidence) -> bool:
    refused = (
        bool(ev.close_codes & {1008, 3000, 3003, 4001, 4003, 4401, 4403}) or 401 in ev.statuses
    )
    if refused:
        return False
    if ev.failed_stage is Stage.WELCOME:
        return ev.says(r"no (first )?message|timed out|timeout|never|within")
    return ev.kind == "tests" and ev.says(_WELCOME)


def _audience(ev: Evidence) -> bool:
    refused = 401 in ev.statuses or 1008 in ev.close_codes or ev.failed_stage is Stage.AUTH
    return refused and (ev.logs_say(_AUDIENCE) or ev.says(_AUDIENCE))


def _timed_out(ev: Evidence) -> bool:
    if ev.says(_WELCOME):
        return False
    if ev.failed_stage in (Stage.FIRST_BYTE, Stage.BODY, Stage.ECHO) and ev.says(_TIMEOUT):
        return True
    return ev.kind == "tests" and ev.says(_TIMEOUT)


RULES: tuple[Rule, ...] = (
    Rule(
        "name-resolution",
        Stage.DNS,
        lambda ev: ev.failed_stage is Stage.DNS or ev.says(_DNS),
        "the host name does not resolve to an address",
        "Name resolution fails: the host name is misspelled, its DNS record is missing, or this "
        "machine asks a resolver that does not know it (VPN, split DNS, /etc/resolv.conf).",
        Confidence.HIGH,
        test_pattern=_DNS,
    ),
    Rule(
        "connection-refused",
        Stage.TCP,
        lambda ev: ev.says(_REFUSED) and ev.failed_stage in (Stage.TCP, None),
        "nothing accepts connections on the target's port (connection refused)",
        "The service is down: it is not running, still starting, crashed, or listens on another "
        "port or interface.",
        Confidence.HIGH,
        test_pattern=_REFUSED,
    ),
    Rule(
        "tcp-unreachable",
        Stage.TCP,
        _failed(Stage.TCP),
        "the TCP connection got no answer",
        "The host does not answer on that port: a firewall or security group drops the packets, "
        "or the host is down.",
        Confidence.MEDIUM,
    ),
    Rule(
        "tls-handshake",
        Stage.TLS,
        _failed(Stage.TLS),
        "the TLS handshake failed",
        "The TLS setup is wrong for this client: an expired, self-signed or wrong-name "
        "certificate, or a port that does not speak TLS at all.",
        Confidence.MEDIUM,
        test_pattern=r"certificate verify failed|ssl",
    ),
    Rule(
        "origin-rejected",
        Stage.UPGRADE,
        lambda ev: (
            403 in ev.statuses
            and (ev.origin_sent or ev.says("origin"))
            and (ev.failed_stage in (Stage.UPGRADE, Stage.AUTH) or ev.says(r"upgrade|websocket"))
        ),
        "the WebSocket upgrade is refused with HTTP 403 when the request carries an Origin header",
        "The server's origin check rejects the Origin the client sends (browsers always send "
        "one): the page's origin is missing from the allowed origins, or every Origin is refused.",
        Confidence.MEDIUM,
        strong=lambda ev: ev.origin_sent or ev.logs_say("origin"),
        log_pattern=r"origin|(websocket|/ws\b).{0,40}\b403\b",
        statuses=(403,),
        test_pattern=r"(upgrade|websocket).{0,60}\b403\b",
    ),
    Rule(
        "upgrade-not-forwarded",
        Stage.UPGRADE,
        lambda ev: (
            (ev.failed_stage is Stage.UPGRADE or ev.says(r"upgrade|websocket"))
            and (bool(ev.statuses & {200, 400, 404, 426}) or ev.html)
        ),
        "the WebSocket upgrade was answered with {statuses} instead of 101 Switching Protocols",
        "The upgrade does not reach the WebSocket server as an upgrade: a proxy, load balancer or "
        "ingress in front drops the Upgrade/Connection headers or routes the path to a plain HTTP "
        "handler (an HTML page, 400 or 426 instead of 101).",
        Confidence.MEDIUM,
        strong=lambda ev: ev.html or 426 in ev.statuses,
        statuses=(200, 400, 404, 426),
        test_pattern=r"(upgrade|websocket).{0,60}\b(200|400|404|426)\b",
    ),
    Rule(
        "subprotocol-not-echoed",
        Stage.SUBPROTOCOL,
        # the subprotocol stage also fails for negotiation (4406, 1002, a 400 naming it, one
        # selected that was not offered): those are not this finding
        lambda ev: (
            (ev.failed_stage is Stage.SUBPROTOCOL and not ev.says(_NEGOTIATION))
            or ev.says(_NOT_ECHOED)
        ),
        "the handshake succeeded but the server did not echo the offered subprotocol in "
        "Sec-WebSocket-Protocol",
        "The server accepts the token sent as a jwt.<token> subprotocol but leaves "
        "Sec-WebSocket-Protocol out of its answer; browsers and strict clients must then drop the "
        "connection, so only clients that skip the check get through.",
        Confidence.HIGH,
        statuses=(101,),
        test_pattern=r"sec-websocket-protocol",
        cite_warnings=False,
    ),
    Rule(
        "subprotocol-auth-ignored",
        Stage.AUTH,
        lambda ev: (
            _header_ok_subprotocol_refused(ev)
            or (
                401 in ev.statuses
                and ev.says("subprotocol")
                and (ev.failed_stage is Stage.AUTH or ev.says(r"upgrade|websocket"))
            )
        ),
        "the token sent as a WebSocket subprotocol is refused while the same token in the "
        "Authorization header is accepted",
        "The server reads the token only from the Authorization header and ignores the "
        "jwt.<token> subprotocol; browsers cannot set that header, so browser clients are refused "
        "with 401.",
        Confidence.MEDIUM,
        strong=_header_ok_subprotocol_refused,
        log_pattern=r"(websocket|/ws\b).{0,40}\b401\b|subprotocol",
        statuses=(401,),
        test_pattern=r"(upgrade|websocket).{0,60}\b401\b",
    ),
    Rule(
        "token-audience",
        Stage.AUTH,
        _audience,
        "authenticated calls are refused ({codes}) and the refusals name the token's audience",
        "The tokens' audience does not match what the backend expects: the auth service issues "
        "tokens for one audience and the backend validates another, so every authenticated call "
        "is refused. Align the audience setting of the two services.",
        Confidence.MEDIUM,
        strong=lambda ev: ev.logs_say(_AUDIENCE),
        log_pattern=_AUDIENCE,
        statuses=(401,),
        # once the audience is the cause, every refused call is explained by it
        test_pattern=f"{_AUDIENCE}|{_UNAUTHORIZED}",
    ),
    Rule(
        "welcome-missing",
        Stage.WELCOME,
        _welcome_missing,
        "the WebSocket connection was accepted but the server's first message (its welcome) "
        "never arrived before the client gave up",
        "The server accepts the connection but never sends its welcome message "
        "(connection_established): the handler skips or fails the greeting after the handshake, "
        "so clients that wait for it time out.",
        Confidence.MEDIUM,
        strong=lambda ev: ev.failed_stage is Stage.WELCOME,
        log_pattern=r"closed with 10(0[2-46-9]|1[0-5])\b",
        statuses=(101,),
        test_pattern=_WELCOME,
    ),
    Rule(
        "database-lock",
        Stage.EXPECT,
        lambda ev: 500 in ev.statuses and (ev.logs_say(_LOCKED) or ev.says(_LOCKED)),
        "writes fail with HTTP 500 and the service logs 'database is locked'",
        "Database lock contention: another connection or a long-running transaction holds the "
        "write lock, so writes wait, give up ('database is locked') and the request ends in 500.",
        Confidence.MEDIUM,
        strong=lambda ev: ev.logs_say(_LOCKED),
        log_pattern=_LOCKED,
        statuses=(500,),
        test_pattern=r"\b500\b",
    ),
    Rule(
        "flaky-dependency",
        Stage.EXPECT,
        lambda ev: bool(ev.statuses & {502, 503, 504}) and bool(ev.intermittent),
        "calls fail intermittently with {statuses}: {intermittent} of the failed test(s) passed "
        "on some reruns (pass fraction {pass_fraction})",
        "A dependency behind the service is intermittently unavailable (the service answers "
        "503, 'upstream connect error'): some calls fail and a retry succeeds, so the tests are "
        "flaky rather than broken. Check the upstream's health; retry with backoff.",
        Confidence.MEDIUM,
        strong=lambda ev: ev.logs_say(_UPSTREAM) or ev.says(_UPSTREAM),
        log_pattern=_UPSTREAM,
        statuses=(502, 503, 504),
        test_pattern=r"\b50[234]\b",
    ),
    Rule(
        "dependency-unavailable",
        Stage.EXPECT,
        _any_status(502, 503, 504),
        "calls fail with {statuses}",
        "A dependency behind the service (an upstream, database or queue) is unavailable or "
        "overloaded. Rerun the failed tests (whyloop rerun) to see whether it is intermittent.",
        Confidence.LOW,
        strong=lambda ev: ev.logs_say(_UPSTREAM),
        log_pattern=_UPSTREAM,
        statuses=(502, 503, 504),
        test_pattern=r"\b50[234]\b",
    ),
    Rule(
        "rate-limit-not-enforced",
        Stage.EXPECT,
        lambda ev: (
            ev.says(_NO_429)
            or (ev.burst is not None and ev.failed_stage is Stage.EXPECT and 429 not in ev.statuses)
        ),
        "{burst} requests from one user never got HTTP 429 Too Many Requests",
        "Rate limiting is not enforced: the limiter is switched off, its limit is far above the "
        "burst, or it does not apply to this route.",
        Confidence.HIGH,
        test_pattern=r"429",
        cite_warnings=False,
    ),
    Rule(
        "client-timeout",
        Stage.FIRST_BYTE,
        _timed_out,
        "requests time out before the answer comes: the client gave up at its timeout",
        "The work behind the request (such as an agent execution) takes longer than the "
        "client's timeout: the client gives up and the server logs the request as abandoned "
        "(499, client closed the request). Make the work faster or stream progress, or raise the "
        "client timeout if the duration is expected.",
        Confidence.MEDIUM,
        strong=lambda ev: ev.logs_say(_ABANDONED),
        log_pattern=_ABANDONED,
        statuses=(499, 504),
        test_pattern=r"(timed out|timeout)(?!.{0,40}(waiting for|before) (connection_established|welcome))",
    ),
    Rule(
        "cors-refused",
        Stage.CORS,
        _failed(Stage.CORS),
        "the CORS preflight does not allow this origin",
        "The service's CORS settings leave this origin (or method/header) out of "
        "Access-Control-Allow-*: browsers block the call although the server works.",
        Confidence.MEDIUM,
    ),
    Rule(
        "token-refused",
        Stage.AUTH,
        lambda ev: 401 in ev.statuses or 1008 in ev.close_codes or ev.failed_stage is Stage.AUTH,
        "calls are refused as unauthorized ({codes})",
        "The backend refuses the credential: the token is missing, expired, signed with another "
        "key, or sent where the server does not look for it. The log lines say which check failed.",
        Confidence.LOW,
        log_pattern=r"token rejected|invalid[_ ]token|unauthori[sz]ed|expired",
        statuses=(401, 403),
        test_pattern=_UNAUTHORIZED,
    ),
    Rule(
        "server-error",
        Stage.EXPECT,
        _any_status(500, 501, 505),
        "the service answers {statuses}",
        "The service fails with an unhandled error; the error lines it logged at the same time "
        "say where.",
        Confidence.LOW,
        log_pattern=r"error|exception|traceback|failed",
        statuses=(500,),
        test_pattern=r"\b500\b",
    ),
    Rule(
        "intermittent",
        None,
        lambda ev: bool(ev.intermittent),
        "{intermittent} failed test(s) passed on some reruns (pass fraction {pass_fraction})",
        "The failure is not deterministic: timing, state shared between tests, or an unreliable "
        "dependency. Compare a failing and a passing rerun's logs.",
        Confidence.LOW,
    ),
    Rule(
        "unexplained",
        None,
        lambda ev: _is_probe(ev) and ev.failed_stage is not None,
        "the {stage} stage failed: {diagnosis}",
        "No rule names a cause for this; the probe's own diagnosis and the evidence are the "
        "starting point.",
        Confidence.LOW,
    ),
)
