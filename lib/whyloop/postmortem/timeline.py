"""The postmortem's timeline, assembled from the records themselves, each entry citing them.

Pure. :func:`timeline` gathers, for the chosen iterations of a loop:

- **deploys**: each service revision the logs name, at its first record,
  said new or the same as in the iteration before;
- **iterations**: when each was stored, with its figures;
- **tests**: the first and last failing test of each cluster, and the
  iteration where the cluster's tests all passed again;
- **probes**: each probe target's result (probe rows carry no time: the entry
  is at the time the results were stored, and says so);
- **log records**: the first and last of the telling records
  (:func:`whyloop.analyze.correlate.cluster_logs`) of each cluster;
- **analysis steps**: each because's history (proposed, confirmed, refuted)
  and each countermeasure's verification.

Every entry cites its evidence: store references
(``store:LOOP/ITERATION/TABLE#key``, as :mod:`whyloop.whys.refs` reads them),
and the analysis file (``file:PATH``) for the analysis steps. Entries are in
time order; those of the same time keep the order above.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from whyloop.analyze.correlate import correlate_logs
from whyloop.postmortem.gather import LoopData, iso, ref, store_refs, when
from whyloop.postmortem.model import Entry, EntryKind
from whyloop.redact import redact_text
from whyloop.whys.model import Analysis, StepStatus
from whyloop.whys.refs import StoreRef

__all__ = ["probe_outcomes", "recovered_in", "test_time", "timeline"]

_ORDER = list(EntryKind)
_TEXT = 160  # characters of a log message or test message an entry quotes


def _short(text: Any) -> str:
    flat = " ".join(redact_text(str(text)).split())
    return flat if len(flat) <= _TEXT else flat[: _TEXT - 3] + "..."


def test_time(row: dict[str, Any]) -> pd.Timestamp | None:
    """When a test ended (its ``stop``), else when it started, else None."""
    return when(row.get("stop")) or when(row.get("start"))


def _deploys(data: LoopData) -> Iterator[Entry]:
    before = data.previous_logs
    previous = data.previous
    for it in data.iterations:
        logs = data.logs.get(it)
        if logs is None or logs.empty or not {"service", "revision", "timestamp"} <= set(logs):
            before, previous = logs, it
            continue
        seen_before: set[tuple[str, str]] = set()
        if before is not None and {"service", "revision"} <= set(before):
            pairs = before[["service", "revision"]].dropna().astype(str)
            seen_before = set(map(tuple, pairs.to_numpy()))
        named = logs[logs["revision"].notna() & logs["service"].notna()]
        for (service, revision), group in named.groupby(["service", "revision"], sort=True):
            first = group["timestamp"].idxmin()
            if previous is None or before is None:
                status = "the first iteration of the loop with logs"
            elif (str(service), str(revision)) in seen_before:
                status = f"the same revision as in iteration {previous}"
            else:
                status = f"new since iteration {previous}"
            yield Entry(
                iso(logs.at[first, "timestamp"]),
                EntryKind.DEPLOY,
                f"{service} at revision {revision} ({status}): first of its "
                f"{len(group)} log records in iteration {it}",
                it,
                [ref(data.loop, it, "logs", row=first)],
            )
        before, previous = logs, it


def _iterations(data: LoopData, clusters: list[str]) -> Iterator[Entry]:
    for it in data.iterations:
        manifest = data.manifests[it]
        tables = list(manifest.get("tables", {}))
        last = data.last(it)
        text = f"iteration {it} stored ({', '.join(tables)})"
        if not last.empty:
            failed = data.failed(it)
            text += f": {len(last)} tests, {len(failed)} failed"
        meta = {k: v for k, v in (manifest.get("meta") or {}).items() if v not in (None, "", [])}
        if meta:
            text += "; recorded with " + "; ".join(f"{k} {_value(v)}" for k, v in meta.items())
        table = "tests" if "tests" in tables else (tables[0] if tables else "tests")
        yield Entry(
            iso(manifest.get("created")), EntryKind.ITERATION, text, it, [ref(data.loop, it, table)]
        )


def _value(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def recovered_in(data: LoopData, cluster: str) -> tuple[str, list[dict[str, Any]]] | None:
    """The first iteration after the cluster's last failure where all its tests ran and passed."""
    failing = [it for it in data.iterations if _cluster_rows(data, it, cluster)]
    if not failing:
        return None
    tests = {r["test_id"] for it in failing for r in _cluster_rows(data, it, cluster)}
    for it in data.iterations[data.iterations.index(failing[-1]) + 1 :]:
        last = data.last(it)
        if last.empty:
            continue
        rows = last[last["test_id"].isin(tests)]
        if len(rows) == len(tests) and rows["outcome"].isin(["passed", "xpassed"]).all():
            return it, rows.to_dict("records")
    return None


def _cluster_rows(data: LoopData, it: str, cluster: str) -> list[dict[str, Any]]:
    failed = data.failed(it)
    if failed.empty or "signature" not in failed:
        return []
    return failed[failed["signature"].astype(str) == cluster].to_dict("records")


def _tests(data: LoopData, clusters: list[str]) -> Iterator[Entry]:
    for cluster in clusters:
        rows = [r for it in data.iterations for r in _cluster_rows(data, it, cluster)]
        if not rows:
            continue
        timed = sorted(rows, key=lambda r: (test_time(r) is None, test_time(r) or pd.Timestamp(0)))
        first, last = timed[0], timed[-1]
        picks = [("first", first)] + ([("last", last)] if last is not first else [])
        for which, row in picks:
            it = str(row["iteration"])
            at = test_time(row)
            text = (
                f"{which} failure of cluster {cluster}: {row['test_id']} {row['outcome']}: "
                f"{_short(str(row.get('message') or '').splitlines()[0] if row.get('message') else '')}"
            )
            if at is None:
                text += " (the test has no time: shown at the time the iteration was stored)"
            yield Entry(
                iso(at) or iso(data.manifests[it].get("created")),
                EntryKind.TEST,
                text,
                it,
                [ref(data.loop, it, "tests", test_id=row["test_id"])],
            )
        back = recovered_in(data, cluster)
        if back is not None:
            it, passed = back
            times = [t for t in (test_time(r) for r in passed) if t is not None]
            yield Entry(
                iso(max(times)) if times else iso(data.manifests[it].get("created")),
                EntryKind.TEST,
                f"cluster {cluster} recovered: its {len(passed)} tests all passed in iteration {it}",
                it,
                [ref(data.loop, it, "tests", test_id=r["test_id"]) for r in passed[:5]],
            )


def probe_outcomes(data: LoopData, it: str) -> list[dict[str, Any]]:
    """Each probe target of ``it``: ``target``, ``ok``, ``stage`` (failed), ``text``, ``ref``."""
    probes = data.probes.get(it)
    if probes is None or probes.empty:
        return []
    key = "probe" if "probe" in probes else "target" if "target" in probes else None
    groups = probes.groupby(key, sort=False) if key else [("probe", probes)]
    out = []
    for name, rows in groups:
        ok_column = "stage_ok" if "stage_ok" in rows else "ok" if "ok" in rows else None
        ok = bool(rows[ok_column].fillna(False).astype(bool).all()) if ok_column else None
        bad = rows[~rows[ok_column].fillna(False).astype(bool)] if ok_column else rows.iloc[:0]
        stage = None
        if "failed_stage" in rows and rows["failed_stage"].notna().any():
            stage = str(rows["failed_stage"].dropna().iloc[0])
        elif "stage" in bad and len(bad):
            stage = str(bad["stage"].iloc[0])
        where = {"stage": stage} if stage and "stage" in rows else ({key: name} if key else {})
        if ok is None:
            text = f"probe {name}: {len(rows)} rows, none says whether it passed"
        elif ok:
            text = f"probe {name} passed ({len(rows)} rows)"
        else:
            summary = bad["summary"].iloc[0] if "summary" in bad and len(bad) else ""
            text = f"probe {name} failed" + (f" at stage {stage}" if stage else "")
            text += f": {_short(summary)}" if summary else ""
        out.append(
            {
                "target": str(name),
                "ok": ok,
                "stage": stage,
                "text": text,
                "ref": ref(data.loop, it, "probes", **where),
            }
        )
    return out


def _probes(data: LoopData) -> Iterator[Entry]:
    for it in data.iterations:
        for p in probe_outcomes(data, it):
            yield Entry(
                iso(data.written(it, "probes")),
                EntryKind.PROBE,
                p["text"] + " (probe rows carry no time: the time its results were stored)",
                it,
                [p["ref"]],
            )


_LOUD = {"warning", "warn", "error", "err", "critical", "crit", "fatal", "alert", "emergency"}


def _cluster_records(correlated: pd.DataFrame, cluster: str) -> tuple[pd.DataFrame, str]:
    """The cluster's log records in its failing tests' windows or sharing their ids, loud ones first."""
    rows = correlated[correlated["cluster_id"].astype(str) == cluster]
    close = rows["in_window"].fillna(False).astype(bool) | rows["shared_id"].fillna("").astype(
        str
    ).ne("")
    rows = rows[close & rows["timestamp"].notna()].drop_duplicates("log_row")
    loud = rows[rows["level"].fillna("").astype(str).str.lower().isin(_LOUD)]
    if not loud.empty:
        return loud.sort_values("timestamp", kind="stable"), "at warning level or above "
    return rows.sort_values("timestamp", kind="stable"), ""


def _logs(data: LoopData, clusters: list[str]) -> Iterator[Entry]:
    for it in data.iterations:
        tests, logs = data.tests.get(it), data.logs.get(it)
        if tests is None or logs is None or logs.empty or "timestamp" not in logs:
            continue
        correlated = correlate_logs(tests.drop(columns="iteration"), logs)
        if correlated.empty:
            continue
        for cluster in clusters:
            rows, loud = _cluster_records(correlated, cluster)
            if rows.empty:
                continue
            picks = [("first", rows.iloc[0])]
            if len(rows) > 1:
                picks.append(("last", rows.iloc[-1]))
            for which, r in picks:
                what = " ".join(str(r.get(c) or "") for c in ("service", "level")).strip()
                yield Entry(
                    iso(r["timestamp"]),
                    EntryKind.LOG,
                    f"{which} log record {loud}in the failing tests' windows of cluster "
                    f"{cluster}: {what} {_short(r['message'])}",
                    it,
                    [ref(data.loop, it, "logs", row=int(r["log_row"]))],
                )


_VERBS = {
    StepStatus.HYPOTHESIS: "proposed as a hypothesis",
    StepStatus.CONFIRMED: "confirmed",
    StepStatus.REFUTED: "refuted",
}


def _verify_refs(
    data: LoopData, loop: str, it: str, tests: list[str], probes: list[str]
) -> list[str]:
    frame = data.probes.get(it)
    out = [ref(loop, it, "tests", test_id=t) for t in tests]
    for name in probes:
        column = next(
            (
                c
                for c in ("probe", "stage", "target")
                if frame is not None and c in frame and (frame[c].astype(str) == name).any()
            ),
            "stage",
        )
        out.append(ref(loop, it, "probes", **{column: name}))
    return out


def _analysis(a: Analysis, path: str, data: LoopData) -> Iterator[Entry]:
    file_ref = [f"file:{path}"] if path else []
    if a.created:
        yield Entry(
            iso(a.created),
            EntryKind.ANALYSIS,
            f"five whys {a.id} started: {len(a.whys)} why(s) on iteration(s) {', '.join(a.iterations)}",
            a.iterations[0] if a.iterations else "",
            file_ref,
        )
    for b in a.steps():
        cited = [StoreRef.parse(r).iteration for r in store_refs(b.evidence, 1)]
        it = cited[0] if cited else (a.iterations[0] if a.iterations else "")
        for n, change in enumerate(b.history):
            verb = (
                _VERBS[change.status]
                if n == 0 or change.status is not StepStatus.HYPOTHESIS
                else "reopened"
            )
            note = f" ({_short(change.note)})" if change.note else ""
            yield Entry(
                iso(change.at),
                EntryKind.ANALYSIS,
                f"because {b.address} of {a.id} {verb} by {change.by}{note}: {_short(b.text)}",
                it,
                [*store_refs(b.evidence, 3), *file_ref],
            )
    for c in a.countermeasures:
        v = c.verified
        if v is None:
            continue
        verdict = "verified" if v.ok else "NOT verified"
        yield Entry(
            iso(v.at),
            EntryKind.ANALYSIS,
            f"countermeasure {c.id} of {a.id} {verdict} in iteration {v.iteration} by {v.by}: {v.figures}",
            v.iteration,
            [
                *_verify_refs(
                    data, a.loop or data.loop, v.iteration, c.verify_tests, c.verify_probes
                ),
                *file_ref,
            ],
        )


def timeline(data: LoopData, clusters: list[str], paths: dict[str, str]) -> list[Entry]:
    """Every entry for ``clusters`` in the chosen iterations, in time order (see the module doc).

    ``paths`` maps each analysis id to the file its entries cite.
    """
    entries = [
        *_deploys(data),
        *_iterations(data, clusters),
        *_tests(data, clusters),
        *_probes(data),
        *_logs(data, clusters),
    ]
    for a in data.analyses:
        entries += _analysis(a, paths.get(a.id, ""), data)

    def key(e: Entry) -> tuple[bool, pd.Timestamp, int]:
        at = when(e.at)
        return (at is None, at or pd.Timestamp(0, tz="UTC"), _ORDER.index(e.kind))

    return sorted(entries, key=key)
