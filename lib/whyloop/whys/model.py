"""The five-whys model: a problem, a tree of why -> because steps, causes and countermeasures.

Pure data and the few methods a notebook cell calls. A :class:`Why` asks a
question; it may have several contributing :class:`Because` answers (real
analyses branch), and each because may have a :class:`Why` of its own under
it. Every because carries :class:`Evidence` references, a
:class:`StepStatus` and the history of who changed it. Root causes are kept
apart from the trigger and the contributing factors (:class:`CausalRole`), and
:class:`Countermeasure` objects name the tests or probes that will show they
worked.

Steps are addressed by position, numbered from 1: ``a.why(1)`` is the first
why, ``a.step("1.2")`` its second because, and ``a.why("1.2")`` the why asked
under that because (its becauses are ``1.2.1``, ``1.2.2``...)::

    a = whys.load("data/whys/staging/staging-3.yaml")
    a.why(1).because(1).confirm(evidence="store:staging/3/probes#stage=welcome")
    a.step("1.1").ask("Why does the handler skip the greeting?")
    a.save()

Nothing becomes confirmed unless a person says so: :meth:`Because.confirm`
is the only way, it needs evidence, and it records who (``by``, by default
:func:`current_user`: ``$WHYLOOP_USER``, else the login name).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

from whyloop.errors import WhysError
from whyloop.whys.evidence import Claim, Evidence, EvidenceKind, evidence_list

__all__ = [
    "DRAFT_AUTHOR",
    "Analysis",
    "Because",
    "CausalRole",
    "Cause",
    "Change",
    "Claim",
    "Countermeasure",
    "Evidence",
    "EvidenceKind",
    "StepStatus",
    "Verification",
    "Why",
    "current_user",
    "now",
]

#: what the methods taking evidence accept: objects, or strings for :meth:`Evidence.parse`
EvidenceArg = Evidence | str | Iterable[Evidence | str] | None
#: the ``by`` of every change :func:`whyloop.whys.draft` makes (it only ever proposes)
DRAFT_AUTHOR = "whyloop draft"


class StepStatus(StrEnum):
    """Where a because stands: proposed, shown by evidence, or shown wrong."""

    HYPOTHESIS = "hypothesis"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"


class CausalRole(StrEnum):
    """The part a cause played: what set it off, what lies at the bottom, what made it worse."""

    TRIGGER = "trigger"
    ROOT_CAUSE = "root_cause"
    CONTRIBUTING = "contributing"


def current_user() -> str:
    """Who is making a change: ``$WHYLOOP_USER``, else the login name, else ``"unknown"``."""
    named = os.environ.get("WHYLOOP_USER", "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        return "unknown"


def now() -> str:
    """The time of a change, as stored: UTC, to the second, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Change:
    """One status change of a because: when, who, to what, and why (a note)."""

    at: str
    by: str
    status: StepStatus
    note: str = ""


@dataclass
class Because:
    """One answer to a why: a contributing cause, its evidence and its status.

    ``stage`` names the probe stage or component it blames, ``source`` where
    the proposal came from (``finding welcome-missing (medium confidence)``).
    ``why`` is the question asked under it, if any.
    """

    text: str
    status: StepStatus = StepStatus.HYPOTHESIS
    stage: str | None = None
    source: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    history: list[Change] = field(default_factory=list)
    why: Why | None = None
    #: set by the analysis it belongs to (never stored): ``"1.2"``
    address: str = field(default="", init=False, compare=False)
    _analysis: Analysis | None = field(default=None, init=False, repr=False, compare=False)

    def _context(self) -> tuple[str, str]:
        a = self._analysis
        return (a.loop, a.iterations[-1]) if a is not None and a.iterations else ("", "")

    def attach(self, *evidence: Evidence | str) -> Because:
        """Add evidence (objects or strings for :meth:`Evidence.parse`); returns self."""
        self.evidence += evidence_list(evidence, *self._context())
        return self

    def _set(self, status: StepStatus, by: str | None, note: str) -> Because:
        self.status = status
        self.history.append(Change(now(), by or current_user(), status, note))
        return self

    def confirm(
        self,
        evidence: EvidenceArg = None,
        *,
        by: str | None = None,
        note: str = "",
    ) -> Because:
        """Mark this because confirmed by ``by`` (default :func:`current_user`), with evidence.

        ``evidence`` is added first; WhysError when the because then has none,
        since a confirmation must point at what shows it.
        """
        self.evidence += evidence_list(evidence, *self._context())
        if not self.evidence:
            raise WhysError(
                f"because {self.address or '?'}: confirming needs evidence: pass evidence= "
                "(a store reference, 'test:ID', 'probe:STAGE', 'file:PATH', 'commit:SHA' or a note)"
            )
        return self._set(StepStatus.CONFIRMED, by, note)

    def refute(
        self,
        evidence: EvidenceArg = None,
        *,
        by: str | None = None,
        note: str = "",
    ) -> Because:
        """Mark this because refuted (shown wrong) by ``by``, adding what shows it."""
        self.evidence += evidence_list(evidence, *self._context())
        return self._set(StepStatus.REFUTED, by, note)

    def reopen(self, *, by: str | None = None, note: str = "") -> Because:
        """Put this because back to hypothesis (a confirmation taken back)."""
        return self._set(StepStatus.HYPOTHESIS, by, note)

    def ask(self, question: str | None = None) -> Why:
        """The why asked under this because: created with ``question``, or the one there."""
        if self.why is None:
            if not question:
                raise WhysError(f"because {self.address or '?'} has no why under it: pass question")
            self.why = Why(question)
        elif question:
            self.why.question = question
        if self._analysis is not None:
            self._analysis.link()
        return self.why

    def mark(self, role: CausalRole, text: str | None = None) -> Cause:
        """Record this because as the trigger, a root cause or a contributing factor."""
        if self._analysis is None:
            raise WhysError("a because must belong to an analysis to be marked as a cause")
        return self._analysis.add_cause(role, text or self.text, step=self.address)

    def chain_end(self) -> bool:
        """True when no why is asked under this because: its chain stops here."""
        return self.why is None or not self.why.becauses


@dataclass
class Why:
    """A question and its contributing answers; ``tests`` and ``clusters`` are what it is about."""

    question: str
    becauses: list[Because] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    address: str = field(default="", init=False, compare=False)
    _analysis: Analysis | None = field(default=None, init=False, repr=False, compare=False)

    def because(
        self,
        text: str | int,
        evidence: EvidenceArg = None,
        *,
        stage: str | None = None,
        source: str = "",
    ) -> Because:
        """``because(2)``: the second answer; ``because("text", evidence=...)``: add an answer.

        A new answer is a hypothesis; confirm it with :meth:`Because.confirm`.
        """
        if isinstance(text, int):
            if not 1 <= text <= len(self.becauses):
                raise WhysError(f"why {self.address or '?'} has no because {text}")
            return self.becauses[text - 1]
        context = self._analysis
        loop, iteration = (
            (context.loop, context.iterations[-1]) if context and context.iterations else ("", "")
        )
        new = Because(
            text, stage=stage, source=source, evidence=evidence_list(evidence, loop, iteration)
        )
        self.becauses.append(new)
        if self._analysis is not None:
            self._analysis.link()
        return new

    def _only(self) -> Because:
        if len(self.becauses) != 1:
            raise WhysError(
                f"why {self.address or '?'} has {len(self.becauses)} becauses: "
                f"pick one with .because(N) or a.step('{self.address or '1'}.N')"
            )
        return self.becauses[0]

    def confirm(
        self, evidence: EvidenceArg = None, *, by: str | None = None, note: str = ""
    ) -> Because:
        """Confirm this why's only because (WhysError when it has several; pick one)."""
        return self._only().confirm(evidence, by=by, note=note)

    def refute(
        self, evidence: EvidenceArg = None, *, by: str | None = None, note: str = ""
    ) -> Because:
        """Refute this why's only because (WhysError when it has several; pick one)."""
        return self._only().refute(evidence, by=by, note=note)


@dataclass
class Cause:
    """A cause named as the trigger, a root cause or a contributing factor; ``step`` its because."""

    id: str
    text: str
    step: str | None = None


@dataclass
class Verification:
    """What the named tests or probes did in a later iteration: the loop closed on evidence."""

    ok: bool
    iteration: str
    figures: str
    at: str
    by: str


@dataclass
class Countermeasure:
    """An action against causes (``addresses``: their ids), and what will show it worked."""

    id: str
    action: str
    addresses: list[str] = field(default_factory=list)
    owner: str = ""
    due: date | None = None
    verify_tests: list[str] = field(default_factory=list)
    verify_probes: list[str] = field(default_factory=list)
    done: bool = False
    verified: Verification | None = None


@dataclass
class Analysis:
    """One five-whys analysis of one problem, as kept in one YAML file (``path``)."""

    id: str
    title: str
    problem: str
    loop: str = ""
    iterations: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    created: str = ""
    notes: list[str] = field(default_factory=list)
    whys: list[Why] = field(default_factory=list)
    trigger: Cause | None = None
    root_causes: list[Cause] = field(default_factory=list)
    contributing: list[Cause] = field(default_factory=list)
    countermeasures: list[Countermeasure] = field(default_factory=list)
    #: the file it was loaded from or will be saved to (never stored)
    path: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self.link()

    def link(self) -> None:
        """Number every step and point it at this analysis (after any change to the tree)."""

        def visit(why: Why, address: str) -> None:
            why.address, why._analysis = address, self
            for n, because in enumerate(why.becauses, 1):
                because.address, because._analysis = f"{address}.{n}", self
                if because.why is not None:
                    visit(because.why, because.address)

        for n, why in enumerate(self.whys, 1):
            visit(why, str(n))

    # -- finding steps -------------------------------------------------------------
    def why(self, address: int | str) -> Why:
        """The why at ``address``: ``1`` the first, ``"1.2"`` the one under because 1.2."""
        parts = str(address).split(".")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            raise WhysError(f"{address!r} is not a step address such as 1 or 1.2") from None
        if not 1 <= numbers[0] <= len(self.whys):
            raise WhysError(f"no why {numbers[0]}: the analysis has {len(self.whys)}")
        why = self.whys[numbers[0] - 1]
        for n in numbers[1:]:
            because = why.because(n)
            if because.why is None:
                raise WhysError(
                    f"no why {address}: because {because.address} has none under it "
                    f"(ask one: a.step('{because.address}').ask('Why ...?'))"
                )
            why = because.why
        return why

    def step(self, address: str) -> Because:
        """The because at ``address`` (``"1.2"``: the second because of why 1)."""
        head, _, last = str(address).rpartition(".")
        if not head:
            raise WhysError(f"{address!r} names a why, not a because: use a.why({address})")
        try:
            return self.why(head).because(int(last))
        except ValueError:
            raise WhysError(f"{address!r} is not a step address such as 1.2") from None

    def steps(self) -> Iterator[Because]:
        """Every because, depth first, in address order."""

        def walk(why: Why) -> Iterator[Because]:
            for because in why.becauses:
                yield because
                if because.why is not None:
                    yield from walk(because.why)

        for why in self.whys:
            yield from walk(why)

    # -- changes -------------------------------------------------------------------
    def add_why(
        self, question: str, *, tests: Iterable[str] = (), clusters: Iterable[str] = ()
    ) -> Why:
        """Add a top-level why (a new chain) and return it."""
        why = Why(question, tests=list(tests), clusters=list(clusters))
        self.whys.append(why)
        self.link()
        return why

    def add_cause(self, role: CausalRole, text: str, *, step: str | None = None) -> Cause:
        """Record a cause in its role: the one trigger, or one more root cause or contributing factor."""
        role = CausalRole(role)
        if role is CausalRole.TRIGGER:
            self.trigger = Cause("T1", text, step)
            return self.trigger
        kept = self.root_causes if role is CausalRole.ROOT_CAUSE else self.contributing
        prefix = "R" if role is CausalRole.ROOT_CAUSE else "F"
        taken = {c.id for c in kept}
        number = next(n for n in range(1, len(kept) + 2) if f"{prefix}{n}" not in taken)
        cause = Cause(f"{prefix}{number}", text, step)
        kept.append(cause)
        return cause

    def add_countermeasure(
        self,
        action: str,
        *,
        addresses: Iterable[str] = (),
        owner: str = "",
        due: date | str | None = None,
        tests: Iterable[str] = (),
        probes: Iterable[str] = (),
    ) -> Countermeasure:
        """Add a countermeasure against the causes ``addresses`` (``["R1"]``), with what verifies it."""
        taken = {c.id for c in self.countermeasures}
        number = next(n for n in range(1, len(taken) + 2) if f"C{n}" not in taken)
        measure = Countermeasure(
            f"C{number}",
            action,
            addresses=list(addresses),
            owner=owner,
            due=date.fromisoformat(due) if isinstance(due, str) else due,
            verify_tests=list(tests),
            verify_probes=list(probes),
        )
        self.countermeasures.append(measure)
        return measure

    def causes(self) -> Iterator[tuple[CausalRole, Cause]]:
        """Every recorded cause with its role: the trigger, root causes, contributing factors."""
        if self.trigger is not None:
            yield CausalRole.TRIGGER, self.trigger
        yield from ((CausalRole.ROOT_CAUSE, c) for c in self.root_causes)
        yield from ((CausalRole.CONTRIBUTING, c) for c in self.contributing)

    def save(self, path: str | Path | None = None, *, replace: bool = False) -> Path:
        """Write the analysis as YAML to ``path`` (default: where it came from); see :mod:`.files`."""
        from whyloop.whys.files import save

        return save(self, path, replace=replace)
