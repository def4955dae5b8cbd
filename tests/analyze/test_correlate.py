"""The log records around a failure, ranked most telling first, with the reasons (hand-computed)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.analyze.loop_frames import T0, failing, make_frame
from whyloop.analyze.correlate import (
    CORRELATION_COLUMNS,
    cluster_logs,
    correlate_logs,
    failure_ids,
    message_shape,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def at(seconds: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=seconds)


def logs_frame(rows: list[tuple]) -> pd.DataFrame:
    """Records as (seconds after T0, level, message, trace_id, request_id)."""
    frame = pd.DataFrame(
        [
            {
                "timestamp": at(s),
                "level": level,
                "service": "backend",
                "message": message,
                "trace_id": trace,
                "request_id": request,
                "source": "backend.jsonl",
                "line": i,
            }
            for i, (s, level, message, trace, request) in enumerate(rows, 1)
        ]
    )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


# a test from 0 s to 2 s whose failure names a trace id
FAILURE = failing(
    "test_api.py::test_create",
    "S1",
    message=f"AssertionError: expected 201, got 500 (trace {TRACE})",
    start=at(0),
    stop=at(2),
)
LOGS = logs_frame(
    [
        (-10.0, "INFO", "GET /health 200", None, None),  # r1: 10 s before: beyond the slack
        (1.0, "INFO", "GET /api/items 200", None, None),  # r2: inside
        (1.5, "ERROR", "database is locked", None, None),  # r3: inside
        (2.2, "WARNING", "slow query", None, None),  # r4: 0.2 s after the failure
        (5.0, "ERROR", "worker crashed", None, None),  # r5: 3 s after
        (30.0, "INFO", "request finished", TRACE, "ab12cd34ef56ab78"),  # r6: shares the trace
    ]
)


def test_records_are_ranked_by_level_shared_id_rarity_and_closeness() -> None:
    out = correlate_logs(make_frame([FAILURE]), LOGS, slack_s=5.0)
    assert list(out.columns) == list(CORRELATION_COLUMNS)
    # every message has its own shape: each is seen in 1 of 6 records, rarity 1 (weight 2).
    # r3: ERROR 3 + rare 2 + inside the window 2                       = 7.0
    # r6: shared trace id 4 + rare 2 + 28 s after (beyond the slack) 0  = 6.0
    # r5: ERROR 3 + rare 2 + 2 * 0.5 * (1 - 3/5) = 0.4                  = 5.4
    # r4: WARNING 1.5 + rare 2 + 2 * 0.5 * (1 - 0.2/5) = 0.96           = 4.46
    # r2: rare 2 + inside 2                                             = 4.0
    # r1: 10 s before the start, beyond the slack, shares nothing: left out
    assert list(out["line"]) == [3, 6, 5, 4, 2]
    assert list(out["rank"]) == [1, 2, 3, 4, 5]
    assert list(out["score"]) == pytest.approx([7.0, 6.0, 5.4, 4.46, 4.0])
    first, shared = out.iloc[0], out.iloc[1]
    assert first["reasons"] == (
        "ERROR level; during the test, 500 ms before the failure; "
        "message shape seen in 1 of 6 records"
    )
    assert first["in_window"] and first["offset_s"] == pytest.approx(-0.5)
    assert shared["reasons"] == (
        "shares trace id 4bf92f3577b3...; 28.0 s after the failure; "
        "message shape seen in 1 of 6 records"
    )
    assert shared["shared_id"] == "shares trace id 4bf92f3577b3..."
    assert out.iloc[3]["reasons"].startswith("WARNING level; 200 ms after the failure")
    assert (out["test_id"] == "test_api.py::test_create").all() and (
        out["cluster_id"] == "S1"
    ).all()


def test_template_ids_give_the_rarity_and_max_per_failure_keeps_the_best() -> None:
    # r2 and r4 share template "T-a": seen in 2 of 6 records, rarity 1 - ln 2 / ln 6 = 0.6131
    templates = pd.Series(["T-h", "T-a", "T-db", "T-a", "T-w", "T-r"])
    out = correlate_logs(make_frame([FAILURE]), LOGS, templates=templates, max_per_failure=3)
    assert list(out["line"]) == [3, 6, 5]  # the three best only
    full = correlate_logs(make_frame([FAILURE]), LOGS, templates=templates)
    r4 = full[full["line"] == 4].iloc[0]
    rarity = 1 - math.log(2) / math.log(6)
    assert r4["score"] == pytest.approx(1.5 + 2 * rarity + 0.96, abs=1e-3)
    assert r4["reasons"].endswith("template seen in 2 of 6 records")
    assert r4["template_id"] == "T-a"
    with pytest.raises(ValueError, match="one template id per record"):
        correlate_logs(make_frame([FAILURE]), LOGS, templates=templates[:3])


def test_ids_in_the_test_output_match_request_ids_and_message_text() -> None:
    failure = failing(
        "t",
        "S2",
        message="boom",
        stdout="POST /api/x -> 500, X-Request-ID: ab12cd34ef56ab78",
        stderr="correlation 123e4567-e89b-12d3-a456-426614174000 failed",
        start=at(100),
        stop=at(101),
    )
    logs = logs_frame(
        [
            (0.0, "INFO", "request finished", None, "AB12CD34EF56AB78"),
            (1.0, "INFO", "job 123e4567-e89b-12d3-a456-426614174000 retried", None, None),
            (2.0, "INFO", "unrelated", None, None),
        ]
    )
    out = correlate_logs(make_frame([failure]), logs)
    # both far outside the window, found by their ids: 4 + 2 (rare) = 6 each, and
    # the tie goes to the record nearer the failure (line 2, 100 s before it)
    assert list(out["line"]) == [2, 1] and list(out["score"]) == [6.0, 6.0]
    assert out.iloc[0]["shared_id"] == "its message names 123e4567-e89..."
    assert out.iloc[1]["shared_id"] == "shares request id ab12cd34ef56..."


def test_a_failure_without_times_searches_the_whole_log() -> None:
    failure = failing("t", "S3", message="boom")
    out = correlate_logs(make_frame([failure]), LOGS)
    assert len(out) == 6 and out.iloc[0]["level"] == "ERROR"
    assert "the results give no test times" in out.iloc[0]["reasons"]
    assert out["offset_s"].isna().all()


def test_with_iterations_each_failure_reads_the_logs_of_its_own_iteration() -> None:
    tests = make_frame([{**FAILURE, "iteration": "2"}, {"test_id": "ok", "iteration": "1"}])
    logs = pd.concat([LOGS.assign(iteration="1"), LOGS.assign(iteration="2")], ignore_index=True)
    out = correlate_logs(tests, logs)
    assert set(out["iteration"]) == {"2"} and (out["log_row"] >= 6).all()


def test_no_failure_or_no_logs_gives_an_empty_frame() -> None:
    assert correlate_logs(make_frame([{"test_id": "ok"}]), LOGS).empty
    assert correlate_logs(make_frame([FAILURE]), LOGS.iloc[0:0]).empty


def test_cluster_logs_puts_the_records_most_tests_share_first() -> None:
    second = {**FAILURE, "test_id": "test_api.py::test_update", "start": at(4), "stop": at(6)}
    out = correlate_logs(make_frame([FAILURE, second]), LOGS)
    per_cluster = cluster_logs(out, top=2)
    assert list(per_cluster["rank"]) == [1, 2]
    top = per_cluster.iloc[0]
    assert top["tests"] == 2 and top["reasons"].startswith("kept for 2 of 2 failing tests; ")


def test_failure_ids_and_message_shapes() -> None:
    text = (
        f"trace {TRACE}, request_id=req-42abc; object at 0x7f0c85b4c290; "
        "took 1732430000 ms; user 123e4567-e89b-12d3-a456-426614174000"
    )
    assert failure_ids(text) == [
        "123e4567-e89b-12d3-a456-426614174000",
        TRACE,
        "req-42abc",
    ]
    assert message_shape("POST /api/threads/thr_7a1/messages 503") == (
        "POST /api/threads/#/messages #"
    )
