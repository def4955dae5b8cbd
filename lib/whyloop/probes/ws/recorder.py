"""The I/O edge of the WebSocket probe: one connection, each stage timed, everything recorded.

:func:`record` resolves (``loop.getaddrinfo``), connects (``asyncio.open_connection``),
starts TLS (``StreamWriter.start_tls``), then drives websockets' Sans-I/O
:class:`~websockets.client.ClientProtocol` over those streams, so each stage
has its own timer and its own ``asyncio.timeout``; :mod:`.talk` holds the
conversation on the open socket and :mod:`.plain` the plain GET asked after a
refused upgrade. It writes what it saw into a
:class:`~whyloop.probes.ws.observations.WsObservation` and decides nothing:
:mod:`whyloop.probes.ws.judge` does. A cap bounds the whole connection.
"""

from __future__ import annotations

import asyncio
import collections
import errno
import ipaddress
import socket
import ssl
import time
from typing import Any

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Origin, Subprotocol
from websockets.uri import parse_uri

from whyloop.probes.tls import describe_certificate
from whyloop.probes.ws.observations import (
    EventKind,
    IoFailure,
    Step,
    WsEvent,
    WsObservation,
    parse_http_head,
)
from whyloop.probes.ws.options import WsPlan
from whyloop.probes.ws.patterns import message_type
from whyloop.redact import redact_text

__all__ = ["Connection", "record"]

_READ = 65_536
_KEEP_TEXT = 1_000
#: events kept in ``WsObservation.events`` (more are still read, not kept)
_KEEP_EVENTS = 200
#: how long to keep reading the body of an answer websockets could not parse
_DRAIN_S = 0.5
#: upgrade answers after which the probe asks the same URL once more, as a plain GET
PLAIN_STATUSES = frozenset({400, 403, 404, 405, 426})


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return redact_text(" ".join(text.split()))[:300]


def _failure(exc: BaseException) -> IoFailure:
    if isinstance(exc, TimeoutError):
        return IoFailure.TIMEOUT
    if isinstance(exc, ConnectionRefusedError):
        return IoFailure.REFUSED
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return IoFailure.RESET
    if isinstance(exc, ssl.SSLCertVerificationError):
        return IoFailure.CERTIFICATE
    if isinstance(exc, ssl.SSLError):
        return IoFailure.TLS
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return IoFailure.UNREACHABLE
    if isinstance(exc, EOFError | asyncio.IncompleteReadError):
        return IoFailure.EOF
    return IoFailure.ERROR


async def record(plan: WsPlan) -> WsObservation:
    """Run one connection attempt and return what it observed (never raises for network trouble)."""
    obs = WsObservation(
        url=plan.url,
        host=plan.host,
        port=plan.port,
        secure=plan.secure,
        timeout_s=plan.timeout,
        method=plan.method,
        origin=plan.origin,
        offered=list(plan.subprotocols),
        expect_first=plan.first_pattern,
        expect_reply=plan.reply_pattern,
        reject=plan.reject_patterns,
        client_first=plan.client_first,
        messages=plan.shown_messages(),
        grace_s=plan.grace_s,
        auth_only=plan.auth_only,
        credentials=list(plan.credentials),
        insecure=plan.insecure,
    )
    conn = Connection(plan, obs)
    try:
        async with asyncio.timeout(plan.total_s):
            await conn.run()
    except TimeoutError:
        conn.mark_capped()
    finally:
        await conn.aclose()
    return obs


class Connection:
    """One connection's streams and protocol; each method is one stage."""

    def __init__(self, plan: WsPlan, obs: WsObservation) -> None:
        self.plan, self.obs = plan, obs
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.protocol: ClientProtocol | None = None
        self.pending: collections.deque[Any] = collections.deque()
        self.eof = False
        self.waiting: str = "dns"  # the field a cap marks as timed out
        self.started = time.perf_counter()
        #: messages sent so far (each event notes it: 0 means unsolicited)
        self.sent = 0

    async def run(self) -> None:
        from whyloop.probes.ws.plain import plain_get
        from whyloop.probes.ws.talk import converse

        plan, obs = self.plan, self.obs
        addresses = await self.dns()
        if not addresses or not await self.tcp(addresses):
            return
        if plan.secure and not await self.tls():
            return
        if await self.upgrade():
            await converse(self)
        elif obs.status in PLAIN_STATUSES and not plan.auth_only:
            self.begin("plain")
            obs.plain = await plain_get(plan, self.obs.peer or plan.host)

    def begin(self, what: str) -> float:
        self.waiting, self.started = what, time.perf_counter()
        return self.started

    def mark_capped(self) -> None:
        obs, what = self.obs, self.waiting
        obs.capped = f"the whole probe exceeded {self.plan.total_s:g} s during {what}"
        if getattr(obs, what) is not None:  # that step had finished (a certificate peek ran over)
            return
        if what == "plain":
            return
        if what in ("dns", "tcp", "tls", "upgrade"):
            setattr(
                obs,
                what,
                Step(ms=_ms(self.started), failure=IoFailure.TIMEOUT, error="overall cap"),
            )
        else:
            setattr(obs, what, WsEvent(EventKind.TIMEOUT, _ms(self.started), text="overall cap"))

    async def dns(self) -> list[tuple[int, str]]:
        obs, host = self.obs, self.plan.host
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            obs.literal, obs.addresses, obs.dns = True, [host], Step(ms=0.0)
            return [(family, host)]
        start = self.begin("dns")
        try:
            async with asyncio.timeout(self.plan.timeout):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, self.plan.port, type=socket.SOCK_STREAM
                )
        except socket.gaierror as exc:
            nx = exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME))
            obs.dns = Step(_ms(start), IoFailure.NXDOMAIN if nx else IoFailure.ERROR, _error(exc))
            return []
        except (TimeoutError, OSError) as exc:
            obs.dns = Step(_ms(start), _failure(exc), _error(exc))
            return []
        found = list(dict.fromkeys((family, str(sa[0])) for family, *_x, sa in infos))
        obs.dns, obs.addresses = Step(ms=_ms(start)), [a for _f, a in found]
        return found

    async def tcp(self, addresses: list[tuple[int, str]]) -> bool:
        start = self.begin("tcp")
        errors = []
        try:
            async with asyncio.timeout(self.plan.timeout):
                for family, address in addresses[:4]:
                    try:
                        self.reader, self.writer = await asyncio.open_connection(
                            address, self.plan.port, family=family, limit=_READ
                        )
                    except OSError as exc:
                        errors.append(exc)
                        continue
                    self.obs.peer, self.obs.tcp = address, Step(ms=_ms(start))
                    return True
        except TimeoutError as exc:
            errors.append(exc)
        last = errors[-1]
        self.obs.peer = addresses[min(len(errors), len(addresses)) - 1][1]
        self.obs.tcp = Step(_ms(start), _failure(last), _error(last))
        return False

    async def tls(self) -> bool:
        assert self.writer is not None
        obs, plan = self.obs, self.plan
        context = ssl.create_default_context()
        if plan.insecure:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        start = self.begin("tls")
        try:
            async with asyncio.timeout(plan.timeout):
                await self.writer.start_tls(context, server_hostname=plan.host)
        except ssl.SSLCertVerificationError as exc:
            obs.tls = Step(_ms(start), IoFailure.CERTIFICATE, _error(exc.verify_message or exc))
            obs.cert = await self._peek_certificate()
            return False
        except (TimeoutError, OSError, EOFError) as exc:
            obs.tls = Step(_ms(start), _failure(exc), _error(exc))
            return False
        obs.tls = Step(ms=_ms(start))
        ssl_object = self.writer.get_extra_info("ssl_object")
        obs.tls_version = ssl_object.version() or ""
        obs.cipher = (ssl_object.cipher() or ("",))[0]
        der = ssl_object.getpeercert(binary_form=True)
        obs.cert = describe_certificate(der, plan.host) if der else None
        return True

    async def _peek_certificate(self) -> dict[str, Any] | None:
        """After a verification failure: read the certificate over a second, unverified handshake."""
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        writer = None
        try:
            async with asyncio.timeout(self.plan.timeout):
                _reader, writer = await asyncio.open_connection(
                    self.obs.peer, self.plan.port, ssl=context, server_hostname=self.plan.host
                )
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            return describe_certificate(der, self.plan.host) if der else None
        except (TimeoutError, OSError, EOFError):
            return None
        finally:
            if writer is not None:
                await _closed(writer)

    async def upgrade(self) -> bool:
        plan, obs = self.plan, self.obs
        self.protocol = protocol = ClientProtocol(
            parse_uri(plan.connect_url),
            origin=Origin(plan.origin) if plan.origin else None,
            subprotocols=[Subprotocol(s) for s in plan.subprotocols] or None,
            max_size=2**20,
        )
        request = protocol.connect()
        for key, value in plan.headers:
            request.headers[key] = value
        obs.request_headers = list(request.headers.raw_items())
        start = self.begin("upgrade")
        received = bytearray()
        response: Response | None = None
        try:
            async with asyncio.timeout(plan.timeout):
                protocol.send_request(request)
                await self.flush()
                while response is None and not self.eof and protocol.handshake_exc is None:
                    await self.feed(received)
                    while self.pending and response is None:
                        event = self.pending.popleft()
                        if isinstance(event, Response):
                            response = event
        except (TimeoutError, OSError) as exc:
            obs.upgrade = Step(_ms(start), _failure(exc), _error(exc))
            obs.body = received[:300].decode("utf-8", "replace")
            return False
        if response is None and received.startswith(b"HTTP/"):
            # an answer websockets refuses to parse (HTTP/1.0): time it, then read a little more body
            obs.upgrade = Step(ms=_ms(start))
            await self._drain(received)
            if not parse_http_head(bytes(received), obs):
                self._invalid(received, start)
            return False
        if response is None:
            return self._invalid(received, start)
        obs.upgrade = Step(ms=_ms(start))
        obs.status, obs.reason = response.status_code, response.reason_phrase
        obs.response_headers = list(response.headers.raw_items())
        obs.body = bytes(response.body[:2000]).decode("utf-8", "replace")
        protocols = response.headers.get_all("Sec-WebSocket-Protocol")
        obs.selected = ", ".join(protocols) if protocols else None
        exc = protocol.handshake_exc
        # a subprotocol complaint is the subprotocol stage's to judge, from obs.selected
        complaint = str(exc) if exc is not None and not isinstance(exc, InvalidStatus) else ""
        if response.status_code == 101 and complaint and "protocol" not in complaint.lower():
            obs.handshake_error = _error(exc)
        return response.status_code == 101 and exc is None

    def _invalid(self, received: bytearray, start: float) -> bool:
        """Record an upgrade answered by EOF or by bytes that are not HTTP; return False."""
        assert self.protocol is not None
        cause = self.protocol.handshake_exc
        detail = cause.__cause__ if cause is not None and cause.__cause__ else cause
        failure = IoFailure.EOF if not received else IoFailure.INVALID
        error = _error(detail) if detail else "connection closed"
        self.obs.upgrade = Step(_ms(start), failure, error)
        self.obs.body = received[:300].decode("utf-8", "replace")
        return False

    async def _drain(self, received: bytearray) -> None:
        """Read the rest of a short answer until EOF, 4 KiB or ``_DRAIN_S``, whichever comes first."""
        try:
            async with asyncio.timeout(min(_DRAIN_S, self.plan.timeout)):
                while not self.eof and len(received) < 4096:
                    await self.feed(received)
        except (TimeoutError, OSError):
            pass

    async def feed(self, received: bytearray | None = None) -> None:
        """Read once from the socket into the protocol; queue its events; send what it wants."""
        assert self.reader is not None and self.protocol is not None
        data = await self.reader.read(_READ)
        if received is not None and len(received) < 4096:
            received += data
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
            self.eof = True
        self.pending.extend(self.protocol.events_received())
        await self.flush()

    async def flush(self) -> None:
        assert self.writer is not None and self.protocol is not None
        for data in self.protocol.data_to_send():
            if data:
                self.writer.write(data)
            elif self.writer.can_write_eof():
                self.writer.write_eof()
        await self.writer.drain()

    def has_pending_frames(self) -> bool:
        """True when a message or close frame already arrived and waits to be read."""
        return any(
            isinstance(f, Frame) and f.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE)
            for f in self.pending
        )

    async def next_event(self, timeout: float, field: str) -> WsEvent:
        """Wait up to ``timeout`` for a whole message, a close frame or EOF; note it in ``events``."""
        event = await self._next_event(timeout, field)
        event.sent_before = self.sent
        if len(self.obs.events) < _KEEP_EVENTS:
            self.obs.events.append(event)
        return event

    async def _next_event(self, timeout: float, field: str) -> WsEvent:
        start = self.begin(field)
        parts: list[bytes] = []
        binary = False
        try:
            async with asyncio.timeout(timeout):
                while True:
                    while self.pending:
                        frame = self.pending.popleft()
                        if not isinstance(frame, Frame):
                            continue
                        if frame.opcode is Opcode.CLOSE:
                            return self._close_event(start)
                        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                            parts, binary = [bytes(frame.data)], frame.opcode is Opcode.BINARY
                        elif frame.opcode is Opcode.CONT:
                            parts.append(bytes(frame.data))
                        else:
                            continue  # ping and pong: the protocol answers pings itself
                        if frame.fin:
                            return self._message(b"".join(parts), binary, start)
                    if self.eof:
                        return WsEvent(EventKind.EOF, _ms(start))
                    await self.feed()
        except TimeoutError:
            return WsEvent(EventKind.TIMEOUT, _ms(start))
        except OSError as exc:
            return WsEvent(EventKind.ERROR, _ms(start), text=_error(exc))

    def _close_event(self, start: float) -> WsEvent:
        assert self.protocol is not None
        close, first = self.protocol.close_rcvd, self.protocol.close_rcvd_then_sent
        return WsEvent(
            EventKind.CLOSE,
            _ms(start),
            code=close.code if close else 1005,
            reason=redact_text(close.reason if close else ""),
            by_server=first if first is not None else self.protocol.close_sent is None,
        )

    def _message(self, data: bytes, binary: bool, start: float) -> WsEvent:
        """A message event: its text shown redacted, and the patterns its raw text matched."""
        raw = data.hex() if binary else data.decode("utf-8", "replace")
        plan = self.plan
        patterns = [plan.first_pattern, plan.reply_pattern, *plan.reject_patterns]
        matched = tuple(
            dict.fromkeys(
                p.source for p in patterns if p is not None and p.matches(raw, binary=binary)
            )
        )
        body = f"<{len(data)} bytes of binary>" if binary else raw
        return WsEvent(
            EventKind.MESSAGE,
            _ms(start),
            text=redact_text(body[:_KEEP_TEXT]),
            binary=binary,
            matched=matched,
            type=None if binary else message_type(raw),
        )

    async def send(self, message: str | bytes) -> WsEvent | None:
        """Send one message; None when sent, an error event when the socket refused it."""
        assert self.protocol is not None
        try:
            if isinstance(message, bytes):
                self.protocol.send_binary(message)
            else:
                self.protocol.send_text(message.encode())
            await self.flush()
        except OSError as exc:
            return WsEvent(EventKind.ERROR, 0.0, text=_error(exc), sent_before=self.sent)
        self.sent += 1
        return None

    async def aclose(self) -> None:
        """Close the transport (bounded: a TLS peer may never answer close_notify)."""
        writer, self.writer = self.writer, None
        if writer is None:
            return
        await _closed(writer)


async def _closed(writer: asyncio.StreamWriter) -> None:
    """Close ``writer`` and wait (bounded: a TLS peer may never answer close_notify), so no
    transport is left for the event loop to find unclosed when it ends."""
    writer.close()
    try:
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    except (TimeoutError, OSError, ssl.SSLError):
        writer.transport.abort()
