"""The conversation on an open WebSocket: the server's first message, the probe's messages, the close.

Part of the I/O edge (:mod:`.recorder` holds the connection). It records and
decides nothing: which event answered which message, what arrived before the
probe sent anything (unsolicited), who closed first. The plan's patterns only
say when a wait is over (the expected reply, or a refusal, has come).

The order, for one attempt:

1. Unless ``client_first``: wait for the server's first message, the whole
   stage timeout when a welcome is expected (an auth-matrix attempt: the grace
   window), else a short watch, so a greeting is never taken for a reply.
   With ``client_first``: only what already arrived with the handshake.
2. Send each message in turn; wait for its answer: for all but the last, the
   next message; for the last, a message matching ``expect_reply`` (others are
   skipped, and kept in ``events``). A refusal, a close or a timeout ends it.
3. The close stage (not for auth-matrix attempts): send close 1000 unless the
   server closed first, and wait for its close frame.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from websockets.protocol import State

from whyloop.probes.ws.observations import EventKind, WsEvent

if TYPE_CHECKING:
    from whyloop.probes.ws.recorder import Connection

__all__ = ["converse"]

#: messages skipped while waiting for the expected reply or the close frame (a chatty server)
_MAX_SKIPPED = 100


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _refusal(conn: Connection, event: WsEvent) -> bool:
    rejects = {p.source for p in conn.plan.reject_patterns}
    return event.kind is EventKind.MESSAGE and bool(rejects & set(event.matched))


def _is_open(conn: Connection) -> bool:
    return conn.protocol is not None and conn.protocol.state is State.OPEN


async def converse(conn: Connection) -> None:
    """Run steps 1-3 on ``conn``'s open socket, recording into ``conn.obs``."""
    plan, obs = conn.plan, conn.obs
    if not await _first(conn):
        return
    for index, message in enumerate(plan.messages):
        if not _is_open(conn):
            break  # the server closed meanwhile: its close frame is the answer
        failed = await conn.send(message)
        if failed is not None:
            obs.answers.append(failed)
            break
        answer = await _answer(conn, last=index == len(plan.messages) - 1)
        obs.answers.append(answer)
        if answer.kind is not EventKind.MESSAGE or _refusal(conn, answer):
            break
    if plan.messages and len(obs.answers) < len(plan.messages) and not obs.answers:
        # nothing could be sent: the server closed first; its close frame answers the first message
        obs.answers.append(await conn.next_event(plan.timeout, "reply"))
    obs.reply = obs.answers[-1] if obs.answers else None
    if plan.auth_only:
        return
    last = obs.reply or obs.first
    done = last is not None and (last.kind is not EventKind.MESSAGE or _refusal(conn, last))
    if obs.reply is None and last is not None and last.kind is EventKind.TIMEOUT:
        done = False  # a watch that saw nothing: the socket is open, close it
    if not done:
        obs.closing = await _close(conn)


async def _first(conn: Connection) -> bool:
    """Step 1; False when the conversation ends here (a close, a refusal, no welcome)."""
    plan, obs = conn.plan, conn.obs
    if plan.client_first:
        while conn.has_pending_frames():  # these came with the handshake, before any send
            event = await conn.next_event(plan.grace_s, "first")
            obs.first = obs.first or event
            if event.kind is not EventKind.MESSAGE or _refusal(conn, event):
                return False
        return True
    welcome = plan.first_pattern is not None
    wait = plan.timeout if welcome and not plan.auth_only else plan.grace_s
    obs.first = await conn.next_event(wait, "first")
    if obs.first.kind is EventKind.TIMEOUT:
        return not welcome  # no welcome came: the welcome stage (or the matrix row) ends here
    return obs.first.kind is EventKind.MESSAGE and not _refusal(conn, obs.first)


async def _answer(conn: Connection, *, last: bool) -> WsEvent:
    """Wait for the answer to the message just sent (``ms`` counts from the send)."""
    plan = conn.plan
    start = time.perf_counter()
    want = plan.reply_pattern if last else None
    for _ in range(_MAX_SKIPPED):
        left = max(plan.timeout - (time.perf_counter() - start), 0.0)
        event = await conn.next_event(left, "reply")
        event.ms = _ms(start)
        if event.kind is not EventKind.MESSAGE or _refusal(conn, event):
            return event
        if want is None or want.source in event.matched:
            return event
    return WsEvent(
        EventKind.TIMEOUT,
        _ms(start),
        text=f"{_MAX_SKIPPED} messages, none of them {want.describe() if want else ''}",
        sent_before=conn.sent,
    )


async def _close(conn: Connection) -> WsEvent:
    """Send close 1000 (unless the server closed first) and wait for the close frame."""
    assert conn.protocol is not None
    plan = conn.plan
    start = time.perf_counter()
    if _is_open(conn):
        try:
            conn.protocol.send_close(1000)
            await conn.flush()
        except OSError as exc:
            return WsEvent(EventKind.ERROR, 0.0, text=str(exc) or type(exc).__name__)
    for _ in range(_MAX_SKIPPED):
        left = plan.timeout - (time.perf_counter() - start)
        event = await conn.next_event(max(left, 0.0), "closing")
        if event.kind is not EventKind.MESSAGE:
            event.ms = _ms(start)
            return event
    return WsEvent(EventKind.TIMEOUT, _ms(start), text=f"{_MAX_SKIPPED} messages, no close frame")
