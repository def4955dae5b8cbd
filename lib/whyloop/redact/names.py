"""The one mask every secret gets, and which field names say secret (pure).

The rules are written out in :mod:`whyloop.redact`; :mod:`.text` and
:mod:`.tables` use the names here, so a secret is masked the same way
wherever it is found.
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "KEEP",
    "MASK",
    "MASKED",
    "META",
    "SCHEME",
    "WORD",
    "is_masked",
    "is_secret_key",
    "mask_credential",
    "normalise",
    "redact_value",
]

#: what follows the shown characters of a masked secret
MASK = "..."
#: characters a secret may show, at most; and never more than a quarter of it
KEEP = 4
#: auth schemes, kept in front of a masked credential (``Bearer eyJh...``)
SCHEME = r"(?:bearer|basic|token|digest|negotiate|apikey)"


def redact_value(secret: str) -> str:
    """Return ``secret`` masked: at most 4 characters, and at most a quarter of it, then ``...``."""
    if is_masked(secret):
        return secret
    return secret[: min(KEEP, len(secret) // 4)] + MASK


#: a value already masked (punctuation after it included: "?token=eyJh...: ok")
MASKED = r"(?s)^.{0,4}\.\.\.\W*$"


def is_masked(value: str) -> bool:
    """True for a value :func:`redact_value` made (so masking it again changes nothing)."""
    return re.match(MASKED, value) is not None


def mask_credential(value: str) -> str:
    """A secret field's value masked whole, but an auth scheme kept: ``Bearer eyJh...``."""
    scheme, _, credential = value.partition(" ")
    if credential and re.fullmatch(SCHEME, scheme, re.I):
        return f"{scheme} {redact_value(credential.strip())}"
    return redact_value(value)


# --- field names -------------------------------------------------------------------------------

WORD = (
    r"password|passwd|passphrase|pwd|secret|token|api_?key|authorization|cookie|session|sessid"
    r"|private_?key|credential|csrf|xsrf"
)
_WORDS = re.compile(WORD)
# Not bare ``auth`` nor ``pass``: they name the method ("auth": "header") or count ("pass": 3)
# as often as they hold the credential.
_EXACT = frozenset({"sid", "jwt", "basic_auth", "proxy_auth", "http_auth", "jsessionid"})
#: what a name may start with and only describe the secret (Access-Control-Allow-Credentials)
_DESCRIBES = re.compile(
    r"(?:^|_)(?:allows?|with|has|is|uses?|needs?|requires?|includes?|sends?|max|min|num|n)_$"
)
#: what a name may go on with after the secret word and still only describe the secret
META = re.compile(
    r"(?:ids?|count|type|name|len|length|size|url|uri|path|file|ttl|expiry|expires(?:_at|_in)?"
    r"|expiration|expired|timeout|duration|age|version|created(?:_at)?|updated(?:_at)?"
    r"|env|var|field|param|ref|format|kind|method|provider|endpoint)"
    r"(?:_(?:ms|s|sec|seconds|at))?"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def normalise(part: str) -> str:
    """``X-Api-Key`` → ``x_api_key``, ``sessionId`` → ``session_id``, ``JSESSIONID`` → ``jsessionid``."""
    return _SEPARATORS.sub("_", _CAMEL.sub("_", part).lower()).strip("_")


def _secret_part(part: str, numeric: bool) -> bool:
    name = normalise(part)
    if name in _EXACT:
        return True
    hits = list(_WORDS.finditer(name))
    if not hits or _DESCRIBES.search(name[: hits[0].start()]):
        return False
    rest = name[hits[-1].end() :]
    if rest == "s":  # prompt_tokens: 12 is a count; cookies: "..." is not
        return not numeric
    rest = rest[1:] if rest.startswith("s_") else rest
    # "sessionid" too is an id (ZooKeeper's, Django's); "jsessionid" is a cookie (above)
    return not (rest in ("id", "ids") or (rest.startswith("_") and META.fullmatch(rest[1:])))


@functools.lru_cache(maxsize=4096)
def is_secret_key(name: str, *, numeric: bool = False) -> bool:
    """True when a field, column or header called ``name`` holds a secret (see the module docstring).

    ``name`` may be a dotted path (``jsonPayload.auth.password``): a secret
    part makes everything under it secret, except a leaf that only describes
    it (``session.id``). ``numeric`` says the value is a number, so a plural
    name (``total_tokens``) is a count.
    """
    parts = [p for p in re.split(r"[./]", name) if p]
    if not parts:
        return False
    if _secret_part(parts[-1], numeric):
        return True
    if META.fullmatch(normalise(parts[-1])):
        return False
    return any(_secret_part(p, numeric) for p in parts[:-1])
