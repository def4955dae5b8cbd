"""What ``notebooks/probes.ipynb`` shows: probe runs side by side, their stages, what changed.

Pure: probe results come in as data (:class:`whyloop.results.ProbeResult`,
or a probe suite's frame); the notebook runs the probes. A *run* is a name
the reader gives a result (an auth mode, a target, "before"/"after")::

    runs = {mode: probe_ws(url, token=token, auth=mode) for mode in ("header", "subprotocol")}
    run_table(runs); stage_diff(stage_table(runs), "header", "subprotocol")
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from whyloop.results import ProbeResult

__all__ = [
    "run_table",
    "stage_diff",
    "stage_table",
    "suite_compare",
    "suite_stages",
    "suite_table",
]

#: a stage this many times slower than in the other run is called slower
SLOWER = 2.0


def run_table(runs: Mapping[str, ProbeResult]) -> pd.DataFrame:
    """One row per run: ``run, target, kind, ok, failed_stage, total_ms, diagnosis``."""
    rows = []
    for name, result in runs.items():
        data = result.to_dict()
        timed = [s["ms"] for s in data["stages"] if s["ms"] is not None]
        rows.append(
            {
                "run": name,
                "target": data["target"],
                "kind": data["kind"],
                "ok": data["ok"],
                "failed_stage": data["failed_stage"] or "",
                "total_ms": round(sum(timed), 2) if timed else None,
                "diagnosis": data["diagnosis"],
            }
        )
    return pd.DataFrame(rows, columns=["run", "target", "kind", "ok", "failed_stage", "total_ms",
                                       "diagnosis"])  # fmt: skip


def stage_table(runs: Mapping[str, ProbeResult]) -> pd.DataFrame:
    """One row per stage of each run, in stage order: ``run, stage, ms, ok, summary``."""
    rows = [
        {
            "run": name,
            "stage": stage["name"],
            "ms": stage["ms"],
            "ok": stage["ok"],
            "summary": str((stage.get("detail") or {}).get("summary", "")),
        }
        for name, result in runs.items()
        for stage in result.to_dict()["stages"]
    ]
    frame = pd.DataFrame(rows, columns=["run", "stage", "ms", "ok", "summary"])
    frame["ms"] = pd.to_numeric(frame["ms"], errors="coerce")
    return frame


def _change(ms_a: float, ms_b: float, ok_a: object, ok_b: object) -> str:
    if pd.isna(ok_a) or pd.isna(ok_b):
        return "ran in one run only"
    if bool(ok_a) and not bool(ok_b):
        return "fails in the second run"
    if not bool(ok_a) and bool(ok_b):
        return "passes in the second run"
    if pd.notna(ms_a) and pd.notna(ms_b) and min(ms_a, ms_b) > 0:
        if ms_b >= SLOWER * ms_a:
            return f"{ms_b / ms_a:.1f}x slower in the second run"
        if ms_a >= SLOWER * ms_b:
            return f"{ms_a / ms_b:.1f}x faster in the second run"
    return ""


def stage_diff(stages: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Each stage of runs ``first`` and ``second`` side by side, with what changed between them.

    Columns ``stage, ms_first, ms_second, ok_first, ok_second, change``;
    ``change`` names a stage that fails or passes only in one run, or takes
    :data:`SLOWER` times as long (empty when alike).
    """
    known = set(stages["run"].astype(str))
    for name in (first, second):
        if name not in known:
            raise KeyError(f"no run named {name!r} (runs: {', '.join(sorted(known))})")
    a = stages[stages["run"] == first].drop_duplicates("stage").set_index("stage")
    b = stages[stages["run"] == second].drop_duplicates("stage").set_index("stage")
    order = list(dict.fromkeys([*a.index, *b.index]))
    out = pd.DataFrame(
        {
            "stage": order,
            "ms_first": a["ms"].reindex(order).to_numpy(),
            "ms_second": b["ms"].reindex(order).to_numpy(),
            "ok_first": a["ok"].reindex(order).to_numpy(),
            "ok_second": b["ok"].reindex(order).to_numpy(),
        }
    )
    out["change"] = [
        _change(*row) for row in out[["ms_first", "ms_second", "ok_first", "ok_second"]].to_numpy()
    ]
    return out


def suite_table(suite: pd.DataFrame | None) -> pd.DataFrame | str:
    """A probe suite's checks against their SLA, or a sentence when no suite was run."""
    if suite is None:
        return "no probe suite was run (suite = None)"
    cols = [
        c for c in ("probe", "check", "ok", "metric", "value", "sla", "diagnosis") if c in suite
    ]
    return suite[cols].reset_index(drop=True)


def suite_stages(suite: pd.DataFrame | None, run: str = "suite") -> pd.DataFrame | str:
    """A probe suite's time per probe as stage rows (``run, stage, ms, ok``) for the stage charts.

    A probe with several checks (load, errors) counts its time once, failed when any check failed.
    """
    if suite is None:
        return "no probe suite was run (suite = None)"
    if suite.empty or "duration_ms" not in suite:
        return "the probe suite's table carries no timings"
    by = suite.groupby("probe", sort=False)
    frame = pd.DataFrame(
        {
            "run": run,
            "stage": by.size().index.astype(str),
            "ms": by["duration_ms"].max().to_numpy(float),
            "ok": by["ok"].all().to_numpy(bool),
            "summary": by["kind"].first().astype(str).to_numpy(),
        }
    )
    return frame.reset_index(drop=True)


def suite_compare(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Two runs of a probe suite check by check: ``probe, check, metric, ok_first, value_first,
    ok_second, value_second, change`` (a check that now fails, now passes, or ran in one run only)."""
    keys = ["probe", "check", "metric"]
    a = first[[*keys, "ok", "value"]].drop_duplicates(keys, keep="last")
    b = second[[*keys, "ok", "value"]].drop_duplicates(keys, keep="last")
    out = a.merge(b, on=keys, how="outer", suffixes=("_first", "_second"), sort=False)
    out["change"] = [
        _change(float("nan"), float("nan"), x, y)
        for x, y in zip(out["ok_first"], out["ok_second"], strict=True)
    ]
    return out[[*keys, "ok_first", "value_first", "ok_second", "value_second", "change"]]
