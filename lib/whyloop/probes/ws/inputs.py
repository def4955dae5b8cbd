"""The WebSocket probe's inputs checked one by one: headers, cookies, messages, credentials (pure).

:class:`~whyloop.probes.ws.options.WsOptions` calls these when it is built;
each raises :class:`~whyloop.errors.ProbeError` naming the option it checks.
The credential finders say what counts as a credential sent: a header whose
name says so (``Authorization``, ``X-Api-Key``, ``X-Auth-Token``...), a
cookie, a credential-named URL parameter (``?token=``), and a message that
carries the token or a secret-named field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from whyloop.errors import ProbeError
from whyloop.redact import redact_text

__all__ = [
    "TOKEN_PLACEHOLDER",
    "Cookies",
    "Headers",
    "Messages",
    "binary_from_hex",
    "is_credential_header",
    "message_carries_credential",
    "parse_cookies",
    "parse_headers",
    "parse_messages",
    "show_message",
    "url_credentials",
]

Headers = Mapping[str, str] | Iterable[str | tuple[str, str]] | None
Cookies = Mapping[str, str] | Iterable[str | tuple[str, str]] | None
Message = str | bytes | Mapping[str, Any]
Messages = Message | Sequence[Message] | None

#: in a message, replaced by the token (so it need not be written on the command line)
TOKEN_PLACEHOLDER = "{token}"
TOKEN_CHARS = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_COOKIE_VALUE = re.compile(r'^"?[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"?$')
_OWN_HEADERS = {
    "host": "a probe only targets the host named in the URL",
    "origin": "use the origin option",
    "sec-websocket-protocol": "use the subprotocols option (or auth='subprotocol' for the token)",
    "upgrade": "the probe sets it",
    "connection": "the probe sets it",
    "sec-websocket-key": "the probe sets it",
    "sec-websocket-version": "the probe sets it",
    "sec-websocket-extensions": "the probe offers no extensions",
}
#: header names that carry a credential: Authorization and the API-key/token/session kind
_CREDENTIAL_HEADER = re.compile(
    r"(?i)^(?:proxy-)?authorization$|^cookie$|(?:^|[-_])(?:api[-_]?key|apikey|token|auth|"
    r"secret|session|sessid|jwt|key|access[-_]?key|credentials?)(?:$|[-_])"
)
#: URL parameter names that carry a credential
_CREDENTIAL_PARAM = re.compile(
    r"(?i)^(?:access_|id_|auth_|api_)?token$|^api[-_]?key$|^apikey$|^key$|^auth$|^jwt$|^sid$"
    r"|^session$|^password$|^secret$|^signature$|^sig$"
)


def is_credential_header(name: str) -> bool:
    """True for a header whose name says it carries a credential (``X-Api-Key``)."""
    return bool(_CREDENTIAL_HEADER.search(name))


def url_credentials(url: str) -> list[str]:
    """The names of the credential-named query parameters already in ``url`` (``token``)."""
    return [k for k, _v in parse_qsl(urlsplit(url).query) if _CREDENTIAL_PARAM.search(k)]


def parse_headers(headers: Headers) -> tuple[tuple[str, str], ...]:
    """``headers`` as (name, value) pairs; a ProbeError(param="headers") for a bad one."""
    if headers is None:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for item in items:
        if isinstance(item, str):
            name, sep, value = item.partition(":")
            if not sep:
                raise ProbeError(
                    f"headers: {redact_text(item)!r} is not of the form Name:Value",
                    param="headers",
                )
        else:
            name, value = item
        name, value = name.strip(), str(value).strip()
        if not TOKEN_CHARS.match(name):
            raise ProbeError(f"headers: {name!r} is not a valid HTTP header name", param="headers")
        if "\r" in value or "\n" in value:
            raise ProbeError(f"headers: {name} has a line break in its value", param="headers")
        if name.lower() in _OWN_HEADERS:
            raise ProbeError(
                f"headers: {name} is not allowed: {_OWN_HEADERS[name.lower()]}", param="headers"
            )
        out.append((name, value))
    return tuple(out)


def parse_cookies(cookies: Cookies, param: str = "cookies") -> tuple[tuple[str, str], ...]:
    """``cookies`` (a mapping, ``"NAME=VALUE"`` strings, pairs, or one ``a=1; b=2`` string)
    as (name, value) pairs; a ProbeError naming ``param`` for a bad one."""
    if cookies is None:
        return ()
    if isinstance(cookies, str):
        cookies = [c for c in cookies.split(";") if c.strip()]
    items = cookies.items() if isinstance(cookies, Mapping) else cookies
    out = []
    for item in items:
        if isinstance(item, str):
            name, sep, value = item.strip().partition("=")
            if not sep:
                raise ProbeError(
                    f"{param}: {redact_text(item)!r} is not of the form NAME=VALUE", param=param
                )
        else:
            name, value = item
        name, value = name.strip(), str(value).strip()
        if not TOKEN_CHARS.match(name):
            raise ProbeError(f"{param}: {name!r} is not a valid cookie name", param=param)
        if not _COOKIE_VALUE.match(value):
            raise ProbeError(
                f"{param}: the value of cookie {name} has a character a cookie cannot carry "
                "(space, comma, semicolon, quote, backslash or a control character)",
                param=param,
            )
        out.append((name, value))
    return tuple(out)


def binary_from_hex(value: str | bytes, param: str = "send_binary") -> bytes:
    """A binary message from its hex digits (spaces and colons allowed), or bytes as they are."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    digits = re.sub(r"[\s:]", "", str(value)).removeprefix("0x")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise ProbeError(
            f"{param}: {str(value)[:40]!r} is not hexadecimal (two digits a byte)", param=param
        ) from None


def parse_messages(send: Messages, binary: Any, default: str) -> tuple[str | bytes, ...]:
    """The messages to send, in order: ``send`` (text, JSON from a mapping, bytes as binary),
    then ``binary`` (hex or bytes, one or several). ``send=None`` with no binary sends ``default``;
    an empty sequence sends nothing."""
    if send is None:
        texts: list[Message] = [] if binary else [default]
    elif isinstance(send, str | bytes | bytearray | Mapping):
        texts = [send]
    else:
        texts = list(send)
    out: list[str | bytes] = []
    for item in texts:
        if isinstance(item, Mapping):
            out.append(json.dumps(item))
        elif isinstance(item, bytes | bytearray):
            out.append(bytes(item))
        elif isinstance(item, str):
            out.append(item)
        else:
            raise ProbeError(
                f"send: {type(item).__name__} is not a message (text, bytes or a dict)",
                param="send",
            )
    if binary is not None:
        items = [binary] if isinstance(binary, str | bytes | bytearray) else list(binary)
        out += [binary_from_hex(b) for b in items]
    return tuple(out)


#: JSON field names that carry a credential in a message (a connection_init payload, a CONNECT)
_CREDENTIAL_FIELD = re.compile(
    r"(?i)^(?:access_?|id_?|auth_?|api_?|bearer_?|refresh_?)?token$|^api[-_]?key$|^password$"
    r"|^passwd$|^secret$|^(?:x-)?authorization$|^auth$|^jwt$|^credentials?$|^x-api-key$"
)


def message_carries_credential(message: str | bytes, token: str | None) -> bool:
    """True when a text message holds the token, or a field named for a credential
    (``"token": ...``, ``"Authorization": ...``); a ``"session"`` id is not one."""
    if isinstance(message, bytes):
        return False
    if token and token in message:
        return True
    return any(
        _CREDENTIAL_FIELD.search(key) for key in re.findall(r'"([A-Za-z_][\w-]*)"\s*:', message)
    )


def show_message(message: str | bytes, limit: int = 1000) -> str:
    """A message as evidence shows it: text redacted, binary as its length and first bytes in hex."""
    if isinstance(message, bytes):
        head = message[:16].hex()
        return f"<{len(message)} bytes of binary: {head}{'...' if len(message) > 16 else ''}>"
    return redact_text(message[:limit])
