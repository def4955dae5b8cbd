"""The faults a sandbox can be started with, and what each one breaks.

A fault is switched on by name (``up(faults=["ws-no-welcome"])``). Each one
reproduces a failure real test-deploy loops hit and leaves the evidence a real
one would (status codes, close codes, log lines); nothing a client or a log
reader can see names the fault itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from whyloop.errors import ConfigError

__all__ = ["FAULT_DESCRIPTIONS", "Fault", "list_faults", "parse_faults"]


class Fault(StrEnum):
    """A switchable failure of the sandbox services."""

    WS_NO_WELCOME = "ws-no-welcome"
    WS_SUBPROTOCOL_NOT_ECHOED = "ws-subprotocol-not-echoed"
    WS_HEADER_AUTH_ONLY = "ws-header-auth-only"
    WS_REJECT_ORIGIN = "ws-reject-origin"
    JWT_AUDIENCE_MISMATCH = "jwt-audience-mismatch"
    SLOW_AGENT = "slow-agent"
    FLAKY_MESSAGES = "flaky-messages"
    RATE_LIMIT_OFF = "rate-limit-off"
    DB_LOCKED = "db-locked"


FAULT_DESCRIPTIONS: dict[Fault, str] = {
    Fault.WS_NO_WELCOME: "the WebSocket is accepted but connection_established is never sent",
    Fault.WS_SUBPROTOCOL_NOT_ECHOED: (
        "a jwt.<token> subprotocol is accepted but not echoed in the handshake answer "
        "(browsers drop such a connection)"
    ),
    Fault.WS_HEADER_AUTH_ONLY: (
        "the WebSocket ignores the jwt.<token> subprotocol, so subprotocol-only clients get HTTP 401"
    ),
    Fault.WS_REJECT_ORIGIN: "the WebSocket upgrade answers 403 to any request carrying an Origin header",
    Fault.JWT_AUDIENCE_MISMATCH: (
        "auth issues tokens for one audience, the backend expects another: every authenticated "
        "backend call gets 401"
    ),
    Fault.SLOW_AGENT: "agent execution takes 15 s, longer than the e2e client's 5 s timeout",
    Fault.FLAKY_MESSAGES: (
        "posting a message fails with 503 on ~30% of calls (seeded, so the first run after up "
        "is reproducible)"
    ),
    Fault.RATE_LIMIT_OFF: "the backend never answers 429, however many requests a user sends",
    Fault.DB_LOCKED: (
        "another connection holds the SQLite write lock: thread and message writes fail with 500 "
        "and log 'database is locked'"
    ),
}


def list_faults() -> dict[str, str]:
    """Return every fault name with its one-line description, in declaration order."""
    return {fault.value: FAULT_DESCRIPTIONS[fault] for fault in Fault}


def parse_faults(names: Iterable[str]) -> tuple[Fault, ...]:
    """Turn fault names into :class:`Fault` values, dropping duplicates and keeping order.

    Raises :class:`~whyloop.errors.ConfigError` naming the valid faults when a
    name is unknown.
    """
    if isinstance(names, str):
        names = [names]
    out: list[Fault] = []
    for name in names:
        try:
            fault = Fault(str(name).strip())
        except ValueError:
            valid = ", ".join(f.value for f in Fault)
            raise ConfigError(f"unknown sandbox fault {name!r}; valid faults: {valid}") from None
        if fault not in out:
            out.append(fault)
    return tuple(out)
