"""Several stored iterations: the diff, the history flakiness and the loop verdict, by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.analyze.loop_frames import histories
from whyloop.analyze import (
    cluster_failures,
    compare_stored,
    flakiness,
    load_criteria,
    loop_verdict,
)
from whyloop.schema import FlakeVerdict, LoopStatus
from whyloop.store import Store

# iteration:  1 2 3 4 5 6 7
RUNS = {
    "a": "PPPPPPP",  # always green
    "b": "PFPFPFP",  # flips every run
    "c": "FFFFFPP",  # fixed in 6
    "d": "PPPPPFP",  # first failure in 6
}
CRITERIA = {
    "criteria": [
        {"pass_rate": 0.75},
        "sla",
        "no_new_signatures",
        "whys_answered",
    ]
}


def probes(ok: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "suite": "sandbox",
            "probe": ["health-load", "health-load"],
            "check": ["p95", "success_rate"],
            "metric": ["p95_ms", "success_rate"],
            "value": [120.0 if ok else 612.0, 1.0],
            "sla": ["<= 500", ">= 0.99"],
            "ok": [ok, True],
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "iterations")
    frame = histories(RUNS)
    for it in range(1, 7):  # iterations 1-6; 7 is written by the test that needs it
        tests = frame[frame["iteration"] == str(it)].drop(columns="iteration")
        store.write("staging", tests=tests, probes=probes(ok=it != 6))
    return store


def test_the_diff_of_the_latest_iteration(store: Store) -> None:
    diff = compare_stored(store, "staging")
    assert (diff.previous, diff.current) == ("5", "6")
    # d: passed 5 times, fails now; b: failed in 4, passed in 5, fails in 6; c: failed in 5
    assert list(diff.new_failures["test_id"]) == ["d"]
    assert list(diff.regressed["test_id"]) == ["b"]
    assert list(diff.fixed["test_id"]) == ["c"]
    assert diff.still_failing.empty
    assert sorted(diff.new_signatures["signature"]) == ["sig-b", "sig-d"]
    assert dict(zip(diff.new_signatures["signature"], diff.new_signatures["seen_before"],
                    strict=True)) == {"sig-b": "4", "sig-d": None}  # fmt: skip
    assert list(diff.vanished_signatures["signature"]) == ["sig-c"]


def test_the_flakiness_of_the_stored_history(store: Store) -> None:
    out = flakiness(store.read_all("staging", "tests")).set_index("test_id")
    # b: PFPFPF, 5 flips over 6 runs = 0.83
    assert out.loc["b", "verdict"] == FlakeVerdict.FLAKY
    assert out.loc["b", "rule"] == "flip rate 0.83 over the last 6 runs >= 0.2"
    # c: FFFFFP, 1 flip over 6 runs = 0.17
    assert out.loc["c", "verdict"] == FlakeVerdict.FIXED
    assert out.loc["c", "rule"] == (
        "failed in iteration 5, passed in the 1 run since; flip rate 0.17 < 0.2"
    )
    assert out.loc["d", "rule"] == "failing since iteration 6 (1 run); flip rate 0.17 < 0.2"
    assert out.loc["a", "rule"] == "passed all 6 runs"
    clusters = cluster_failures(store.read_all("staging", "tests")).set_index("cluster_id")
    assert clusters.loc["sig-b", "size_by_iteration"] == {"2": 1, "4": 1, "6": 1}


def test_the_loop_continues_until_every_exit_criterion_is_met(store: Store) -> None:
    criteria = load_criteria(CRITERIA)
    tests = store.read_all("staging", "tests")
    verdict = loop_verdict(
        criteria, tests=tests, probes=store.read_all("staging", "probes"), whys=[]
    )
    table = verdict.criteria.set_index("kind")
    assert verdict.status is LoopStatus.CONTINUE
    # iteration 6: a and c pass, b and d fail: 2 of 4
    assert table.loc["pass_rate", "figure"] == 0.5
    assert table.loc["pass_rate", "detail"] == "2 of 4 passed (iteration 6): 50.00% < 75.00%"
    assert table.loc["sla", "figure"] == 0.5  # the p95 missed in 6
    assert table.loc["no_new_signatures", "figure"] == 2.0  # sig-b and sig-d against 5
    assert table.loc["whys_answered", "met"]

    frame = histories(RUNS)
    store.write("staging", tests=frame[frame["iteration"] == "7"].drop(columns="iteration"),
                probes=probes(ok=True))  # fmt: skip
    done = loop_verdict(
        criteria,
        tests=store.read_all("staging", "tests"),
        probes=store.read_all("staging", "probes"),
        whys=[],
    )
    assert done.status is LoopStatus.DONE, done
    assert done.criteria["figure"].tolist() == [1.0, 1.0, 0.0, 0.0]
