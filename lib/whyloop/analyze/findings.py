"""Findings: what probes, reruns, tests and logs say went wrong, in plain words.

Pure. :func:`derive_findings` turns each *subject* (a failed probe, or the
failed tests sharing one failure signature) into
:class:`~whyloop.analyze.evidence.Evidence`, takes the log lines of its time
window, and lets the first matching rule of
:data:`~whyloop.analyze.rules.RULES` explain it. Findings of the same
rule are merged, so a probe and the tests it explains make one finding::

    from whyloop.analyze.findings import derive_findings, findings_frame

    findings = derive_findings([result], logs=whyloop.read_logs("backend.log"), tests=tests)
    for f in findings:
        print(f.stage, f.confidence, f.likely_cause)
    store.write("staging", 7, findings=findings_frame(findings), replace=True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from whyloop.analyze.evidence import (
    LOG_SLACK_S,
    Evidence,
    cite,
    in_window,
    intermittent_tests,
    log_search_frame,
    probe_evidence,
    probe_window,
    search,
    test_evidence,
    tests_window,
)
from whyloop.analyze.flaky import failures_to_rerun
from whyloop.analyze.rules import RULES, Confidence, Rule
from whyloop.redact import redact_text
from whyloop.results import ProbeResult, Stage

if TYPE_CHECKING:
    from whyloop.store import Store

__all__ = [
    "FINDING_COLUMNS",
    "RULES",
    "Confidence",
    "Finding",
    "Rule",
    "derive_findings",
    "explain_iteration",
    "findings_frame",
    "format_findings",
]

#: columns of :func:`findings_frame`
FINDING_COLUMNS: tuple[str, ...] = (
    "rule",
    "stage",
    "confidence",
    "observation",
    "likely_cause",
    "evidence",
    "affected_tests",
    "subjects",
)
#: at most this many lines of evidence per finding (facts first, then log lines)
MAX_EVIDENCE = 8
MAX_LOG_LINES = 5


@dataclass
class Finding:
    """One explained problem: the stage that broke, what was seen, the likely cause, the proof."""

    stage: Stage | None
    observation: str
    likely_cause: str
    evidence: list[str] = field(default_factory=list)
    confidence: Confidence = Confidence.LOW
    affected_tests: list[str] = field(default_factory=list)
    #: the name of the rule that made it (``welcome-missing``, ``database-lock``...)
    rule: str = ""
    #: what it explains: probes ("ws probe of ...") and groups of failed tests
    subjects: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: enums as their values, text redacted."""
        return {
            "rule": self.rule,
            "stage": self.stage.value if self.stage else None,
            "confidence": self.confidence.value,
            "observation": redact_text(self.observation),
            "likely_cause": redact_text(self.likely_cause),
            "evidence": [redact_text(e) for e in self.evidence],
            "affected_tests": list(self.affected_tests),
            "subjects": [redact_text(s) for s in self.subjects],
        }


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _failed_tests(tests: pd.DataFrame | None, reruns: pd.DataFrame | None) -> pd.DataFrame:
    """The failed tests to explain: the last failing execution of each test."""
    if tests is not None and not tests.empty:
        return failures_to_rerun(tests)
    if reruns is not None and {"attempt", "message"} <= set(reruns.columns):
        failing = reruns[reruns["outcome"].astype(str).isin(["failed", "error"])]
        return failing.drop_duplicates("test_id")
    return pd.DataFrame(columns=["test_id", "message"])


def _groups(failed: pd.DataFrame) -> list[pd.DataFrame]:
    """Failed tests grouped by signature (by message when there is none), biggest first."""
    if failed.empty:
        return []
    key = failed["signature"] if "signature" in failed else failed["message"]
    key = key.fillna("").astype(str)
    key = key.where(key != "", failed["message"].fillna("").astype(str))
    groups = [g for _, g in failed.groupby(key, sort=False)]
    return sorted(groups, key=len, reverse=True)


def _matching_tests(pattern: str, failed: pd.DataFrame) -> list[str]:
    if not pattern or failed.empty:
        return []
    text = failed["message"].fillna("").astype(str)
    if "failure_type" in failed:
        text = failed["failure_type"].fillna("").astype(str) + ": " + text
    hit = search(text, pattern)
    return [str(t) for t in failed.loc[hit, "test_id"]]


def _finding(rule: Rule, ev: Evidence, affected: list[str]) -> Finding:
    values = _Fields(ev.fields())
    lines = cite(
        ev,
        rule.log_pattern,
        rule.statuses or tuple(ev.statuses),
        limit=MAX_LOG_LINES,
        warnings=rule.cite_warnings,
    )
    # "the answer was not the expected one" says less than the rule's own stage (auth...)
    generic = ev.failed_stage in (None, Stage.EXPECT)
    return Finding(
        stage=rule.stage if generic and rule.stage is not None else ev.failed_stage,
        observation=f"{ev.subject}: " + rule.observation.format_map(values),
        likely_cause=rule.likely_cause.format_map(values),
        evidence=[*ev.facts[: MAX_EVIDENCE - len(lines)], *(f"log: {line}" for line in lines)],
        confidence=rule.confidence_for(ev),
        affected_tests=affected,
        rule=rule.name,
        subjects=[ev.subject],
    )


def _first_rule(ev: Evidence, rules: Sequence[Rule]) -> Rule | None:
    return next((r for r in rules if r.when(ev)), None)


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per rule: the first (probes come first) keeps its wording, the rest add proof."""
    merged: dict[str, Finding] = {}
    for f in findings:
        first = merged.get(f.rule)
        if first is None:
            merged[f.rule] = f
            continue
        logs = [e for e in [*first.evidence, *f.evidence] if e.startswith("log: ")]
        facts = [e for e in [*first.evidence, *f.evidence] if not e.startswith("log: ")]
        keep_logs = list(dict.fromkeys(logs))[:MAX_LOG_LINES]
        first.evidence = [*list(dict.fromkeys(facts))[: MAX_EVIDENCE - len(keep_logs)], *keep_logs]
        first.affected_tests = list(dict.fromkeys([*first.affected_tests, *f.affected_tests]))
        first.subjects = list(dict.fromkeys([*first.subjects, *f.subjects]))
        if f.confidence.rank < first.confidence.rank:
            first.confidence = f.confidence
    return sorted(merged.values(), key=lambda f: f.confidence.rank)


def derive_findings(
    probes: Sequence[ProbeResult] | None = None,
    reruns: pd.DataFrame | None = None,
    logs: pd.DataFrame | None = None,
    tests: pd.DataFrame | None = None,
    *,
    rules: Sequence[Rule] = RULES,
    slack_s: float = LOG_SLACK_S,
) -> list[Finding]:
    """Explain failed probes and failed tests with the rules; return findings, surest first.

    ``probes`` are probe results (one that passed can still yield a finding
    from its auth matrix, e.g. a subprotocol that is not echoed); ``reruns`` the
    frame of :func:`~whyloop.analyze.flaky.classify_reruns` or of
    :func:`~whyloop.probes.rerun.rerun_failures` (which tests pass on a
    rerun); ``logs`` a frame of :func:`whyloop.read_logs`; ``tests`` a tests
    frame of the same run. Log lines are taken from each subject's time
    window ± ``slack_s`` (a test's start/stop; a probe's when its details
    carry a start time, else the whole log), at most five per finding.
    A finding lists the failed tests it explains in ``affected_tests``.
    """
    searchable = log_search_frame(logs)
    intermittent = intermittent_tests(reruns)
    failed = _failed_tests(tests, reruns)
    by_name = {r.name: r for r in rules}
    found: list[Finding] = []
    for probe in probes or []:
        # a probe that passed may still have found trouble in its auth matrix
        ev = probe_evidence(probe)
        ev.logs = in_window(searchable, probe_window(probe), slack_s)
        rule = _first_rule(ev, rules)
        if rule is not None:
            found.append(_finding(rule, ev, []))
    # each group of tests failing one way gets a rule; the groups of one rule make one subject
    explained: dict[str, list[pd.DataFrame]] = {}
    for group in _groups(failed):
        ev = test_evidence(group, intermittent)
        ev.logs = in_window(searchable, tests_window(group), slack_s)
        rule = _first_rule(ev, rules)
        if rule is not None:
            explained.setdefault(rule.name, []).append(group)
    for name, groups in explained.items():
        rows = pd.concat(groups) if len(groups) > 1 else groups[0]
        ev = test_evidence(rows, intermittent)
        ev.logs = in_window(searchable, tests_window(rows), slack_s)
        found.append(_finding(by_name[name], ev, list(ev.test_ids)))
    findings = _merge(found)
    # tests no rule explained on their own join the findings whose test_pattern they match
    taken = {t for groups in explained.values() for g in groups for t in g["test_id"]}
    loose = failed[~failed["test_id"].isin(taken)] if len(failed) else failed
    for f in findings:
        extra = _matching_tests(by_name[f.rule].test_pattern, loose)
        f.affected_tests = list(dict.fromkeys([*f.affected_tests, *extra]))
    return findings


def findings_frame(findings: Sequence[Finding]) -> pd.DataFrame:
    """The findings as a frame for the store (table ``findings``): one row each, lists kept."""
    rows = [f.to_dict() for f in findings]
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def format_findings(
    findings: Sequence[Finding], *, max_tests: int = 6, max_evidence: int = 6
) -> str:
    """Findings as text for a person: confidence, stage, cause, the tests they explain, evidence."""
    if not findings:
        return "no findings: nothing failed, or no rule explains what did"
    lines: list[str] = []
    for n, f in enumerate(findings, 1):
        d = f.to_dict()
        lines += ["", f"{n}. [{d['confidence']}] stage {d['stage'] or '-'}: {d['likely_cause']}"]
        lines.append(f"   seen: {d['observation']}")
        if d["affected_tests"]:
            tests = d["affected_tests"]
            more = f", and {len(tests) - max_tests} more" if len(tests) > max_tests else ""
            shown = ", ".join(tests[:max_tests])
            lines.append(f"   explains {len(tests)} failed tests: {shown}{more}")
        lines += [f"   - {line[:160]}" for line in d["evidence"][:max_evidence]]
    return redact_text("\n".join(lines).lstrip("\n"))


def _table(store: Store, loop: str, iteration: str, name: str) -> pd.DataFrame | None:
    if name not in store.manifest(loop, iteration)["tables"]:
        return None
    return store.read(loop, iteration, name)


def explain_iteration(
    store: Store, loop: str, iteration: str | None = None
) -> tuple[str, list[Finding]]:
    """Derive the findings of a stored iteration (default: the latest) and save them in it.

    Reads the iteration's ``tests`` and, when present, ``logs`` and
    ``rerun_verdicts``; writes the ``findings`` table, replacing any it had.
    Returns the iteration's name and the findings. StoreError when the loop,
    iteration or tests are missing.
    """
    iteration = store.resolve(loop, iteration)
    findings = derive_findings(
        tests=store.read(loop, iteration, "tests"),
        logs=_table(store, loop, iteration, "logs"),
        reruns=_table(store, loop, iteration, "rerun_verdicts"),
    )
    # findings are derived from the tables beside them: deriving again replaces them
    store.write(loop, iteration, replace=True, findings=findings_frame(findings))
    return iteration, findings
