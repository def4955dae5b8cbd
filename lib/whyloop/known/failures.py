"""The failure clusters of an iteration, described by the keys a past analysis is indexed by.

Pure (frames in, :class:`~whyloop.known.entries.Failure` objects out). For one
iteration's tables (``tests``; ``logs``, ``probes`` and ``rerun_verdicts``
when there) each failure cluster (:func:`whyloop.analyze.clusters.cluster_failures`)
gets its signature id and text and its tests; the stages of the findings
(:func:`whyloop.analyze.findings.derive_findings`) whose tests are in the
cluster; and the shapes of the log lines a draft would cite for it: the
findings' log lines and the records most correlated with the cluster's
failures (:func:`whyloop.analyze.correlate.cluster_logs`), as many as a
draft cites, so both sides of a comparison come from the same evidence.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from whyloop.analyze.clusters import cluster_failures
from whyloop.analyze.correlate import cluster_logs, correlate_logs
from whyloop.analyze.findings import derive_findings
from whyloop.known.entries import Failure
from whyloop.known.keys import log_key, log_message
from whyloop.whys.cite import probe_results

__all__ = ["CORRELATED", "failures_from_tables", "failures_from_tests"]

#: correlated log records per cluster taken as its window's lines (a draft cites 3 per why)
CORRELATED = 3


def failures_from_tests(
    tests: pd.DataFrame, *, loop: str = "", iteration: str = ""
) -> list[Failure]:
    """One failure per cluster of a tests frame (signature and tests only: no logs, no probes)."""
    return failures_from_tables({"tests": tests}, loop=loop, iteration=iteration)


def _correlated_keys(
    tests: pd.DataFrame, logs: pd.DataFrame | None, clusters: pd.DataFrame
) -> dict[str, list[str]]:
    if logs is None or logs.empty or clusters.empty:
        return {}
    correlated = correlate_logs(tests, logs)
    if correlated.empty:
        return {}
    of_test = {
        t: str(c)
        for c, ts in zip(clusters["cluster_id"], clusters["tests"], strict=True)
        for t in ts
    }
    correlated = correlated.assign(cluster_id=correlated["test_id"].astype(str).map(of_test))
    correlated = correlated[correlated["cluster_id"].notna()]
    if correlated.empty:
        return {}
    best = cluster_logs(correlated, top=CORRELATED)
    out: dict[str, list[str]] = {}
    for cluster, message in zip(best["cluster_id"], best["message"], strict=True):
        key = log_key(str(message or ""))
        if key:
            out.setdefault(str(cluster), []).append(key)
    return out


def failures_from_tables(
    tables: Mapping[str, pd.DataFrame | None], *, loop: str = "", iteration: str = ""
) -> list[Failure]:
    """One :class:`Failure` per failure cluster of one iteration's tables, largest first."""
    tests = tables.get("tests")
    if tests is None or tests.empty:
        return []
    if "iteration" in tests:
        tests = tests.drop(columns="iteration")  # one iteration: its clusters, not history
    clusters = cluster_failures(tests)
    if clusters.empty:
        return []
    logs = tables.get("logs")
    findings = derive_findings(
        probe_results(tables.get("probes")),
        reruns=tables.get("rerun_verdicts"),
        logs=logs,
        tests=tests,
    )
    correlated = _correlated_keys(tests, logs, clusters)
    out = []
    for row in clusters.to_dict("records"):
        ids = [str(t) for t in row["tests"]]
        cluster = str(row["cluster_id"])
        stages: list[str] = []
        keys: list[str] = []
        for f in findings:
            if not set(f.affected_tests) & set(ids):
                continue
            if f.stage is not None:
                stages.append(f.stage.value)
            keys += [log_key(log_message(e)) for e in f.evidence if str(e).startswith("log: ")]
        keys += correlated.get(cluster, [])
        out.append(
            Failure(
                clusters=[cluster],
                signature=str(row["signature_text"]),
                tests=ids,
                stages=list(dict.fromkeys(stages)),
                log_keys=[k for k in dict.fromkeys(keys) if k],
                loop=loop,
                iteration=str(iteration),
            )
        )
    return out
