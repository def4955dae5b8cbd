"""The iteration report's figures for machines: one JSON-able dict, saved as ``metrics.json``.

Pure (:func:`save` writes the one file it is asked to). The keys:
``loop, iteration, environment, target, target_text, status, totals,
by_category, clusters, sla, criteria, new_failures, fixed, flaky, whys,
generated_at``. ``target`` is the overall pass rate the loop target asks
for (0..1, what the report runner gates on), ``target_text`` the target as
given; ``status`` is ``continue`` or ``done`` (:class:`whyloop.schema.LoopStatus`).
A figure whose data the iteration does not hold is ``null`` (or an empty
list), never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from whyloop.analyze import LoopVerdict, summarize_tests
from whyloop.errors import ConfigError
from whyloop.redact import redact_json
from whyloop.report import sections
from whyloop.whys.model import Analysis

__all__ = ["iteration_metrics"]

#: the file :func:`save` writes
_TOTALS = ("total", "passed", "failed", "errors", "skipped", "xfailed", "xpassed", "pass_rate")


def _plain(value: Any) -> Any:
    """A value JSON can hold: numpy scalars unwrapped, NaN and NA as None, lists kept."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _records(frame: pd.DataFrame | str, columns: Sequence[str]) -> list[dict[str, Any]]:
    if not isinstance(frame, pd.DataFrame):
        return []
    return [_plain(r) for r in frame.reindex(columns=list(columns)).to_dict("records")]


def iteration_metrics(
    data: sections.IterationData,
    verdict: LoopVerdict | None,
    *,
    environment: str = "",
    target: str = "",
    analyses: Sequence[Analysis] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report's figures as JSON-able data (see the module docstring for the keys)."""
    totals: dict[str, Any] = dict.fromkeys(_TOTALS)
    by_category: dict[str, Any] = {}
    if data.tests is not None:
        s = summarize_tests(data.tests)
        totals = {k: s[k] for k in _TOTALS}
        by_category = s["by_category"]  # passed, total, pass_rate, and failed, errors, skipped
    clusters = _records(
        sections.failure_clusters(data), ("cluster_id", "size", "tests", "representative")
    )
    sla = _records(sections.sla_table(data), ("probe", "check", "ok", "metric", "value", "sla"))
    columns = ("criterion", "target", "figure", "met", "detail")
    criteria = [] if verdict is None else _records(verdict.criteria, columns)
    trend = sections.trend(data)
    new = fixed = None
    if isinstance(trend, pd.DataFrame) and len(trend) > 1:
        new, fixed = (_plain(trend[c].iloc[-1]) for c in ("new_failures", "fixed"))
    flaky_rows = sections.flakiness_table(data)
    flaky = (
        sorted(set(flaky_rows.loc[flaky_rows["verdict"] == "flaky", "test_id"].astype(str)))
        if isinstance(flaky_rows, pd.DataFrame)
        else []
    )
    whys = [
        {"id": w["id"], "title": w["title"], "open": w["open"]}
        for w in sections.whys_for(analyses or [])
    ]
    # parameters and whys files are typed by people: every text is redacted before it is saved
    return redact_json(
        _plain(
            {
                "loop": data.loop,
                "iteration": data.iteration,
                "environment": environment,
                "target": _target_rate(target),
                "target_text": str(target),
                "status": None if verdict is None else verdict.status.value,
                "totals": totals,
                "by_category": by_category,
                "clusters": clusters,
                "sla": sla,
                "criteria": criteria,
                "new_failures": new,
                "fixed": fixed,
                "flaky": flaky,
                "whys": whys,
                "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            }
        )
    )


def _target_rate(target: Any) -> float | None:
    """The overall pass rate the loop target asks for (what a CI gate reads), else None."""
    try:
        criteria = sections.parse_target(target) if target else []
    except ConfigError:
        return None
    rates = [c.target for c in criteria if c.kind == "pass_rate" and not (c.category or c.suite)]
    return float(rates[0]) if rates else None
