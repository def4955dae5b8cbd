"""After a refused upgrade, the same URL asked once more as a plain GET (part of the I/O edge).

A 400, 403, 404, 405 or 426 to an upgrade reads differently depending on
whether the route serves plain HTTP: a route that answers a plain GET with
200 is an HTTP route, not a WebSocket one, and nothing in between needs to be
blamed. :func:`plain_get` asks that once (same host, same headers and
cookies, no Upgrade), bounded by the stage timeout, and records the answer.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

from whyloop.probes.ws.observations import PlainAnswer, parse_head
from whyloop.probes.ws.options import WsPlan
from whyloop.redact import redact_text

__all__ = ["plain_get"]

_KEEP = 4096


async def plain_get(plan: WsPlan, address: str) -> PlainAnswer:
    """GET ``plan.connect_url`` (as http:// or https://) at ``address``; never raises."""
    parts = urlsplit(plan.connect_url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}", "Connection: close", "Accept: */*"]
    lines += [f"{k}: {v}" for k, v in plan.headers]
    if plan.origin:
        lines.append(f"Origin: {plan.origin}")
    context = None
    if plan.secure:
        context = ssl.create_default_context()
        if plan.insecure:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    writer = None
    received = bytearray()
    try:
        async with asyncio.timeout(plan.timeout):
            reader, writer = await asyncio.open_connection(
                address, plan.port, ssl=context, server_hostname=plan.host if context else None
            )
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            await writer.drain()
            while len(received) < _KEEP:
                data = await reader.read(_KEEP)
                if not data:
                    break
                received += data
                if b"\r\n\r\n" in received and len(received) > 1024:
                    break
    except (TimeoutError, OSError, EOFError) as exc:
        if not received:
            return PlainAnswer(error=redact_text(str(exc) or type(exc).__name__)[:200])
    finally:
        if writer is not None:
            writer.close()
            try:
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
            except (TimeoutError, OSError, ssl.SSLError):
                pass
    answer = parse_head(bytes(received))
    if answer is None:
        return PlainAnswer(error="not an HTTP answer")
    answer.body = redact_text(answer.body[:1000])
    return answer
