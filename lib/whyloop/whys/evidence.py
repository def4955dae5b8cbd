"""Evidence: what shows a because, and where it is.

Pure. An :class:`Evidence` names its :class:`EvidenceKind` (a probe result and
stage, a log record or query, a test, a rerun, a template, a file, a commit,
a note), a reference (``ref``: a store reference, see :mod:`whyloop.whys.refs`,
a path, a commit), what it shows in words, and optionally the probe stage and
the :class:`Claim` the because reads in it. :meth:`Evidence.parse` reads the
short forms typed in a notebook cell (``test:ID``, ``probe:STAGE``...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whyloop.store import Store
    from whyloop.whys.refs import Resolution

__all__ = ["Claim", "Evidence", "EvidenceKind", "evidence_list"]


class EvidenceKind(StrEnum):
    """What an evidence reference points at."""

    PROBE = "probe"  # a probe result and its stage
    LOG = "log"  # a log record or a log query
    TEST = "test"  # a test id
    RERUN = "rerun"  # a rerun verdict
    TEMPLATE = "template"  # a log template (new in this iteration, say)
    FILE = "file"  # a file, optionally with a line
    COMMIT = "commit"  # a commit
    NOTE = "note"  # a free note


class Claim(StrEnum):
    """What a because reads in a probe stage or a test: that it failed, or that it passed."""

    FAILED = "failed"
    PASSED = "passed"


# shorthand prefixes Evidence.parse reads, and the store table each one looks in
_SHORTHAND_TABLE = {
    EvidenceKind.TEST: ("tests", "test_id"),
    EvidenceKind.PROBE: ("probes", "stage"),
    EvidenceKind.RERUN: ("rerun_verdicts", "test_id"),
}
_TABLE_KIND = {
    "tests": EvidenceKind.TEST,
    "probes": EvidenceKind.PROBE,
    "logs": EvidenceKind.LOG,
    "rerun_verdicts": EvidenceKind.RERUN,
    "reruns": EvidenceKind.RERUN,
    "templates": EvidenceKind.TEMPLATE,
}


@dataclass
class Evidence:
    """A reference to what shows a because: where it is (``ref``) and what it shows (``text``).

    ``ref`` is a store reference ``store:LOOP/ITERATION/TABLE#key`` (see
    :mod:`whyloop.whys.refs`), a path (``lib/app/ws.py:42``), a commit or a
    URL; empty for a note. ``stage`` names the probe stage it is about;
    ``claim`` says what the because reads in it (a stage or test that failed),
    which ``whyloop whys check`` compares with the store.
    """

    kind: EvidenceKind
    ref: str = ""
    text: str = ""
    stage: str | None = None
    claim: Claim | None = None

    @classmethod
    def parse(cls, text: str, *, loop: str | None = None, iteration: str | None = None) -> Evidence:
        """Evidence from one string, as typed in a notebook cell.

        ``store:LOOP/N/TABLE#key`` (the kind from the table); ``test:ID``,
        ``probe:STAGE`` and ``rerun:ID`` (pointed into ``loop``/``iteration``
        when given, and read as *failed*); ``file:PATH[:LINE]``, ``commit:SHA``,
        ``log:TEXT``, ``template:TEXT``, ``note:TEXT``; anything else is a note.
        """
        text = str(text).strip()
        if text.startswith("store:"):
            from whyloop.whys.refs import StoreRef

            table = StoreRef.parse(text).table
            return cls(_TABLE_KIND.get(table, EvidenceKind.NOTE), ref=text)
        prefix, sep, rest = text.partition(":")
        kind = EvidenceKind.__members__.get(prefix.strip().upper()) if sep else None
        if kind is None:
            return cls(EvidenceKind.NOTE, text=text)
        rest = rest.strip()
        if kind in _SHORTHAND_TABLE:
            table, column = _SHORTHAND_TABLE[kind]
            ref = f"{kind.value}:{rest}"
            if loop and iteration:
                from whyloop.whys.refs import StoreRef

                ref = str(StoreRef(loop, iteration, table, {column: rest}))
            stage = rest if kind is EvidenceKind.PROBE else None
            return cls(kind, ref=ref, stage=stage, claim=Claim.FAILED)
        if kind in (EvidenceKind.FILE, EvidenceKind.COMMIT):
            return cls(kind, ref=rest)
        return cls(kind, text=rest)

    def resolve(self, store: Store) -> Resolution:
        """What the reference points at in ``store`` (see :func:`whyloop.whys.refs.resolve`)."""
        from whyloop.whys.refs import resolve

        return resolve(self.ref, store)

    def label(self) -> str:
        """One line for a person: ``probe store:demo/3/probes#stage=welcome: ...``."""
        parts = [self.kind.value, self.ref, self.text]
        if self.claim is not None:
            parts.insert(2, f"({self.stage + ' ' if self.stage else ''}{self.claim.value})")
        return " ".join(p for p in parts if p)


def evidence_list(
    evidence: Evidence | str | Iterable[Evidence | str] | None, loop: str, iteration: str
) -> list[Evidence]:
    if evidence is None:
        return []
    items = [evidence] if isinstance(evidence, (Evidence, str)) else list(evidence)
    return [
        e if isinstance(e, Evidence) else Evidence.parse(e, loop=loop, iteration=iteration)
        for e in items
    ]
