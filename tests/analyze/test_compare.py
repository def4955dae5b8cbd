"""The iteration diff: new failures, fixed, still failing, regressed; signatures and templates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.analyze.loop_frames import failing, histories, make_frame
from whyloop.analyze.compare import CHANGE_COLUMNS, compare_iterations, compare_stored
from whyloop.errors import StoreError
from whyloop.schema import ChangeKind
from whyloop.store import Store

# iteration:     1  2  3
#   a            P  P  F   never failed before          -> new failure
#   b            F  P  F   failed in 1, passed in 2     -> regressed
#   c            P  F  P   failed last time, passes     -> fixed
#   d            F  F  F   failed last time             -> still failing (since 1)
#   e            P  P  S   skipped now                  -> no change
#   f            -  -  F   no result before             -> new failure
#   g            F  S  F   last result (1) a failure    -> still failing (since 1)
RUNS = {"a": "PPF", "b": "FPF", "c": "PFP", "d": "FFF", "e": "PPS", "f": "--F", "g": "FSF"}
SIGS = {"a": "A", "b": "B", "c": "C", "d": "D", "f": "A", "g": "G"}


def split(frame: pd.DataFrame, current: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return frame[frame["iteration"] != current], frame[frame["iteration"] == current]


def test_each_test_lands_in_the_change_its_history_defines() -> None:
    history, current = split(histories(RUNS, signatures=SIGS), "3")
    diff = compare_iterations(history, current)

    assert (diff.previous, diff.current) == ("2", "3")
    assert list(diff.new_failures["test_id"]) == ["a", "f"]
    assert list(diff.regressed["test_id"]) == ["b"]
    assert list(diff.fixed["test_id"]) == ["c"]
    assert list(diff.still_failing["test_id"]) == ["d", "g"]
    assert list(diff.still_failing["since"]) == ["1", "1"]
    assert (
        diff.regressed.iloc[0]["detail"] == "failed in iteration 1, passed in 2, fails again in 3"
    )
    assert diff.new_failures.iloc[0]["detail"] == "first failure (passed in 2 earlier runs)"
    assert diff.new_failures.iloc[1]["detail"] == "first failure (no result before)"
    fixed = diff.fixed.iloc[0]
    assert fixed["signature"] == "C" and fixed["previous_outcome"] == "failed"
    assert list(diff.fixed.columns) == list(CHANGE_COLUMNS)
    assert diff.counts() == {
        "new_failures": 2,
        "fixed": 1,
        "still_failing": 2,
        "regressed": 1,
        "new_signatures": 3,
        "vanished_signatures": 1,
        "new_templates": None,
        "vanished_templates": None,
    }
    changes = diff.changes()
    assert dict(changes["change"].value_counts()) == {
        ChangeKind.NEW_FAILURE.value: 2,
        ChangeKind.STILL_FAILING.value: 2,
        ChangeKind.FIXED.value: 1,
        ChangeKind.REGRESSED.value: 1,
    }
    assert diff["fixed"] is diff.fixed  # readable as a dict of frames too


def test_signatures_new_and_vanished_against_the_previous_iteration() -> None:
    history, current = split(histories(RUNS, signatures=SIGS), "3")
    diff = compare_iterations(history, current)
    # iteration 2 failed with C (c) and D (d); 3 fails with A (a, f), B (b), D (d), G (g):
    # A, B and G are new against 2 (B and G were seen in 1: comebacks); C vanished
    new = diff.new_signatures.set_index("signature")
    assert sorted(new.index) == ["A", "B", "G"]
    assert new.loc["A", "size"] == 2 and new.loc["A", "tests"] == ["a", "f"]
    assert new.loc["A", "seen_before"] is None
    assert new.loc["B", "seen_before"] == "1" and new.loc["G", "seen_before"] == "1"  # comebacks
    assert list(diff.vanished_signatures["signature"]) == ["C"]


def test_templates_new_and_gone_are_compared_by_their_text() -> None:
    before = pd.DataFrame(
        {"template_id": [1, 2], "template": ["GET <*> 200", "database is locked"]}
    )
    # ids are reassigned by each mining run: the text decides
    after = pd.DataFrame({"template_id": [7, 8], "template": ["GET <*> 200", "connection reset"]})
    one = make_frame([failing("x", "X", iteration="1")])
    two = make_frame([failing("x", "X", iteration="2")])
    diff = compare_iterations(one, two, previous_templates=before, current_templates=after)
    assert list(diff.new_templates["template"]) == ["connection reset"]
    assert list(diff.vanished_templates["template"]) == ["database is locked"]
    ids = compare_iterations(
        one,
        two,
        previous_templates=pd.Series(["t1", "t1", "t2"]),
        current_templates=pd.Series(["t1", "t3"]),
    )
    assert list(ids.new_templates["template_id"]) == ["t3"]
    assert list(ids.vanished_templates["count"]) == [1]


def test_two_plain_frames_compare_without_iteration_columns() -> None:
    before = make_frame([failing("x", "X"), {"test_id": "y"}])
    after = make_frame([failing("x", "X"), failing("y", "Y")])
    diff = compare_iterations(before, after)
    assert (diff.previous, diff.current) == ("previous", "current")
    assert list(diff.still_failing["test_id"]) == ["x"]
    assert list(diff.new_failures["test_id"]) == ["y"]


def test_compare_stored_reads_the_latest_against_the_one_before_or_a_named_one(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    frames = histories(RUNS, signatures=SIGS)
    for it in ("1", "2", "3"):
        store.write("loop", it, tests=frames[frames["iteration"] == it].drop(columns="iteration"))
    diff = compare_stored(store, "loop")
    assert (diff.previous, diff.current) == ("2", "3")
    assert list(diff.regressed["test_id"]) == ["b"]
    against_one = compare_stored(store, "loop", 3, against=1)
    # against 1: b failed in 1 and fails now -> still failing; c passed in 1 -> not fixed
    assert list(against_one.still_failing["test_id"]) == ["b", "d", "g"]
    assert against_one.fixed.empty
    with pytest.raises(StoreError, match="no earlier iteration"):
        compare_stored(store, "loop", 1)
