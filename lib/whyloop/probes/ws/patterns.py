"""Patterns that name a WebSocket message: a JSON ``type`` value, or ``re:`` and a regular expression.

``expect_first``, ``expect_reply`` and ``reject`` take one (``reject`` several).
A plain word matches a JSON object whose ``type`` is that word (or, for
Jupyter's kernel messages, whose ``msg_type`` or ``header.msg_type`` is);
``re:`` followed by a regular expression is searched in the raw text of the
message, so packets that are not JSON (Socket.IO's ``40{...}``) can be named
too. ``none`` (or an empty string) means no pattern. Pure: no I/O here; the
recorder notes which patterns each raw message matched, the judge reads that.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from whyloop.errors import ProbeError

__all__ = ["Pattern", "message_type", "parse_pattern", "parse_patterns"]

_REGEX = "re:"


@dataclass(frozen=True)
class Pattern:
    """One message pattern, as the user wrote it (``connection_ack``, ``re:^40``)."""

    source: str

    @property
    def is_regex(self) -> bool:
        """True for ``re:`` patterns (searched in the raw text)."""
        return self.source.startswith(_REGEX)

    def matches(self, text: str, *, binary: bool = False) -> bool:
        """Whether the message ``text`` matches; a binary message matches only a ``re:`` pattern
        (searched in its bytes written as hex)."""
        if self.is_regex:
            return re.search(self.source[len(_REGEX) :], text) is not None
        return not binary and message_type(text) == self.source

    def describe(self) -> str:
        """``a connection_ack message`` or ``a message matching /^40/``, for sentences."""
        if self.is_regex:
            return f"a message matching /{self.source[len(_REGEX) :]}/"
        return f"a {self.source} message"

    def __str__(self) -> str:
        return self.source


def message_type(message: str) -> str | None:
    """The ``type`` of a JSON object message (or a Jupyter message's ``msg_type``), or None."""
    if not message.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    header = data.get("header")
    for kind in (
        data.get("type"),
        data.get("msg_type"),
        header.get("msg_type") if isinstance(header, dict) else None,
    ):
        if isinstance(kind, str | int) and not isinstance(kind, bool):
            return str(kind)
    return None


def parse_pattern(value: str | None, param: str) -> Pattern | None:
    """``value`` as a :class:`Pattern`; None for None, ``""`` or ``none``.

    Raises :class:`~whyloop.errors.ProbeError` naming ``param`` for a ``re:``
    pattern that does not compile.
    """
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in ("", "none"):
        return None
    if text.startswith(_REGEX):
        try:
            re.compile(text[len(_REGEX) :])
        except re.error as exc:
            raise ProbeError(
                f"{param}: {text!r} is not a valid regular expression: {exc}", param=param
            ) from None
    return Pattern(text)


def parse_patterns(
    values: str | list[str] | tuple[str, ...] | None, param: str
) -> tuple[Pattern, ...]:
    """Every pattern of ``values`` (one string or several), ``none`` and blanks left out."""
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else list(values)
    return tuple(p for p in (parse_pattern(v, param) for v in items) if p is not None)
