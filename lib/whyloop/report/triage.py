"""What ``notebooks/triage.ipynb`` shows: one iteration's failures, one opened, and what changed.

Pure. Each function takes an :class:`~whyloop.report.sections.IterationData`
(or what another function here returned) and gives a frame, or a sentence
saying why there is nothing to show; the analysis itself is
:mod:`whyloop.analyze.triage`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import pandas as pd

from whyloop.analyze import triage as analysis
from whyloop.analyze.templates_diff import with_templates
from whyloop.errors import ReportError
from whyloop.report.sections import IterationData, load_iteration
from whyloop.schema import ChangeKind
from whyloop.store import Store

__all__ = [
    "change_counts",
    "changes",
    "failures",
    "groups",
    "heading",
    "load",
    "logs_with_templates",
    "pick",
    "templates",
    "window",
]


def load(
    store: Store | str | Path,
    loop: str,
    iteration: str | int | None = None,
    compare_with: str | int | None = None,
) -> IterationData:
    """One iteration of ``loop`` (default: the latest), with ``compare_with`` (default: the one
    before) as the iteration it is compared with."""
    wanted = [compare_with] if compare_with is not None else None
    return load_iteration(store, loop, iteration, compare_with=wanted)


def heading(data: IterationData) -> str:
    """A line naming the loop, the iteration and the iteration it is compared with."""
    other = data.previous or "none (no earlier iteration with test results)"
    return f"**{data.loop}**, iteration **{data.iteration}**; compared with: {other}"


def failures(
    data: IterationData,
    *,
    category: str | None = None,
    cluster: str | None = None,
    text: str | None = None,
    test: str | None = None,
) -> pd.DataFrame | str:
    """The iteration's failures, filtered (see :func:`whyloop.analyze.triage.select_failures`)."""
    if data.tests is None:
        return f"iteration {data.iteration} holds no test results"
    chosen = analysis.select_failures(
        data.tests, category=category, cluster=cluster, text=text, test=test
    )
    if len(chosen):
        return chosen
    given = {"category": category, "cluster": cluster, "text": text, "test": test}
    filters = ", ".join(f"{k}={v!r}" for k, v in given.items() if v)
    if filters and len(analysis.select_failures(data.tests)):
        return f"no failure of iteration {data.iteration} matches {filters}"
    return f"no test failed in iteration {data.iteration}"


def groups(chosen: pd.DataFrame | str, by: str = "cluster") -> pd.DataFrame | str:
    """The failures grouped ``by`` cluster, category, signature or test (or the sentence given)."""
    try:
        key = analysis.GroupBy(by)
    except ValueError:
        known = ", ".join(g.value for g in analysis.GroupBy)
        raise ReportError(f"cannot group by {by!r}: one of {known}", param="group_by") from None
    return analysis.group_failures(chosen, key) if isinstance(chosen, pd.DataFrame) else chosen


def pick(chosen: pd.DataFrame | str, failure: str | None = None) -> str | None:
    """The test id to open: ``failure`` (a test id, or a glob or substring of one), else the
    first test of the largest cluster; None when there is no failure to open."""
    if not isinstance(chosen, pd.DataFrame) or chosen.empty:
        return None
    ids = chosen["test_id"].tolist()
    if failure:
        hits = [i for i in ids if fnmatchcase(i, failure) or failure.lower() in i.lower()]
        if failure not in ids and not hits:
            raise ReportError(f"no failure shown matches {failure!r}", param="failure")
        return failure if failure in ids else hits[0]
    return str(analysis.group_failures(chosen, analysis.GroupBy.CLUSTER)["tests"].iloc[0][0])


def logs_with_templates(data: IterationData) -> pd.DataFrame | None:
    """The iteration's logs with a template per record (mined once), or None without logs."""
    if data.logs is None or data.logs.empty or "message" not in data.logs:
        return None
    return with_templates(data.logs)


def window(
    data: IterationData,
    logs: pd.DataFrame | None,
    test_id: str | None,
    *,
    slack_s: float = 5.0,
    limit: int = 50,
) -> pd.DataFrame | str:
    """The log window of ``test_id``'s failure (:func:`whyloop.analyze.triage.failure_window`)."""
    if test_id is None:
        return "no failure to open"
    if data.tests is None:
        return f"iteration {data.iteration} holds no test results"
    if logs is None:
        return f"iteration {data.iteration} holds no logs to open {test_id} with"
    found = analysis.failure_window(data.tests, logs, test_id, slack_s=slack_s, limit=limit)
    if found.empty:
        return f"no log record lies within {slack_s:g} s of {test_id} or shares an id with it"
    return found


def templates(found: pd.DataFrame | str, logs: pd.DataFrame | None) -> pd.DataFrame | str:
    """The templates of a window, each with its count there and in the whole log."""
    if not isinstance(found, pd.DataFrame):
        return found
    return analysis.window_templates(found, logs)


def changes(data: IterationData) -> pd.DataFrame | str:
    """Tests new, fixed, still failing or regressed since ``data.previous`` (the compared iteration)."""
    if data.tests is None:
        return f"iteration {data.iteration} holds no test results"
    if data.previous is None or data.history is None:
        return "no earlier iteration with test results to compare with"
    before = data.history[data.history["iteration"].astype(str) != str(data.iteration)]
    diff = analysis.iteration_changes(before, data.tests)
    if diff.empty:
        return f"no test changed its result since iteration {data.previous}"
    return diff


def change_counts(diff: pd.DataFrame | str) -> pd.DataFrame | str:
    """How many tests each kind of change holds (new failure, fixed, still failing, regressed)."""
    if not isinstance(diff, pd.DataFrame):
        return diff
    counts = diff["change"].astype(str).value_counts()
    kinds = [k.value for k in ChangeKind]
    return pd.DataFrame({"change": kinds, "tests": [int(counts.get(k, 0)) for k in kinds]})
