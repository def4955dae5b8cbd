"""What the HTTP probe records, as plain data: the input of :func:`.judge.classify_http`.

Pure. :mod:`.probe` fills an :class:`HttpObservation` at the edge; the judge,
:mod:`.cors` and :mod:`.certs` read it. Nothing here decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["SELECTED_HEADERS", "Hop", "HttpObservation", "Preflight"]

_MISSING = object()

#: response headers recorded in a probe's details (secret ones are redacted on output)
SELECTED_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "server",
    "date",
    "location",
    "retry-after",
    "cache-control",
    "www-authenticate",
    "x-request-id",
    "via",
    "strict-transport-security",
    "set-cookie",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
    "access-control-max-age",
    "vary",
)


@dataclass
class Hop:
    """One answered request of a redirect chain."""

    url: str
    status: int
    ms: float
    location: str | None = None


@dataclass
class Preflight:
    """What a CORS preflight (OPTIONS with Access-Control-Request-Method) got back."""

    origin: str
    request_method: str
    #: the Access-Control-Request-Headers sent (None: no non-simple headers)
    request_headers: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ms: float | None = None
    error: str | None = None


@dataclass
class HttpObservation:
    """Everything the HTTP probe saw, as plain data (the input of :func:`classify_http`)."""

    url: str
    method: str = "GET"
    timeout_s: float = 10.0
    dns_ms: float | None = None
    addresses: list[str] = field(default_factory=list)
    dns_error: str | None = None
    #: trace event name -> seconds since the final request started (``*.started``/``*.complete``)
    events: dict[str, float] = field(default_factory=dict)
    error_type: str | None = None
    error: str | None = None
    #: the verifier's complaint when it refused the certificate (ssl.SSLCertVerificationError)
    verify_code: int | None = None
    verify_message: str | None = None
    #: True when the certificate was not verified (``--insecure``)
    insecure: bool = False
    status: int | None = None
    #: when the final response's headers arrived (UTC; the base of Retry-After without Date)
    received_at: datetime | None = None
    http_version: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body_bytes: int | None = None
    body_excerpt: str = ""
    json_body: Any = _MISSING
    redirects: list[Hop] = field(default_factory=list)
    max_redirects: int = 5
    #: the URLs of a redirect loop, the repeated one last (``[A, B, A]``); empty: no loop
    redirect_loop: list[str] = field(default_factory=list)
    #: the final response still redirects, and ``max_redirects`` hops were followed
    redirects_exhausted: bool = False
    #: connection and certificate facts (over a second, unverified connection when the
    #: verified handshake refused the certificate: then ``read_unverified`` is True)
    tls: dict[str, Any] = field(default_factory=dict)
    preflight: Preflight | None = None
    expect_status: int | None = None
    #: dotted path -> expected value (already parsed, see :func:`parse_expect_json`)
    expect_json: dict[str, Any] = field(default_factory=dict)

    @property
    def has_json(self) -> bool:
        """True when the body parsed as JSON (``json_body`` may then be None, for ``null``)."""
        return self.json_body is not _MISSING
