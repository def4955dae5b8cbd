"""The sections of the iteration report: one iteration's tables in, small frames and Markdown out.

Pure (no network, subprocess or notebook code; files only through the store,
the result and log readers, and the YAML files a caller names).
:func:`load_iteration` gathers one iteration into an :class:`IterationData`;
each other function returns what one section of
``notebooks/iteration_report.ipynb`` shows. A section whose data is missing
returns a one-line string that says so, never an invented figure.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from whyloop.analyze import (
    LoopVerdict,
    cluster_failures,
    cluster_logs,
    compare_iterations,
    correlate_logs,
    derive_findings,
    findings_frame,
    flakiness,
    load_criteria,
    loop_verdict,
    summarize_tests,
    template_diff,
    template_table,
)
from whyloop.analyze.clusters import iteration_key, last_runs
from whyloop.errors import ConfigError, ReportError
from whyloop.ingest.logs import read_logs
from whyloop.pull import read_tests
from whyloop.redact import redact_frame, redact_text
from whyloop.report.deployment import deployment
from whyloop.store import Store
from whyloop.whys.files import load as load_whys
from whyloop.whys.model import Analysis
from whyloop.whys.render import to_markdown

__all__ = [
    "TABLES",
    "IterationData",
    "deployment",
    "failure_clusters",
    "flakiness_table",
    "header",
    "impact",
    "load_iteration",
    "log_evidence",
    "next_actions",
    "parse_target",
    "probe_findings",
    "results_by_category",
    "sla_table",
    "stage_timings",
    "template_changes",
    "trend",
    "verdict",
    "whys_for",
    "whys_markdown",
    "whys_section",
]

#: the tables of an iteration the report reads, each optional
TABLES = ("tests", "logs", "probes", "rerun_verdicts", "findings", "templates", "health")
_FAILED = ("failed", "error")


@dataclass
class IterationData:
    """One iteration's tables (None when the iteration does not hold one) and its loop's history.

    ``health`` is what health probes observed (:mod:`whyloop.analyze.health`).

    ``history`` is the tests of every iteration up to this one, with an
    ``iteration`` column; ``previous_templates`` the template table of the
    iteration before, when it has one.
    """

    loop: str
    iteration: str
    tests: pd.DataFrame | None = None
    logs: pd.DataFrame | None = None
    probes: pd.DataFrame | None = None
    rerun_verdicts: pd.DataFrame | None = None
    findings: pd.DataFrame | None = None
    templates: pd.DataFrame | None = None
    health: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    previous: str | None = None
    previous_templates: pd.DataFrame | None = None
    #: flakiness of ``history``, judged once for the section and the metrics
    _flakiness: pd.DataFrame | None = field(default=None, repr=False)

    def tables(self) -> dict[str, pd.DataFrame | None]:
        """The iteration's own tables by name, as the store calls them."""
        return {
            "tests": self.tests,
            "logs": self.logs,
            "probes": self.probes,
            "rerun_verdicts": self.rerun_verdicts,
        }

    def history_flakiness(self) -> pd.DataFrame:
        """:func:`~whyloop.analyze.history.flakiness` of ``history`` (which must be set)."""
        if self._flakiness is None:
            self._flakiness = flakiness(self.history)
        return self._flakiness


def load_iteration(
    store: Store | str | Path,
    loop: str,
    iteration: str | int | None = None,
    *,
    results: Any = None,
    logs: Any = None,
    categories: Any = None,
    probes: pd.DataFrame | None = None,
    compare_with: Sequence[str | int] | None = None,
) -> IterationData:
    """Read one iteration of ``loop`` (default: the latest) with its history.

    The history is every earlier iteration, or only those in ``compare_with``.

    With ``results`` (test result paths) or ``logs`` (log sources), they are
    read first and saved, with their templates and findings, as a new
    iteration (or into ``iteration``: a table it holds already is refused);
    ``probes`` (a probe suite's table) is saved beside them.
    """
    store = store if isinstance(store, Store) else Store(Path(store))
    if results or logs:  # read, then saved with their templates and findings
        tests = read_tests(results, categories=categories) if results else None
        records = read_logs(logs) if logs else None
        tables = {"tests": tests, "logs": records, "probes": probes}
        if records is not None:
            tables["templates"] = template_table(records)
        tables["findings"] = findings_frame(derive_findings([], logs=records, tests=tests))
        sources = [str(s) for s in (results, logs) if isinstance(s, str | Path)]
        tables = {k: v for k, v in tables.items() if v is not None}
        iteration = store.write(loop, iteration, sources=sources, **tables).name
    elif probes is not None:  # a probe suite run now: its table joins the iteration reported
        iteration = store.write(loop, iteration or store.latest(loop), probes=probes).name
    names = store.iterations(loop)
    if not names:
        raise ReportError(f"loop {loop!r} has no iteration in {store.root}")
    name = names[-1] if iteration is None else str(iteration)
    if name not in names and name.isdigit():  # "007" (a report folder's number) is iteration 7
        name = next((n for n in names if n.isdigit() and int(n) == int(name)), name)
    if name not in names:
        raise ReportError(f"loop {loop!r} has no iteration {name!r} (has: {', '.join(names)})")
    held = store.manifest(loop, name)["tables"]
    data = IterationData(loop, name, **{t: store.read(loop, name, t) for t in TABLES if t in held})
    earlier = [n for n in names if iteration_key(n) <= iteration_key(name)]
    if compare_with is not None:
        wanted = {str(n) for n in compare_with} | {name}
        earlier = [n for n in earlier if n in wanted]
    frames = []
    for n in earlier:
        if "tests" in store.manifest(loop, n)["tables"]:
            frames.append(store.read(loop, n, "tests").assign(iteration=n))
    if frames:
        data.history = pd.concat(frames, ignore_index=True)
    before = [n for n in earlier if n != name and "tests" in store.manifest(loop, n)["tables"]]
    if before:
        data.previous = before[-1]
        if "templates" in store.manifest(loop, data.previous)["tables"]:
            data.previous_templates = store.read(loop, data.previous, "templates")
    return data


def header(
    data: IterationData, result: LoopVerdict | None, *, environment: str, target: str
) -> str:
    """The report's first lines: loop, iteration, environment, target and the loop status."""
    status = result.status.value.upper() if result is not None else "unknown (no verdict)"
    lines = [
        f"### {data.loop}: iteration {data.iteration}",
        "",
        f"- **environment**: {redact_text(environment) if environment else 'not given'}",
        f"- **loop target**: {redact_text(str(target)) if target else 'not given'}",
        f"- **loop status**: {status}",
    ]
    if data.tests is not None:
        s = summarize_tests(data.tests)
        rate = "n/a" if s["pass_rate"] is None else f"{s['pass_rate']:.0%}"
        lines.append(f"- **tests**: {s['total']}, {s['passed']} passed, pass rate {rate}")
    else:
        lines.append("- **tests**: this iteration holds no test results")
    return "\n".join(lines)


def results_by_category(data: IterationData) -> pd.DataFrame | str:
    """Passed, failed, errors, skipped, total and pass rate per category (summarize_tests' figures)."""
    if data.tests is None or data.tests.empty:
        return "this iteration holds no test results"
    by = summarize_tests(data.tests)["by_category"]
    cols = ["passed", "failed", "errors", "skipped", "total", "pass_rate"]
    frame = pd.DataFrame.from_dict(by, orient="index").reindex(columns=cols)
    return frame.rename_axis("category").reset_index()


def failure_clusters(data: IterationData) -> pd.DataFrame | str:
    """This iteration's failures grouped by signature, largest first, with a representative message."""
    if data.tests is None:
        return "this iteration holds no test results"
    clusters = cluster_failures(data.tests)
    if clusters.empty:
        return "no test failed in this iteration"
    cols = ["cluster_id", "size", "tests", "categories", "representative"]
    return clusters[cols].sort_values("size", ascending=False, kind="stable").reset_index(drop=True)


def flakiness_table(data: IterationData) -> pd.DataFrame | str:
    """Reruns of this iteration (when it holds them) and the tests history calls flaky or fixed."""
    parts = []
    if data.rerun_verdicts is not None and not data.rerun_verdicts.empty:
        r = data.rerun_verdicts
        keep = [c for c in ("test_id", "verdict", "reason", "pass_fraction") if c in r]
        parts.append(r[keep].assign(source="reruns"))
    if data.history is not None and data.history["iteration"].nunique() > 1:
        h = data.history_flakiness()
        h = h[h["verdict"].astype(str).isin(["flaky", "fixed"])]
        parts.append(h[["test_id", "verdict", "rule", "side"]].assign(source="history"))
    if not parts:
        return "no reruns in this iteration and no earlier iteration to judge flakiness from"
    frame = pd.concat(parts, ignore_index=True)
    if frame.empty:
        return "no test was flaky: reruns and history agree with the first run"
    frame["verdict"] = frame["verdict"].astype(str)
    return frame


def _suite_rows(data: IterationData) -> pd.DataFrame | None:
    p = data.probes
    return p if p is not None and "check" in p and not p.empty else None


def sla_table(data: IterationData) -> pd.DataFrame | str:
    """The probe suite's checks: load, rate limiting, error handling, resilience, against the SLA."""
    rows = _suite_rows(data)
    if rows is None:
        return "no probe suite was run in this iteration"
    cols = [c for c in ("probe", "check", "ok", "metric", "value", "sla", "diagnosis") if c in rows]
    return rows[cols].reset_index(drop=True)


def probe_findings(data: IterationData) -> pd.DataFrame | str:
    """The findings (stage, likely cause, confidence) and every failed probe stage."""
    parts = []
    if data.findings is not None and not data.findings.empty:
        f = data.findings
        parts.append(f[["stage", "rule", "confidence", "likely_cause"]].assign(source="findings"))
    p = data.probes
    if p is not None and "failed_stage" in p:
        failed = p[p["failed_stage"].notna() & ~p["ok"].fillna(False).astype(bool)]
        who = "probe" if "probe" in failed else "target"
        rows = failed.drop_duplicates([who, "failed_stage"])
        cause = rows.get("diagnosis", "")
        got = {"stage": rows["failed_stage"].astype(str), "rule": rows[who].astype(str)}
        parts.append(pd.DataFrame(got).assign(confidence="", likely_cause=cause, source="probes"))
    if not parts:
        return "no findings and no probe results in this iteration"
    return pd.concat(parts, ignore_index=True)


def stage_timings(data: IterationData) -> pd.DataFrame | str:
    """Time per probe stage (WebSocket probe rows) or per check (suite rows): ``stage, ms, ok``."""
    p = data.probes
    if p is None or p.empty:
        return "no probe was run in this iteration"
    if {"stage", "ms"} <= set(p.columns):
        ok = p["stage_ok"] if "stage_ok" in p else p["ok"]
        frame = pd.DataFrame({"stage": p["stage"].astype(str), "ms": p["ms"], "ok": ok})
    elif "duration_ms" in p:
        label = p["probe"].astype(str) + " " + p["check"].astype(str)
        frame = pd.DataFrame({"stage": label, "ms": p["duration_ms"], "ok": p["ok"]})
    else:
        return "the probes table carries no timings"
    frame = frame.dropna(subset=["ms"])
    frame["ok"] = frame["ok"].fillna(False).astype(bool)
    return frame.reset_index(drop=True) if len(frame) else "the probes table carries no timings"


def log_evidence(data: IterationData, *, top: int = 3) -> pd.DataFrame | str:
    """The ``top`` log records most telling for each failure cluster, with the reasons for each."""
    if data.tests is None or data.logs is None:
        return "no log evidence: this iteration lacks " + (
            "test results" if data.tests is None else "logs"
        )
    near = correlate_logs(data.tests, data.logs)
    if near.empty:
        return "no log record lies near a failure or shares an id with one"
    cols = ["cluster_id", "rank", "level", "service", "message", "reasons"]
    return cluster_logs(near, top=top)[cols]


def template_changes(data: IterationData) -> pd.DataFrame | str:
    """Log templates new, gone, more or fewer since the previous iteration."""
    if data.templates is None:
        return "this iteration holds no log templates"
    if data.previous_templates is None:
        return "no earlier iteration with log templates to compare with"
    diff = template_diff(data.templates, data.previous_templates)
    if diff.empty:
        return f"the log templates are as in iteration {data.previous}"
    return diff


def whys_section(loop: str, iteration: str, whys_dir: str | Path | None) -> list[Analysis]:
    """The five-whys analyses under ``whys_dir/<loop>/`` whose iterations include this one."""
    if not whys_dir:
        return []
    base = Path(whys_dir) / loop
    found = [load_whys(p) for p in sorted(base.glob("*.yaml"))] if base.is_dir() else []
    return [a for a in found if str(iteration) in [str(i) for i in a.iterations]]


def whys_markdown(analyses: Sequence[Analysis]) -> str:
    """Each analysis as Markdown, or a line saying there is none."""
    if not analyses:
        return "no five-whys analysis names this iteration"
    return "\n\n".join(to_markdown(a) for a in analyses)


def whys_for(analyses: Sequence[Analysis]) -> list[dict[str, Any]]:
    """The analyses as the verdict reads them: ``id, title, open, has_countermeasure``.

    An analysis is open until every one of its countermeasures is verified.
    """
    return [
        {
            "id": a.id,
            "title": a.title,
            "open": not a.countermeasures
            or not all(c.verified is not None and c.verified.ok for c in a.countermeasures),
            "has_countermeasure": bool(a.countermeasures),
        }
        for a in analyses
    ]


def impact(data: IterationData, mapping: str | Path | Sequence[dict] | None) -> pd.DataFrame | str:
    """Business impact of this iteration's failures from a mapping, first match wins.

    The mapping (YAML list): ``- {category: WebSocket, risk: high, affects:
    "live chat"}`` or ``- {test: "*payment*", risk: ..., affects: ...}``.
    """
    if not mapping:
        return "no impact mapping given"
    if isinstance(mapping, str | Path):
        try:
            rules = yaml.safe_load(Path(mapping).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the impact mapping: {exc}", path=str(mapping)) from None
    else:
        rules = list(mapping)
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise ConfigError("an impact mapping is a list of {category|test, risk, affects}")
    if data.tests is None:
        return "this iteration holds no test results"
    last = last_runs(data.tests)
    failed = last[last["outcome"].astype(str).isin(_FAILED)]
    if failed.empty:
        return "no test failed: nothing is affected"
    hits: dict[int, list[str]] = {}
    unmapped = []
    for row in failed[["test_id", "category"]].astype(str).itertuples(index=False):
        for i, r in enumerate(rules):
            if ("category" in r and r["category"] == row.category) or (
                "test" in r and fnmatch.fnmatchcase(row.test_id, str(r["test"]))
            ):
                hits.setdefault(i, []).append(row.test_id)
                break
        else:
            unmapped.append(row.test_id)
    out = [
        (r.get("category") or r.get("test"), r.get("risk", "not given"), r.get("affects", ""), t)
        for r, t in ((rules[i], t) for i, t in sorted(hits.items()))
    ]
    if unmapped:
        out.append(("(no rule)", "unknown: the mapping does not cover these", "", unmapped))
    frame = pd.DataFrame(out, columns=["match", "risk", "affects", "tests"])
    return frame.assign(failing=frame["tests"].map(len))


def trend(data: IterationData) -> pd.DataFrame | str:
    """Per iteration up to this one: total, passed, failed, pass rate, new failures and fixed."""
    h = data.history
    if h is None:
        return "no iteration of this loop holds test results"
    names = sorted(h["iteration"].astype(str).unique(), key=iteration_key)
    rows = []
    for i, name in enumerate(names):
        current = h[h["iteration"] == name].drop(columns="iteration")
        s = summarize_tests(current)
        row = {"iteration": name, "total": s["total"], "passed": s["passed"]}
        row.update(failed=s["failed"] + s["errors"], pass_rate=s["pass_rate"])
        if i:
            diff = compare_iterations(h[h["iteration"].isin(names[:i])], current)
            row.update(new_failures=len(diff.new_failures), fixed=len(diff.fixed))
        else:
            row.update(new_failures=None, fixed=None)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame[["new_failures", "fixed"]] = frame[["new_failures", "fixed"]].astype("Int64")
    return frame


def next_actions(data: IterationData, analyses: Sequence[Analysis]) -> pd.DataFrame | str:
    """What to do next: failure clusters no why covers, and countermeasures not yet verified."""
    rows = []
    covered = {c for a in analyses for c in a.clusters} | {
        c for a in analyses for w in a.whys for c in w.clusters
    }
    clusters = failure_clusters(data)
    if isinstance(clusters, pd.DataFrame):
        for r in clusters.itertuples(index=False):
            if r.cluster_id not in covered:
                what = f"ask why: {r.size} failing test(s), e.g. {next(iter(r.tests))}"
                rows.append(("open cluster", r.cluster_id, what, str(r.representative)[:200]))
    for a in analyses:
        for c in a.countermeasures:
            if c.verified is None or not c.verified.ok:
                state = "done, not verified" if c.done else "not done"
                owner = f" (owner {c.owner}, due {c.due})" if c.owner else ""
                rows.append(("open countermeasure", f"{a.id}/{c.id}", c.action + owner, state))
    if not rows:
        return "nothing open: every cluster has a why and every countermeasure is verified"
    # a whys file is typed by people: its texts are redacted here as they are when it is saved
    return redact_frame(pd.DataFrame(rows, columns=["kind", "id", "action", "detail"]))


_TARGET = re.compile(
    r"^pass_rate\s*(?:>=|≥)?\s*(?P<value>[\d.]+)\s*(?P<pct>%?)"
    r"(?:\s+on\s+(?P<scope>category|suite)\s+(?P<name>.+))?$"
)


def parse_target(target: str | Path | Sequence[Any]) -> list[Any]:
    """The loop target as criteria: a criteria YAML file, a list, or text such as
    ``"pass_rate>=1.0 on category WebSocket; sla; no_new_signatures"`` (``100%`` works too,
    and ``>=`` may be left out: ``pass_rate 100%``, as papermill reads no ``=`` in a default)."""
    if not isinstance(target, str | Path):
        return load_criteria(list(target))
    text = str(target).strip()
    if text.endswith((".yaml", ".yml", ".json")):
        return load_criteria(Path(text))
    out: list[Any] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = _TARGET.match(part)
        if m:
            value = float(m["value"]) / (100 if m["pct"] else 1)
            item: dict[str, Any] = {"kind": "pass_rate", "target": value}
            if m["scope"]:
                item[m["scope"]] = m["name"].strip()
            out.append(item)
        elif re.fullmatch(r"[a-z_]+", part):
            out.append({"kind": part})
        else:
            raise ConfigError(f"cannot read the loop target {part!r}: e.g. 'pass_rate>=1.0'")
    if not out:
        raise ConfigError("the loop target is empty: e.g. 'pass_rate>=1.0 on category WebSocket'")
    return load_criteria(out)


def verdict(
    data: IterationData, target: str | Path | Sequence[Any], analyses: Sequence[Analysis] | None
) -> LoopVerdict:
    """CONTINUE or DONE from the loop target; ``analyses=None`` leaves whys_answered unknown."""
    return loop_verdict(
        parse_target(target),
        tests=data.history if data.history is not None else data.tests,
        suite_checks=_suite_rows(data),
        probes=data.probes,
        whys=None if analyses is None else whys_for(analyses),
    )
