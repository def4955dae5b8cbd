"""Summaries an iteration report starts with: test counts and pass rates, log records by level.

Pure: frames in, plain dicts out (JSON-able, the shape of ``--json``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from whyloop.ingest.tests.read import final_executions

__all__ = ["summarize_logs", "summarize_tests"]


def _counts(outcomes: pd.Series) -> dict[str, int]:
    vc = outcomes.value_counts()
    get = lambda o: int(vc.get(o, 0))  # noqa: E731
    return {
        "total": len(outcomes),
        "passed": get("passed") + get("xpassed"),
        "failed": get("failed"),
        "errors": get("error"),
        "skipped": get("skipped"),
        "xfailed": get("xfailed"),
        "xpassed": get("xpassed"),
    }


def _rate(c: dict[str, int]) -> float | None:
    ran = c["passed"] + c["failed"] + c["errors"]
    return round(c["passed"] / ran, 4) if ran else None


def summarize_tests(df: pd.DataFrame) -> dict[str, Any]:
    """Summarise a tests frame: counts, pass rate, duration, and the same by category.

    Counts are of tests (each test's last execution), with ``executions`` and
    ``flaky`` (failed, then passed on a rerun) beside them. ``passed`` includes
    xpassed; ``pass_rate`` is passed / (passed + failed + errors), skips and
    expected failures left out.
    """
    final = final_executions(df)
    counts = _counts(final["outcome"].astype(str)) if len(final) else _counts(pd.Series([]))
    flaky = 0
    if len(df) and (df["rerun"] > 0).any():
        reran = df[df["test_id"].isin(df.loc[df["rerun"] > 0, "test_id"])]
        by_test = reran.groupby(["file", "test_id"], observed=True)["outcome"].agg(
            lambda s: set(s.astype(str))
        )
        flaky = int(sum(1 for s in by_test if "passed" in s and s & {"failed", "error"}))
    by_category: dict[str, Any] = {}
    for name, group in final.groupby("category", sort=True):
        c = _counts(group["outcome"].astype(str))
        by_category[str(name)] = {
            "passed": c["passed"],
            "total": c["total"],
            "failed": c["failed"],
            "errors": c["errors"],
            "skipped": c["skipped"],
            "pass_rate": _rate(c),
        }
    duration = float(df["duration_s"].sum(skipna=True)) if len(df) else 0.0
    return {
        **counts,
        "executions": len(df),
        "flaky": flaky,
        "pass_rate": _rate(counts),
        "duration_s": round(duration, 3),
        "by_category": by_category,
        "files": df.attrs.get("files", []),
        "warnings": df.attrs.get("warnings", []),
    }


def summarize_logs(df: pd.DataFrame) -> dict[str, Any]:
    """Return rows, time range, counts by level and by service, format and warnings."""
    ts = (
        df["timestamp"]
        if "timestamp" in df and len(df)
        else pd.Series([], dtype="datetime64[ns, UTC]")
    )
    start, end = (ts.min(), ts.max()) if ts.notna().any() else (None, None)

    def counts(col: str) -> dict[str, int]:
        if col not in df or not len(df):
            return {}
        vc = df[col].dropna().astype(str).value_counts()
        return {str(k): int(v) for k, v in vc.items() if k}

    return {
        "rows": len(df),
        "start": start.isoformat() if start is not None else None,
        "end": end.isoformat() if end is not None else None,
        "format": df.attrs.get("format"),
        "by_level": counts("level"),
        "by_service": counts("service"),
        "warnings": list(df.attrs.get("warnings", [])),
    }
