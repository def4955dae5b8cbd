"""Which past analyses a new failure resembles, why, how sure, and whether it is a regression.

Pure. For each candidate the index gives (:meth:`KnownIndex.candidates`),
the similarity is spelled out kind by kind (:class:`Similarity`):

==================  ======  ===================================================
kind                weight  when
==================  ======  ===================================================
same signature      0.50    the failure's signature id is one the chain is about
similar signature   0.35*J  otherwise, when at least :data:`SIMILAR_WORDS` words
                            and a share J >= :data:`SIMILAR_MIN` of the words of
                            the two signatures are the same
same template       0.20    a log line shape of the failure's window is one the
                            chain cites
same stage          0.15    a stage the chain blames failed again
same tests          0.15*S  a share S of the failure's tests are the chain's
==================  ======  ===================================================

A chain is a match when it has the same or a similar signature, or the same
log template together with the same stage or tests: a template, a stage or
tests alone are shared by too many unrelated failures. The score (the sum of
the weights) ranks the matches; the :class:`~whyloop.schema.Confidence` says
how much independent evidence agrees: **high** for the same signature with
at least one more kind (or a similar one with two more), **medium** for the
same signature alone, a similar one with one more, or template, stage and
tests together, **low** otherwise. A match is a precedent to check, never a
confirmed cause (:func:`whyloop.known.draft` drafts it as a hypothesis).

A **regression**: a countermeasure of the matched chain was verified (its
tests or probes passed again) and the failure is seen after that, in a
later iteration or another loop: it came back after being fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from whyloop.analyze.clusters import iteration_key
from whyloop.known.entries import Entry, Failure
from whyloop.known.index import Candidate, KnownIndex
from whyloop.known.keys import signature_words
from whyloop.schema import Confidence

__all__ = ["SIMILAR_MIN", "SIMILAR_WORDS", "WEIGHTS", "Match", "Similarity", "lookup", "match"]

SIMILAR_MIN = 0.6
SIMILAR_WORDS = 3
_SHOWN = 3  # tests or keys named in a reason, at most


class Similarity(StrEnum):
    """One way a new failure resembles a past one."""

    SIGNATURE = "same signature"
    SIMILAR_SIGNATURE = "similar signature"
    TEMPLATE = "same template"
    STAGE = "same stage"
    TESTS = "same tests"


WEIGHTS: dict[Similarity, float] = {
    Similarity.SIGNATURE: 0.5,
    Similarity.SIMILAR_SIGNATURE: 0.35,
    Similarity.TEMPLATE: 0.2,
    Similarity.STAGE: 0.15,
    Similarity.TESTS: 0.15,
}


@dataclass(frozen=True)
class Reason:
    """One kind of similarity and what it rests on, in words."""

    kind: Similarity
    text: str
    weight: float


@dataclass
class Match:
    """A past chain a failure resembles: the reasons, the score, the confidence, a regression."""

    failure: Failure
    entry: Entry
    reasons: list[Reason] = field(default_factory=list)
    score: float = 0.0
    confidence: Confidence = Confidence.LOW
    #: a verified countermeasure of the chain, when the failure came back after it; else None
    regression_of: str | None = None
    #: where the fix was verified: ``iteration 2`` or ``loop demo-1, iteration 2``
    fixed_in: str = ""
    rank: int = 0

    @property
    def kinds(self) -> set[Similarity]:
        """The kinds of similarity found."""
        return {r.kind for r in self.reasons}


def _shown(items: list[str]) -> str:
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


def _reasons(failure: Failure, entry: Entry, words: frozenset[str], shared: int) -> list[Reason]:
    out: list[Reason] = []
    same = [c for c in failure.clusters if c in entry.clusters]
    if same:
        out.append(
            Reason(Similarity.SIGNATURE, f"same signature {same[0]}", WEIGHTS[Similarity.SIGNATURE])
        )
    elif shared >= SIMILAR_WORDS:
        mine = signature_words(failure.signature)
        share = shared / len(mine | words) if mine | words else 0.0
        if share >= SIMILAR_MIN:
            out.append(
                Reason(
                    Similarity.SIMILAR_SIGNATURE,
                    f"similar signature ({shared} of {len(mine | words)} words the same): "
                    f"'{entry.signature}'",
                    round(WEIGHTS[Similarity.SIMILAR_SIGNATURE] * share, 4),
                )
            )
    keys = [k for k in failure.log_keys if k in set(entry.log_keys)]
    if keys:
        out.append(
            Reason(
                Similarity.TEMPLATE,
                f"same template in the log window: {_shown([repr(k) for k in keys])}",
                WEIGHTS[Similarity.TEMPLATE],
            )
        )
    stages = [s for s in failure.stages if s in entry.stages]
    if stages:
        noun = "stage" if len(stages) == 1 else "stages"
        out.append(
            Reason(
                Similarity.STAGE,
                f"same failing {noun}: {', '.join(stages)}",
                WEIGHTS[Similarity.STAGE],
            )
        )
    theirs = set(entry.tests)
    tests = [t for t in failure.tests if t in theirs]
    if tests:
        share = len(tests) / len(failure.tests)
        out.append(
            Reason(
                Similarity.TESTS,
                f"same tests: {len(tests)} of {len(failure.tests)} ({_shown(tests)})",
                round(WEIGHTS[Similarity.TESTS] * share, 4),
            )
        )
    return out


def _confidence(kinds: set[Similarity]) -> Confidence:
    others = len(kinds - {Similarity.SIGNATURE, Similarity.SIMILAR_SIGNATURE})
    if Similarity.SIGNATURE in kinds:
        return Confidence.HIGH if others >= 1 else Confidence.MEDIUM
    if Similarity.SIMILAR_SIGNATURE in kinds:
        return Confidence.HIGH if others >= 2 else (Confidence.MEDIUM if others else Confidence.LOW)
    return Confidence.MEDIUM if len(kinds) >= 3 else Confidence.LOW


def _is_match(kinds: set[Similarity]) -> bool:
    if kinds & {Similarity.SIGNATURE, Similarity.SIMILAR_SIGNATURE}:
        return True
    return Similarity.TEMPLATE in kinds and bool(kinds & {Similarity.STAGE, Similarity.TESTS})


def _own(failure: Failure, entry: Entry) -> bool:
    """True when the entry is the failure's own analysis (not a precedent of it)."""
    if failure.analysis and failure.analysis == entry.analysis:
        return True
    first = entry.iterations[0] if entry.iterations else ""
    return bool(failure.loop) and failure.loop == entry.loop and failure.iteration == first != ""


def _regression(failure: Failure, entry: Entry) -> tuple[str | None, str]:
    for m in entry.measures:
        if m.verified is not True:
            continue
        same_loop = bool(failure.loop) and failure.loop == entry.loop
        if (
            same_loop
            and failure.iteration
            and m.verified_iteration
            and iteration_key(failure.iteration) <= iteration_key(m.verified_iteration)
        ):
            continue  # seen before the fix was shown to work: not back yet
        where = f"iteration {m.verified_iteration or 'unknown'}"
        if not same_loop:
            where = f"loop {entry.loop or 'unknown'}, {where}"
        return m.id, where
    return None, ""


def match(
    index: KnownIndex, failure: Failure, candidates: list[Candidate] | None = None
) -> list[Match]:
    """The past chains ``failure`` resembles, best first (ranked 1, 2, ...)."""
    found = []
    for c in index.candidates(failure, min_share=SIMILAR_MIN) if candidates is None else candidates:
        entry = index.entries[c.position]
        if _own(failure, entry):
            continue
        reasons = _reasons(failure, entry, index.words[c.position], c.shared_words)
        kinds = {r.kind for r in reasons}
        if not _is_match(kinds):
            continue
        regression, fixed = _regression(failure, entry)
        found.append(
            Match(
                failure,
                entry,
                reasons,
                round(sum(r.weight for r in reasons), 4),
                _confidence(kinds),
                regression,
                fixed,
            )
        )
    found.sort(key=lambda m: m.entry.key)
    found.sort(key=lambda m: m.entry.created, reverse=True)  # the latest first among equals
    found.sort(key=lambda m: (-m.score, m.confidence.rank))
    for n, m in enumerate(found, 1):
        m.rank = n
    return found


def lookup(index: KnownIndex, failures: list[Failure], *, top: int | None = 5) -> list[Match]:
    """Every failure's matches (at most ``top`` each; None for all), failure by failure."""
    out: list[Match] = []
    for failure in failures:
        found = match(index, failure)
        out += found if top is None else found[:top]
    return out
