"""Checks of an analysis: what fails a review, and what a reviewer should look at twice.

Pure (reads the store when one is given). :func:`check` returns
:class:`Problem` objects, errors first:

- **error**: a confirmed because has no evidence; a root cause has no
  countermeasure; a cause or countermeasure names a step or cause that does
  not exist.
- **warning**: a chain stops at a person rather than a process or system
  (:func:`blames_a_person`); a root cause rests on a because nobody confirmed; the trigger is recorded as a root cause; a
  because's evidence contradicts it in the store (a probe stage cited as
  failed that passed in that iteration, a test cited as failed that passed);
  an evidence reference whose target is gone; a countermeasure that names no
  test or probe to verify it.

``whyloop whys check`` prints one line per problem and exits 1 on any error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import pandas as pd

from whyloop.redact import redact_text
from whyloop.whys.model import Analysis, Because, CausalRole, Claim, Evidence, StepStatus
from whyloop.whys.refs import RefState, resolve

if TYPE_CHECKING:
    from whyloop.store import Store

__all__ = ["Level", "Problem", "blames_a_person", "check", "contradiction"]


class Level(StrEnum):
    """How bad a problem is: an error fails the check, a warning is for the reviewer."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem: its level, where it is (``because 1.2``, ``root cause R1``), what is wrong."""

    level: Level
    where: str
    message: str

    def __str__(self) -> str:
        return redact_text(f"{self.level.value}: {self.where}: {self.message}")


# A person or role as the subject, then a human act or omission. Deliberately small:
# "someone deployed", "the engineer forgot", "Alice didn't check" match; "the server
# didn't answer" does not, because "server" is not a person. A bare capitalised word
# counts as a name only with the acts no system does ("Migration failed to run" is fine).
_ROLES = (
    r"(?:the |an? |our |their )?(?:engineers?|developers?|devs?|operators?|admins?|"
    r"administrators?|reviewers?|testers?|qa|sre|on-?call(?: engineer)?|team|person|"
    r"author|maintainers?|release manager|someone|somebody|nobody|no one|he|she|they|we|i)"
)
_ROLE_ACTS = (
    r"(?:forgot|forgets|neglected|overlooked|missed|didn'?t|did not|failed to|mistyped|"
    r"misconfigured|ignored|skipped|was careless|were careless|should have|made a mistake|"
    r"deployed|pushed|merged|broke|typed|deleted|changed)"
)
_NAME_ACTS = (
    r"(?:forgot|forgets|neglected|overlooked|mistyped|was careless|made a mistake|should have)"
)
_ROLE_STOP = re.compile(rf"^\s*{_ROLES}\s+{_ROLE_ACTS}\b", re.IGNORECASE)
_NAME_STOP = re.compile(rf"^\s*[A-Z][a-z]+\s+{_NAME_ACTS}\b")


def blames_a_person(text: str) -> bool:
    """True when ``text`` starts with a person or role doing or omitting something.

    The heuristic: the sentence's subject is a person or role (``the
    engineer``, ``someone``, ``we``...) and its verb a human act or omission
    (``forgot``, ``didn't``, ``deployed``...), or the subject is a capitalised
    name and the verb one no system does (``Alice forgot``). A chain that ends
    there should ask once more why the process or system let it happen.
    """
    return bool(_ROLE_STOP.match(text) or _NAME_STOP.match(text))


def _last_rows(rows: pd.DataFrame) -> pd.DataFrame:
    if "rerun" in rows and "test_id" in rows:
        return rows.sort_values("rerun", kind="stable").drop_duplicates("test_id", keep="last")
    return rows


def contradiction(evidence: Evidence, rows: pd.DataFrame) -> str | None:
    """Why the stored ``rows`` contradict what ``evidence`` is cited for, or None.

    A probe stage cited as failed that passed (``stage_ok``/``ok`` true on
    every row), a test cited as failed whose last execution passed, and the
    reverse for a claim that something passed.
    """
    if evidence.claim is None or rows.empty:
        return None
    if "outcome" in rows:
        outcomes = _last_rows(rows)["outcome"].astype(str)
        passed = outcomes.isin(["passed", "xpassed"])
        what = "test " + ", ".join(dict.fromkeys(_last_rows(rows).get("test_id", []).astype(str)))
    else:
        column = "stage_ok" if "stage_ok" in rows else "ok" if "ok" in rows else None
        if column is None:
            return None
        passed = rows[column].fillna(False).astype(bool)
        what = f"probe stage {evidence.stage}" if evidence.stage else "probe"
    if evidence.claim is Claim.FAILED and passed.all():
        return f"cites {what} as failed, but it passed there"
    if evidence.claim is Claim.PASSED and not passed.all():
        return f"cites {what} as passed, but it failed there"
    return None


def _evidence_problems(because: Because, store: Store) -> list[Problem]:
    out = []
    for n, ev in enumerate(because.evidence, 1):
        where = f"because {because.address}, evidence {n}"
        res = resolve(ev.ref, store)
        if res.state is RefState.GONE:
            out.append(Problem(Level.WARNING, where, f"{ev.ref}: {res.message}"))
        elif res.found and res.rows is not None:
            why = contradiction(ev, res.rows)
            if why:
                out.append(
                    Problem(
                        Level.WARNING,
                        where,
                        f"{ev.ref} {why}: the evidence contradicts the because",
                    )
                )
    return out


def check(analysis: Analysis, store: Store | None = None) -> list[Problem]:
    """The problems of ``analysis``, errors first; with ``store``, its evidence is looked up too."""
    out: list[Problem] = []
    if store is not None and not store.root.is_dir():
        message = f"no store at {store.root}: the evidence was not looked up"
        out.append(Problem(Level.WARNING, "evidence", message))
        store = None
    steps = {b.address: b for b in analysis.steps()}
    for b in steps.values():
        where = f"because {b.address}"
        if b.status is StepStatus.CONFIRMED and not b.evidence:
            out.append(
                Problem(Level.ERROR, where, "confirmed without evidence: attach what shows it")
            )
        if b.status is not StepStatus.REFUTED and b.chain_end() and blames_a_person(b.text):
            out.append(
                Problem(
                    Level.WARNING,
                    where,
                    "the chain stops at a person; ask why the process or system let it happen",
                )
            )
        if store is not None:
            out += _evidence_problems(b, store)
    measured = {a for c in analysis.countermeasures for a in c.addresses}
    known = {c.id for _, c in analysis.causes()}
    for role, cause in analysis.causes():
        where = f"{role.value.replace('_', ' ')} {cause.id}"
        if cause.step and cause.step not in steps:
            out.append(
                Problem(Level.ERROR, where, f"names step {cause.step}, which does not exist")
            )
        step = steps.get(cause.step or "")
        unconfirmed = step is not None and step.status is not StepStatus.CONFIRMED
        if role is CausalRole.ROOT_CAUSE and step is not None and unconfirmed:
            message = f"rests on because {step.address}, which is {step.status.value}"
            out.append(Problem(Level.WARNING, where, message + ", not confirmed"))
        if role is CausalRole.ROOT_CAUSE:
            if cause.id not in measured:
                out.append(Problem(Level.ERROR, where, "has no countermeasure"))
            if blames_a_person(cause.text):
                out.append(
                    Problem(
                        Level.WARNING, where, "names a person; a root cause is a process or system"
                    )
                )
    trigger = analysis.trigger
    if trigger is not None:
        same = [
            c.id
            for c in analysis.root_causes
            if (trigger.step and c.step == trigger.step)
            or " ".join(c.text.lower().split()) == " ".join(trigger.text.lower().split())
        ]
        if same:
            out.append(
                Problem(
                    Level.WARNING,
                    f"trigger {trigger.id}",
                    f"is also recorded as root cause {', '.join(same)}: the trigger set it off, "
                    "the root cause let it do harm",
                )
            )
    for c in analysis.countermeasures:
        where = f"countermeasure {c.id}"
        for cause in c.addresses:
            if cause not in known:
                out.append(Problem(Level.ERROR, where, f"addresses {cause}, which is not a cause"))
        if not c.verify_tests and not c.verify_probes:
            out.append(
                Problem(Level.WARNING, where, "names no test or probe that will show it worked")
            )
    return sorted(out, key=lambda p: p.level is not Level.ERROR)
