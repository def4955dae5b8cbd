"""Verification: a countermeasure's tests and probes, rerun in a later iteration, close the loop."""

from __future__ import annotations

import pandas as pd
import pytest

from whyloop.errors import StoreError
from whyloop.store import Store
from whyloop.whys import Analysis, verify

FIXED = ["test_messaging.py::test_thread_creation", "test_messaging.py::test_message_send"]


def analysis() -> Analysis:
    a = Analysis("v-1", "t", "p", loop="demo", iterations=["1"])
    root = a.add_why("Why?").because("The database is locked").mark("root_cause")
    a.add_countermeasure("statement timeout", addresses=[root.id], tests=FIXED)
    a.add_countermeasure("greet first", addresses=[root.id], probes=["welcome"])
    a.add_countermeasure("think harder", addresses=[root.id])
    return a


def iteration(store: Store, outcomes: dict[str, str], probes: pd.DataFrame | None = None) -> str:
    tests = pd.DataFrame(
        {"test_id": list(outcomes), "outcome": list(outcomes.values()), "rerun": 0}
    )
    tables = {"tests": tests} if probes is None else {"tests": tests, "probes": probes}
    return store.write("demo", **tables).name


def ws_probe(welcome_ok: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {"target": ["ws://h/ws"] * 2, "stage": ["upgrade", "welcome"], "stage_ok": [True, welcome_ok], "ok": [welcome_ok] * 2}
    )  # fmt: skip


def test_named_tests_and_probes_that_pass_in_the_next_iteration_verify_it(store: Store) -> None:
    a = analysis()
    name = iteration(store, dict.fromkeys(FIXED, "passed"), ws_probe(True))
    results = verify(a, store, by="ann")
    assert [(r.countermeasure, r.ok) for r in results] == [("C1", True), ("C2", True)]
    first = a.countermeasures[0].verified
    assert (first.ok, first.iteration, first.by) == (True, name, "ann")
    assert first.figures == "2 of 2 named tests passed"
    assert a.countermeasures[2].verified is None  # names nothing to verify with


def test_a_named_test_that_fails_or_did_not_run_leaves_it_unverified(store: Store) -> None:
    a = analysis()
    iteration(store, {FIXED[0]: "failed"}, ws_probe(False))
    results = {r.countermeasure: r for r in verify(a, store)}
    assert not results["C1"].ok
    assert results["C1"].figures == (
        f"0 of 2 named tests passed; failed: {FIXED[0]}; not run: {FIXED[1]}"
    )
    assert results["C2"].figures == "0 of 1 named probes passed; failed: welcome"


def test_the_last_execution_of_a_rerun_test_counts(store: Store) -> None:
    a = analysis()
    tests = pd.DataFrame(
        {"test_id": [FIXED[0], FIXED[0], FIXED[1]], "outcome": ["failed", "passed", "passed"], "rerun": [0, 1, 0]}
    )  # fmt: skip
    store.write("demo", tests=tests)
    assert verify(a, store)[0].ok


def test_an_iteration_without_probes_says_so(store: Store) -> None:
    results = verify(analysis(), store, iteration="1")
    assert results[1].figures.endswith("not run: welcome (the iteration has no probes table)")


def test_a_missing_iteration_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no iteration '7'"):
        verify(analysis(), store, iteration="7")
