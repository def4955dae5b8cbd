"""Secrets in text, JSON and headers (pure; the rules are in :mod:`whyloop.redact`)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from whyloop.redact.names import (
    META,
    SCHEME,
    WORD,
    is_masked,
    is_secret_key,
    mask_credential,
    normalise,
    redact_value,
)

__all__ = ["SECRET_HEADERS", "TRIGGER", "redact_headers", "redact_json", "redact_text"]

#: headers that are always secret, whatever :func:`is_secret_key` says of other names
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
#: RFC 6750's b64token, 8 characters or more, ending at a word's end (not "error=...")
_B64TOKEN = r"[A-Za-z0-9._~+/-]{8,}=*(?![\w=])"
#: in text, a name must end with the secret word ("test_session_persistence: ..." is a test)
_PAIR_NAME = re.compile(
    r"(?:" + WORD + r")(?:s|id)?$|(?:^|_)(?:sid|jwt|basic_auth|proxy_auth|http_auth)$"
)

# Each pattern names the secret ``s`` (``s2``/``s3`` in alternatives); only that span is
# masked. Each runs only on text holding one of its markers (lower case): a miss costs an ``in``.
_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (
        ("-----begin",),
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?P<s>.+?)(?=-----END)", re.S),
    ),
    (
        ("authoriz",),
        re.compile(
            r"(?i)\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?(?:" + SCHEME + r"\s+)?"
            r"(?P<s>[^\s\"',;]+)"
        ),
    ),
    (("cookie",), re.compile(r"(?i)\b(?:set-)?cookie\b[\"']?\s*[:=]\s*[\"']?(?P<s>[^\"'\r\n]+)")),
    (("bearer",), re.compile(r"(?i)\bbearer\s+(?P<s>" + _B64TOKEN + ")")),
    (("jwt.",), re.compile(r"\bjwt\.(?P<s>" + _B64TOKEN + ")")),
    (("://",), re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/@:\"'<>]*:(?P<s>[^\s/@\"'<>]+)@")),
    (
        ("key=", "sig=", "signature="),
        re.compile(
            r"(?i)[?&](?:key|sig|signature|x-amz-signature|x-goog-signature)="
            r"(?P<s>[^&\s\"'#]+?)(?=[)\]}>]*(?:[&\s\"'#]|$))"
        ),
    ),
    (
        ("eyj", "akia", "asia", "k_live_", "k_test_", "whsec_", "gh", "glpat-", "xox", "aiza"),
        re.compile(  # formats that are secrets wherever they appear
            r"(?P<s>\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
            r"|\bA[KS]IA[A-Z0-9]{16}\b"  # AWS access key ids (long-term and temporary)
            r"|\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|\bwhsec_[A-Za-z0-9]{8,}"
            r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}"
            r"|\bglpat-[A-Za-z0-9_-]{20,}|\bxox[abposr]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35})"
        ),
    ),
)
#: what a secret-named pair's name holds (lower case), before :func:`_redact_pairs` looks closer
_PAIR_MARKERS = ("pass", "pwd", "secret", "token", "key", "auth", "cookie", "sess", "cred", "srf")
_PAIR_MARKERS += ("sid", "jwt")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_BASIC = re.compile(r"(?i)\bbasic\s+(?P<s>[A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])")
#: a name and its separator; the value is read by :data:`_VALUE` only when the name is secret
#: (unquoted, it ends before closing brackets: "(retry with password=...)")
_KEY = re.compile(
    r"(?<![\w.-])(?P<k>[A-Za-z_-][\w.-]{0,63})(?P<q>[\"']?)[ \t]*(?P<sep>[:=])(?![:=])[ \t]*"
)
_VALUE = re.compile(
    r"\"(?P<s>(?:[^\"\\\r\n]|\\.)*)\"|'(?P<s2>[^'\r\n]*)'"
    r"|(?i:" + SCHEME + r"[ \t]+)?(?P<s3>[^\s\"'&,;{\[(<][^\s\"'&,;]*?)(?=[)\]}>]*(?:[\s\"'&,;]|$))"
)
#: Logs use these bare words as labels: "Session: 30546173_42 initialized" (Windows CBS),
#: "Follower sid: 3" (ZooKeeper) name ids, "Token: Token {kind: ...}" (Hadoop) an object.
#: After them and a colon (not ``=``, not a quoted key), a session or sid is an id and a
#: token or secret only a value that looks made.
_IDS = frozenset({"session", "sessions", "sid"})
_LABELS = frozenset({"token", "tokens", "secret"})
_MADE = re.compile(r"[\d_+/=.~-]|^.{16,}$")
_DEDICATED = re.compile(r"(?i)authorization|cookie")  # their own patterns above read them

#: One test that every pattern implies, written for both ``re`` and RE2: text it
#: does not match holds nothing to redact. Keep it in step with the patterns, and
#: short: Arrow compiles it once per chunk, and a longer one costs ingest speed.
_ANY_CASE = (
    r"(?:passw|passphrase|pwd|secret|token|api[_-]?key|private[_-]?key|authoriz"
    r"|(?:basic|proxy|http)[_-]?auth|cookie|sess|cred|srf|\bsid|jwt)[\w.-]*[\"']?\s*[:=]"
    r"|[?&](?:key|sig|signature|x-amz-signature|x-goog-signature)=|bearer\s|basic\s|jwt\."
)
_EXACT_CASE = (
    r"://[^\s/@]*:[^\s/@]*@|-----BEGIN|eyJ|A[KS]IA|k_live_|k_test_|whsec_|gh[pousr]_"
    r"|github_pat_|glpat-|xox|AIza"
)
TRIGGER = f"(?i:{_ANY_CASE})|{_EXACT_CASE}"
#: the same test for text already in lower case (a case-blind search in Python's re is slow),
#: and literals one of which it needs (an ``in`` apiece is faster still)
_TRIGGER_LOWER = re.compile(f"{_ANY_CASE}|{_EXACT_CASE.lower()}")
_LITERALS = (*_PAIR_MARKERS, "sig", "bearer", "basic", "jwt.", "://", "-----begin", "eyj", "akia")
_LITERALS += ("asia", "k_live_", "k_test_", "whsec_", "gh", "glpat-", "xox", "aiza")


def _mask_group(match: re.Match[str], check: Any = None) -> str:
    """``match`` with its secret group masked (unless ``check`` rejects the secret)."""
    name = next(g for g in ("s", "s2", "s3") if g in match.re.groupindex and match[g] is not None)
    secret = match[name]
    if not secret or is_masked(secret) or (check is not None and not check(secret)):
        return match[0]
    start, end = match.span(name)
    base = match.start()
    return match[0][: start - base] + redact_value(secret) + match[0][end - base :]


def _is_basic_credential(value: str) -> bool:
    """Base64 of ``user:password`` (so "Basic authentication" is left alone)."""
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in raw and raw.isascii() and raw.decode("ascii").isprintable()


def _redact_pairs(text: str) -> str:
    """Mask the value of every ``name=value``/``name: value`` pair whose name is secret."""
    out: list[str] = []
    done = 0
    for key in _KEY.finditer(text):
        name = key["k"]
        if key.start() < done or _DEDICATED.search(name):
            continue
        value = _VALUE.match(text, key.end())
        if value is None:
            continue
        group = next(g for g in ("s", "s2", "s3") if value[g] is not None)
        secret = value[group]
        if not secret or is_masked(secret):
            continue
        last = normalise(name.rsplit(".", 1)[-1])  # "session.py:42" is a file and a line
        numeric = secret.replace(".", "", 1).isdigit()
        if not (_PAIR_NAME.search(last) and is_secret_key(last, numeric=numeric)):
            continue
        label = key["sep"] == ":" and not key["q"]
        if label and (last in _IDS or (last in _LABELS and not _MADE.search(secret))):
            continue
        start, end = value.span(group)
        out += [text[done:start], redact_value(secret)]
        done = end
    return "".join(out) + text[done:] if out else text


def redact_text(text: str) -> str:
    """Redact every secret whyloop recognises in free text (headers, URLs, logs, JSON)."""
    if not text:
        return text
    low = text.translate(_ASCII_LOWER)
    if not any(m in low for m in _LITERALS) or not _TRIGGER_LOWER.search(low):
        return text
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        as_json = _redact_json_text(stripped)
        if as_json is not None:
            return text if as_json == stripped else as_json
    for markers, pattern in _PATTERNS:
        if any(m in low for m in markers):
            text = pattern.sub(_mask_group, text)
    if "basic" in low:
        text = _BASIC.sub(lambda m: _mask_group(m, _is_basic_credential), text)
    return _redact_pairs(text) if any(m in low for m in _PAIR_MARKERS) else text


def _redact_json_text(text: str) -> str | None:
    """``text`` (a JSON object or array) redacted as JSON; itself if clean; None if not JSON."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    clean = redact_json(value)
    if clean == value:
        return text
    spaced = '": ' in text or '", ' in text
    return json.dumps(
        clean,
        ensure_ascii="\\u" in text,
        separators=(", ", ": ") if spaced else (",", ":"),
    )


def redact_json(value: Any, *, secret: bool = False) -> Any:
    """A copy of a JSON-like value (dicts, lists, scalars) with every secret redacted.

    A value under a secret-named key (:func:`is_secret_key`) is masked whole,
    every string and number in it; other strings go through :func:`redact_text`.
    ``secret=True`` masks ``value`` itself that way.
    """
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            numeric = isinstance(item, int | float) and not isinstance(item, bool)
            inherited = secret and not META.fullmatch(normalise(str(key)))
            out[key] = redact_json(
                item, secret=inherited or is_secret_key(str(key), numeric=numeric)
            )
        return out
    if isinstance(value, list | tuple):
        return [redact_json(item, secret=secret) for item in value]
    if isinstance(value, str):
        return mask_credential(value) if secret and value else redact_text(value)
    if secret and isinstance(value, int | float) and not isinstance(value, bool):
        return redact_value(str(value))
    return value


def redact_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``headers``: secret ones masked (``Bearer eyJh...``), the rest scanned as text."""
    out: dict[str, Any] = {}
    for key, value in headers.items():
        name = str(key)
        if not isinstance(value, str):
            out[key] = redact_json(value, secret=is_secret_key(name))
        elif name.lower() in SECRET_HEADERS or is_secret_key(name):
            out[key] = mask_credential(value)
        else:
            out[key] = redact_text(value)
    return out
