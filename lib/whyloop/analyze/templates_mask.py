"""The first step of log template mining: variable parts of messages masked, column-wise.

Pure. :func:`mask_values` takes the distinct messages of a log as one Arrow
string array and replaces, in C++ (RE2, through ``pyarrow.compute``), what is
certainly a value with the marker :data:`VALUE`:

1. the caller's ``masks`` (regexes), before anything else, in one pass: at
   each position the first of them that matches wins;
2. the built-in masks, :data:`BUILTIN_MASKS`, in one pass: URLs, UUIDs, dates
   and times (ISO 8601, syslog and ctime forms with their weekday, month and
   zone words), MAC-like colon groups, IPv4 addresses with their port,
   numbers with a unit (``5.2 KB``, ``30 ms``), hex (``0x1f``, and runs of 8
   or more hex digits), quoted ids (``'my-service'``), paths (``/var/x``,
   ``./x``, ``C:\\x``, ``a/b/c``) and the value of ``key=value`` (these two
   last, in a pass of their own); with them every other run of two or more
   digits;
3. every digit left, standing alone, becomes :data:`DIGIT`, so that a word
   ending in one digit (``eth0``, ``ext4``) can later be told from an id
   (``node-129``, ``an14``).

Nothing per row runs in Python: a million lines cost four regex passes in
C++. A caller's mask that RE2 cannot compile (look-around, back-references)
runs on Python's :mod:`re` instead, row by row: correct, slower. RE2's
``\\d``, ``\\w`` and ``\\b`` are ASCII-only, Python's are not: a mask relying on
other digits or letters may match less than it would in Python.

The markers are private-use characters, so no real text is taken for one;
:mod:`whyloop.analyze.templates_group` reads them back as ``<*>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["BUILTIN_MASKS", "DIGIT", "VALUE", "check_masks", "mask_values"]

#: Marks a masked value (a whole value: a number, an address, a path, ...).
VALUE = "\ue000"
#: Marks one digit standing alone (``eth0`` -> ``eth`` + DIGIT): maybe a name, maybe a value.
DIGIT = "\ue001"

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?"
_UNIT = r"(?:[KMGTP]i?B|B|bytes?|ns|us|µs|ms|s|secs?|seconds?|mins?|minutes?|h|hours?|days?|%)"

#: The built-in masks as ``(name, RE2-compatible regex)``, tried in this order
#: at each position of a message (the earliest match in the text wins, then the
#: first in this list). ``path`` and ``key=value`` keep what precedes the value.
BUILTIN_MASKS: tuple[tuple[str, str], ...] = (
    ("url", r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+"),
    ("uuid", r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    (
        "iso datetime",
        r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
    ),
    (
        "syslog/ctime datetime",
        rf"(?:{_WEEKDAY},?\s+)?(?:{_MONTH}\s+\d{{1,2}}|\d{{1,2}}\s+{_MONTH}),?\s+(?:\d{{4}}\s+)?"
        r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s+[A-Z]{3,5})?(?:\s+\d{4})?",
    ),
    ("mac", r"(?:[0-9A-Fa-f]{2}[:-]){3,}[0-9A-Fa-f]{2}"),
    ("ipv4[:port]", r"\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?"),
    ("number with unit", rf"-?\d+(?:\.\d+)?\s?{_UNIT}\b"),
    ("hex", r"0[xX][0-9a-fA-F]+"),
    ("hex run", r"\b[0-9a-fA-F]{8,}\b"),
    ("quoted id", r"'[^'\s]*[\d/:._\-][^'\s]*'|\"[^\"\s]*[\d/:._\-][^\"\s]*\""),
    # group 1: what precedes the path (kept)
    (
        "path",
        r"(^|[\s(\[{'\"=:,])(?:(?:[A-Za-z]:)?[\\/]|\.{1,2}/|~/|[\w.\-]+/[\w.\-]+/)"
        r"[^\s'\"()\[\]{},;]+",
    ),
    # group 2: the key and its '=' (kept)
    ("key=value", r"([A-Za-z_][\w.\-]*=)(?:\"[^\"]*\"|'[^']*'|[^\s,;)\]}>'\"]+)"),
)

_KEEPING = ("path", "key=value")
# Two passes: RE2 finds a match's bounds fast (a DFA) but its groups slowly, so the masks
# that keep a part (groups) run on their own, after the others. The first pass also takes
# any other run of two or more digits: at each position a mask is tried first.
_PLAIN = "|".join(f"(?:{rx})" for name, rx in BUILTIN_MASKS if name not in _KEEPING) + r"|\d\d+"
_KEEP = "|".join(f"(?:{rx})" for name, rx in BUILTIN_MASKS if name in _KEEPING)
# the groups of _KEEP are the path's prefix (1) and the key with its '=' (2)
_KEEP_REWRITE = r"\1\2" + VALUE


def check_masks(masks: Sequence[str] | None) -> list[str]:
    """The caller's masks as a list, each checked to compile with :mod:`re`.

    Raises ``ValueError`` naming the first mask that does not compile, or that
    matches the empty string (it would mask between every two characters).
    """
    checked: list[str] = []
    for mask in masks or ():
        if not isinstance(mask, str):
            raise ValueError(f"a mask must be a regex string, not {type(mask).__name__}: {mask!r}")
        try:
            compiled = re.compile(mask)
        except re.error as exc:
            raise ValueError(f"mask {mask!r} is not a valid regex: {exc}") from None
        if compiled.fullmatch(""):
            raise ValueError(f"mask {mask!r} matches the empty string")
        checked.append(mask)
    return checked


def _replace(values: pa.Array, pattern: str, rewrite: str) -> pa.Array:
    return pc.replace_substring_regex(values, pattern=pattern, replacement=rewrite)


def _replace_python(values: pa.Array, pattern: str) -> pa.Array:
    """One mask on Python's ``re``, for what RE2 cannot compile."""
    rx = re.compile(pattern)
    out = [None if v is None else rx.sub(VALUE, v) for v in values.to_pylist()]
    return pa.array(out, type=values.type)


def mask_values(values: pa.Array, masks: Sequence[str] = ()) -> pa.Array:
    """``values`` (Arrow strings) with their variable parts replaced by markers.

    ``masks`` are regexes applied first, as one pattern (at each position of a
    message the first mask that matches wins); each match becomes one
    :data:`VALUE`. Then the built-in masks, then digits (see the module
    docstring). Nulls stay null.
    """
    if masks:
        try:
            # one pass for all: at each position the first mask that matches wins
            values = _replace(values, "|".join(f"(?:{m})" for m in masks), VALUE)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            for mask in masks:  # one RE2 cannot compile: each on its own, that one on re
                try:
                    values = _replace(values, mask, VALUE)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    values = _replace_python(values, mask)
    values = _replace(values, _PLAIN, VALUE)
    values = _replace(values, _KEEP, _KEEP_REWRITE)
    return _replace(values, r"\d", DIGIT)
