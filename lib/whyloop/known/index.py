"""An inverted index of past analyses: from a signature, a log line shape or a word to the chains.

Pure. :class:`KnownIndex` holds every :class:`~whyloop.known.entries.Entry`
and three postings maps, built once when the index is made:

- ``signature id -> entries`` (the failure clusters a chain is about),
- ``log key -> entries`` (the shapes of the log lines it cites),
- ``signature word -> entries`` (for signatures that differ but read alike:
  only the failure's rarest words are looked up, see :meth:`KnownIndex.candidates`).

:meth:`KnownIndex.candidates` gives only the entries that share one of
those with a new failure, with the count of signature words in common, so a
lookup reads a few postings lists instead of every analysis: the cost grows
with the failures alike, not with the history (``benchmarks/bench_known.py``).
Stages and tests alone never make a candidate (many unrelated chains share
them); they only add to the score of one (:mod:`whyloop.known.match`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from whyloop.known.entries import Entry, Failure
from whyloop.known.keys import signature_words

__all__ = ["Candidate", "KnownIndex"]


@dataclass(frozen=True)
class Candidate:
    """An entry sharing something with a failure: its position and the signature words shared."""

    position: int
    shared_words: int


@dataclass
class KnownIndex:
    """Every chain of every past analysis, and the postings that find the ones alike."""

    entries: list[Entry] = field(default_factory=list)
    #: files that could not be read, with their one-line error
    skipped: dict[str, str] = field(default_factory=dict)
    #: what the reader wants said (a cache it could not write, say)
    notes: list[str] = field(default_factory=list)
    by_cluster: dict[str, list[int]] = field(default_factory=dict, repr=False)
    by_log: dict[str, list[int]] = field(default_factory=dict, repr=False)
    by_word: dict[str, list[int]] = field(default_factory=dict, repr=False)
    words: list[frozenset[str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        entries, self.entries = self.entries, []
        self.add(entries)

    def add(self, entries: Iterable[Entry]) -> None:
        """Index more entries."""
        for entry in entries:
            n = len(self.entries)
            self.entries.append(entry)
            words = signature_words(entry.signature)
            self.words.append(words)
            for cluster in entry.clusters:
                self.by_cluster.setdefault(cluster, []).append(n)
            for key in entry.log_keys:
                self.by_log.setdefault(key, []).append(n)
            for word in words:
                self.by_word.setdefault(word, []).append(n)

    def __len__(self) -> int:
        return len(self.entries)

    def analyses(self) -> int:
        """How many analyses (files) the entries come from."""
        return len({(e.kind, e.path or e.analysis) for e in self.entries})

    def candidates(self, failure: Failure, *, min_share: float = 0.6) -> list[Candidate]:
        """The entries sharing a signature id, a log line shape or signature words with ``failure``.

        An entry whose signature shares no id and no log shape is a candidate
        only if its words can make a share of at least ``min_share`` of the
        two signatures' words: it must then hold one of the failure's rarest
        ``n - ceil(min_share * n) + 1`` words (prefix filtering), so common
        words (``error``, ``after``) do not make every entry a candidate.
        """
        found: set[int] = set()
        for cluster in failure.clusters:
            found.update(self.by_cluster.get(cluster, ()))
        for key in failure.log_keys:
            found.update(self.by_log.get(key, ()))
        mine = signature_words(failure.signature)
        if mine:
            rarest = sorted(mine, key=lambda w: (len(self.by_word.get(w, ())), w))
            needed = len(mine) - math.ceil(min_share * len(mine)) + 1
            for word in rarest[:needed]:
                found.update(self.by_word.get(word, ()))
        return [Candidate(n, len(mine & self.words[n])) for n in sorted(found)]
