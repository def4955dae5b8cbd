"""Flakiness from history over synthetic iterations: flips, Allure's rule, retries, too few runs."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.analyze.loop_frames import T0, failing, histories, make_frame
from whyloop.analyze.correlate import message_shape
from whyloop.analyze.history import (
    FLAKINESS_COLUMNS,
    Signals,
    allure_flaky,
    flakiness,
    flip_rates,
)
from whyloop.schema import FlakeVerdict


def judged(runs: dict[str, str], **kwargs) -> pd.DataFrame:
    return flakiness(histories(runs), **kwargs).set_index("test_id")


def test_the_flip_rate_over_the_window_calls_a_test_flaky() -> None:
    out = judged({"flips": "PFPFPFPFPF", "green": "PPPPPPPPPP", "red": "FFFFFFFFFF"})
    flips = out.loc["flips"]
    # 9 changes between pass and fail over 10 runs: 9 / 10
    assert flips["verdict"] == FlakeVerdict.FLAKY
    assert flips["rule"] == "flip rate 0.90 over the last 10 runs >= 0.2"
    assert (flips["runs"], flips["fails"], flips["flips"]) == (10, 5, 9)
    assert flips["history"] == "PFPFPFPFPF" and flips["flip_rate"] == pytest.approx(0.9)
    assert out.loc["green", "rule"] == "passed all 10 runs"
    assert out.loc["red", "rule"] == "failed all 10 runs"
    assert out.loc["green", "verdict"] == out.loc["red", "verdict"] == FlakeVerdict.CONSISTENT
    assert list(flakiness(histories({"a": "PP"})).columns) == list(FLAKINESS_COLUMNS)


def test_buildkite_examples_and_the_window_leaves_old_flips_out() -> None:
    # Buildkite's transition score over a window of 5: FFFFF 0, PPFFF 0.2
    assert flip_rates([True] * 5, 5, 1)[1] == 0.0
    assert flip_rates([False, False, True, True, True], 5, 1)[1] == pytest.approx(0.2)
    # 6 flips long ago, then 10 passes: the window of 10 holds none of them
    out = judged({"t": "PFPFPF" + "P" * 10})
    assert out.loc["t", "flip_rate"] == 0.0 and out.loc["t", "verdict"] == FlakeVerdict.CONSISTENT


def test_the_exponentially_weighted_flip_rate_decides_when_a_halflife_is_given() -> None:
    # PPPPPF: flips 0,0,0,0,1 (oldest first); halflife 1 run: weights 1/16, 1/8, 1/4, 1/2, 1
    # -> 1 / 1.9375 = 0.516; the plain rate is 1 flip / 6 runs = 0.167
    out = judged({"t": "PPPPPF"}, halflife=1, flip_threshold=0.5)
    row = out.loc["t"]
    assert row["ewm_flip_rate"] == pytest.approx(1 / 1.9375)
    assert row["flip_rate"] == pytest.approx(1 / 6)
    assert row["verdict"] == FlakeVerdict.FLAKY
    assert row["rule"] == "exponentially weighted flip rate 0.52 (halflife 1 runs) >= 0.5"
    # without a halflife the plain rate decides (and the EWM uses window / 2 = 5 runs)
    plain = judged({"t": "PPPPPF"}, flip_threshold=0.5).loc["t"]
    weights = [0.5 ** (k / 5) for k in range(5)]  # newest first
    assert plain["ewm_flip_rate"] == pytest.approx(1 / sum(weights))
    assert plain["verdict"] == FlakeVerdict.CONSISTENT


def test_allures_rule_failed_in_the_last_five_passed_since_and_failed_in_the_latest() -> None:
    assert allure_flaky([False, False, True, False, True])  # ..F P F
    assert not allure_flaky([False, False, False, False, True])  # first failure is the latest
    assert not allure_flaky([False, False, False, True, True])  # no pass since the failure
    assert not allure_flaky([True, False, False, False, False, False, True])  # F is 6 runs back
    # flip rate 3 / 10 = 0.3 stays under 0.5, so Allure's rule is what decides
    out = judged({"t": "PPPPPPPFPF"}, flip_threshold=0.5)
    assert out.loc["t", "verdict"] == FlakeVerdict.FLAKY
    assert (
        out.loc["t", "rule"] == "allure: failed in latest, passed since a failure within the last 5"
    )


def test_fixed_and_failing_since() -> None:
    out = judged({"fixed": "FFFFFFFFPP", "broke": "PPPPPPPPFF"})
    assert out.loc["fixed", "verdict"] == FlakeVerdict.FIXED
    assert out.loc["fixed", "rule"] == (
        "failed in iteration 8, passed in the 2 runs since; flip rate 0.10 < 0.2"
    )
    assert out.loc["broke", "verdict"] == FlakeVerdict.CONSISTENT
    assert out.loc["broke", "rule"] == "failing since iteration 9 (2 runs); flip rate 0.10 < 0.2"


def test_too_few_runs_is_unknown_and_a_first_run_in_the_latest_iteration_is_new() -> None:
    out = judged({"old": "PPPPP", "few": "---PF", "new": "----F", "skips": "SSSSS"})
    assert out.loc["few", "verdict"] == FlakeVerdict.UNKNOWN
    assert out.loc["few", "rule"] == "only 2 runs (< 5): unknown"
    assert out.loc["new", "verdict"] == FlakeVerdict.NEW
    assert out.loc["new", "rule"] == "first run in iteration 5, the latest; no earlier run"
    assert out.loc["skips", "rule"] == "no run gave a result (skipped or absent)"
    # a frame without iterations is one run: too few for the history rules
    one = flakiness(make_frame([failing("x", "X")])).iloc[0]
    assert one["rule"] == "only 1 run (< 5): unknown"


def test_pass_on_retry_in_the_same_run_is_flaky_whatever_the_history() -> None:
    frame = histories({"t": "PP-"})
    retried = make_frame(
        [
            failing("t", "X", iteration="3", rerun=0),
            {"test_id": "t", "iteration": "3", "rerun": 1, "outcome": "passed"},
        ]
    )
    out = flakiness(pd.concat([frame, retried], ignore_index=True)).iloc[0]
    assert out["verdict"] == FlakeVerdict.FLAKY
    assert out["rule"] == "pass on retry in iteration 3 (failed, then passed on rerun 1)"
    assert out["history"] == "PPP"  # the run counts by its last execution: a pass


def test_whyloop_reruns_say_flaky_or_consistent_for_the_latest_iteration() -> None:
    frame = histories({"flaky": "PF", "stuck": "PF"})
    reruns = pd.DataFrame(
        {
            "test_id": ["flaky", "stuck"],
            "passed": [1, 0],
            "failed": [1, 2],
            "verdict": ["flaky", "consistent"],
        }
    )
    out = flakiness(frame, reruns=reruns).set_index("test_id")
    assert out.loc["flaky", "rule"] == (
        "pass on retry in iteration 2 (whyloop rerun: passed 1 of 2 reruns)"
    )
    assert out.loc["stuck", "verdict"] == FlakeVerdict.CONSISTENT
    assert out.loc["stuck", "rule"] == (
        "failed on all 2 reruns in iteration 2 (same deployment); "
        "only 2 runs (< 5) for the history rules"
    )


def test_rerun_attempts_count_as_retries_and_their_failures_as_at_the_same_time() -> None:
    frame = make_frame([failing("x", "S"), {"test_id": "y"}])
    # the attempts of rerun_failures: x passed once in two; y is not among the failures
    attempts = pd.DataFrame(
        {
            "test_id": ["x", "x", "z"],
            "attempt": [1, 2, 1],
            "outcome": ["failed", "passed", "failed"],
            "signature": ["S", "", "S"],
        }
    )
    out = flakiness(frame, reruns=attempts).set_index("test_id")
    assert out.loc["x", "rule"] == "pass on retry in this run (whyloop rerun: passed 1 of 2 reruns)"
    assert out.loc["x", "side_evidence"] == (
        "the same failure (signature S) in 1 other test in this run: z"
    )


def test_the_same_failure_in_other_tests_at_the_same_time_leans_to_the_service() -> None:
    frame = histories(
        {"a": "PPPF", "b": "PPPF", "lone": "PPPF"},
        signatures={"a": "503", "b": "503", "lone": "own"},
    )
    out = flakiness(frame).set_index("test_id")
    assert out.loc["a", "side"] == "service"
    assert out.loc["a", "side_evidence"] == (
        "the same failure (signature 503) in 1 other test in iteration 4: b"
    )
    assert out.loc["lone", "side"] == "test"
    assert out.loc["lone", "side_evidence"] == (
        "no other test failed the same way at the same time (no probes given)"
    )
    green = flakiness(histories({"g": "PPPP"})).iloc[0]
    assert green["side"] is None and green["side_evidence"] == ""


def test_a_failed_probe_at_the_same_time_naming_the_same_status_leans_to_the_service() -> None:
    start = T0
    tests = make_frame(
        [
            failing("t", "X", message="AssertionError: expected HTTP 201, got 503",
                    start=start, stop=start + pd.Timedelta(seconds=1)),
        ]
    )  # fmt: skip

    def probe(offset_s: float, diagnosis: str) -> dict:
        return {
            "probe": "create-thread",
            "check": "status",
            "ok": False,
            "started": start + pd.Timedelta(seconds=offset_s),
            "duration_ms": 100.0,
            "diagnosis": diagnosis,
        }

    probes = pd.DataFrame(
        [
            probe(2, "the server answered HTTP 401"),  # another status: not this failure
            probe(60, "the server answered HTTP 503"),  # a minute later: not at the same time
            probe(3, "the server answered HTTP 503 Service Unavailable"),
        ]
    )
    out = flakiness(tests, signals={"probes": probes}).iloc[0]
    assert out["side"] == "service"
    assert out["side_evidence"] == (
        "probe create-thread status failed at the same time in this run: "
        "the server answered HTTP 503 Service Unavailable"
    )
    alone = flakiness(tests, signals={"probes": probes.iloc[:2]}).iloc[0]
    assert alone["side"] == "test" and alone["side_evidence"].endswith(
        "no failed probe at the time"
    )


def test_the_same_log_template_during_other_failing_tests_leans_to_the_service() -> None:
    tests = make_frame([failing("a", "A1"), failing("b", "B1")])
    correlated = pd.DataFrame(
        {
            "test_id": ["a", "b", "b"],
            "template_id": ["T7", "T7", "T9"],
            "level": ["ERROR", "ERROR", "INFO"],
            "in_window": [True, True, True],
            "message": ["database is locked", "database is locked", "GET /health 200"],
        }
    )
    out = flakiness(tests, signals={"correlated": correlated}).set_index("test_id")
    assert out.loc["a", "side"] == "service"
    assert out.loc["a", "side_evidence"] == (
        "the same log template T7 ('database is locked') during 1 other failing test in this run: b"
    )


def test_bad_parameters_are_refused_naming_them() -> None:
    with pytest.raises(ValueError, match="min_runs"):
        flakiness(histories({"a": "P"}), window=3, min_runs=5)
    with pytest.raises(ValueError, match="flip_threshold"):
        flakiness(histories({"a": "P"}), flip_threshold=0)


def test_logs_and_template_ids_in_signals_are_correlated_here() -> None:
    start = T0
    window = {"start": start, "stop": start + pd.Timedelta(seconds=2)}
    later = {"start": start + pd.Timedelta(seconds=60), "stop": start + pd.Timedelta(seconds=62)}
    tests = make_frame([failing("a", "A1", **window), failing("b", "B1", **later)])
    logs = pd.DataFrame(
        {
            "timestamp": pd.to_datetime([start + pd.Timedelta(seconds=1),
                                         start + pd.Timedelta(seconds=61)], utc=True),
            "level": ["ERROR", "ERROR"],
            "message": ["pool exhausted after 30 s", "pool exhausted after 31 s"],
        }
    )  # fmt: skip
    shapes = logs["message"].map(message_shape)  # one template for both records
    out = flakiness(tests, signals=Signals(logs=logs, templates=shapes)).set_index("test_id")
    assert out.loc["a", "side"] == "service"
    # the sample quoted is the other test's record
    assert out.loc["a", "side_evidence"] == (
        "the same log template pool exhausted after # s ('pool exhausted after 31 s') during "
        "1 other failing test in this run: b"
    )
