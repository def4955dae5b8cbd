"""Checks of a postmortem: what fails a review, and what a reviewer should look at twice.

Pure (reads the store when one is given). :func:`check` returns
:class:`~whyloop.whys.check.Problem` objects, errors first, as the five-whys
check does:

- **error**: an action item has no owner; a timeline entry cites no
  evidence; the root cause is the trigger (the same text or the same step:
  the trigger set it off, the root cause let it do harm); an action item
  addresses a cause the postmortem does not have.
- **warning**: a cause or lesson that stops at a person
  (:func:`whyloop.whys.check.blames_a_person`: a postmortem is blameless); no
  root cause recorded; a root cause no action item addresses; the trigger is
  unknown; an action item that names no test or probe to verify it; once in
  review or final, an action item with no due date; with a store, an evidence
  reference whose target is gone.

``whyloop postmortem check`` prints one line per problem and exits 1 on any error.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from whyloop.errors import StoreError, WhysError
from whyloop.postmortem.model import Postmortem, Status
from whyloop.whys.check import Level, Problem, blames_a_person
from whyloop.whys.refs import RefState, Resolution, StoreRef, resolve

if TYPE_CHECKING:
    from whyloop.store import Store

__all__ = ["Level", "Problem", "check", "resolve_ref"]

_PERSON = "names a person as the cause; ask why the process or system let it happen (blameless)"


def resolve_ref(ref: str, store: Store) -> Resolution:
    """Look a postmortem's evidence reference up: ``store:L/I/manifest#meta=KEY`` too.

    Every other reference goes to :func:`whyloop.whys.refs.resolve`.
    """
    if not str(ref).startswith("store:"):
        return resolve(ref, store)
    parsed = StoreRef.parse(ref)
    if parsed.table != "manifest":
        return resolve(ref, store)
    try:
        manifest = store.manifest(parsed.loop, parsed.iteration)
    except StoreError as exc:
        return Resolution(str(ref), RefState.GONE, f"gone: {exc}")
    key = parsed.where.get("meta")
    meta = manifest.get("meta") or {}
    if key is not None and key not in meta:
        return Resolution(str(ref), RefState.GONE, f"gone: the manifest records no meta {key}")
    shown = json.dumps(meta.get(key) if key else meta, default=str)
    return Resolution(str(ref), RefState.FOUND, f"found: meta {key or ''} = {shown}")


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()).rstrip(".") == " ".join(b.lower().split()).rstrip(".")


def _refs(pm: Postmortem) -> list[tuple[str, str]]:
    out = [(f"{role} {c.id}", r) for role, c in pm.causes() for r in c.evidence]
    out += [("detection", r) for r in pm.detection.evidence]
    out += [(f"timeline entry {n}", r) for n, e in enumerate(pm.timeline, 1) for r in e.evidence]
    return out


def _ref_problems(pm: Postmortem, store: Store) -> list[Problem]:
    out = []
    looked: dict[str, Resolution] = {}
    for where, ref in _refs(pm):
        if ref not in looked:
            try:
                looked[ref] = resolve_ref(ref, store)
            except WhysError as exc:
                out.append(Problem(Level.WARNING, where, f"{ref}: {exc}"))
                continue
        if looked[ref].state is RefState.GONE:
            out.append(Problem(Level.WARNING, where, f"{ref}: {looked[ref].message}"))
    return out


def _cause_problems(pm: Postmortem) -> list[Problem]:
    out = []
    trigger = pm.trigger
    if trigger is None or trigger.text.strip().lower().startswith("unknown"):
        out.append(Problem(Level.WARNING, "trigger", "is unknown: say what set the failure off"))
    if not pm.root_causes:
        out.append(Problem(Level.WARNING, "root causes", "none recorded yet"))
    for root in pm.root_causes:
        if trigger is not None and (
            _same(root.text, trigger.text)
            or (root.step and root.step == trigger.step and root.analysis == trigger.analysis)
        ):
            message = (
                f"is the trigger {trigger.id}: the trigger set the failure off, the root cause "
                "let it do harm; keep them apart"
            )
            out.append(Problem(Level.ERROR, f"root cause {root.id}", message))
    for role, cause in pm.causes():
        if blames_a_person(cause.text):
            out.append(Problem(Level.WARNING, f"{role} {cause.id}", _PERSON))
    for n, lesson in enumerate(pm.lessons.went_wrong, 1):
        if blames_a_person(lesson):
            out.append(Problem(Level.WARNING, f"lesson went_wrong {n}", _PERSON))
    return out


def _action_problems(pm: Postmortem) -> list[Problem]:
    out = []
    causes = {c.id for _, c in pm.causes()}
    acted = {x for a in pm.action_items for x in a.addresses}
    for root in pm.root_causes:
        if root.id not in acted:
            out.append(
                Problem(Level.WARNING, f"root cause {root.id}", "no action item addresses it")
            )
    for a in pm.action_items:
        where = f"action item {a.id}"
        if not a.owner.strip():
            out.append(Problem(Level.ERROR, where, "has no owner: name who will do it"))
        for x in a.addresses:
            if x not in causes:
                out.append(Problem(Level.ERROR, where, f"addresses {x}, which is not a cause here"))
        if not a.verify_tests and not a.verify_probes:
            message = "names no test or probe that will show it worked"
            out.append(Problem(Level.WARNING, where, message))
        if a.due is None and pm.status is not Status.DRAFT:
            out.append(Problem(Level.WARNING, where, f"has no due date ({pm.status.value})"))
    return out


def check(postmortem: Postmortem, store: Store | None = None) -> list[Problem]:
    """The problems of ``postmortem``, errors first; with ``store``, its evidence is looked up too."""
    pm = postmortem
    out = _cause_problems(pm) + _action_problems(pm)
    for n, entry in enumerate(pm.timeline, 1):
        if not [r for r in entry.evidence if r.strip()]:
            out.append(
                Problem(
                    Level.ERROR,
                    f"timeline entry {n}",
                    f"({entry.at or 'no time'}, {entry.kind.value}) cites no evidence: "
                    "link the record that shows it",
                )
            )
    if store is not None:
        if not store.root.is_dir():
            message = f"no store at {store.root}: the evidence was not looked up"
            out.append(Problem(Level.WARNING, "evidence", message))
        else:
            out += _ref_problems(pm, store)
    return sorted(out, key=lambda p: p.level is not Level.ERROR)
