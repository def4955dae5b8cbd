"""What a past analysis records about each failure it explains, and what a new failure shows.

Pure. An :class:`Entry` is one chain of a five-whys analysis (a top-level
why and everything under it), with what it can be recognised by (the failure
signatures, the signature's words, the log line shapes of its evidence, the
stages it blames, its tests) and what it concluded (root causes,
countermeasures and whether they were verified). A :class:`Failure` is one
new failure cluster described by the same keys. Both are plain data so an
index of thousands of entries can be kept in one JSON file
(:meth:`Entry.to_data`, :meth:`Entry.from_data`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from whyloop.errors import WhysError
from whyloop.known.keys import log_key, log_message, question_signature, template_text
from whyloop.whys.model import Analysis, Because, EvidenceKind, StepStatus, Why
from whyloop.whys.refs import StoreRef

__all__ = ["Conclusion", "Entry", "Failure", "Measure", "entries_of", "failures_of"]


@dataclass(frozen=True)
class Measure:
    """A countermeasure as a past analysis left it: done, and verified ok in which iteration."""

    id: str
    action: str
    done: bool = False
    #: True / False when its tests or probes were run again; None when they never were
    verified: bool | None = None
    verified_iteration: str = ""
    figures: str = ""


@dataclass(frozen=True)
class Conclusion:
    """A cause the analysis recorded (``R1``, ``T1``...) or, without one, its best because."""

    id: str
    text: str
    #: ``root_cause``, ``trigger``, ``contributing``, or ``confirmed`` / ``hypothesis`` for a because
    role: str


@dataclass
class Entry:
    """One chain of a past analysis: how to recognise its failure, and what it concluded."""

    analysis: str
    path: str
    why: str
    loop: str = ""
    iterations: list[str] = field(default_factory=list)
    created: str = ""
    question: str = ""
    clusters: list[str] = field(default_factory=list)
    signature: str = ""
    tests: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    log_keys: list[str] = field(default_factory=list)
    causes: list[Conclusion] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    #: where the analysis came from: ``whys`` or ``postmortem``
    kind: str = "whys"

    @property
    def key(self) -> str:
        """``<analysis id>#<why>``: one chain of one analysis."""
        return f"{self.analysis}#{self.why}"

    def to_data(self) -> dict[str, Any]:
        """Plain data for the index file."""
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Entry:
        """Back from :meth:`to_data`."""
        data = dict(data)
        data["causes"] = [Conclusion(**c) for c in data.get("causes", [])]
        data["measures"] = [Measure(**m) for m in data.get("measures", [])]
        return cls(**data)


@dataclass
class Failure:
    """One new failure cluster to look up: its signature, tests, stages and log line shapes.

    ``loop``/``iteration`` say where it was seen (empty when unknown), so an
    analysis of that very iteration is not offered as its own precedent.
    """

    clusters: list[str] = field(default_factory=list)
    signature: str = ""
    tests: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    log_keys: list[str] = field(default_factory=list)
    loop: str = ""
    iteration: str = ""
    #: the analysis it comes from, when it was read from a five-whys file (left out of its matches)
    analysis: str = ""
    #: how a person names it: the cluster id, else ``<analysis> why N``
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.clusters[0] if self.clusters else "unknown cluster"


# -- from a five-whys analysis -----------------------------------------------------------


def _chain(why: Why) -> list[Because]:
    out: list[Because] = []
    for because in why.becauses:
        out.append(because)
        if because.why is not None:
            out += _chain(because.why)
    return out


def _test_ids(becauses: list[Because]) -> list[str]:
    found: list[str] = []
    for because in becauses:
        for e in because.evidence:
            if e.kind is EvidenceKind.TEST and e.ref.startswith("store:"):
                try:
                    test = StoreRef.parse(e.ref).where.get("test_id")
                except WhysError:  # a hand-written ref that does not parse names no test
                    test = None
                if test:
                    found.append(test)
    return found


def _keys(becauses: list[Because]) -> list[str]:
    keys: list[str] = []
    for because in becauses:
        for e in because.evidence:
            if e.kind is EvidenceKind.LOG and e.text:
                keys.append(log_key(log_message(e.text)))
            elif e.kind is EvidenceKind.TEMPLATE and e.text:
                keys.append(log_key(template_text(e.text)))
    return [k for k in dict.fromkeys(keys) if k]


def _stages(becauses: list[Because]) -> list[str]:
    stages: list[str] = []
    for because in becauses:
        if because.status is StepStatus.REFUTED:
            continue  # a stage shown wrong is not what failed
        if because.stage:
            stages.append(because.stage)
        stages += [e.stage for e in because.evidence if e.kind is EvidenceKind.PROBE and e.stage]
    return list(dict.fromkeys(stages))


def _conclusions(a: Analysis, address: str, becauses: list[Because]) -> list[Conclusion]:
    def here(step: str | None) -> bool:
        return step is None or step == address or step.startswith(address + ".")

    found = [Conclusion(c.id, c.text, role.value) for role, c in a.causes() if here(c.step)]
    if found:
        return found
    for status in (StepStatus.CONFIRMED, StepStatus.HYPOTHESIS):
        best = next((b for b in becauses if b.status is status), None)
        if best is not None:
            return [Conclusion(best.address, best.text, status.value)]
    return []


def _measures(a: Analysis, causes: list[Conclusion]) -> list[Measure]:
    ids = {c.id for c in causes}
    out = []
    for c in a.countermeasures:
        if ids & set(c.addresses) or (not c.addresses and ids):
            v = c.verified
            out.append(
                Measure(
                    c.id,
                    c.action,
                    c.done,
                    None if v is None else v.ok,
                    "" if v is None else v.iteration,
                    "" if v is None else v.figures,
                )
            )
    return out


def entries_of(a: Analysis, path: str = "") -> list[Entry]:
    """One :class:`Entry` per top-level why of ``a`` (its file at ``path``)."""
    out = []
    for why in a.whys:
        becauses = _chain(why)
        clusters = list(why.clusters) or (list(a.clusters) if len(a.whys) == 1 else [])
        causes = _conclusions(a, why.address, becauses)
        out.append(
            Entry(
                analysis=a.id,
                path=path,
                why=why.address,
                loop=a.loop,
                iterations=list(a.iterations),
                created=a.created,
                question=why.question,
                clusters=clusters,
                signature=question_signature(why.question),
                tests=list(dict.fromkeys([*why.tests, *_test_ids(becauses)])),
                stages=_stages(becauses),
                log_keys=_keys(becauses),
                causes=causes,
                measures=_measures(a, causes),
            )
        )
    return out


def failures_of(a: Analysis) -> list[Failure]:
    """The failures an analysis is about, one per top-level why: to look a new analysis up."""
    first = a.iterations[0] if a.iterations else ""
    return [
        Failure(
            clusters=e.clusters,
            signature=e.signature,
            tests=e.tests,
            stages=e.stages,
            log_keys=e.log_keys,
            loop=a.loop,
            iteration=first,
            analysis=a.id,
            label=e.clusters[0] if e.clusters else f"{a.id} why {e.why}",
        )
        for e in entries_of(a)
    ]
