"""Flakiness from a test's history and retries, and whether the test or the service is flaky.

Pure. A *run* of a test is its last execution in one iteration that gave a
result: a pass (``passed``, ``xpassed``) or a failure (``failed``, ``error``);
skipped runs and iterations it is absent from are left out. Runs sort by
iteration in natural order. The definitions, each with its parameter:

- **pass on retry** (Buildkite's *passed on retry*, Trunk's *pass-on-retry*):
  the test failed and then passed in the same run or deployment: a later
  execution in the same file (JUnit ``<flakyFailure>``/``<rerunFailure>``,
  pytest-rerunfailures in a report-log) or a ``whyloop rerun`` attempt
  (``reruns``), in an iteration of the window;
- **flip rate** (Buildkite's transition count): the changes between pass and
  fail over the test's last ``window`` runs, divided by the runs in the window
  (``PPFFF`` 0.2, ``FFFFF`` 0); flaky at ``flip_threshold`` or more, judged
  only with ``min_runs`` runs or more in the window;
- **exponentially weighted flip rate**: the flips (1 where a run differs from
  the one before) averaged over the whole history with weights halving every
  ``halflife`` runs (pandas ``ewm(halflife=...).mean()``); given a
  ``halflife``, the verdict reads it in place of the plain flip rate;
- **Allure's rule** (its *Flaky* mark): within the last ``allure_window`` runs
  the test failed, passed at least once since, and failed in the latest run.

The verdict (:class:`~whyloop.schema.FlakeVerdict`) takes the first rule that
applies, and ``rule`` names it with its figures::

    1  pass on retry in the window           flaky       (any number of runs)
       with min_runs runs or more:
    2  flip rate >= flip_threshold           flaky
    3  Allure's rule                         flaky
    4  latest run passed, a failure in it    fixed
    5  otherwise                             consistent
       with fewer:
    6  failed on every rerun of its latest   consistent  (same deployment, >= 1 rerun)
       failing run
    7  first run in the latest iteration     new
    8  otherwise                             unknown     "only 2 runs (< 5)"

**Flaky test or flaky service** (``side``): for a test that failed in the
window, the failure leans to the service when at the same time (the same
iteration) other tests failed with the same signature, or (given template
ids, via ``signals``) logged the same WARNING-or-worse template inside their
own time windows, or a probe failed (within the failure's window plus the
slack when both have times, and naming the same HTTP status when both name
one). ``side_evidence`` says what was seen; ``test`` means nothing was
(:func:`whyloop.analyze.flaky.failure_side`).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import pandas as pd

from whyloop.analyze.clusters import ITERATION, SINGLE_ITERATION, iteration_key, last_runs
from whyloop.analyze.flaky import Signals, failure_side, retry_results, side_context, where
from whyloop.schema import FlakeVerdict

__all__ = ["FLAKINESS_COLUMNS", "Signals", "allure_flaky", "flakiness", "flip_rates"]

#: columns of :func:`flakiness`, in order
FLAKINESS_COLUMNS: tuple[str, ...] = (
    "test_id",
    "verdict",
    "rule",
    "runs",
    "fails",
    "flips",
    "flip_rate",
    "ewm_flip_rate",
    "last_outcome",
    "history",
    "side",
    "side_evidence",
    "first_seen",
    "last_seen",
    "category",
    "signature",
)
_FAIL = frozenset({"failed", "error"})
_PASS = frozenset({"passed", "xpassed"})


def _check(
    window: int, min_runs: int, flip_threshold: float, halflife: float | None, allure_window: int
) -> None:
    if window < 2:
        raise ValueError(f"window must be at least 2 runs, got {window}")
    if not 1 <= min_runs <= window:
        raise ValueError(f"min_runs must be between 1 and window ({window}), got {min_runs}")
    if not 0 < flip_threshold <= 1:
        raise ValueError(f"flip_threshold must be in (0, 1], got {flip_threshold}")
    if halflife is not None and halflife <= 0:
        raise ValueError(f"halflife must be > 0 runs, got {halflife}")
    if allure_window < 3:
        raise ValueError(f"allure_window must be at least 3 runs, got {allure_window}")


def flip_rates(seq: list[bool], window: int, halflife: float) -> tuple[int, float, float]:
    """(flips in the window, flips / runs in the window, EWM of every flip) for a run sequence.

    ``seq`` holds one bool per run, oldest first, True for a failure.
    """
    recent = seq[-window:]
    flips = sum(a != b for a, b in pairwise(recent))
    rate = flips / len(recent) if recent else float("nan")
    every = pd.Series([float(a != b) for a, b in pairwise(seq)], dtype="float64")
    ewm = float(every.ewm(halflife=halflife).mean().iloc[-1]) if len(every) else float("nan")
    return flips, rate, ewm


def allure_flaky(seq: list[bool], allure_window: int = 5) -> bool:
    """Allure's rule: in the last ``allure_window`` runs, a failure, a pass since, and a failed latest."""
    recent = seq[-allure_window:]
    if len(recent) < 3 or not recent[-1]:
        return False
    first_fail = next((i for i, failed in enumerate(recent[:-1]) if failed), None)
    return first_fail is not None and not all(recent[first_fail + 1 : -1])


def _s(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _history_rule(
    seq: list[bool], its: list[str], rate: float, ewm: float, opts: dict[str, Any]
) -> tuple[FlakeVerdict, str]:
    """Rules 2 to 5: the verdict of a test with enough runs."""
    window, threshold, halflife = opts["window"], opts["flip_threshold"], opts["halflife"]
    recent, recent_its = seq[-window:], its[-window:]
    n = len(recent)
    if halflife is None and rate >= threshold:
        return FlakeVerdict.FLAKY, f"flip rate {rate:.2f} over the last {n} runs >= {threshold:g}"
    if halflife is not None and ewm >= threshold:
        return FlakeVerdict.FLAKY, (
            f"exponentially weighted flip rate {ewm:.2f} (halflife {halflife:g} runs)"
            f" >= {threshold:g}"
        )
    if allure_flaky(seq, opts["allure_window"]):
        return FlakeVerdict.FLAKY, (
            "allure: failed in latest, passed since a failure within the last "
            f"{opts['allure_window']}"
        )
    measure = f"flip rate {rate if halflife is None else ewm:.2f} < {threshold:g}"
    if not recent[-1] and any(recent):
        last_fail = max(i for i, failed in enumerate(recent) if failed)
        since = _s(n - 1 - last_fail, "run")
        why = f"failed in iteration {recent_its[last_fail]}, passed in the {since} since; {measure}"
        return FlakeVerdict.FIXED, why
    if not any(recent):
        return FlakeVerdict.CONSISTENT, f"passed all {n} runs"
    if all(recent):
        return FlakeVerdict.CONSISTENT, f"failed all {n} runs"
    streak = n - 1 - max(i for i, failed in enumerate(recent) if not failed)
    first = recent_its[n - streak]
    return (
        FlakeVerdict.CONSISTENT,
        f"failing since iteration {first} ({_s(streak, 'run')}); {measure}",
    )


def _verdict(
    test_id: str,
    seq: list[bool],
    its: list[str],
    rates: tuple[float, float],
    retries: dict[tuple[str, str], tuple[bool, str]],
    context: dict[str, Any],
) -> tuple[FlakeVerdict, str]:
    """The first rule that applies (the table in the module docstring)."""
    opts, latest = context["opts"], context["latest"]
    window, min_runs = opts["window"], opts["min_runs"]
    recent_its = its[-window:]
    start = iteration_key(recent_its[0] if recent_its else latest)
    passed_on_retry = [
        it
        for (t, it), (ok, _) in retries.items()
        if t == test_id and ok and iteration_key(it) >= start
    ]
    if passed_on_retry:
        it = max(passed_on_retry, key=iteration_key)
        return FlakeVerdict.FLAKY, f"pass on retry {where(it)} ({retries[(test_id, it)][1]})"
    n = len(recent_its)
    if n >= min_runs:
        return _history_rule(seq, its, *rates, opts)
    few = f"only {_s(n, 'run')} (< {min_runs})"
    fail_its = [it for it, failed in zip(its, seq, strict=True) if failed]
    reran = retries.get((test_id, fail_its[-1])) if fail_its else None
    if reran is not None and not reran[0]:
        return FlakeVerdict.CONSISTENT, f"{reran[1]} (same deployment); {few} for the history rules"
    if context["earlier"] and context["first_seen"] == latest:
        return FlakeVerdict.NEW, f"first run in iteration {latest}, the latest; no earlier run"
    if n == 0:
        return FlakeVerdict.UNKNOWN, "no run gave a result (skipped or absent)"
    return FlakeVerdict.UNKNOWN, f"{few}: unknown"


def flakiness(
    tests_by_iteration: pd.DataFrame,
    *,
    window: int = 10,
    min_runs: int = 5,
    flip_threshold: float = 0.2,
    halflife: float | None = None,
    allure_window: int = 5,
    signals: Signals | Mapping[str, Any] | None = None,
    reruns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Call every test flaky, consistent, fixed, new or unknown, naming the rule that decided.

    ``tests_by_iteration`` is ``Store.read_all(loop, "tests")`` (a frame
    without ``iteration`` is one run). ``reruns`` is
    :func:`~whyloop.analyze.flaky.classify_reruns` output or the attempts of
    :func:`~whyloop.probes.rerun.rerun_failures` (``iteration`` column
    optional: without it they belong to the latest iteration). ``signals``
    (:class:`Signals` or a dict of its fields) feed ``side``. The rules and
    parameters are in the module docstring; ValueError names a bad one.

    Returns one row per test (columns :data:`FLAKINESS_COLUMNS`): ``verdict``
    (a FlakeVerdict value), ``rule``, ``runs``/``fails``/``flips`` in the
    window, ``flip_rate``, ``ewm_flip_rate`` (halflife ``window / 2`` runs
    unless given), ``last_outcome`` (of its latest iteration), ``history``
    (the window's runs, oldest first: ``P`` pass, ``F`` fail), ``side``
    (``test``/``service``; None when it did not fail in the window) with
    ``side_evidence``, ``first_seen``/``last_seen`` iterations, ``category``
    and the ``signature`` of its latest failure. Flaky tests first.
    """
    _check(window, min_runs, flip_threshold, halflife, allure_window)
    if tests_by_iteration.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FLAKINESS_COLUMNS})
    tests = tests_by_iteration.copy()
    tests[ITERATION] = tests[ITERATION].astype(str) if ITERATION in tests else SINGLE_ITERATION
    tests["outcome"] = tests["outcome"].astype(str)
    every = sorted(set(tests[ITERATION]), key=iteration_key)
    latest = every[-1]
    runs = last_runs(tests)
    runs = runs.assign(_k=runs[ITERATION].map(iteration_key)).sort_values("_k", kind="stable")
    retries = retry_results(tests, reruns, latest)
    signals = signals if isinstance(signals, Signals) else Signals(**dict(signals or {}))
    ctx = side_context(
        tests, signals, reruns if reruns is not None and "attempt" in reruns else None, latest
    )
    opts = {
        "window": window,
        "min_runs": min_runs,
        "flip_threshold": flip_threshold,
        "halflife": halflife,
        "allure_window": allure_window,
    }
    rows = []
    # columns as lists, read once: a handful of pandas calls per test took 8 ms a test
    # (1,000 tests over two iterations: 8 s); positions index them, group by group
    runs = runs.reset_index(drop=True)
    iterations, outcomes = runs[ITERATION].tolist(), runs["outcome"].tolist()
    category = runs["category"].array if "category" in runs else None
    signature = runs["signature"].array if "signature" in runs else None
    failed_ids = set(ctx.failures["test_id"].astype(str))  # failure_side has nothing on others
    for test_id, where_ in runs.groupby("test_id", sort=False).indices.items():
        at = list(where_)
        judged = [i for i in at if outcomes[i] in _FAIL | _PASS]
        its, seq = [iterations[i] for i in judged], [outcomes[i] in _FAIL for i in judged]
        flips, rate, ewm = flip_rates(seq, window, halflife or window / 2)
        context = {"opts": opts, "latest": latest, "earlier": len(every) > 1,
                   "first_seen": str(iterations[at[0]])}  # fmt: skip
        verdict, rule = _verdict(str(test_id), seq, its, (rate, ewm), retries, context)
        first = iteration_key(its[-window:][0]) if its else iteration_key(latest)
        if str(test_id) in failed_ids:
            window_its = {iterations[i] for i in at if iteration_key(iterations[i]) >= first}
            side, evidence = failure_side(str(test_id), window_its, ctx)
        else:
            side, evidence = None, ""
        failing = [i for i in at if outcomes[i] in _FAIL]
        rows.append(
            {
                "test_id": str(test_id),
                "verdict": verdict.value,
                "rule": rule,
                "runs": len(its[-window:]),
                "fails": sum(seq[-window:]),
                "flips": flips,
                "flip_rate": rate,
                "ewm_flip_rate": ewm,
                "last_outcome": str(outcomes[at[-1]]),
                "history": "".join("F" if f else "P" for f in seq[-window:]),
                "side": side,
                "side_evidence": evidence,
                "first_seen": str(iterations[at[0]]),
                "last_seen": str(iterations[at[-1]]),
                "category": category[at[-1]] if category is not None else None,
                "signature": signature[failing[-1]] if failing and signature is not None else None,
            }
        )
    out = pd.DataFrame(rows, columns=list(FLAKINESS_COLUMNS))
    order = {v.value: i for i, v in enumerate(FlakeVerdict)}
    out = out.assign(_o=out["verdict"].map(order)).sort_values(["_o", "test_id"], kind="stable")
    for column in ("runs", "fails", "flips"):
        out[column] = out[column].astype("int64")
    for column in ("flip_rate", "ewm_flip_rate"):
        out[column] = out[column].astype("float64")
    return out.drop(columns="_o").reset_index(drop=True)
