"""Read a server's certificate over a second TLS connection that does not verify it (edge).

When the verified handshake refuses a certificate, OpenSSL names only its
first complaint and Python hands back no certificate at all. So that every
problem can be reported together, :mod:`.probe` then calls
:func:`unverified_certificate`: one more TLS handshake to the same host and
port with verification off, which only reads the peer certificate and closes
(no HTTP request is sent). The facts come from
:func:`whyloop.probes.tls.describe_certificate`; the pure code judges them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

from whyloop.probes.tls import describe_certificate

__all__ = ["unverified_certificate"]


async def unverified_certificate(host: str, port: int, timeout_s: float) -> dict[str, Any]:
    """The certificate facts of ``host:port``, read without verification; never raises.

    Returns :func:`describe_certificate`'s facts plus ``version``, ``cipher``
    and ``read_unverified: True``; or ``{"inspect_error": ...}`` when the
    connection or handshake failed within ``timeout_s``.
    """
    context = ssl.create_default_context()
    context.check_hostname = False  # read whatever is served: the point is to see it
    context.verify_mode = ssl.CERT_NONE
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout_s
        )
    except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
        return {"inspect_error": f"{type(exc).__name__}: {exc}".rstrip(": ")}
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            return {"inspect_error": "the server sent no certificate"}
        facts = describe_certificate(der, host)
        facts["version"] = ssl_object.version()
        cipher = ssl_object.cipher()
        if cipher:
            facts["cipher"] = cipher[0]
        facts["read_unverified"] = True
        return facts
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), timeout_s)
