"""The postmortem's figures and sentences: impact, detection, response, recovery, lessons, summary.

Pure. Every figure comes from the stored iterations and the analyses; where
they cannot tell (affected users, a time a record does not carry) the text
says ``unknown`` and why. Lessons are only those the records show (a probe
that named the stage, reruns that ruled out flakiness, a countermeasure
verified or not); where we got lucky is for the team to say.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from whyloop.postmortem.gather import LoopData, iso, ref
from whyloop.postmortem.model import Cause, Detection, Impact, IterationImpact, Lessons
from whyloop.postmortem.timeline import probe_outcomes, recovered_in, test_time
from whyloop.redact import redact_text
from whyloop.whys.model import StepStatus

__all__ = [
    "USERS_UNKNOWN",
    "cluster_rows",
    "detection",
    "duration_text",
    "impact",
    "lessons",
    "recovery",
    "response",
    "summary",
]

#: what a postmortem built from the store says of affected users
USERS_UNKNOWN = (
    "unknown: the iterations hold test results, service logs and probe results, "
    "none of which counts affected users; add the figure from production where there is one"
)


def cluster_rows(data: LoopData, clusters: list[str]) -> dict[str, pd.DataFrame]:
    """The failing last executions in ``clusters``, per iteration (iterations without any left out)."""
    out = {}
    for it in data.iterations:
        failed = data.failed(it)
        if failed.empty or "signature" not in failed:
            continue
        rows = failed[failed["signature"].astype(str).isin(clusters)]
        if not rows.empty:
            out[it] = rows
    return out


def duration_text(seconds: float) -> str:
    """``1 h 2 min 3.4 s`` (the largest units only as needed)."""
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, _ = divmod(rest, 60)
    s = seconds - 3600 * h - 60 * m
    parts = ([f"{h} h"] if h else []) + ([f"{m} min"] if h or m else [])
    return " ".join([*parts, f"{s:.1f} s"])


def _first_failure(rows: dict[str, pd.DataFrame]) -> tuple[str, dict[str, Any]] | None:
    if not rows:
        return None
    it = next(iter(rows))
    records = rows[it].to_dict("records")
    timed = [r for r in records if test_time(r) is not None]
    pick = min(timed, key=test_time) if timed else records[0]
    return it, pick


def impact(data: LoopData, clusters: list[str]) -> Impact:
    """The tests hurt in each iteration, their categories, users (unknown) and how long it lasted."""
    rows = cluster_rows(data, clusters)
    per = []
    for it in data.iterations:
        last = data.last(it)
        failing = rows.get(it)
        tests = list(dict.fromkeys(failing["test_id"].astype(str))) if failing is not None else []
        per.append(IterationImpact(it, len(last), len(tests), tests))
    categories: list[str] = []
    for frame in rows.values():
        if "category" in frame:
            categories += [str(c) for c in frame["category"].dropna() if str(c)]
    out = Impact(per, list(dict.fromkeys(categories)), USERS_UNKNOWN)
    first = _first_failure(rows)
    if first is None:
        out.started = out.ended = ""
        out.duration = "unknown: no failure of the postmortem's clusters in the chosen iterations"
        return out
    start = test_time(first[1])
    out.started = iso(start)
    ends = [
        recovered_in(data, c)
        for c in clusters
        if any(c in set(f["signature"].astype(str)) for f in rows.values())
    ]
    if any(e is None for e in ends) or not ends:
        latest = list(rows)[-1]
        out.ended = (
            f"not seen: the failures were still there in iteration {latest}, the last one chosen"
        )
        out.duration = (
            f"unknown: no recovery seen yet (the failures were still there in iteration {latest})"
        )
        return out
    times = [t for _, passed in ends for t in (test_time(r) for r in passed) if t is not None]
    back = [it for it, _ in ends]
    if start is None or not times:
        out.ended = f"iteration {back[-1]} (its tests carry no times)"
        out.duration = "unknown: the tests carry no start or stop times"
        return out
    end = max(times)
    out.ended = iso(end)
    out.duration_s = round((end - start).total_seconds(), 3)
    out.duration = (
        f"{duration_text(out.duration_s)}: from the first failing test (iteration {first[0]}) "
        f"to the last of the clusters' tests passing again (iteration {back[-1]}); the fault may "
        "have been there before the first test ran"
    )
    return out


def detection(data: LoopData, clusters: list[str]) -> Detection:
    """Where the failure was first seen: the iteration, the first failing test, the probes there."""
    rows = cluster_rows(data, clusters)
    first = _first_failure(rows)
    if first is None:
        return Detection(
            how="not seen: no failure of the postmortem's clusters in the chosen iterations"
        )
    it, row = first
    n = len(rows[it])
    at = test_time(row)
    how = f"by the tests in iteration {it}: {row['test_id']} failed first"
    how += f" at {iso(at)}" if at is not None else " (the tests carry no times)"
    if n > 1:
        how += f", {n - 1} more test{'s' if n > 2 else ''} of the same cluster{'s' if len(clusters) > 1 else ''} in that iteration"
    evidence = [ref(data.loop, it, "tests", test_id=row["test_id"])]
    failed_probes = [p for p in probe_outcomes(data, it) if p["ok"] is False]
    for p in failed_probes:
        how += f"; {p['text']} in the same iteration"
        evidence.append(p["ref"])
    how += "; the store holds no alerts, so whether an alert fired is unknown"
    return Detection(it, iso(at), redact_text(how), evidence)


def response(data: LoopData, clusters: list[str]) -> list[str]:
    """What was done once it was seen: reruns, probes, the analyses and their countermeasures."""
    out = []
    rows = cluster_rows(data, clusters)
    for it in data.iterations:
        verdicts = data.rerun_verdicts.get(it)
        if verdicts is not None and not verdicts.empty and it in rows:
            ids = set(rows[it]["test_id"].astype(str))
            mine = verdicts[verdicts["test_id"].astype(str).isin(ids)]
            if not mine.empty:
                counts = mine["verdict"].astype(str).value_counts()
                said = ", ".join(f"{v} {k}" for k, v in counts.items())
                times = int(mine["reruns"].max()) if "reruns" in mine else None
                rerun = f" ({times} time{'s' if times != 1 else ''} each at most)" if times else ""
                out.append(f"iteration {it}: {len(mine)} failing tests rerun{rerun}: {said}")
        for p in probe_outcomes(data, it):
            out.append(f"iteration {it}: {p['text']}")
    for a in data.analyses:
        statuses = [b.status for b in a.steps()]
        counts = ", ".join(f"{statuses.count(s)} {s.value}" for s in StepStatus)
        out.append(f"five whys {a.id}: {len(a.whys)} why(s); becauses: {counts}")
        for c in a.countermeasures:
            owner = c.owner or "no owner"
            out.append(f"countermeasure {c.id} of {a.id} ({owner}): {c.action}")
    return [redact_text(line) for line in out]


def recovery(data: LoopData, clusters: list[str]) -> list[str]:
    """How it ended: the iteration each cluster's tests passed again, and the verified countermeasures."""
    out = []
    rows = cluster_rows(data, clusters)
    for cluster in clusters:
        seen = [it for it, f in rows.items() if cluster in set(f["signature"].astype(str))]
        if not seen:
            continue
        back = recovered_in(data, cluster)
        if back is None:
            out.append(
                f"cluster {cluster}: still failing in iteration {seen[-1]}, not recovered yet"
            )
        else:
            out.append(
                f"cluster {cluster}: its {len(back[1])} tests all passed in iteration {back[0]}"
            )
    for a in data.analyses:
        for c in a.countermeasures:
            if c.verified is not None:
                verdict = "verified" if c.verified.ok else "NOT verified"
                out.append(
                    f"countermeasure {c.id} of {a.id} {verdict} in iteration "
                    f"{c.verified.iteration}: {c.verified.figures}"
                )
    return [redact_text(line) for line in out]


def lessons(data: LoopData, clusters: list[str], trigger: Cause, detected: Detection) -> Lessons:
    """What the records show went well or wrong; ``got_lucky`` is left for the team."""
    well: list[str] = []
    wrong: list[str] = []
    if detected.iteration:
        stages = [
            p for p in probe_outcomes(data, detected.iteration) if p["ok"] is False and p["stage"]
        ]
        for p in stages:
            well.append(
                f"the probe {p['target']} named the failed stage ({p['stage']}) in the iteration "
                f"the failure was first seen ({detected.iteration})"
            )
    rows = cluster_rows(data, clusters)
    for it, frame in rows.items():
        verdicts = data.rerun_verdicts.get(it)
        if verdicts is None or verdicts.empty:
            continue
        mine = verdicts[verdicts["test_id"].astype(str).isin(set(frame["test_id"].astype(str)))]
        consistent = int((mine["verdict"].astype(str) == "consistent").sum())
        flaky = int((mine["verdict"].astype(str) == "flaky").sum())
        if consistent and not flaky:
            well.append(
                f"reruns in iteration {it} showed the failure consistent ({consistent} of "
                f"{len(mine)} tests failed every rerun), so it was not taken for flakiness"
            )
        elif flaky:
            wrong.append(
                f"{flaky} of {len(mine)} failing tests passed on a rerun in iteration {it}: "
                "flaky, so the failure was intermittent and harder to see"
            )
    for a in data.analyses:
        for c in a.countermeasures:
            checks = [*c.verify_tests, *(f"probe {p}" for p in c.verify_probes)]
            if c.verified is not None and c.verified.ok:
                well.append(
                    f"countermeasure {c.id} of {a.id} was verified by {', '.join(checks)} in "
                    f"iteration {c.verified.iteration}"
                )
            elif c.verified is not None:
                wrong.append(
                    f"countermeasure {c.id} of {a.id} was not verified in iteration "
                    f"{c.verified.iteration}: {c.verified.figures}"
                )
            elif not checks:
                wrong.append(f"countermeasure {c.id} of {a.id} names no test or probe to verify it")
    if trigger.source.startswith("inferred"):
        wrong.append("no analysis recorded the trigger: it was inferred from the store")
    elif trigger.text.startswith("unknown"):
        wrong.append(
            "the trigger is unknown: no analysis records it and the store does not show it"
        )
    longest = max((len(v) for v in rows.values()), default=0)
    if len(rows) > 1:
        wrong.append(
            f"the failure lasted {len(rows)} iterations ({', '.join(rows)}), up to {longest} tests each"
        )
    return Lessons([redact_text(t) for t in well], [redact_text(t) for t in wrong], [])


def summary(
    data: LoopData, impact_: Impact, trigger: Cause, roots: list[Cause], recovered: list[str]
) -> str:
    """One paragraph: what failed, how much, the trigger, the root causes, how it ended."""
    hurt = [r for r in impact_.iterations if r.failed]
    if not hurt:
        return f"No failure of the chosen clusters in iterations {', '.join(data.iterations)} of loop {data.loop}."
    first = hurt[0]
    what = f" ({', '.join(impact_.categories)})" if impact_.categories else ""
    text = (
        f"In loop {data.loop}, {first.failed} of {first.total} tests{what} failed in iteration "
        f"{first.iteration}"
    )
    if len(hurt) > 1:
        text += f" and the failure lasted {len(hurt)} iterations"
    text += f". Trigger: {trigger.text.rstrip('.')}."
    if roots:
        text += " Root cause: " + " ".join(c.text.rstrip(".") + "." for c in roots)
    else:
        text += " Root cause: not recorded yet."
    if recovered:
        text += " Recovery: " + "; ".join(recovered) + "."
    return redact_text(" ".join(text.split()))
