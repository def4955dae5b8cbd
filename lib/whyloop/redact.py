"""Secret redaction: tokens, Authorization/Cookie headers and ``jwt.`` subprotocols.

Pure functions used wherever whyloop prints or saves text that might carry a
secret. A secret keeps its first 8 characters, then ``...``, so two values can
still be told apart without being usable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["SECRET_HEADERS", "redact_headers", "redact_text", "redact_value"]

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)

_KEEP = 8

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Authorization: Bearer xxx / Basic xxx (header lines and JSON-ish "Authorization": "...")
    re.compile(
        r"(?i)(\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token)?\s*)([^\s\"',;]+)"
    ),
    re.compile(r"(?i)(\b(?:set-)?cookie\b[\"']?\s*[:=]\s*[\"']?)([^\"'\r\n]+)"),
    re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=-]{9,})"),
    re.compile(r"(\bjwt\.)([A-Za-z0-9._~+/=-]{9,})"),
    re.compile(r"(?i)([?&](?:access_)?token=)([^&\s\"']+)"),
    re.compile(
        r"(?i)(\b(?:access_|refresh_|id_)?token\b[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9._~+/=-]{9,})"
    ),
    # bare JWTs: three base64url parts, the first starting with eyJ ({")
    re.compile(r"()(\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"),
)


def redact_value(secret: str) -> str:
    """Return ``secret`` cut to its first 8 characters followed by ``...``."""
    if secret.endswith("...") and len(secret) <= _KEEP + 3:
        return secret
    return secret[:_KEEP] + "..."


def _sub(match: re.Match[str]) -> str:
    value = match.group(2)
    if value.endswith("...") and len(value) <= _KEEP + 3:
        return match.group(0)
    return match.group(1) + redact_value(value)


def redact_text(text: str) -> str:
    """Redact every secret whyloop recognises in free text (headers, URLs, logs)."""
    if not text:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(_sub, text)
    return text


def redact_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``headers`` with secret header values and ``jwt.`` subprotocols redacted."""
    out: dict[str, Any] = {}
    for key, value in headers.items():
        if str(key).lower() in SECRET_HEADERS:
            out[key] = redact_value(str(value))
        elif str(key).lower() == "sec-websocket-protocol":
            out[key] = redact_text(str(value))
        else:
            out[key] = value
    return out
