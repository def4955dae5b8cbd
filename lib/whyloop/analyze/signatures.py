"""Failure signatures: a normalised fingerprint so failures with one cause group together.

The fingerprint is built from the exception type and the first line of the
message with the parts that vary between runs masked (UUIDs, timestamps, hex,
IP addresses, ports, paths, numbers, quoted ids). Two failures share a
signature when their masked texts are equal, across tests and iterations. The
masked text is kept beside the hash (``signature_text``) so a reader can see
why two failures were grouped. Users can put their own rules in front of the
built-in ones.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from whyloop.errors import ConfigError
from whyloop.ingest.arrow import text_where

__all__ = [
    "DEFAULT_RULES",
    "MaskRule",
    "failure_text",
    "load_fingerprint_rules",
    "mask",
    "signatures",
]


@dataclass(frozen=True)
class MaskRule:
    """Replace every match of ``pattern`` with ``replacement`` (applied in order)."""

    pattern: str
    replacement: str
    name: str = ""

    def compiled(self) -> re.Pattern[str]:
        try:
            return re.compile(self.pattern)
        except re.error as exc:
            raise ConfigError(f"fingerprint rule {self.name or self.pattern!r}: {exc}") from None


DEFAULT_RULES: tuple[MaskRule, ...] = (
    MaskRule(r"\x1b\[[0-9;]*[A-Za-z]", "", "ansi"),
    MaskRule(
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        "<uuid>",
        "uuid",
    ),
    MaskRule(
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?",
        "<ts>",
        "timestamp",
    ),
    MaskRule(r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<ts>", "time"),
    MaskRule(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", "<jwt>", "jwt"),
    MaskRule(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b", "<ip>", "ipv4"),
    MaskRule(r"(?i)\[[0-9a-f:]+\](?::\d{1,5})?", "<ip>", "ipv6"),
    MaskRule(r"(?i)\blocalhost:\d{1,5}\b", "localhost:<port>", "port"),
    MaskRule(r"(?i)\b(port[ =:]+)\d{1,5}\b", r"\1<port>", "port"),
    MaskRule(r"\b0x[0-9a-fA-F]+\b", "<hex>", "hex"),
    MaskRule(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b", "<hex>", "hex"),
    # file paths (ending in a name with an extension); URL paths keep their shape
    MaskRule(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+)+\.[A-Za-z]\w*\b", "<path>", "path"),
    MaskRule(r"(?<=[=:/#])(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[\w-]+", "<id>", "id"),
    # HTTP statuses (100-599) and WebSocket close codes (1000-1015) name
    # the cause ("401" vs "500"), so they are kept; every other number is masked
    MaskRule(
        r"(?<![A-Za-z\d.])(?!(?:[1-5]\d\d|10(?:0\d|1[0-5]))(?![\d.]))\d+(?:\.\d+)?",
        "<n>",
        "number",
    ),
    MaskRule(r"\s+", " ", "whitespace"),
)


def _rules(extra: Iterable[MaskRule | dict | tuple] | None) -> list[tuple[re.Pattern[str], str]]:
    rules: list[MaskRule] = []
    for item in extra or ():
        if isinstance(item, MaskRule):
            rules.append(item)
        elif isinstance(item, dict):
            if "pattern" not in item:
                raise ConfigError(f"fingerprint rule {item!r} has no 'pattern'")
            rules.append(
                MaskRule(
                    str(item["pattern"]), str(item.get("replace", "<x>")), str(item.get("name", ""))
                )
            )
        else:
            pattern, replacement = item
            rules.append(MaskRule(pattern, replacement))
    return [(r.compiled(), r.replacement) for r in (*rules, *DEFAULT_RULES)]


def load_fingerprint_rules(path: str | Path) -> list[MaskRule]:
    """Read extra masking rules from YAML: a list of ``{pattern, replace, name}``, applied first.

    Raises ConfigError naming the file (and rule) when it is malformed.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read fingerprint rules: {exc.strerror}", path=str(path)
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {str(exc).splitlines()[0]}", path=str(path)) from None
    if not isinstance(data, list):
        raise ConfigError("fingerprint rules must be a list of {pattern, replace}", path=str(path))
    rules = []
    for i, item in enumerate(data, 1):
        if not isinstance(item, dict) or "pattern" not in item:
            raise ConfigError(f"rule {i} has no 'pattern'", path=str(path))
        rule = MaskRule(
            str(item["pattern"]), str(item.get("replace", "<x>")), str(item.get("name", ""))
        )
        try:
            rule.compiled()
        except ConfigError as exc:
            raise ConfigError(f"rule {i}: {exc.reason}", path=str(path)) from None
        rules.append(rule)
    return rules


def mask(text: str, rules: Sequence[MaskRule | dict | tuple] | None = None) -> str:
    """Return ``text`` with run-specific parts masked, e.g. ``port 5432`` -> ``port <port>``."""
    for pattern, replacement in _rules(rules):
        text = pattern.sub(replacement, text)
    return text.strip()


def _first_line(message: str) -> str:
    return (message or "").strip().split("\n", 1)[0]


def failure_text(failure_type: str, message: str, details: str) -> str:
    """The text a signature is built from: type plus the first line of the message.

    With no message, the last ``E   ...`` line of a pytest traceback, else the
    last non-empty line of the details, stands in for it.
    """
    line = _first_line(message)
    if not line and details:
        lines = [ln.strip() for ln in details.splitlines() if ln.strip()]
        e_lines = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
        line = e_lines[0] if e_lines else (lines[-1] if lines else "")
    ftype = (failure_type or "").strip()
    if ftype and line.startswith(ftype):
        return line
    return f"{ftype}: {line}" if ftype else line


def signatures(
    df: pd.DataFrame, rules: Sequence[MaskRule | dict | tuple] | None = None
) -> tuple[pd.Series, pd.Series]:
    """Return (signature, signature_text) for the failed/error rows of a tests frame.

    Other rows get empty strings. Masking runs once per distinct text, so a run
    with thousands of identical failures costs little.
    """
    sig = pd.Series("", index=df.index, dtype=object)
    text = sig.copy()
    failing = df["outcome"].isin(["failed", "error"]).to_numpy(dtype=bool)
    if not failing.any():
        return sig, text
    compiled = _rules(rules)
    types = text_where(df["failure_type"], failing)
    messages = text_where(df["message"], failing)
    # details stand in for a missing message only: read just those (they are the bulk)
    details = [""] * len(messages)
    need = np.fromiter((not _first_line(m) for m in messages), dtype=bool, count=len(messages))
    if need.any():
        wanted = np.zeros(len(df), dtype=bool)
        wanted[np.flatnonzero(failing)[need]] = True
        for i, found in zip(np.flatnonzero(need), text_where(df["details"], wanted), strict=True):
            details[i] = found
    raw = [failure_text(t, m, d) for t, m, d in zip(types, messages, details, strict=True)]
    del types, messages, details
    cache: dict[str, tuple[str, str]] = {}
    sigs, texts = [], []
    for item in raw:
        if item not in cache:
            masked = item
            for pattern, replacement in compiled:
                masked = pattern.sub(replacement, masked)
            masked = masked.strip()[:500]
            digest = hashlib.sha1(masked.encode("utf-8", "replace")).hexdigest()[:12]
            cache[item] = (digest, masked)
        digest, masked = cache[item]
        sigs.append(digest)
        texts.append(masked)
    sig.loc[failing] = sigs
    text.loc[failing] = texts
    return sig, text
