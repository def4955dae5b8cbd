"""``read_tests``: test result files in, one tidy DataFrame out.

Each file's format is detected from its content (JUnit dialects, NUnit, xUnit.net,
TRX, pytest report-log and json-report); rows from all files are put in the
canonical columns of :data:`whyloop.schema.TEST_COLUMNS`, then given a category
and, for failures, a signature. ``summarize_tests`` turns the frame into the
figures an iteration report starts with.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from whyloop.errors import IngestError
from whyloop.ingest.categories import CategoryRule, assign_categories, load_category_rules
from whyloop.ingest.frames import empty_frame, to_frame
from whyloop.ingest.signature import MaskRule, signatures
from whyloop.redact import redact_frame, redact_text
from whyloop.schema import TEST_COLUMNS

__all__ = ["expand_paths", "final_executions", "read_tests", "summarize_tests"]

RESULT_SUFFIXES = (".xml", ".json", ".jsonl", ".trx", ".gz", ".log")


def expand_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files, directories (searched recursively for result files) and globs, in order.

    Raises IngestError for a path or glob that names nothing.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[Path] = []
    for item in paths:
        text = os.fspath(item)
        if any(ch in text for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not found:
                raise IngestError("glob matched no files", path=text)
            out.extend(found)
        elif Path(text).is_dir():
            found = sorted(
                p
                for p in Path(text).rglob("*")
                if p.is_file() and p.suffix.lower() in RESULT_SUFFIXES
            )
            if not found:
                raise IngestError("directory holds no result files", path=text)
            out.extend(found)
        elif Path(text).is_file():
            out.append(Path(text))
        else:
            raise IngestError("no such file", path=text)
    return list(dict.fromkeys(out))


def read_tests(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    categories: str | os.PathLike[str] | Sequence[CategoryRule | dict[str, Any]] | None = None,
    fingerprint_rules: Sequence[MaskRule | dict[str, Any] | tuple[str, str]] | None = None,
    errors: str = "raise",
) -> pd.DataFrame:
    """Read test result files into one DataFrame, one row per test case execution.

    ``paths`` may mix files, directories and globs. ``categories`` is a mapping
    file or a list of rules (see :mod:`whyloop.ingest.categories`);
    ``fingerprint_rules`` are extra masking rules put in front of the built-in
    ones. A file that cannot be read at all raises :class:`IngestError`, or, with
    ``errors="warn"``, is listed in ``df.attrs["warnings"]`` while the other
    files are kept. Problems with single records are always warnings.

    ``df.attrs`` holds ``warnings`` (list of one-line strings) and ``files``
    (path, format, rows, declared counts for each file read).
    """
    from whyloop.ingest.detect import read_test_file

    if errors not in ("raise", "warn"):
        raise ValueError("errors must be 'raise' or 'warn'")
    if isinstance(categories, (str, os.PathLike)):
        rules: list[CategoryRule] = load_category_rules(categories)
    elif categories:
        rules = [
            r if isinstance(r, CategoryRule) else load_category_rules([r])[0] for r in categories
        ]
        rules = [
            CategoryRule(r.category, r.match, r.outcomes, index=i) for i, r in enumerate(rules)
        ]
    else:
        rules = []
    frames: list[pd.DataFrame] = []
    warnings: list[str] = []
    files: list[dict[str, Any]] = []
    for path in expand_paths(paths):
        try:
            parsed = read_test_file(path)
        except IngestError as exc:
            exc.at(str(path))
            if errors == "raise":
                raise
            warnings.append(str(exc))
            files.append({"path": str(path), "format": None, "rows": 0, "error": str(exc)})
            continue
        frames.append(to_frame(parsed, str(path)))
        warnings.extend(redact_text(w) for w in parsed.warnings)
        files.append(
            {
                "path": str(path),
                "format": parsed.format.value,
                "rows": parsed.n_rows,
                "declared": {k: v for k, v in vars(parsed.declared).items() if v is not None},
                "warnings": len(parsed.warnings),
            }
        )
    if frames:
        df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    else:
        df = empty_frame()
    # results carry what the tests printed: tokens and auth headers among it
    df = redact_frame(df, ["message", "details", "stdout", "stderr", "properties"])
    df = assign_categories(df, rules)
    df["signature"], df["signature_text"] = signatures(df, fingerprint_rules)
    df = df[list(TEST_COLUMNS)]
    df.attrs["warnings"] = warnings
    df.attrs["files"] = files
    return df


def final_executions(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the last execution of each test (highest ``rerun``) per file: one row per test."""
    if df.empty:
        return df
    order = df.sort_values(["file", "test_id", "rerun"], kind="stable")
    return order.drop_duplicates(["file", "test_id", "name", "classname"], keep="last")


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
