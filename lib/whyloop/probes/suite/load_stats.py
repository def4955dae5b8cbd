"""Pure load statistics and the load probe's verdict: percentiles, SLA, the client's ceiling.

:mod:`whyloop.probes.suite.load` records a :class:`LoadRun` (every latency, status
and error); :func:`summarize` turns it into :class:`LoadStats`, and
:func:`judge_load` compares those with the SLA and with the client's own
ceiling (the same load against a trivial local server), warning when the
result comes within :data:`CEILING_WARN_RATIO` of it. No network, no asyncio.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from whyloop.probes.suite.verdicts import Check

__all__ = [
    "CEILING_WARN_RATIO",
    "DEFAULT_SUCCESS_RATE",
    "LOAD_SLA_KEYS",
    "LoadRun",
    "LoadStats",
    "judge_load",
    "percentile",
    "summarize",
]

#: a load result above this share of the client's own ceiling may measure the client
CEILING_WARN_RATIO = 0.7
#: the success rate a load probe must reach when its SLA names none
DEFAULT_SUCCESS_RATE = 0.99
#: SLA keys of a load probe: upper bounds (``*_ms``) and lower bounds (the rest)
LOAD_SLA_KEYS = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "success_rate", "min_rps")


@dataclass
class LoadRun:
    """Raw observations of one load run: every latency, status and error."""

    planned: int
    users: int
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    #: True when max_seconds stopped the run before every planned request was sent
    stopped_early: bool = False

    @property
    def attempted(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())


@dataclass
class LoadStats:
    """A load run summarised: counts, success rate, throughput and latency percentiles."""

    planned: int
    attempted: int
    succeeded: int
    success_rate: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    elapsed_s: float
    stopped_early: bool
    statuses: dict[str, int]
    errors: dict[str, int]

    def brief(self) -> dict[str, Any]:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in vars(self).items()}


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(run: LoadRun, *, ok_below: int = 400) -> LoadStats:
    """Summarise ``run``; a request succeeded when it got a status below ``ok_below``."""
    succeeded = sum(n for status, n in run.statuses.items() if status < ok_below)
    attempted = run.attempted
    lat = run.latencies_ms
    return LoadStats(
        planned=run.planned,
        attempted=attempted,
        succeeded=succeeded,
        success_rate=succeeded / attempted if attempted else 0.0,
        rps=attempted / run.elapsed_s if run.elapsed_s > 0 else 0.0,
        p50_ms=percentile(lat, 50),
        p95_ms=percentile(lat, 95),
        p99_ms=percentile(lat, 99),
        max_ms=max(lat) if lat else math.nan,
        elapsed_s=run.elapsed_s,
        stopped_early=run.stopped_early,
        statuses={str(k): v for k, v in sorted(run.statuses.items())},
        errors=dict(run.errors),
    )


def _meets(key: str, value: float, bound: float) -> bool:
    if math.isnan(value):
        return False
    return value <= bound if key.endswith("_ms") else value >= bound


def judge_load(stats: LoadStats, ceiling: LoadStats, sla: dict[str, float]) -> list[Check]:
    """One row per load metric against ``sla``, plus the client's ceiling beside them.

    Every row's detail carries the ceiling; when throughput passes
    :data:`CEILING_WARN_RATIO` of it, every row carries a warning too.
    """
    sla = {"success_rate": DEFAULT_SUCCESS_RATE, **sla}
    share = stats.rps / ceiling.rps if ceiling.rps > 0 else math.inf
    warning = ""
    if share > CEILING_WARN_RATIO:
        warning = (
            f"throughput {stats.rps:.0f} req/s is {share:.0%} of this client's own ceiling "
            f"({ceiling.rps:.0f} req/s against a trivial local server at the same concurrency): "
            "the result may measure the client, not the server; use fewer users or more clients"
        )
    common = {
        "client_ceiling_rps": round(ceiling.rps, 1),
        "client_ceiling_p50_ms": round(ceiling.p50_ms, 2),
        "share_of_ceiling": round(share, 3) if math.isfinite(share) else None,
        "ceiling_warning": warning,
        "stats": stats.brief(),
    }
    evidence = [
        f"{stats.attempted} of {stats.planned} requests in {stats.elapsed_s:.2f} s, "
        f"statuses {stats.statuses}" + (f", errors {stats.errors}" if stats.errors else "")
    ]
    if stats.stopped_early:
        evidence.append(f"stopped at max_seconds after {stats.attempted} of {stats.planned}")
    checks = []
    for key in ("success_rate", "p50_ms", "p95_ms", "p99_ms", "max_ms", "rps"):
        value = getattr(stats, key)
        bound_key = "min_rps" if key == "rps" else key
        bound = sla.get(bound_key)
        ok = bound is None or _meets(bound_key, value, bound)
        sla_text = "" if bound is None else ("<= " if key.endswith("_ms") else ">= ") + f"{bound:g}"
        why = ""
        if not ok:
            why = f"{key} {value:.3g} misses the SLA {sla_text}"
            if key == "success_rate" and (stats.errors or stats.statuses):
                why += f" (statuses {stats.statuses}, errors {stats.errors or 'none'})"
        elif warning:
            why = warning
        checks.append(
            Check(
                "load",
                key,
                None if math.isnan(value) else round(value, 4),
                ok,
                sla_text,
                why,
                evidence,
                dict(common),
                warning=warning,
            )
        )
    checks.append(
        Check(
            "client_ceiling",
            "client_ceiling_rps",
            round(ceiling.rps, 1),
            True,
            f"result <= {CEILING_WARN_RATIO:.0%}",
            warning
            or f"result is {share:.0%} of the client's ceiling: the numbers measure the server",
            [f"trivial local server: {ceiling.rps:.0f} req/s, p50 {ceiling.p50_ms:.1f} ms"],
            dict(common),
            warning=warning,
        )
    )
    return checks
