"""The postmortem's causes and action items, taken from the five whys or, for a trigger, the store.

Pure. Root causes and contributing factors are the ones the analyses record,
renumbered across analyses (``R1, R2...``, ``F1...``) with where each came
from and the store references of its because. The trigger is, in order:

1. the trigger an analysis records (a person named it);
2. else a service revision new in the first failing iteration, next to the
   stored iteration before it (a deploy the logs show);
3. else what the first failing iteration's manifest records it was run with
   (``meta``, e.g. the sandbox's faults) and the iteration before was not;
4. else ``unknown``, saying what was looked at.

An inferred trigger says so in its ``source``: a person confirms or replaces
it. Action items are the analyses' countermeasures, typed by
:func:`action_kind`.
"""

from __future__ import annotations

import re
from typing import Any

from whyloop.postmortem.gather import LoopData, iso, ref, store_refs
from whyloop.postmortem.model import ActionItem, ActionKind, Cause
from whyloop.whys.model import Analysis, CausalRole
from whyloop.whys.model import Cause as WhysCause

__all__ = ["action_items", "action_kind", "recorded_causes", "trigger"]

_PROCESS = re.compile(
    r"\b(review|checklist|runbook|playbook|document|docs|train|training|process|policy|"
    r"handbook|on-?call|rotation|guideline|template)\b",
    re.IGNORECASE,
)
_DETECT = re.compile(
    r"\b(alert|alerts|alerting|monitor|monitoring|dashboard|detect|detection|page|paging|"
    r"probe|probes|canary|synthetic)\b",
    re.IGNORECASE,
)


def action_kind(action: str, roles: list[CausalRole]) -> ActionKind:
    """The kind of an action: PROCESS by its words, PREVENT against a root cause, else DETECT or MITIGATE.

    A rule for a first draft: the team edits the kind in the file where it
    reads otherwise.
    """
    if _PROCESS.search(action):
        return ActionKind.PROCESS
    if CausalRole.ROOT_CAUSE in roles:
        return ActionKind.PREVENT
    if _DETECT.search(action):
        return ActionKind.DETECT
    return ActionKind.MITIGATE


def _evidence(a: Analysis, cause: WhysCause) -> list[str]:
    if not cause.step:
        return []
    step = next((b for b in a.steps() if b.address == cause.step), None)
    return store_refs(step.evidence) if step is not None else []


def _status(a: Analysis, cause: WhysCause) -> str:
    step = next((b for b in a.steps() if b.address == cause.step), None) if cause.step else None
    if step is None:
        return ""
    last = step.history[-1] if step.history else None
    by = f" by {last.by}" if last is not None and last.status is step.status else ""
    return f"; because {step.address} is {step.status.value}{by}"


def recorded_causes(
    analyses: list[Analysis],
) -> tuple[list[Cause], list[Cause], dict[tuple[str, str], str]]:
    """Root causes and contributing factors of ``analyses``, renumbered; and old id -> new id."""
    roots: list[Cause] = []
    factors: list[Cause] = []
    ids: dict[tuple[str, str], str] = {}
    for a in analyses:
        for role, c in a.causes():
            if role is CausalRole.TRIGGER:
                continue
            kept, prefix = (roots, "R") if role is CausalRole.ROOT_CAUSE else (factors, "F")
            new = f"{prefix}{len(kept) + 1}"
            ids[(a.id, c.id)] = new
            kept.append(
                Cause(
                    new,
                    c.text,
                    analysis=a.id,
                    step=c.step,
                    source=f"recorded as {c.id} in {a.id}{_status(a, c)}",
                    evidence=_evidence(a, c),
                )
            )
    return roots, factors, ids


def _new_revisions(data: LoopData, it: str) -> list[tuple[str, str, int, Any]]:
    logs = data.logs.get(it)
    index = data.iterations.index(it)
    before = data.logs.get(data.iterations[index - 1]) if index else data.previous_logs
    if logs is None or before is None:
        return []
    need = {"service", "revision", "timestamp"}
    if not need <= set(logs) or not {"service", "revision"} <= set(before):
        return []
    old = set(map(tuple, before[["service", "revision"]].dropna().astype(str).to_numpy()))
    out = []
    named = logs[logs["revision"].notna() & logs["service"].notna()]
    for (service, revision), group in named.groupby(["service", "revision"], sort=True):
        if (str(service), str(revision)) not in old:
            first = group["timestamp"].idxmin()
            out.append((str(service), str(revision), int(first), logs.at[first, "timestamp"]))
    return out


def _meta_changes(data: LoopData, it: str) -> dict[str, Any]:
    index = data.iterations.index(it)
    before = data.manifests[data.iterations[index - 1]] if index else data.previous_manifest
    meta = data.manifests[it].get("meta") or {}
    old = (before or {}).get("meta") or {}
    return {k: v for k, v in meta.items() if v not in (None, "", [], {}) and old.get(k) != v}


def _text(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def trigger(data: LoopData, first_failing: str | None) -> Cause:
    """The trigger: recorded, else inferred from a deploy or the manifest, else ``unknown`` and why."""
    for a in data.analyses:
        if a.trigger is not None:
            return Cause(
                "T1",
                a.trigger.text,
                analysis=a.id,
                step=a.trigger.step,
                source=f"recorded as the trigger ({a.trigger.id}) in {a.id}",
                evidence=_evidence(a, a.trigger),
            )
    if first_failing is None:
        return Cause("T1", "unknown: no failure was seen in the chosen iterations")
    it = first_failing
    index = data.iterations.index(it)
    compared = data.iterations[index - 1] if index else data.previous
    against = f"not in iteration {compared}" if compared else "no earlier iteration to compare"
    deploys = _new_revisions(data, it)
    if deploys:
        names = "; ".join(f"{s} at revision {r}" for s, r, _, _ in deploys)
        return Cause(
            "T1",
            f"a deploy: {names}, first logged at {iso(deploys[0][3])} in iteration {it}",
            source=f"inferred: revisions in iteration {it}, {against} "
            "(no analysis records a trigger); confirm or replace it",
            evidence=[ref(data.loop, it, "logs", row=row) for _, _, row, _ in deploys],
        )
    changes = _meta_changes(data, it)
    if changes:
        said = "; ".join(f"{k} {_text(v)}" for k, v in changes.items())
        return Cause(
            "T1",
            f"iteration {it} was run with {said}",
            source=f"inferred: recorded in iteration {it}'s manifest, {against} "
            "(no analysis records a trigger); confirm or replace it",
            evidence=[ref(data.loop, it, "manifest", meta=k) for k in changes],
        )
    return Cause(
        "T1",
        f"unknown: no analysis records a trigger, and neither a new service revision nor a "
        f"change in the manifest of iteration {it} ({against}) shows one",
    )


def action_items(analyses: list[Analysis], ids: dict[tuple[str, str], str]) -> list[ActionItem]:
    """One action item per countermeasure of ``analyses``, typed, its causes renumbered."""
    out = []
    for a in analyses:
        roles = {c.id: role for role, c in a.causes()}
        for c in a.countermeasures:
            out.append(
                ActionItem(
                    f"A{len(out) + 1}",
                    action_kind(c.action, [roles[x] for x in c.addresses if x in roles]),
                    c.action,
                    owner=c.owner,
                    due=c.due,
                    addresses=[ids.get((a.id, x), x) for x in c.addresses],
                    verify_tests=list(c.verify_tests),
                    verify_probes=list(c.verify_probes),
                    source=f"{a.id} {c.id}",
                    done=c.done,
                    verified=c.verified,
                )
            )
    return out
