"""Evidence references into the store: written readably, read back, and honest when gone."""

from __future__ import annotations

import pytest

from whyloop.errors import WhysError
from whyloop.whys import RefState, StoreRef, resolve


def test_a_reference_reads_back_as_written_with_awkward_values() -> None:
    ref = StoreRef("demo", "3", "tests", {"test_id": "t.py::test_x[a=b&c#d]", "message~": "50%"})
    text = str(ref)
    assert text == "store:demo/3/tests#test_id=t.py::test_x[a%3Db%26c%23d]&message~50%25"
    assert StoreRef.parse(text) == ref


def test_a_bad_reference_is_one_line_naming_the_form() -> None:
    with pytest.raises(WhysError, match=r"not a store reference \(store:LOOP/ITERATION/TABLE"):
        StoreRef.parse("store:demo/3")


def test_rows_are_found_by_key_position_and_text(store) -> None:
    by_id = resolve("store:demo/1/tests#test_id=test_auth.py::test_user_isolation", store)
    assert by_id.state is RefState.FOUND and len(by_id.rows) == 1
    assert by_id.rows.iloc[0]["outcome"] == "failed"
    by_row = resolve("store:demo/1/logs#row=0", store)
    assert by_row.found and len(by_row.rows) == 1
    by_text = resolve("store:demo/1/logs#message~DATABASE IS LOCKED", store)
    assert by_text.found and len(by_text.rows) >= 5
    assert by_text.message.startswith("found: ")


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("store:demo/4/tests", "gone: loop demo has no iteration 4"),
        ("store:other/1/tests", "gone: loop other has no iteration 1"),
        ("store:demo/1/probes#stage=welcome", "gone: iteration 1 has no table probes"),
        ("store:demo/1/tests#colour=red", "gone: table tests of iteration 1 has no column colour"),
        (
            "store:demo/1/tests#test_id=nope",
            "gone: no row of tests in iteration 1 has test_id=nope",
        ),
    ],
)
def test_what_is_gone_is_said_not_raised(store, ref: str, message: str) -> None:
    res = resolve(ref, store)
    assert (res.state, res.message) == (RefState.GONE, message)


def test_files_commits_and_notes_are_not_looked_up(store) -> None:
    assert resolve("lib/app/ws.py:42", store).state is RefState.UNCHECKED
    assert resolve("", store).message == "not looked up: a note"
