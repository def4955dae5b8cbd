"""What the triage notebook shows when there is something, and the sentence when there is not."""

from __future__ import annotations

import pandas as pd
import pytest

from whyloop.errors import ReportError
from whyloop.report import triage
from whyloop.report.sections import IterationData


def _tests(outcomes: dict[str, str]) -> pd.DataFrame:
    failed = [o == "failed" for o in outcomes.values()]
    return pd.DataFrame(
        {
            "test_id": list(outcomes),
            "outcome": list(outcomes.values()),
            "category": "API",
            "message": ["boom" if f else "" for f in failed],
            "signature": ["sig1" if f else "" for f in failed],
            "signature_text": ["boom" if f else "" for f in failed],
        }
    )


def test_sentences_say_why_there_is_nothing_to_show() -> None:
    empty = IterationData("l", "3")
    assert triage.failures(empty) == "iteration 3 holds no test results"
    passing = IterationData("l", "3", tests=_tests({"a::x": "passed"}))
    assert triage.failures(passing) == "no test failed in iteration 3"
    assert triage.pick(triage.failures(passing)) is None
    assert triage.window(passing, None, None) == "no failure to open"
    assert triage.changes(passing) == "no earlier iteration with test results to compare with"
    failing = IterationData("l", "3", tests=_tests({"a::x": "failed"}))
    assert (
        triage.failures(failing, category="UI") == "no failure of iteration 3 matches category='UI'"
    )
    assert triage.window(failing, None, "a::x") == "iteration 3 holds no logs to open a::x with"


def test_pick_takes_a_test_id_a_glob_or_a_substring_else_the_largest_cluster() -> None:
    data = IterationData("l", "1", tests=_tests({"a::one": "failed", "b::two": "failed"}))
    shown = triage.failures(data)
    assert triage.pick(shown) == "a::one"
    assert triage.pick(shown, "b::two") == "b::two"
    assert triage.pick(shown, "*two") == "b::two" and triage.pick(shown, "TWO") == "b::two"
    with pytest.raises(ReportError, match="no failure shown matches 'three'") as err:
        triage.pick(shown, "three")
    assert err.value.param == "failure"
    with pytest.raises(ReportError, match="cannot group by 'colour'"):
        triage.groups(shown, "colour")


def test_change_counts_list_every_kind_even_when_none() -> None:
    history = pd.concat(
        [
            _tests({"a::x": "failed", "a::y": "passed"}).assign(iteration="1"),
            _tests({"a::x": "passed", "a::y": "passed"}).assign(iteration="2"),
        ]
    )
    data = IterationData("l", "2", tests=history[history.iteration == "2"].drop(columns="iteration"),
                         history=history, previous="1")  # fmt: skip
    counts = triage.change_counts(triage.changes(data))
    assert dict(zip(counts["change"], counts["tests"], strict=True)) == {
        "new_failure": 0, "fixed": 1, "still_failing": 0, "regressed": 0
    }  # fmt: skip
