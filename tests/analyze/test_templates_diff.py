"""Template tables per iteration, what changed between two, and the templates that come with failures."""

import math

import pandas as pd
import pytest

from whyloop.analyze import (
    TemplateChange,
    failure_templates,
    mine_templates,
    template_diff,
    template_table,
)
from whyloop.analyze.templates_diff import DIFF_COLUMNS, TABLE_COLUMNS
from whyloop.analyze.templates_failures import FAILURE_TEMPLATE_COLUMNS
from whyloop.store import Store

T0 = pd.Timestamp("2026-11-24T10:00:00Z")


def logs_frame(rows):
    """``(seconds after T0, level, message)`` rows as a logs frame."""
    return pd.DataFrame(
        {
            "timestamp": [T0 + pd.Timedelta(seconds=s) for s, _, _ in rows],
            "level": [lv for _, lv, _ in rows],
            "message": [m for _, _, m in rows],
        }
    )


def runs_frame(rows):
    """``(test_id, outcome, start s, stop s)`` rows as a tests frame."""
    return pd.DataFrame(
        {
            "test_id": [r[0] for r in rows],
            "outcome": [r[1] for r in rows],
            "start": [T0 + pd.Timedelta(seconds=r[2]) for r in rows],
            "stop": [T0 + pd.Timedelta(seconds=r[3]) for r in rows],
            "duration_s": [r[3] - r[2] for r in rows],
        }
    )


LOGS = logs_frame(
    [
        (1, "INFO", "GET /health 200"),
        (2, "ERROR", "create thread failed: database is locked"),
        (3, "INFO", "GET /api/x 200"),
        (4, "ERROR", "create thread failed: database is locked"),
        (5, "WARNING", "GET /api/y 401"),
        (6, "INFO", "user 17 created"),
    ]
)


def test_template_table_counts_times_examples_and_levels():
    table = template_table(LOGS)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert table["template"].tolist() == [
        "GET <*>",
        "create thread failed: database is locked",
        "user <*> created",
    ]
    get = table.iloc[0]
    assert get["count"] == 3
    assert get["first_seen"] == T0 + pd.Timedelta(seconds=1)
    assert get["last_seen"] == T0 + pd.Timedelta(seconds=5)
    assert get["example"] == "GET /health 200"
    assert get["levels"] == "INFO 2, WARNING 1"
    assert table.iloc[1]["levels"] == "ERROR 2"
    assert get["template_id"] == mine_templates(["GET /health 200"])["template_id"][0]


def test_template_table_uses_templates_already_mined_and_skips_records_without_one():
    logs = LOGS.assign(message=LOGS["message"].where(LOGS.index != 5, None))
    mined = logs.join(mine_templates(logs["message"]))
    table = template_table(mined)
    assert table["count"].sum() == 5
    assert "user <*> created" not in set(table["template"])


def test_template_table_without_timestamps_or_levels():
    table = template_table(pd.DataFrame({"message": ["a 1", "a 2", "b"]}))
    assert table["count"].tolist() == [2, 1]
    assert table["first_seen"].isna().all()
    assert table["levels"].tolist() == ["", ""]


def test_template_table_round_trips_through_the_store(tmp_path):
    table = template_table(LOGS)
    store = Store(tmp_path)
    store.write("staging", 1, templates=table)
    back = store.read("staging", 1, "templates")
    pd.testing.assert_frame_equal(back, table, check_dtype=False)


def test_template_diff_names_new_gone_and_changed_templates_by_share():
    previous = pd.DataFrame(
        {
            "template_id": ["a", "b", "c", "d", "e"],
            "template": ["A <*>", "B", "C", "D", "E"],
            "count": [100, 50, 10, 20, 2],
        }
    )
    current = pd.DataFrame(
        {
            "template_id": ["a", "c", "d", "e", "f"],
            "template": ["A <*>", "C", "D", "E", "F"],
            # twice as many lines in all: shares, not counts, are compared
            "count": [200, 60, 10, 8, 3],
        }
    )
    diff = template_diff(current, previous)
    assert list(diff.columns) == list(DIFF_COLUMNS)
    changes = dict(zip(diff["template_id"], diff["change"], strict=True))
    assert changes == {
        "f": TemplateChange.NEW,
        "b": TemplateChange.GONE,
        "c": TemplateChange.MORE,  # 5.6% -> 21.4% of the lines
        "d": TemplateChange.FEWER,  # 11.1% -> 3.6%
        "e": TemplateChange.MORE,  # seen 2 then 8 times: 8 meets min_count
    }
    assert "a" not in changes  # the same share of twice the lines
    row = diff.set_index("template_id").loc["c"]
    assert row["count_previous"] == 10 and row["count_current"] == 60
    assert row["ratio"] == pytest.approx((60 / 281) / (10 / 182))
    assert math.isinf(diff.set_index("template_id").loc["f", "ratio"])
    assert diff.set_index("template_id").loc["b", "ratio"] == 0
    assert diff["change"].tolist()[:2] == [TemplateChange.NEW, TemplateChange.GONE]


def test_template_diff_ignores_changes_in_rare_templates_and_takes_logs_frames():
    before = LOGS.join(mine_templates(LOGS["message"]))
    now_logs = pd.concat([LOGS, LOGS.iloc[[1]]], ignore_index=True)
    now = now_logs.join(mine_templates(now_logs["message"]))
    assert template_diff(now, before).empty  # 2 -> 3 records: under min_count
    diff = template_diff(now, before, min_count=2, min_ratio=1.2)
    assert diff["template"].tolist() == ["create thread failed: database is locked"]
    assert diff["change"].tolist() == [TemplateChange.MORE]


def test_template_diff_refuses_a_ratio_that_cannot_mean_change():
    with pytest.raises(ValueError, match="min_ratio"):
        template_diff(template_table(LOGS), template_table(LOGS), min_ratio=1)


def test_failure_templates_ranks_what_comes_only_with_failures():
    logs = logs_frame(
        [
            (0.5, "INFO", "GET /health 200"),
            (1.5, "ERROR", "create thread failed: database is locked"),
            (2.5, "INFO", "GET /health 200"),
            (3.5, "INFO", "GET /health 200"),
            (4.5, "ERROR", "create thread failed: database is locked"),
            (5.5, "INFO", "GET /health 200"),
            (6.5, "WARNING", "retry 1 of 3"),
            (9.0, "ERROR", "create thread failed: database is locked"),  # after the last test
        ]
    )
    tests = runs_frame(
        [
            ("t_ok1", "passed", 0, 1),
            ("t_bad1", "failed", 1, 2),
            ("t_ok2", "passed", 2, 3),
            ("t_ok3", "passed", 3, 4),
            ("t_bad2", "error", 4, 5),
            ("t_ok4", "passed", 5, 6),
            ("t_bad3", "failed", 6, 7),
            ("t_skip", "skipped", 7, 8),
        ]
    )
    got = failure_templates(logs, tests, slack_s=5)
    assert list(got.columns) == list(FAILURE_TEMPLATE_COLUMNS)
    assert got["template"].tolist() == [
        "create thread failed: database is locked",
        "retry <*> of <*>",
    ]
    locked = got.iloc[0]
    # the record at 9 s is outside every test: it goes to the nearest, t_bad3 (ended at 7 s)
    assert (locked["failing_tests"], locked["passing_tests"]) == (3, 0)
    assert locked["score"] == pytest.approx(1.0)
    assert locked["records_failing"] == 3
    assert locked["test_ids"] == ["t_bad1", "t_bad2", "t_bad3"]
    assert locked["levels"] == "ERROR 3"
    assert got.iloc[1]["score"] == pytest.approx(1 / 3)
    # a serial suite's neighbours do not claim each other's records: GET /health is only in passes
    wide = failure_templates(logs, tests, slack_s=5, max_passing_share=1.0)
    assert "GET <*>" not in set(wide["template"])


def test_failure_templates_slack_decides_what_a_stray_record_joins():
    logs = logs_frame([(20.0, "ERROR", "disk full on /dev/sda1")])
    tests = runs_frame([("t_bad", "failed", 0, 10), ("t_ok", "passed", 40, 50)])
    assert failure_templates(logs, tests, slack_s=5).empty
    got = failure_templates(logs, tests, slack_s=15)
    assert got["test_ids"].tolist() == [["t_bad"]]


def test_failure_templates_keeps_only_templates_rare_with_passes():
    logs = logs_frame([(0.5, "INFO", "tick"), (1.5, "INFO", "tick"), (2.5, "INFO", "tick")])
    tests = runs_frame([("a", "passed", 0, 1), ("b", "failed", 1, 2), ("c", "passed", 2, 3)])
    assert failure_templates(logs, tests).empty  # in every passing test's window
    assert failure_templates(logs, tests, max_passing_share=1.0)["score"].tolist() == [0.0]


def test_failure_templates_is_empty_without_times():
    tests = runs_frame([("a", "failed", 0, 1)]).assign(start=pd.NaT, stop=pd.NaT)
    got = failure_templates(LOGS, tests)
    assert got.empty and list(got.columns) == list(FAILURE_TEMPLATE_COLUMNS)
    no_stamps = LOGS.drop(columns=["timestamp"])
    assert failure_templates(no_stamps, runs_frame([("a", "failed", 0, 10)])).empty
    with pytest.raises(ValueError, match="slack_s"):
        failure_templates(LOGS, tests, slack_s=-1)


def test_failure_templates_uses_duration_when_a_test_has_no_stop():
    logs = logs_frame([(3.0, "ERROR", "boom")])
    tests = runs_frame([("t", "failed", 0, 5)]).assign(stop=pd.NaT)
    assert failure_templates(logs, tests, slack_s=0)["failing_tests"].tolist() == [1]
    assert failure_templates(logs, tests.assign(duration_s=1.0), slack_s=0).empty
