"""The postmortem model: what happened, to whom, why, how it was found and fixed, and what is next.

Pure data, in the shape the incident-review templates use (Google SRE's,
PagerDuty's, incident.io's): a summary; the :class:`Impact` with exact
figures from the store (or ``unknown`` and why); the trigger kept apart from
the root causes and contributing factors (:class:`Cause`); the
:class:`Detection`; response and recovery; a :class:`Timeline` of
:class:`Entry` objects, each citing its evidence in the reference style of
:mod:`whyloop.whys.refs` (``store:LOOP/ITERATION/TABLE#key``); the
:class:`Lessons`; and typed :class:`ActionItem` objects drawn from the
five-whys countermeasures. A :class:`Postmortem` is kept as one YAML file
(:mod:`.files`) that a team edits and reviews; its :class:`Status` says where
the review stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

from whyloop.errors import PostmortemError
from whyloop.whys.model import Verification

__all__ = [
    "ActionItem",
    "ActionKind",
    "Cause",
    "Detection",
    "Entry",
    "EntryKind",
    "Impact",
    "IterationImpact",
    "Lessons",
    "Postmortem",
    "Source",
    "Status",
    "Verification",
]


class Status(StrEnum):
    """Where the review stands: being written, being reviewed, agreed."""

    DRAFT = "draft"
    IN_REVIEW = "in review"
    FINAL = "final"


class ActionKind(StrEnum):
    """What an action item does: stop it happening, soften it, see it sooner, change how we work."""

    PREVENT = "prevent"
    MITIGATE = "mitigate"
    DETECT = "detect"
    PROCESS = "process"


class EntryKind(StrEnum):
    """What a timeline entry records."""

    DEPLOY = "deploy"  # a service revision, as the logs show it
    ITERATION = "iteration"  # an iteration stored
    TEST = "test"  # a failing (or recovered) test
    PROBE = "probe"  # a probe result
    LOG = "log"  # the first or last telling log record of a cluster
    ANALYSIS = "analysis"  # a five-whys step: drafted, confirmed, refuted, verified
    NOTE = "note"  # added by a person


@dataclass
class Source:
    """A five-whys analysis the postmortem was built from: its id and file."""

    id: str
    path: str = ""


@dataclass
class IterationImpact:
    """One iteration's figures: tests run, tests failed in the postmortem's clusters, which."""

    iteration: str
    total: int
    failed: int
    tests: list[str] = field(default_factory=list)


@dataclass
class Impact:
    """Who and what was hurt, for how long: figures from the store, else ``unknown: why``.

    ``started`` is the first failure seen, ``ended`` the first recovery seen
    (ISO times, or a sentence when there is none); ``duration_s`` the seconds
    between them (None when either is missing) and ``duration`` says it for a
    person, with how it was measured.
    """

    iterations: list[IterationImpact] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    users: str = ""
    started: str = ""
    ended: str = ""
    duration_s: float | None = None
    duration: str = ""


@dataclass
class Cause:
    """The trigger, a root cause or a contributing factor: its text and evidence references.

    ``analysis`` and ``step`` name the five-whys analysis and because it was
    taken from; ``source`` says how it was found (``recorded as R1 in
    demo-1-1``, or how it was inferred from the store).
    """

    id: str
    text: str
    analysis: str = ""
    step: str | None = None
    source: str = ""
    evidence: list[str] = field(default_factory=list)


@dataclass
class Detection:
    """When and how the failure was first seen: the iteration, the time, what saw it."""

    iteration: str = ""
    at: str = ""
    how: str = ""
    evidence: list[str] = field(default_factory=list)


@dataclass
class Entry:
    """One timeline entry: when (ISO, UTC), what kind, what happened, and what shows it."""

    at: str
    kind: EntryKind
    text: str
    iteration: str = ""
    evidence: list[str] = field(default_factory=list)


@dataclass
class Lessons:
    """What went well, what went wrong, and where we got lucky."""

    went_well: list[str] = field(default_factory=list)
    went_wrong: list[str] = field(default_factory=list)
    got_lucky: list[str] = field(default_factory=list)


@dataclass
class ActionItem:
    """An action with an owner, a due date and the tests or probes that will show it worked.

    ``addresses`` names the postmortem's causes it acts on (``R1``),
    ``source`` the countermeasure it was drawn from (``demo-1-1 C1``);
    ``verified`` is that countermeasure's last verification, if any.
    """

    id: str
    kind: ActionKind
    action: str
    owner: str = ""
    due: date | None = None
    addresses: list[str] = field(default_factory=list)
    verify_tests: list[str] = field(default_factory=list)
    verify_probes: list[str] = field(default_factory=list)
    source: str = ""
    done: bool = False
    verified: Verification | None = None


@dataclass
class Postmortem:
    """One postmortem of one loop's failure over one or more iterations, kept in one file."""

    id: str
    title: str
    status: Status = Status.DRAFT
    loop: str = ""
    iterations: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    analyses: list[Source] = field(default_factory=list)
    created: str = ""
    summary: str = ""
    impact: Impact = field(default_factory=Impact)
    trigger: Cause | None = None
    root_causes: list[Cause] = field(default_factory=list)
    contributing: list[Cause] = field(default_factory=list)
    detection: Detection = field(default_factory=Detection)
    response: list[str] = field(default_factory=list)
    recovery: list[str] = field(default_factory=list)
    timeline: list[Entry] = field(default_factory=list)
    lessons: Lessons = field(default_factory=Lessons)
    action_items: list[ActionItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the file it was loaded from or will be saved to (never stored)
    path: Path | None = field(default=None, compare=False)

    def causes(self) -> list[tuple[str, Cause]]:
        """Every cause with its role (``trigger``, ``root cause``, ``contributing``)."""
        out = [("trigger", self.trigger)] if self.trigger is not None else []
        out += [("root cause", c) for c in self.root_causes]
        return out + [("contributing", c) for c in self.contributing]

    def action(self, ident: str) -> ActionItem:
        """The action item ``ident`` (``"A1"``); PostmortemError naming the ones there are."""
        for item in self.action_items:
            if item.id == ident:
                return item
        there = ", ".join(a.id for a in self.action_items) or "none"
        raise PostmortemError(f"no action item {ident} (there are: {there})")

    def save(self, path: str | Path | None = None, *, replace: bool = False) -> Path:
        """Write the postmortem as YAML to ``path`` (default: where it came from); see :mod:`.files`."""
        from whyloop.postmortem.files import save

        return save(self, path, replace=replace)
