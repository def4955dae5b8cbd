"""Drafting: the first whys and candidate becauses of an iteration, all of them hypotheses.

:func:`draft` reads a stored iteration (``tests``; ``logs``, ``rerun_verdicts``
and ``probes`` when it has them) and proposes one why per finding of
:func:`~whyloop.analyze.findings.derive_findings` ("Why did 3 tests fail with
'TimeoutError: ...'?"), answered by the finding's likely cause with the
finding's evidence as references into the store. Failures no rule explains
get a why with no answer yet. Where the analysis modules are there it also uses:

- failure clusters (``whyloop.analyze.clusters.cluster_failures``): the whys
  are asked per cluster and name their cluster ids; without it, per failure
  signature;
- log correlation (``whyloop.analyze.correlate.correlate_logs``): the best
  ranked log lines of a why's tests are added as evidence, or proposed as a
  because when no rule explained the failure;
- the template diff against the previous iteration
  (``whyloop.analyze.templates.template_diff(previous_logs, logs)``): log
  templates new in this iteration are cited beside the log lines they match.

A part that is not there (or does not take these arguments) is left out, and
the analysis's ``notes`` say so. Every because is a hypothesis whose history
says ``whyloop draft`` proposed it: nothing is confirmed until a person does.

``known`` (:class:`KnownCause` objects, made by :func:`whyloop.known.draft`
from the analyses a team already wrote) puts a precedent first among the
becauses of the why whose clusters or tests it is about: the draft starts
from it, as a hypothesis like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from whyloop.analyze.findings import Finding, derive_findings
from whyloop.analyze.flaky import failures_to_rerun
from whyloop.redact import redact_text
from whyloop.store import Store
from whyloop.whys.cite import finding_evidence, log_evidence, probe_results
from whyloop.whys.files import DEFAULT_DIR, default_path
from whyloop.whys.model import (
    DRAFT_AUTHOR,
    Analysis,
    Because,
    Change,
    Evidence,
    EvidenceKind,
    StepStatus,
    Why,
    now,
)
from whyloop.whys.refs import StoreRef

__all__ = ["TABLES", "KnownCause", "draft", "draft_from_tables"]

#: the iteration tables a draft reads (``tests`` is required)
TABLES = ("tests", "logs", "rerun_verdicts", "probes")
MAX_CORRELATED = 3  # correlated log lines cited per why
_SIGNATURE_CHARS = 120


@dataclass(frozen=True)
class KnownCause:
    """A cause analysed before that a failure resembles: drafted as a hypothesis, never more.

    ``clusters`` and ``tests`` name the failures it is about (the why sharing
    a cluster, else a test, gets it); ``text`` is the because, ``source``
    where it comes from (``known cause demo-1-1 why 1 (high confidence)``),
    ``stage`` the stage it blamed, ``evidence`` the past analysis and the
    similarity.
    """

    text: str
    source: str
    clusters: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    stage: str | None = None
    evidence: tuple[Evidence, ...] = ()


def _add_known(whys: list[Why], known: Sequence[KnownCause], notes: list[str]) -> None:
    """Put each known cause first (after those before it) among the becauses of its why."""
    placed: dict[int, int] = {}
    for cause in known:
        target = next((w for w in whys if set(cause.clusters) & set(w.clusters)), None)
        target = target or next((w for w in whys if set(cause.tests) & set(w.tests)), None)
        if target is None:
            notes.append(
                f"{cause.source}: no failure of this iteration is in its clusters or tests"
            )
            continue
        position = placed.get(id(target), 0)
        because = _drafted(
            cause.text, stage=cause.stage, source=cause.source, evidence=list(cause.evidence)
        )
        target.becauses.insert(position, because)
        placed[id(target)] = position + 1


def _final_failures(tests: pd.DataFrame) -> pd.DataFrame:
    return failures_to_rerun(tests) if not tests.empty else tests


def _signature(failed: pd.DataFrame, test_ids: list[str]) -> str:
    rows = failed[failed["test_id"].isin(test_ids)]
    column = "signature_text" if "signature_text" in rows else "message"
    texts = [str(t) for t in rows.get(column, pd.Series(dtype=str)).fillna("") if str(t)]
    if not texts:
        return ""
    common = max(set(texts), key=texts.count)
    return redact_text(
        common[:_SIGNATURE_CHARS] + ("..." if len(common) > _SIGNATURE_CHARS else "")
    )


def _question(tests: list[str], signature: str, probes: list[str], stage: str | None) -> str:
    parts = []
    if tests:
        noun = "test" if len(tests) == 1 else "tests"
        with_sig = f" with '{signature}'" if signature else ""
        parts.append(f"did {len(tests)} {noun} fail{with_sig}")
    for subject in probes:
        at = f" at the {stage} stage" if stage else ""
        parts.append(f"did the {subject} fail{at}")
    return "Why " + (" and why ".join(parts) or "did this iteration fail") + "?"


def _drafted(text: str, *, stage: str | None, source: str, evidence: list[Evidence]) -> Because:
    return Because(
        text,
        status=StepStatus.HYPOTHESIS,
        stage=stage,
        source=source,
        evidence=evidence,
        history=[Change(now(), DRAFT_AUTHOR, StepStatus.HYPOTHESIS, f"proposed from {source}")],
    )


# -- the optional analysis modules --------------------------------------------------


def _clusters(tests: pd.DataFrame, notes: list[str]) -> pd.DataFrame | None:
    try:
        from whyloop.analyze.clusters import cluster_failures
    except ImportError:
        notes.append("whys asked per failure signature: whyloop.analyze.clusters is not available")
        return None
    clusters = cluster_failures(tests)
    return clusters if {"cluster_id", "tests"} <= set(clusters.columns) else None


def _correlation(
    tests: pd.DataFrame, logs: pd.DataFrame | None, notes: list[str]
) -> pd.DataFrame | None:
    if logs is None or logs.empty:
        return None
    try:
        from whyloop.analyze.correlate import correlate_logs
    except ImportError:
        notes.append("no correlated log lines: whyloop.analyze.correlate is not available")
        return None
    return correlate_logs(tests, logs)


def _new_templates(
    previous: pd.DataFrame | None, logs: pd.DataFrame | None, notes: list[str]
) -> list[str]:
    if logs is None or logs.empty or previous is None:
        return []
    try:
        from whyloop.analyze.templates import template_diff
    except ImportError:
        notes.append("no template diff: whyloop.analyze.templates is not available")
        return []
    try:
        diff = template_diff(previous, logs)
    except TypeError as exc:  # another signature than the one this module was written against
        notes.append(f"no template diff: template_diff(previous_logs, logs) failed: {exc}")
        return []
    if not isinstance(diff, pd.DataFrame) or "template" not in diff:
        return []
    for column in ("change", "status", "kind"):
        if column in diff:
            diff = diff[diff[column].astype(str) == "new"]
            break
    return [str(t) for t in diff["template"].dropna()]


def _template_matches(template: str, line: str) -> bool:
    parts = [re.escape(p.strip()) for p in re.split(r"<\*>|<[A-Z_]+>", template) if p.strip()]
    return bool(parts) and re.search(".*".join(parts), line) is not None


# -- building the whys --------------------------------------------------------------


def _groups(failed: pd.DataFrame, clusters: pd.DataFrame | None) -> list[tuple[str, list[str]]]:
    """(cluster id or signature, test ids) of every group of failures, biggest first."""
    if clusters is not None:
        out = []
        for row in clusters.to_dict("records"):
            tests = row["tests"]
            tests = list(tests) if not isinstance(tests, str) else [tests]
            out.append((str(row["cluster_id"]), [str(t) for t in tests]))
        return out
    if failed.empty:
        return []
    key = failed["signature"] if "signature" in failed else failed["message"]
    groups = failed.groupby(key.fillna("").astype(str), sort=False)["test_id"].agg(list)
    return sorted(
        ((str(k), [str(t) for t in v]) for k, v in groups.items()), key=lambda g: -len(g[1])
    )


def _correlated(
    correlation: pd.DataFrame | None, tests: list[str], logs: pd.DataFrame | None, ctx: dict
) -> list[Evidence]:
    if correlation is None or correlation.empty or "test_id" not in correlation:
        return []
    rows = correlation[correlation["test_id"].astype(str).isin(tests)]
    if "rank" in rows:  # each test's best first, then the higher score
        keys = ["rank", "score"] if "score" in rows else ["rank"]
        rows = rows.sort_values(keys, ascending=[True, False][: len(keys)], kind="stable")
    out: list[Evidence] = []
    for r in rows.to_dict("records"):
        stamp = pd.to_datetime(r.get("timestamp"), utc=True, errors="coerce")
        when = (
            stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            if pd.notna(stamp)
            else ""
        )
        line = " ".join(
            [
                when,
                str(r.get("service") or "-"),
                str(r.get("level") or "no-level"),
                str(r.get("message") or ""),
            ]
        )
        reasons = r.get("reasons")
        reasons = ", ".join(reasons) if isinstance(reasons, (list, tuple)) else str(reasons or "")
        score = r.get("score")
        note = "correlated" + (f", score {score:.2f}" if isinstance(score, float) else "")
        note += f": {reasons}" if reasons else ""
        ev = log_evidence(redact_text(line), logs, ctx["loop"], ctx["iteration"], note=note)
        row = r.get("log_row")  # the correlation's own pointer to the record, when it gives one
        if row is not None and pd.notna(row):
            ev.ref = str(StoreRef(ctx["loop"], ctx["iteration"], "logs", {"row": str(int(row))}))
        if ev.ref not in {e.ref for e in out}:
            out.append(ev)
        if len(out) >= MAX_CORRELATED:
            break
    return out


def _finding_why(f: Finding, failed: pd.DataFrame, ctx: dict[str, Any]) -> Why:
    tests = list(f.affected_tests)
    probes = [s for s in f.subjects if " probe of " in s]
    stage = f.stage.value if f.stage else None
    question = _question(tests, _signature(failed, tests), probes, stage)
    evidence = [Evidence(EvidenceKind.NOTE, text=f"seen: {redact_text(f.observation)}")]
    evidence += finding_evidence(
        f.evidence,
        loop=ctx["loop"],
        iteration=ctx["iteration"],
        logs=ctx["logs"],
        probes=ctx["probes"],
    )
    for template in ctx["templates"]:
        if any(
            e.kind is EvidenceKind.LOG and _template_matches(template, e.text) for e in evidence
        ):
            evidence.append(
                Evidence(EvidenceKind.TEMPLATE, text=f"new in this iteration: {template}")
            )
    source = f"finding {f.rule} ({f.confidence.value} confidence)"
    because = _drafted(redact_text(f.likely_cause), stage=stage, source=source, evidence=evidence)
    return Why(question, becauses=[because], tests=tests)


def draft_from_tables(
    tables: Mapping[str, pd.DataFrame | None],
    *,
    loop: str,
    iteration: str,
    previous_logs: pd.DataFrame | None = None,
    analysis_id: str | None = None,
    known: Sequence[KnownCause] = (),
) -> Analysis:
    """The draft analysis of one iteration from its tables (see :data:`TABLES`); pure.

    ``previous_logs`` (the last iteration's logs) feed the template diff;
    ``known`` causes analysed before come first among their why's becauses.
    """
    tests = tables.get("tests")
    if tests is None:
        tests = pd.DataFrame(columns=["test_id", "outcome", "message"])
    logs, probes = tables.get("logs"), tables.get("probes")
    notes: list[str] = []
    failed = _final_failures(tests)
    findings = derive_findings(
        probe_results(probes), reruns=tables.get("rerun_verdicts"), logs=logs, tests=tests
    )
    clusters = _clusters(tests, notes) if not failed.empty else None
    correlation = _correlation(tests, logs, notes) if not failed.empty else None
    ctx = {
        "loop": loop,
        "iteration": iteration,
        "logs": logs,
        "probes": probes,
        "templates": _new_templates(previous_logs, logs, notes),
    }
    groups = _groups(failed, clusters)
    whys: list[Why] = []
    for f in findings:
        why = _finding_why(f, failed, ctx)
        if clusters is not None:
            why.clusters = [c for c, ids in groups if set(ids) & set(why.tests)]
        why.becauses[0].evidence += [
            e
            for e in _correlated(correlation, why.tests, logs, ctx)
            if e.ref not in {x.ref for x in why.becauses[0].evidence}
        ]
        whys.append(why)
    explained = {t for w in whys for t in w.tests}
    for key, ids in groups:
        if set(ids) <= explained:
            continue
        why = Why(_question(ids, _signature(failed, ids), [], None), tests=ids)
        why.clusters = [key] if clusters is not None else []
        lines = _correlated(correlation, ids, logs, ctx)
        if lines:
            source = "log correlation"
            # no rule names a cause: the best-ranked record is the candidate, said as such
            record = lines[0].text.split(" (correlated", 1)[0]
            text = f"What the log record most correlated with these failures reports: {record}"
            why.becauses.append(_drafted(text, stage=None, source=source, evidence=lines))
        whys.append(why)
    _add_known(whys, known, notes)
    total = int(tests["test_id"].nunique()) if "test_id" in tests else 0
    failed_probes = sum(not p.ok for p in probe_results(probes))
    probe_part = f" and {failed_probes} probes failed" if failed_probes else ""
    if not findings:
        notes.append("no finding rule explained a failure" if len(failed) else "nothing failed")
    return Analysis(
        analysis_id or f"{loop}-{iteration}",
        f"{loop} iteration {iteration}: {len(failed)} failed tests",
        f"In iteration {iteration} of loop {loop}, {len(failed)} of {total} tests failed"
        f"{probe_part}.",
        loop=loop,
        iterations=[str(iteration)],
        clusters=[c for c, _ in groups] if clusters is not None else [],
        created=now(),
        notes=notes,
        whys=whys,
    )


def _table(store: Store, loop: str, iteration: str, name: str) -> pd.DataFrame | None:
    if name not in store.manifest(loop, iteration)["tables"]:
        return None
    return store.read(loop, iteration, name)


def draft(
    store: Store | str | Path,
    loop: str,
    iteration: str | int | None = None,
    *,
    root: str | Path = DEFAULT_DIR,
    analysis_id: str | None = None,
    known: Sequence[KnownCause] = (),
) -> Analysis:
    """Draft the five whys of a stored iteration (default: the latest); nothing is written.

    The analysis's ``path`` is ``root/<loop>/<id>.yaml`` (id ``<loop>-<iteration>``
    unless given); ``a.save()`` writes it, refusing to replace a file that is
    there. ``known``: causes analysed before, drafted first as hypotheses
    (see :func:`whyloop.known.draft`). StoreError when the loop, the iteration
    or its tests are missing.
    """
    store = store if isinstance(store, Store) else Store(Path(store))
    name = store.resolve(loop, None if iteration is None else str(iteration))
    tables = {t: _table(store, loop, name, t) for t in TABLES}
    if tables["tests"] is None:
        store.read(loop, name, "tests")  # raises, naming the tables the iteration has
    all_names = store.iterations(loop)
    index = all_names.index(name) if name in all_names else 0
    before = all_names[index - 1] if index > 0 else None
    previous = _table(store, loop, before, "logs") if before else None
    analysis = draft_from_tables(
        tables,
        loop=loop,
        iteration=name,
        previous_logs=previous,
        analysis_id=analysis_id,
        known=known,
    )
    analysis.path = default_path(analysis, root)
    return analysis
