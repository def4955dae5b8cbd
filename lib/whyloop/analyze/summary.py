"""Summaries an iteration report starts with: test counts and pass rates, log records by level.

Pure: frames in, plain dicts out (JSON-able, the shape of ``--json``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from whyloop.ingest.tests.read import final_executions

__all__ = ["summarize_logs", "summarize_tests"]


def _counts(outcomes: pd.Series) -> dict[str, int]:
    return _from_counts(outcomes.value_counts().to_dict(), len(outcomes))


def _from_counts(vc: dict[str, int], total: int) -> dict[str, int]:
    get = lambda o: int(vc.get(o, 0))  # noqa: E731
    return {
        "total": total,
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


def summarize_tests(df: pd.DataFrame, files: pd.DataFrame | None = None) -> dict[str, Any]:
    """Summarise a tests frame: counts, pass rate, duration, and the same by category.

    Counts are of tests, each counted once by its last execution:
    ``total = passed + failed + errors + skipped + xfailed`` (``passed``
    includes the ``xpassed``, also shown apart). ``executions`` counts every
    execution, ``reruns`` the executions before a test's last, ``flaky`` the
    tests that failed and then passed on a rerun in the same run.
    ``pass_rate`` is passed / (passed + failed + errors). ``duration_s`` sums
    the durations the files give (unknown ones left out). ``files`` lists the
    files read: from ``files`` (the table :func:`whyloop.read_results` gives)
    when passed, else what the frame itself says (path, format, rows).
    """
    final = final_executions(df)
    counts = _counts(final["outcome"].astype(str)) if len(final) else _counts(pd.Series([]))
    by_category: dict[str, Any] = {}
    table = pd.crosstab(final["category"].astype(str), final["outcome"].astype(str))
    for name, row in zip(table.index, table.to_dict("records"), strict=True):
        c = _from_counts(row, int(sum(row.values())))
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
        "reruns": len(df) - len(final),
        "flaky": flaky_count(df),
        "pass_rate": _rate(counts),
        "duration_s": round(duration, 3),
        "by_category": by_category,
        "files": _files(df, files),
        "warnings": list(df.attrs.get("warnings", [])),
    }


def flaky_count(df: pd.DataFrame) -> int:
    """Tests that failed (or errored) in one execution and passed in a later one of the same file."""
    if df.empty or not (df["rerun"] > 0).any():
        return 0
    outcome = df["outcome"].astype(str)
    failed = df.loc[outcome.isin(["failed", "error"]), ["file", "test_id", "rerun"]]
    passed = df.loc[outcome == "passed", ["file", "test_id", "rerun"]]
    first_fail = failed.groupby(["file", "test_id"], observed=True)["rerun"].min()
    last_pass = passed.groupby(["file", "test_id"], observed=True)["rerun"].max()
    both = pd.concat([first_fail.rename("fail"), last_pass.rename("pass")], axis=1).dropna()
    return int((both["pass"] > both["fail"]).sum())


def _files(df: pd.DataFrame, files: pd.DataFrame | None) -> list[dict[str, Any]]:
    if files is not None:
        table = files.astype(object).where(files.notna(), None)
        return [{k: v for k, v in row.items() if v is not None} for row in table.to_dict("records")]
    if df.empty:
        return []
    seen = df.groupby(["file", "format"], sort=False, observed=True).size()
    return [{"path": str(f), "format": str(fmt), "rows": int(n)} for (f, fmt), n in seen.items()]


def summarize_logs(df: pd.DataFrame) -> dict[str, Any]:
    """Return rows, time range, counts by level and by service, format and warnings.

    ``by_level`` counts the records that carry a level, by level;
    ``no_level`` counts those that carry none (``level`` is null: the source
    said no level, or one that names none), so that ``by_level`` plus
    ``no_level`` is ``rows``. ``line_format`` is the line format text was
    read with (``df.attrs["line_format"]``; None for JSON and for text in
    which none was recognised).
    """
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

    no_level = int(df["level"].isna().sum()) if "level" in df else len(df)
    return {
        "rows": len(df),
        "start": start.isoformat() if start is not None else None,
        "end": end.isoformat() if end is not None else None,
        "format": df.attrs.get("format"),
        "line_format": df.attrs.get("line_format"),
        "by_level": counts("level"),
        "no_level": no_level,
        "by_service": counts("service"),
        "warnings": list(df.attrs.get("warnings", [])),
    }
