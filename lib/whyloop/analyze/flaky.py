"""Which failures are consistent, flaky or fixed: the pure half of ``whyloop rerun``.

:mod:`whyloop.probes.rerun` reruns the failed tests of a run and records one
row per test per attempt; :func:`classify_reruns` sets those attempts beside
the original failure and gives each test a :class:`Verdict`::

    original   reruns            verdict      pass_fraction
    failed     failed, failed    consistent   0.0
    failed     failed, passed    flaky        0.5
    failed     passed, passed    fixed        1.0
    failed     (no result)       unknown      None

Only attempts that passed (``passed``, ``xpassed``) or failed (``failed``,
``error``) count toward the fraction; a skipped attempt says nothing either way.
"""

from __future__ import annotations

import pandas as pd

from whyloop.schema import Outcome, Verdict

__all__ = ["RERUN_COLUMNS", "VERDICT_COLUMNS", "Verdict", "classify_reruns", "failures_to_rerun"]

#: columns of the frame :func:`whyloop.probes.rerun.rerun_failures` returns (table ``reruns``)
RERUN_COLUMNS: tuple[str, ...] = (
    "test_id",
    "attempt",
    "outcome",
    "duration_s",
    "message",
    "signature",
    "nodeid",
)

#: columns of the frame :func:`classify_reruns` returns
VERDICT_COLUMNS: tuple[str, ...] = (
    "test_id",
    "original_outcome",
    "reruns",
    "passed",
    "failed",
    "pass_fraction",
    "verdict",
    "signature",
    "same_signature",
)

_PASS = frozenset({Outcome.PASSED.value, Outcome.XPASSED.value})
_FAIL = frozenset({Outcome.FAILED.value, Outcome.ERROR.value})


def failures_to_rerun(tests: pd.DataFrame) -> pd.DataFrame:
    """The failed tests of a run: one row per test whose last execution failed or errored.

    ``tests`` is a tests frame (:func:`whyloop.read_tests` or the store's
    ``tests`` table). Earlier executions (``rerun`` > 0 rows of
    pytest-rerunfailures) are folded: only the last one counts. The rows keep
    every column of ``tests``, in their original order.
    """
    if tests.empty:
        return tests.iloc[0:0]
    order = tests.assign(_pos=range(len(tests)))
    keys = [c for c in ("file", "test_id") if c in tests.columns]
    if "rerun" in tests.columns:
        order = order.sort_values([*keys, "rerun"], kind="stable")
    last = order.drop_duplicates(keys, keep="last").sort_values("_pos", kind="stable")
    failed = last[last["outcome"].astype(str).isin(_FAIL)]
    # one row per test_id even when several files hold it (the first file wins)
    return failed.drop_duplicates("test_id").drop(columns="_pos")


def _verdict(passed: int, failed: int) -> Verdict:
    if passed + failed == 0:
        return Verdict.UNKNOWN
    if passed == 0:
        return Verdict.CONSISTENT
    return Verdict.FIXED if failed == 0 else Verdict.FLAKY


def classify_reruns(original: pd.DataFrame, reruns: pd.DataFrame) -> pd.DataFrame:
    """Give every failed test of ``original`` a verdict from its ``reruns``.

    ``original`` is the tests frame of the run that failed (only its failures
    are classified; see :func:`failures_to_rerun`), ``reruns`` the frame of
    :func:`~whyloop.probes.rerun.rerun_failures` (``test_id``, ``attempt``,
    ``outcome``, ``signature``...). Returns one row per failed test with the
    columns of :data:`VERDICT_COLUMNS`: how many reruns gave a result,
    how many passed and failed, ``pass_fraction`` (passed / (passed + failed),
    None when neither), ``verdict`` (a :class:`Verdict` value), the original
    ``signature`` and ``same_signature``: True when every failed rerun failed
    with the original signature, False when one failed another way, None when
    no rerun failed or the signatures are unknown.
    """
    failures = failures_to_rerun(original)
    by_test: dict[str, pd.DataFrame] = (
        {str(k): g for k, g in reruns.groupby("test_id", sort=False)} if len(reruns) else {}
    )
    rows = []
    for _, test in failures.iterrows():
        test_id = str(test["test_id"])
        attempts = by_test.get(test_id)
        outcomes = [] if attempts is None else [str(o) for o in attempts["outcome"]]
        passed = sum(o in _PASS for o in outcomes)
        failed = sum(o in _FAIL for o in outcomes)
        original_sig = str(test.get("signature") or "")
        same: bool | None = None
        if attempts is not None and failed and original_sig:
            failing = attempts[attempts["outcome"].astype(str).isin(_FAIL)]
            sigs = {str(s) for s in failing["signature"] if isinstance(s, str) and s}
            same = sigs == {original_sig} if sigs else None
        rows.append(
            {
                "test_id": test_id,
                "original_outcome": str(test["outcome"]),
                "reruns": len(outcomes),
                "passed": passed,
                "failed": failed,
                "pass_fraction": round(passed / (passed + failed), 4) if passed + failed else None,
                "verdict": _verdict(passed, failed).value,
                "signature": original_sig,
                "same_signature": same,
            }
        )
    out = pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
    out["pass_fraction"] = out["pass_fraction"].astype("float64")
    out["same_signature"] = out["same_signature"].astype("boolean")
    for col in ("reruns", "passed", "failed"):
        out[col] = out[col].astype("int64")
    return out
