"""The keys two failures are compared by: signature words, log line shapes, stage names.

Pure. A failure analysed before and a new one are compared on what both
sides record in the same form:

- :func:`signature_words`: the words of a masked failure signature
  (``TimeoutError: timed out after <n> s ...`` -> ``timeouterror``, ``timed``,
  ...), placeholders left out, for the share of words two signatures have in
  common;
- :func:`log_key`: the shape of a log message, every variable part one
  ``<*>``, so that a record cited in an analysis, the same record in a later
  run and a mined log template (``websocket closed with <*>``) give one key;
- :func:`log_message`: the message part of a log line as the five whys cite
  it (``2026-12-01T17:15:53.119Z backend WARNING websocket closed with 1011``);
- :func:`question_signature`: the signature a drafted why quotes in its
  question (``Why did 3 tests fail with '...'?``).
"""

from __future__ import annotations

import re

from whyloop.analyze.signatures import mask

__all__ = [
    "jaccard",
    "log_key",
    "log_message",
    "question_signature",
    "signature_words",
    "template_text",
]

_WORD = re.compile(r"[a-z][a-z0-9_]+")
_PLACEHOLDER = re.compile(r"<[^<>\s]*>")
# a cited log line: [ISO time] service level message (level "no-level" when unknown)
_LINE = re.compile(
    r"^(?:\d{4}-\d\d-\d\d[T ]\S+\s+)?\S+\s+"
    r"(?:DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL|TRACE|no-level)\s+(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_QUESTION = re.compile(r" fail with '(.*)'(?: and why |\?$)")
_TEMPLATE_PREFIX = "new in this iteration: "
_EDGE_PUNCT = ".,;:!?()[]{}\"'"


def signature_words(text: str) -> frozenset[str]:
    """The distinct words of a masked signature, lowercased, placeholders (``<n>``) left out."""
    return frozenset(_WORD.findall(_PLACEHOLDER.sub(" ", str(text or "")).lower()))


def jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    """Words in common over words in either (0 when both are empty)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def log_key(message: str) -> str:
    """The shape of a log message: masked, lowercased, every token with a digit or mask as ``<*>``.

    Empty for a message with no word left (only numbers, say): such a key
    would match anything.
    """
    text = mask(str(message or "").split("\n", 1)[0]).lower()
    tokens: list[str] = []
    for raw in text.split():
        token = raw.strip(_EDGE_PUNCT)
        if not token:
            continue
        if "<" in token or any(ch.isdigit() for ch in token):
            token = "<*>"
        if token == "<*>" and tokens and tokens[-1] == "<*>":
            continue  # a list of values folds into one
        tokens.append(token)
    return " ".join(tokens) if any(t != "<*>" for t in tokens) else ""


def log_message(line: str) -> str:
    """The message of a cited log line (time, service and level dropped); the line when unsure."""
    text = str(line or "").strip()
    if text.startswith("log: "):  # a finding's evidence line
        text = text[5:]
    found = _LINE.match(text)
    return found.group(1) if found else text


def template_text(evidence_text: str) -> str:
    """The template of a drafted template evidence (``new in this iteration: T`` -> ``T``)."""
    text = str(evidence_text or "")
    return text[len(_TEMPLATE_PREFIX) :] if text.startswith(_TEMPLATE_PREFIX) else text


def question_signature(question: str) -> str:
    """The signature quoted in a drafted why's question, without the ``...`` of a cut; else ``""``."""
    found = _QUESTION.search(str(question or ""))
    if not found:
        return ""
    text = found.group(1)
    return text[:-3] if text.endswith("...") else text
