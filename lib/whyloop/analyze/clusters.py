"""Failures grouped by signature, within one iteration and across the iterations of a store.

Pure. A *cluster* is every failure that shares one failure signature (the
hash :mod:`whyloop.analyze.signatures` gives; see ``signature_text`` for the
masked text it was built from), so ``cluster_id`` is that hash and stays the
same from one iteration to the next::

    store = whyloop.Store("data/iterations")
    clusters = cluster_failures(store.read_all("staging", "tests"))
    clusters[["cluster_id", "size", "first_seen", "last_seen", "signature_text"]]

Only failures count: the last execution of each test in each iteration (a
pytest-rerunfailures attempt before it does not), with outcome ``failed`` or
``error``. Iterations sort in natural order (``2`` before ``10``), as
:meth:`whyloop.Store.iterations` lists them. The helpers here
(:func:`iteration_order`, :func:`last_runs`, :func:`failed_runs`) are shared by
the other analyses of the loop's history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from whyloop.analyze.signatures import signatures

__all__ = [
    "CLUSTER_COLUMNS",
    "ITERATION",
    "SINGLE_ITERATION",
    "cluster_failures",
    "cluster_sizes",
    "failed_runs",
    "iteration_key",
    "iteration_order",
    "last_runs",
]

#: the column naming the iteration of each row (what :meth:`Store.read_all` adds)
ITERATION = "iteration"
#: the name given to the one iteration of a frame without an ``iteration`` column
SINGLE_ITERATION = "current"
#: columns of :func:`cluster_failures`, in order
CLUSTER_COLUMNS: tuple[str, ...] = (
    "cluster_id",
    "signature_text",
    "size",
    "tests",
    "categories",
    "first_seen",
    "last_seen",
    "iterations",
    "in_latest",
    "size_by_iteration",
    "failures",
    "representative",
    "failure_type",
)

_FAIL = frozenset({"failed", "error"})
_PASS = frozenset({"passed", "xpassed"})
# worst first: when one test has several final rows in one iteration (several files), this wins
_WORST = {"error": 0, "failed": 1, "passed": 2, "xpassed": 3, "xfailed": 4, "skipped": 5}


def iteration_key(name: Any) -> tuple[int, int, str]:
    """Sort key of an iteration name in natural order: numbers by value, then other names."""
    text = str(name)
    return (0, int(text), "") if text.isascii() and text.isdigit() else (1, 0, text)


def iteration_order(names: Iterable[Any]) -> list[str]:
    """The distinct iteration names, as text, in natural order (``["2", "10", "rc1"]``)."""
    return sorted({str(n) for n in names}, key=iteration_key)


def _text(df: pd.DataFrame, column: str) -> pd.Series:
    """A column as text with missing values empty (an absent column is all empty)."""
    if column not in df:
        return pd.Series("", index=df.index, dtype=object)
    values = df[column].astype(object)
    return values.where(values.notna(), "").astype(str)


def last_runs(tests: pd.DataFrame) -> pd.DataFrame:
    """One row per test per iteration: its last execution, with ``iteration`` as text.

    A frame without an ``iteration`` column is one iteration, named
    :data:`SINGLE_ITERATION`. The last execution is the highest ``rerun`` of a
    test in its file; a test found in several files of one iteration keeps its
    worst final outcome (a failure in any file is a failing run). ``outcome``
    is plain text; the other columns are kept as they are.
    """
    df = tests.copy()
    df[ITERATION] = _text(df, ITERATION) if ITERATION in df else SINGLE_ITERATION
    df["outcome"] = _text(df, "outcome")
    if df.empty:
        return df
    df["_pos"] = range(len(df))
    keys = [ITERATION, *(c for c in ("file", "test_id") if c in df)]
    if "rerun" in df:
        df = df.sort_values([*keys, "rerun"], kind="stable")
        df = df.drop_duplicates(keys, keep="last")
    df["_worst"] = df["outcome"].map(_WORST).fillna(9)
    df = df.sort_values([ITERATION, "test_id", "_worst", "_pos"], kind="stable")
    df = df.drop_duplicates([ITERATION, "test_id"], keep="first")
    return df.sort_values("_pos", kind="stable").drop(columns=["_pos", "_worst"])


def failed_runs(tests: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`last_runs` that failed or errored, each with its ``signature``.

    Rows whose ``signature`` is missing (a frame not read by
    :func:`whyloop.read_tests`) get one computed from ``failure_type``,
    ``message`` and ``details``.
    """
    runs = last_runs(tests)
    failed = runs[runs["outcome"].isin(_FAIL)].copy()
    if failed.empty:
        for column in ("signature", "signature_text"):
            failed[column] = pd.Series(dtype=object)
        return failed
    sig, text = _text(failed, "signature"), _text(failed, "signature_text")
    missing = sig == ""
    if missing.any():
        frame = pd.DataFrame(
            {c: _text(failed, c) for c in ("failure_type", "message", "details")}
        ).assign(outcome=failed["outcome"])
        computed_sig, computed_text = signatures(frame[missing.to_numpy()])
        sig[missing] = computed_sig
        text[missing] = computed_text
    failed["signature"], failed["signature_text"] = sig, text
    return failed


def _first_line(message: str) -> str:
    line = message.strip().split("\n", 1)[0]
    return line[:500]


def _representative(rows: pd.DataFrame) -> str:
    """The most common first line of the message in the cluster's latest iteration."""
    lines = [_first_line(m) for m in _text(rows, "message")]
    lines = [ln for ln in lines if ln] or [_first_line(str(rows["signature_text"].iloc[0]))]
    counts = pd.Series(lines).value_counts(sort=False)  # ties keep the first seen
    return str(counts.idxmax())


def _common(values: pd.Series) -> str:
    found = [v for v in values if v]
    return str(pd.Series(found).value_counts(sort=False).idxmax()) if found else ""


def cluster_failures(tests: pd.DataFrame) -> pd.DataFrame:
    """Group the failures of one tests frame, or of many iterations, by signature.

    ``tests`` is a tests frame (:func:`whyloop.read_tests`) or one table
    across iterations (``Store.read_all(loop, "tests")``, with ``iteration``).
    Returns one row per cluster (columns :data:`CLUSTER_COLUMNS`):
    ``cluster_id`` (the signature hash), ``signature_text``, ``size`` (failing
    tests in the latest iteration the cluster appears in), ``tests`` and
    ``categories`` (lists, in order of first appearance), ``first_seen`` and
    ``last_seen`` (iteration names), ``iterations`` (how many it appears in),
    ``in_latest`` (it appears in the frame's latest iteration),
    ``size_by_iteration`` (``{iteration: failing tests}``), ``failures`` (every
    failing run, across iterations), ``representative`` (the most common first
    line of the message in its latest iteration, as ingest redacted it) and
    ``failure_type``. Clusters of the latest iteration come first, largest
    first; then the others, most recently seen first.
    """
    every = iteration_order(_text(tests, ITERATION) if ITERATION in tests else [SINGLE_ITERATION])
    failed = failed_runs(tests)
    if failed.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CLUSTER_COLUMNS})
    latest = every[-1] if every else SINGLE_ITERATION
    rank = {name: i for i, name in enumerate(every)}
    failed = failed.assign(_rank=failed[ITERATION].map(rank))
    failed = failed.sort_values("_rank", kind="stable")
    rows = []
    for signature, group in failed.groupby("signature", sort=False):
        per_it = group.groupby(ITERATION, sort=False)["test_id"].nunique()
        seen = sorted(per_it.index, key=rank.__getitem__)
        last = seen[-1]
        rows.append(
            {
                "cluster_id": str(signature),
                "signature_text": str(group["signature_text"].iloc[0]),
                "size": int(per_it[last]),
                "tests": list(dict.fromkeys(_text(group, "test_id"))),
                "categories": [c for c in dict.fromkeys(_text(group, "category")) if c],
                "first_seen": seen[0],
                "last_seen": last,
                "iterations": len(seen),
                "in_latest": last == latest,
                "size_by_iteration": {it: int(per_it[it]) for it in seen},
                "failures": len(group),
                "representative": _representative(group[group[ITERATION] == last]),
                "failure_type": _common(_text(group, "failure_type")),
                "_last": rank[last],
            }
        )
    out = pd.DataFrame(rows)
    out = out.sort_values(
        ["in_latest", "size", "_last", "cluster_id"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    out = out.drop(columns="_last").reset_index(drop=True)
    for column in ("size", "iterations", "failures"):
        out[column] = out[column].astype("int64")
    out["in_latest"] = out["in_latest"].astype(bool)
    return out[list(CLUSTER_COLUMNS)]


def cluster_sizes(tests: pd.DataFrame) -> pd.DataFrame:
    """Each cluster's size over time, long: ``cluster_id, iteration, size``.

    One row per cluster per iteration of the frame, 0 where the cluster did
    not appear (an iteration that ran, its failure gone), in natural order:
    what a trend plot reads (``pivot(index="iteration", columns="cluster_id")``).
    """
    every = iteration_order(_text(tests, ITERATION) if ITERATION in tests else [SINGLE_ITERATION])
    failed = failed_runs(tests)
    columns = ["cluster_id", ITERATION, "size"]
    if failed.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    counts = failed.groupby(["signature", ITERATION])["test_id"].nunique()
    index = pd.MultiIndex.from_product([sorted(set(failed["signature"])), every])
    full = counts.reindex(index, fill_value=0).rename("size").reset_index()
    full.columns = columns
    full["size"] = full["size"].astype("int64")
    rank = {name: i for i, name in enumerate(every)}
    full = full.assign(_r=full[ITERATION].map(rank)).sort_values(["cluster_id", "_r"])
    return full.drop(columns="_r").reset_index(drop=True)
