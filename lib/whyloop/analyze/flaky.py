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

For the loop's history (:mod:`whyloop.analyze.history`), :func:`retry_results`
says which tests passed on retry in the same run (``rerun`` rows of a results
file, or these reruns), and :func:`failure_side` whether a failure leans to the
test or to the service (the same failure or log template in other tests at the
same time, a failed probe), from the :class:`Signals` given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from whyloop.analyze.clusters import ITERATION, SINGLE_ITERATION, iteration_key
from whyloop.analyze.correlate import correlate_logs
from whyloop.schema import Outcome, Side, Verdict

__all__ = [
    "RERUN_COLUMNS",
    "VERDICT_COLUMNS",
    "SideContext",
    "Signals",
    "Verdict",
    "classify_reruns",
    "failure_side",
    "failures_to_rerun",
    "retry_results",
    "side_context",
    "where",
]

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
_LOUD = frozenset({"WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY", "FATAL"})
_STATUS = re.compile(r"(?i)\b(?:http|status(?:_code)?|got|answered|returned)[\"':= ]+([1-5]\d\d)\b")
_EXPECTED = re.compile(r"(?i)\bexpected (?:http |status )?[1-5]\d\d(?:/[1-5]\d\d)*")


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


# -- pass on retry, and flaky test or flaky service (read by analyze.history) ----------


@dataclass(frozen=True)
class Signals:
    """What besides the tests' own results tells a flaky test from a flaky service.

    ``probes``: probe checks, as the ``probes`` table holds them (``ok``,
    ``started``, ``duration_ms``, ``probe``, ``check``, ``diagnosis``:
    :func:`whyloop.probes.run_suite`) or a ``results_frame`` of staged probes;
    only failed ones count; with an ``iteration`` column they are matched
    iteration by iteration, else they belong to the latest. ``correlated``:
    :func:`~whyloop.analyze.correlate.correlate_logs` output with
    ``template_id``; or ``logs`` and ``templates`` (a template id per log
    record) to correlate here. ``slack_s`` widens each failure's window.
    """

    probes: pd.DataFrame | None = None
    correlated: pd.DataFrame | None = None
    logs: pd.DataFrame | None = None
    templates: pd.Series | None = None
    slack_s: float = 5.0


def where(iteration: str) -> str:
    """``in iteration 7``, or ``in this run`` for the one iteration of an unnamed frame."""
    return "in this run" if iteration == SINGLE_ITERATION else f"in iteration {iteration}"


def retry_results(
    tests: pd.DataFrame, reruns: pd.DataFrame | None, latest: str
) -> dict[tuple[str, str], tuple[bool, str]]:
    """What retries in the same run say: ``{(test_id, iteration): (passed_on_retry, why)}``.

    ``tests`` has an ``iteration`` column and text outcomes. A test that
    failed and then passed in a later execution of the same file (``rerun``
    > 0 rows) passed on retry; so did one with a passing ``whyloop rerun``
    attempt (``reruns``: :func:`classify_reruns` output or rerun attempts,
    the latest iteration's unless it has ``iteration``). One whose reruns all
    failed gets ``(False, "failed on all 2 reruns ...")``.
    """
    out: dict[tuple[str, str], tuple[bool, str]] = {}
    if "rerun" in tests and (tests["rerun"] > 0).any():
        rows = tests.sort_values([ITERATION, "file", "test_id", "rerun"], kind="stable")
        for (test_id, it, _), group in rows.groupby(["test_id", ITERATION, "file"], sort=False):
            outcomes = list(group["outcome"].astype(str))
            first = next((i for i, o in enumerate(outcomes) if o in _FAIL), None)
            if first is None:
                continue
            later = [i for i in range(first + 1, len(outcomes)) if outcomes[i] in _PASS]
            if later:
                why = f"failed, then passed on rerun {int(group['rerun'].iloc[later[0]])}"
                out[(str(test_id), str(it))] = (True, why)
    if reruns is not None and len(reruns):
        frame = reruns if ITERATION in reruns else reruns.assign(**{ITERATION: latest})
        for (test_id, it), group in frame.groupby(["test_id", ITERATION], sort=False):
            if "passed" in group and "failed" in group:  # classify_reruns output
                passed, failed = int(group["passed"].sum()), int(group["failed"].sum())
            else:  # attempt rows of rerun_failures
                outcomes = group["outcome"].astype(str)
                passed, failed = int(outcomes.isin(_PASS).sum()), int(outcomes.isin(_FAIL).sum())
            key = (str(test_id), str(it))
            if key in out or not passed + failed:
                continue
            if passed:
                out[key] = (True, f"whyloop rerun: passed {passed} of {passed + failed} reruns")
            else:
                runs = f"all {failed} reruns" if failed > 1 else "its only rerun"
                out[key] = (False, f"failed on {runs} {where(str(it))}")
    return out


def _statuses(text: str) -> set[int]:
    """HTTP statuses a text says were seen ("got 503"; "expected HTTP 201" left out)."""
    return {int(s) for s in _STATUS.findall(_EXPECTED.sub("", text or ""))}


@dataclass
class SideContext:
    """The failures, failed probes and loud log templates that :func:`failure_side` compares."""

    failures: pd.DataFrame  # every failing execution: iteration, test_id, signature, start, ...
    probes: list[dict[str, Any]]
    templates: pd.DataFrame | None
    slack_s: float


def side_context(
    tests: pd.DataFrame, signals: Signals, reruns: pd.DataFrame | None, latest: str
) -> SideContext:
    """Gather what :func:`failure_side` needs once for a whole history (``tests`` with iteration)."""
    cols = [ITERATION, "test_id", "signature", "start", "stop", "message"]
    frames = [tests[tests["outcome"].astype(str).isin(_FAIL)].reindex(columns=cols)]
    if reruns is not None and {"outcome", "signature"} <= set(reruns.columns):
        extra = reruns[reruns["outcome"].astype(str).isin(_FAIL)]  # rerun attempts failing too
        if ITERATION not in extra:
            extra = extra.assign(**{ITERATION: latest})
        frames.append(extra.reindex(columns=cols))
    pool = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    pool[ITERATION] = pool[ITERATION].astype(str)
    pool["signature"] = pool["signature"].astype(object).where(pool["signature"].notna(), "")
    probes = []
    if signals.probes is not None and len(signals.probes) and "ok" in signals.probes:
        for r in signals.probes[~signals.probes["ok"].astype(bool)].to_dict("records"):
            start = pd.to_datetime(r.get("started"), utc=True, errors="coerce")
            ms = pd.to_numeric(r.get("duration_ms", r.get("ms")), errors="coerce")
            text = " ".join(
                str(r.get(c) or "")
                for c in ("failed_stage", "diagnosis", "summary", "detail", "evidence")
            )
            name = " ".join(str(r[c]) for c in ("probe", "check", "stage") if r.get(c))
            probes.append(
                {
                    "iteration": str(r.get(ITERATION) or latest),
                    "start": start,
                    "end": start + pd.Timedelta(milliseconds=float(ms) if pd.notna(ms) else 0),
                    "name": name or str(r.get("target") or "probe"),
                    "diagnosis": str(r.get("diagnosis") or "")[:120],
                    "statuses": _statuses(text),
                }
            )
    corr = signals.correlated
    if corr is None and signals.logs is not None and signals.templates is not None:
        corr = correlate_logs(
            tests, signals.logs, slack_s=signals.slack_s, templates=signals.templates
        )
    templates = None
    if (
        corr is not None
        and len(corr)
        and "template_id" in corr
        and corr["template_id"].notna().any()
    ):
        loud = corr["level"].astype(str).str.upper().isin(_LOUD) & corr["in_window"].astype(bool)
        templates = corr[loud & corr["template_id"].notna()].copy()
        if ITERATION not in templates or templates[ITERATION].isna().all():
            templates[ITERATION] = SINGLE_ITERATION
        templates[ITERATION] = templates[ITERATION].astype(str)
    return SideContext(pool, probes, templates, signals.slack_s)


def _names(ids: list[str]) -> str:
    shown = ", ".join(str(i).split("::")[-1] for i in ids[:3])
    return shown + (", ..." if len(ids) > 3 else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def failure_side(test_id: str, iterations: set[str], ctx: SideContext) -> tuple[str | None, str]:
    """(``service``/``test``, evidence) for a test's failures in ``iterations``; (None, "") if none.

    The evidence, most recent iteration first: other tests failing with the
    same signature in the same iteration; the same WARNING-or-worse log
    template inside other failing tests' own windows; a failed probe at the
    same time (same iteration; within the failure's window plus the slack when
    both have times; naming the same HTTP status when both name one).
    """
    pool = ctx.failures
    own = pool[(pool["test_id"] == test_id) & pool[ITERATION].isin(iterations)]
    if own.empty:
        return None, ""
    seen: list[str] = []
    for it in sorted(set(own[ITERATION]), key=iteration_key, reverse=True):
        mine = own[own[ITERATION] == it]
        others = pool[(pool[ITERATION] == it) & (pool["test_id"] != test_id)]
        for sig in dict.fromkeys(s for s in mine["signature"] if s):
            ids = list(dict.fromkeys(others.loc[others["signature"] == sig, "test_id"]))
            if ids:
                seen.append(
                    f"the same failure (signature {sig}) in {_plural(len(ids), 'other test')} "
                    f"{where(it)}: {_names(ids)}"
                )
        if ctx.templates is not None:
            here = ctx.templates[ctx.templates[ITERATION] == it]
            for tid in dict.fromkeys(here.loc[here["test_id"] == test_id, "template_id"]):
                same = here[(here["template_id"] == tid) & (here["test_id"] != test_id)]
                ids = list(dict.fromkeys(same["test_id"]))
                if ids:
                    sample = str(same["message"].iloc[0])[:80]
                    seen.append(
                        f"the same log template {tid} ({sample!r}) during "
                        f"{_plural(len(ids), 'other failing test')} {where(it)}: {_names(ids)}"
                    )
        starts = pd.to_datetime(mine["start"], utc=True, errors="coerce")
        stops = pd.to_datetime(mine["stop"], utc=True, errors="coerce").fillna(starts)
        statuses = set().union(*(_statuses(str(m or "")) for m in mine["message"]))
        slack = pd.Timedelta(seconds=ctx.slack_s)
        for p in (p for p in ctx.probes if p["iteration"] == it):
            timed = pd.notna(p["start"]) and starts.notna().any()
            if timed and (p["end"] < starts.min() - slack or p["start"] > stops.max() + slack):
                continue
            if statuses and p["statuses"] and not statuses & p["statuses"]:
                continue
            seen.append(f"probe {p['name']} failed at the same time {where(it)}: {p['diagnosis']}")
    if seen:
        more = f" (and {len(seen) - 3} more)" if len(seen) > 3 else ""
        return Side.SERVICE.value, "; ".join(seen[:3]) + more
    checked = "no other test failed the same way at the same time"
    checked += "; no failed probe at the time" if ctx.probes else " (no probes given)"
    return Side.TEST.value, checked
