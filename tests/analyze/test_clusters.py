"""Failures grouped by signature, in one iteration and across iterations (hand-built frames)."""

from __future__ import annotations

import pandas as pd

from tests.analyze.loop_frames import failing, make_frame
from whyloop.analyze.clusters import (
    CLUSTER_COLUMNS,
    cluster_failures,
    cluster_sizes,
    iteration_order,
    last_runs,
)


def test_one_iteration_groups_failures_by_signature_with_tests_categories_and_a_message() -> None:
    tests = make_frame(
        [
            failing("a", "A", category="WebSocket", message="TimeoutError: after 3 s"),
            failing("b", "A", category="WebSocket", message="TimeoutError: after 3 s"),
            failing("c", "A", category="Auth", message="TimeoutError: after 4 s"),
            failing("d", "B", outcome="error"),
            {"test_id": "e", "outcome": "passed"},
            # failed, then passed on rerun 1: its last execution passed, so no failure
            failing("f", "C"),
            {"test_id": "f", "outcome": "passed", "rerun": 1},
            # passed, then failed on the rerun: its last execution counts
            {"test_id": "g", "outcome": "passed"},
            failing("g", "B", rerun=1),
        ]
    )
    clusters = cluster_failures(tests).set_index("cluster_id")

    assert list(clusters.columns) == list(CLUSTER_COLUMNS[1:])
    assert list(clusters.index) == ["A", "B"]  # the largest first; C's test passed in the end
    a = clusters.loc["A"]
    assert a["size"] == 3 and a["tests"] == ["a", "b", "c"]
    assert a["categories"] == ["WebSocket", "Auth"]
    assert a["first_seen"] == a["last_seen"] == "current" and a["iterations"] == 1
    assert a["representative"] == "TimeoutError: after 3 s"  # 2 of the 3 say so
    assert a["size_by_iteration"] == {"current": 3} and a["in_latest"]
    assert clusters.loc["B", "tests"] == ["d", "g"]


def test_across_iterations_a_cluster_has_first_and_last_seen_and_its_size_over_time() -> None:
    # iteration 1: A (t1, t2), B (t3); 2: A (t1); 10: B (t3, t4), C (t5)
    tests = make_frame(
        [
            failing("t1", "A", iteration="1"),
            failing("t2", "A", iteration="1"),
            failing("t3", "B", iteration="1"),
            failing("t1", "A", iteration="2"),
            {"test_id": "t2", "iteration": "2"},
            failing("t3", "B", iteration="10"),
            failing("t4", "B", iteration="10"),
            failing("t5", "C", iteration="10"),
            {"test_id": "t1", "iteration": "10"},
        ]
    )
    clusters = cluster_failures(tests)

    # clusters of the latest iteration (10, after 2 in natural order) first, largest first
    assert list(clusters["cluster_id"]) == ["B", "C", "A"]
    b, c, a = (clusters.iloc[i] for i in range(3))
    assert (b["first_seen"], b["last_seen"], b["iterations"]) == ("1", "10", 2)
    assert b["size"] == 2 and b["size_by_iteration"] == {"1": 1, "10": 2}
    assert b["failures"] == 3 and b["tests"] == ["t3", "t4"]
    assert (a["first_seen"], a["last_seen"], a["size"]) == ("1", "2", 1)
    assert a["size_by_iteration"] == {"1": 2, "2": 1} and not a["in_latest"]
    assert c["in_latest"] and c["size"] == 1

    sizes = cluster_sizes(tests)
    a_sizes = sizes[sizes["cluster_id"] == "A"]
    assert list(a_sizes["iteration"]) == ["1", "2", "10"]
    assert list(a_sizes["size"]) == [2, 1, 0]  # gone in 10: a zero, for a trend line


def test_failures_without_a_signature_get_one_from_their_message() -> None:
    tests = make_frame(
        [
            {"test_id": "x", "outcome": "failed", "message": "timed out after 3 s on port 8080"},
            {"test_id": "y", "outcome": "failed", "message": "timed out after 5 s on port 9090"},
        ]
    )
    clusters = cluster_failures(tests)
    assert len(clusters) == 1 and clusters.iloc[0]["tests"] == ["x", "y"]
    assert "<n>" in clusters.iloc[0]["signature_text"]


def test_no_failure_gives_an_empty_frame_with_the_columns() -> None:
    clusters = cluster_failures(make_frame([{"test_id": "a"}]))
    assert clusters.empty and list(clusters.columns) == list(CLUSTER_COLUMNS)
    assert cluster_sizes(make_frame([{"test_id": "a"}])).empty


def test_iterations_sort_in_natural_order_and_a_test_counts_once_per_iteration() -> None:
    assert iteration_order(["10", "2", "rc1", "1", 2]) == ["1", "2", "10", "rc1"]
    tests = make_frame(
        [
            {"test_id": "a", "file": "x.xml", "outcome": "passed"},
            failing("a", "A", file="y.xml"),  # the same test in two files: its failure wins
        ]
    )
    runs = last_runs(tests)
    assert len(runs) == 1 and runs.iloc[0]["outcome"] == "failed"
    assert isinstance(runs, pd.DataFrame)
