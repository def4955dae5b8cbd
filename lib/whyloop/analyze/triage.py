"""Triage of one iteration: pick failures, group them, open one with its log window and templates.

Pure, frames in and frames out (what ``notebooks/triage.ipynb`` calls)::

    failing = select_failures(tests, category="WebSocket", text="timed out")
    group_failures(failing, GroupBy.CLUSTER)
    window = failure_window(tests, with_templates(logs), failing.test_id.iloc[0])
    window_templates(window, logs)
    iteration_changes(previous_tests, tests)

A failure is a test's last execution in the iteration with outcome ``failed``
or ``error`` (:func:`whyloop.analyze.clusters.failed_runs`). Its *log window*
is what :func:`whyloop.analyze.correlate.correlate_logs` keeps for it: the
records from its start to its stop widened by ``slack_s`` either side, and
those sharing an id with it, each scored and with the reasons for its score,
shown here in time order.
"""

from __future__ import annotations

import fnmatch
from enum import StrEnum

import pandas as pd

from whyloop.analyze.clusters import failed_runs, last_runs
from whyloop.analyze.compare import compare_iterations
from whyloop.analyze.correlate import correlate_logs
from whyloop.errors import ReportError

__all__ = [
    "FAILURE_COLUMNS",
    "WINDOW_COLUMNS",
    "GroupBy",
    "failure_window",
    "group_failures",
    "iteration_changes",
    "select_failures",
    "window_templates",
]

#: columns of :func:`select_failures`, in order
FAILURE_COLUMNS: tuple[str, ...] = (
    "test_id",
    "category",
    "outcome",
    "cluster_id",
    "headline",
    "message",
    "start",
    "stop",
    "duration_s",
)
#: columns of :func:`failure_window`, in order
WINDOW_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "offset_s",
    "in_window",
    "service",
    "level",
    "message",
    "template_id",
    "template",
    "rank",
    "score",
    "reasons",
    "log_row",
)


class GroupBy(StrEnum):
    """How :func:`group_failures` groups: by cluster (signature hash), category, headline, test."""

    CLUSTER = "cluster"
    CATEGORY = "category"
    #: the first line of the masked signature: coarser than a cluster
    SIGNATURE = "signature"
    TEST = "test"


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column].astype(object)
    return values.where(values.notna(), "").astype(str)


def _matches(values: pd.Series, pattern: str) -> pd.Series:
    """Glob when ``pattern`` holds a wildcard, else a case-insensitive substring."""
    if any(c in pattern for c in "*?["):
        return values.map(lambda v: fnmatch.fnmatchcase(v.lower(), pattern.lower()))
    return values.str.lower().str.contains(pattern.lower(), regex=False)


def select_failures(
    tests: pd.DataFrame,
    *,
    category: str | None = None,
    cluster: str | None = None,
    text: str | None = None,
    test: str | None = None,
) -> pd.DataFrame:
    """The failures of ``tests`` (one iteration), filtered; columns :data:`FAILURE_COLUMNS`.

    Each filter, when given, is a glob (``*``, ``?``) or a case-insensitive
    substring: ``category`` of the category, ``cluster`` a prefix of the
    cluster id, ``text`` of the message or the masked signature, ``test`` of
    the test id. ``headline`` is the first line of the masked signature.
    """
    failed = failed_runs(tests)
    keep = pd.Series(True, index=failed.index)
    if category:
        keep &= _matches(_text(failed, "category"), category)
    if cluster:
        keep &= _text(failed, "signature").str.startswith(cluster)
    if text:
        keep &= _matches(_text(failed, "message"), text) | _matches(
            _text(failed, "signature_text"), text
        )
    if test:
        keep &= _matches(_text(failed, "test_id"), test)
    chosen = failed[keep]
    out = pd.DataFrame(
        {
            "test_id": _text(chosen, "test_id"),
            "category": _text(chosen, "category"),
            "outcome": _text(chosen, "outcome"),
            "cluster_id": _text(chosen, "signature"),
            "headline": _text(chosen, "signature_text").str.split("\n").str[0],
            "message": _text(chosen, "message").str.split("\n").str[0].str.slice(0, 300),
        }
    )
    for column in ("start", "stop"):
        out[column] = pd.to_datetime(chosen[column], utc=True) if column in chosen else pd.NaT
    out["duration_s"] = (
        pd.to_numeric(chosen["duration_s"], errors="coerce") if "duration_s" in chosen else None
    )
    return out.reset_index(drop=True)[list(FAILURE_COLUMNS)]


def group_failures(failures: pd.DataFrame, by: GroupBy | str = GroupBy.CLUSTER) -> pd.DataFrame:
    """``failures`` (:func:`select_failures`) grouped ``by`` one key, largest group first.

    Columns: the key (``cluster_id``, ``category``, ``headline`` or
    ``test_id``), ``failing`` (tests), ``tests`` (their ids), ``categories``,
    ``clusters`` (how many) and ``example`` (the first test's message).
    """
    by = GroupBy(by)
    key = {
        GroupBy.CLUSTER: "cluster_id",
        GroupBy.CATEGORY: "category",
        GroupBy.SIGNATURE: "headline",
        GroupBy.TEST: "test_id",
    }[by]
    columns = [key, "failing", "tests", "categories", "clusters", "example"]
    if failures.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    rows = []
    for value, group in failures.groupby(key, sort=False):
        rows.append(
            {
                key: value,
                "failing": int(group["test_id"].nunique()),
                "tests": list(dict.fromkeys(group["test_id"])),
                "categories": [c for c in dict.fromkeys(group["category"]) if c],
                "clusters": int(group["cluster_id"].nunique()),
                "example": str(group["message"].iloc[0] or group["headline"].iloc[0]),
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    out = out.sort_values(["failing", key], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def failure_window(
    tests: pd.DataFrame,
    logs: pd.DataFrame,
    test_id: str,
    *,
    slack_s: float = 5.0,
    limit: int = 50,
) -> pd.DataFrame:
    """The log records around the failure of ``test_id``, in time order; columns :data:`WINDOW_COLUMNS`.

    The records are those :func:`~whyloop.analyze.correlate.correlate_logs`
    keeps for the failure (its window widened by ``slack_s``, and records
    sharing an id with it), the ``limit`` most telling when there are more,
    each with its ``rank`` (1 = most telling), ``score`` and ``reasons``.
    ``logs`` with ``template_id``/``template`` columns
    (:func:`~whyloop.analyze.templates_diff.with_templates`) gives each
    record its template; without them the template columns are empty.
    Raises :class:`~whyloop.errors.ReportError` (``param="test_id"``) when
    ``test_id`` did not fail in ``tests``.
    """
    failed = failed_runs(tests)
    if test_id not in set(_text(failed, "test_id")):
        ran = test_id in set(_text(last_runs(tests), "test_id")) if len(tests) else False
        why = "did not fail in this iteration" if ran else "is not among this iteration's tests"
        raise ReportError(f"test {test_id!r} {why}", param="test_id")
    own = tests[_text(tests, "test_id") == test_id]
    templates = logs.get("template_id")
    near = correlate_logs(own, logs, slack_s=slack_s, templates=templates, max_per_failure=limit)
    if near.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in WINDOW_COLUMNS})
    rows = logs.reset_index(drop=True)
    near["template"] = (
        _text(rows, "template").iloc[near["log_row"]].to_numpy() if "template" in rows else ""
    )
    near["template_id"] = near["template_id"].fillna("") if templates is not None else ""
    near = near.sort_values(["timestamp", "log_row"], kind="stable", na_position="last")
    return near.reset_index(drop=True)[list(WINDOW_COLUMNS)]


def window_templates(window: pd.DataFrame, logs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The templates of a :func:`failure_window`: how often each appears there and in the whole log.

    One row per template: ``template``, ``in_window`` (records),
    ``in_log`` (records of the whole ``logs``, None without it), ``levels``
    (``"ERROR 2, INFO 1"``), ``best_rank`` and an ``example``; the most
    telling first. Needs the window's ``template_id`` (empty: no templates).
    """
    columns = ["template_id", "template", "in_window", "in_log", "levels", "best_rank", "example"]
    if window.empty or not _text(window, "template_id").str.len().any():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    whole = None
    if logs is not None and "template_id" in logs:
        whole = logs["template_id"].astype(str).value_counts()
    rows = []
    for tid, group in window.groupby("template_id", sort=False):
        levels = group["level"].fillna("").astype(str).value_counts()
        rows.append(
            {
                "template_id": tid,
                "template": str(group["template"].iloc[0]),
                "in_window": len(group),
                "in_log": None if whole is None else int(whole.get(str(tid), 0)),
                "levels": ", ".join(f"{lv or 'no level'} {n}" for lv, n in levels.items()),
                "best_rank": int(group["rank"].min()),
                "example": str(group["message"].iloc[0]),
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    out["in_log"] = out["in_log"].astype("Int64")
    return out.sort_values(["best_rank", "template_id"], kind="stable").reset_index(drop=True)


def iteration_changes(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Tests that changed from ``previous`` to ``current``: new, fixed, still failing, regressed.

    ``previous`` is one earlier iteration's tests (or the history up to it,
    with ``iteration``); columns ``change`` (a :class:`whyloop.schema.ChangeKind`
    value), ``test_id``, ``category``, ``outcome``, ``previous_outcome``,
    ``headline`` and ``message``, new failures first.
    """
    diff = compare_iterations(previous, current).changes()
    diff["headline"] = _text(diff, "signature_text").str.split("\n").str[0]
    diff["message"] = _text(diff, "message").str.split("\n").str[0].str.slice(0, 300)
    cols = ["change", "test_id", "category", "outcome", "previous_outcome", "headline", "message"]
    return diff[cols].reset_index(drop=True)
