"""Triage of one iteration: filters, groups, one failure's log window and templates, the changes."""

from __future__ import annotations

import pandas as pd
import pytest

from whyloop.analyze.templates_diff import with_templates
from whyloop.analyze.triage import (
    FAILURE_COLUMNS,
    WINDOW_COLUMNS,
    GroupBy,
    failure_window,
    group_failures,
    iteration_changes,
    select_failures,
    window_templates,
)
from whyloop.errors import ReportError

T0 = pd.Timestamp("2026-11-24T10:00:00", tz="UTC")


def _tests(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    """Tests as (test_id, outcome, category, message, start seconds after T0), each 1 s long."""
    frame = pd.DataFrame(rows, columns=["test_id", "outcome", "category", "message", "at"])
    failed = frame["outcome"].isin(["failed", "error"])
    frame["signature"] = frame["message"].str.split(":").str[0].where(failed, "")
    frame["signature_text"] = frame["message"].where(failed, "")
    frame["start"] = T0 + pd.to_timedelta(frame.pop("at"), unit="s")
    frame["stop"] = frame["start"] + pd.Timedelta(seconds=1)
    frame["duration_s"] = 1.0
    frame["rerun"] = 0
    return frame


TESTS = _tests(
    [
        ("ws.py::test_header", "failed", "WebSocket", "Timeout: no welcome", 0),
        ("ws.py::test_subprotocol", "failed", "WebSocket", "Timeout: no welcome", 10),
        ("msg.py::test_thread", "error", "Messaging", "Locked: database is locked", 20),
        ("msg.py::test_send", "passed", "Messaging", "", 30),
    ]
)


def _logs() -> pd.DataFrame:
    rows = [
        (0.5, "INFO", "ws accepted connection 17"),
        (0.9, "WARNING", "no welcome sent for connection 17"),
        (2.0, "INFO", "ws closed connection 17"),
        (10.5, "INFO", "ws accepted connection 18"),
        (20.4, "ERROR", "create thread failed: database is locked"),
        (40.0, "INFO", "ws accepted connection 19"),
    ]
    return pd.DataFrame(
        {
            "timestamp": [T0 + pd.Timedelta(seconds=s) for s, _, _ in rows],
            "level": [lv for _, lv, _ in rows],
            "service": "backend",
            "message": [m for _, _, m in rows],
        }
    )


def test_filters_combine_and_match_globs_or_substrings() -> None:
    every = select_failures(TESTS)
    assert list(every.columns) == list(FAILURE_COLUMNS)
    assert every["test_id"].tolist() == ["ws.py::test_header", "ws.py::test_subprotocol",
                                         "msg.py::test_thread"]  # fmt: skip
    assert select_failures(TESTS, category="websock*")["test_id"].str.startswith("ws.py").all()
    assert select_failures(TESTS, text="LOCKED")["test_id"].tolist() == ["msg.py::test_thread"]
    assert select_failures(TESTS, category="WebSocket", test="*subprotocol").shape[0] == 1
    assert select_failures(TESTS, cluster="Time")["cluster_id"].unique().tolist() == ["Timeout"]
    assert select_failures(TESTS, category="Messaging", text="welcome").empty


def test_groups_by_each_key_largest_first() -> None:
    failing = select_failures(TESTS)
    by_cluster = group_failures(failing, GroupBy.CLUSTER)
    assert by_cluster[["cluster_id", "failing"]].values.tolist() == [["Timeout", 2], ["Locked", 1]]
    by_category = group_failures(failing, "category")
    assert by_category["category"].tolist() == ["WebSocket", "Messaging"]
    assert group_failures(failing, "test")["failing"].tolist() == [1, 1, 1]
    assert group_failures(failing, "signature")["headline"].iloc[0] == "Timeout: no welcome"
    assert group_failures(failing.iloc[0:0], "cluster").empty
    with pytest.raises(ValueError):
        group_failures(failing, "colour")


def test_the_window_holds_the_records_around_the_failure_in_time_order() -> None:
    logs = with_templates(_logs())
    window = failure_window(TESTS, logs, "ws.py::test_header", slack_s=1.5)
    assert list(window.columns) == list(WINDOW_COLUMNS)
    assert window["message"].tolist() == [
        "ws accepted connection 17",
        "no welcome sent for connection 17",
        "ws closed connection 17",
    ]
    assert window["timestamp"].is_monotonic_increasing
    assert window.loc[window["level"] == "WARNING", "rank"].item() == 1  # the most telling
    assert window["in_window"].tolist() == [True, True, False]
    assert (window["template"] != "").all() and window["reasons"].str.contains("WARNING").any()


def test_the_window_templates_count_the_window_and_the_whole_log() -> None:
    logs = with_templates(_logs())
    window = failure_window(TESTS, logs, "ws.py::test_header", slack_s=1.5)
    table = window_templates(window, logs)
    accepted = table[table["example"] == "ws accepted connection 17"].iloc[0]
    assert accepted["in_window"] == 1 and accepted["in_log"] == 3  # rare here, common overall
    assert table["best_rank"].iloc[0] == 1 and "WARNING 1" in table["levels"].iloc[0]


def test_a_window_without_templates_says_so_in_empty_columns() -> None:
    window = failure_window(TESTS, _logs(), "msg.py::test_thread", slack_s=1.0)
    assert window["message"].tolist() == ["create thread failed: database is locked"]
    assert window_templates(window).empty


def test_opening_a_test_that_did_not_fail_names_why() -> None:
    with pytest.raises(ReportError, match="did not fail") as err:
        failure_window(TESTS, _logs(), "msg.py::test_send")
    assert err.value.param == "test_id"
    with pytest.raises(ReportError, match="not among"):
        failure_window(TESTS, _logs(), "nope.py::test_x")


def test_changes_name_new_fixed_and_still_failing() -> None:
    previous = _tests(
        [
            ("ws.py::test_header", "failed", "WebSocket", "Timeout: no welcome", 0),
            ("ws.py::test_subprotocol", "passed", "WebSocket", "", 10),
            ("msg.py::test_thread", "error", "Messaging", "Locked: database is locked", 20),
            ("msg.py::test_send", "failed", "Messaging", "Locked: database is locked", 30),
        ]
    )
    diff = iteration_changes(previous, TESTS)
    got = dict(zip(diff["test_id"], diff["change"], strict=True))
    assert got == {
        "ws.py::test_subprotocol": "new_failure",
        "msg.py::test_send": "fixed",
        "ws.py::test_header": "still_failing",
        "msg.py::test_thread": "still_failing",
    }
    headlines = dict(zip(diff["test_id"], diff["headline"], strict=True))
    assert headlines["msg.py::test_send"] == "Locked: database is locked"  # what it was fixed of
