"""The log templates that come with failures: seen while tests failed, rarely while they passed.

Pure. Each log record is given to the test executions it happened during:
those whose span (``start`` to ``stop``; ``start + duration_s`` without a stop;
the start alone without either) holds its time; a record outside every span
goes to the nearest execution within ``slack_s`` (clock skew, logs written
just after). In a serial suite of short tests a wide window around each test
would claim its neighbours' records: this does not.

:func:`failure_templates` then counts, for each template, the failing
executions (``failed``/``error``) holding one of its records and the passing
ones (``passed``/``xpassed``), and keeps the templates seen with failures and
with at most ``max_passing_share`` of the passing executions, ranked by::

    score = failing_share - passing_share

where ``failing_share`` is the share of failing executions holding the
template (the same for passing). A template with every failure and no pass
scores 1; one as common with passes scores 0 or less (and is left out).
Every execution counts, reruns included: a failed attempt of a flaky test is
a failing execution, its passing retry a passing one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from whyloop.analyze.templates_diff import template_table, with_templates

__all__ = ["FAILURE_TEMPLATE_COLUMNS", "failure_templates"]

#: Columns of :func:`failure_templates`, in order.
FAILURE_TEMPLATE_COLUMNS: tuple[str, ...] = (
    "template_id",
    "template",
    "score",
    "failing_tests",
    "passing_tests",
    "failing_share",
    "passing_share",
    "records_failing",
    "records_passing",
    "levels",
    "example",
    "test_ids",
)
_FAILING = ("failed", "error")
_PASSING = ("passed", "xpassed")
_SHOWN_IDS = 20  # test ids listed per template, at most


def _seconds(values: pd.Series) -> np.ndarray:
    """Epoch seconds of a column of times, NaN where unknown."""
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    return (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)


def _windows(tests: pd.DataFrame, outcomes: tuple[str, ...]) -> pd.DataFrame:
    """``test_id, start, stop`` (epoch seconds) of the executions with these outcomes and a start."""
    if tests.empty or "start" not in tests or "outcome" not in tests:
        return pd.DataFrame({"test_id": [], "start": [], "stop": []})
    rows = tests[tests["outcome"].astype(str).isin(outcomes)]
    start = _seconds(rows["start"])
    stop = _seconds(rows["stop"]) if "stop" in rows else np.full(len(rows), np.nan)
    if "duration_s" in rows:
        duration = pd.to_numeric(rows["duration_s"], errors="coerce").to_numpy(dtype=float)
        stop = np.where(np.isnan(stop), start + np.where(duration >= 0, duration, np.nan), stop)
    stop = np.where(np.isnan(stop) | (stop < start), start, stop)
    ids = rows["test_id"] if "test_id" in rows else rows.index.to_series()
    out = pd.DataFrame({"test_id": ids.astype(str).to_numpy(), "start": start, "stop": stop})
    return out[~np.isnan(out["start"])].reset_index(drop=True)


def _attribute(seconds: np.ndarray, windows: pd.DataFrame, slack_s: float) -> list[np.ndarray]:
    """The records each window holds: those inside it, and those outside every window but nearest it.

    A record inside one or more executions' own span (start to stop) belongs
    to those; a record outside all of them belongs to the nearest one within
    ``slack_s`` (its end before the record, or its start after). So a serial
    suite's short tests do not each claim their neighbours' records.
    """
    known = np.flatnonzero(~np.isnan(seconds))
    order = known[np.argsort(seconds[known], kind="stable")]
    times = seconds[order]
    start, stop = windows["start"].to_numpy(float), windows["stop"].to_numpy(float)
    spans = np.stack(
        [np.searchsorted(times, start, side="left"), np.searchsorted(times, stop, side="right")]
    )
    cover = np.zeros(len(times) + 1, dtype=np.int64)
    np.add.at(cover, spans[0], 1)
    np.add.at(cover, spans[1], -1)
    outside = np.cumsum(cover)[:-1] == 0
    held = [order[a:b] for a, b in spans.T]
    if slack_s > 0 and len(windows) and outside.any():
        t = times[outside]
        by_stop, by_start = np.argsort(stop, kind="stable"), np.argsort(start, kind="stable")
        before = np.searchsorted(stop[by_stop], t, side="right") - 1
        after = np.searchsorted(start[by_start], t, side="right")
        gap_before = np.where(before >= 0, t - stop[by_stop[np.maximum(before, 0)]], np.inf)
        gap_after = np.where(
            after < len(start), start[by_start[np.minimum(after, len(start) - 1)]] - t, np.inf
        )
        nearest = np.where(
            gap_before <= gap_after,
            by_stop[np.maximum(before, 0)],
            by_start[np.minimum(after, len(start) - 1)],
        )
        close = np.minimum(gap_before, gap_after) <= slack_s
        extra = pd.Series(order[outside][close]).groupby(nearest[close]).agg(list)
        for w, records in extra.items():
            held[int(w)] = np.concatenate([held[int(w)], np.asarray(records, dtype=np.int64)])
    return held


def _count(
    held: list[np.ndarray], windows: pd.DataFrame, codes: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """Per template: the windows holding it, the records held by any window, those windows' ids."""
    tests = np.zeros(n, dtype=np.int64)
    any_window = np.zeros(len(codes), dtype=bool)
    ids: list[list[str]] = [[] for _ in range(n)]
    for test_id, records in zip(windows["test_id"], held, strict=True):
        found = codes[records]
        found = found[found >= 0]
        if not len(found):
            continue
        any_window[records] = True
        seen = np.unique(found)
        tests[seen] += 1
        for code in seen:
            if len(ids[code]) < _SHOWN_IDS and test_id not in ids[code]:
                ids[code].append(test_id)
    held_codes = codes[any_window & (codes >= 0)]
    return tests, np.bincount(held_codes, minlength=n), ids


def failure_templates(
    logs: pd.DataFrame,
    tests: pd.DataFrame,
    *,
    slack_s: float = 5.0,
    max_passing_share: float = 0.1,
    masks: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Templates seen in failing tests' time windows and rarely or never in passing ones.

    ``logs`` is a logs frame with ``timestamp`` and either ``template_id``/``template``
    (from :func:`~whyloop.analyze.templates.mine_templates`) or ``message``
    (templates are then mined, with ``masks``). ``tests`` is a tests frame
    (``test_id, outcome, start, stop, duration_s``). See the module docstring
    for how records are given to executions and the score. Columns are
    :data:`FAILURE_TEMPLATE_COLUMNS`: ``failing_tests``/``passing_tests`` count
    the executions holding the template, ``records_*`` its records they hold,
    ``test_ids`` the failing tests (up to 20). Highest score first. Empty when
    no failing execution has a start time or no log record has a time.
    """
    if slack_s < 0:
        raise ValueError(f"slack_s must be 0 or more, not {slack_s}")
    frame = with_templates(logs, masks=masks).reset_index(drop=True)
    table = template_table(frame)
    own, uniques = pd.factorize(frame["template_id"], use_na_sentinel=True)
    at = pd.Index(table["template_id"]).get_indexer(pd.Index(uniques))
    codes = np.where(own >= 0, at[np.maximum(own, 0)] if len(at) else -1, -1)
    seconds = _seconds(frame["timestamp"]) if "timestamp" in frame else np.full(len(frame), np.nan)
    failing = _windows(tests, _FAILING)
    passing = _windows(tests, _PASSING)
    windows = pd.concat([failing, passing], ignore_index=True)
    held = _attribute(seconds, windows, slack_s)
    n = len(table)
    fail_tests, fail_records, fail_ids = _count(held[: len(failing)], failing, codes, n)
    pass_tests, pass_records, _ = _count(held[len(failing) :], passing, codes, n)
    failing_share = fail_tests / max(len(failing), 1)
    passing_share = pass_tests / len(passing) if len(passing) else np.zeros(n)
    out = pd.DataFrame(
        {
            "template_id": table["template_id"],
            "template": table["template"],
            "score": failing_share - passing_share,
            "failing_tests": fail_tests,
            "passing_tests": pass_tests,
            "failing_share": failing_share,
            "passing_share": passing_share,
            "records_failing": fail_records,
            "records_passing": pass_records,
            "levels": table["levels"],
            "example": table["example"],
            "test_ids": fail_ids,
        }
    )
    out = out[(out["failing_tests"] > 0) & (out["passing_share"] <= max_passing_share)]
    out = out.sort_values(
        ["score", "records_failing", "template_id"], ascending=[False, False, True], kind="stable"
    )
    return out.reset_index(drop=True)[list(FAILURE_TEMPLATE_COLUMNS)]
