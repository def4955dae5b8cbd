"""A fault analysed in the demo loop, switched on again in a later loop, is known; another is not.

The demo loop (``demo_history``: ws-no-welcome analysed, its root cause
confirmed, the countermeasure verified in iteration 2) is the team's history.
A later loop runs the first iteration's steps live with that fault on again
and the database lock besides: the welcome failure must be matched to the
demo's analysis with its countermeasure and called a regression; the lock
failure, which nobody analysed, must not be matched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from whyloop import known, whys
from whyloop.sandbox.demo import live_run, save_run
from whyloop.sandbox.demo_loop import COUNTERMEASURE, FIRST_FAULTS
from whyloop.schema import Confidence
from whyloop.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_a_fault_switched_on_again_is_matched_to_its_analysis_as_a_regression(
    demo_history, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    assert demo_history.status == 0
    analyses = whys.whys_dir(demo_history.store_root)
    index = known.load_index(analyses)  # no cache: the demo's folder is shared, read only
    assert len(index) >= 1 and not index.skipped

    store = Store(tmp_path / "data" / "iterations")
    monkeypatch.setenv("WHYLOOP_E2E_TIMEOUT_SCALE", "0.5")  # the e2e suite's waits halved
    run = live_run(tmp_path / "w", (*FIRST_FAULTS, "db-locked"))
    save_run(store, "later", run, (*FIRST_FAULTS, "db-locked"))
    found = known.lookup_iteration(store, "later", index=index)

    welcome = [m for m in found if "connection_established" in m.failure.signature]
    assert welcome, known.to_text(found)
    best = welcome[0]
    assert best.rank == 1 and best.confidence is Confidence.HIGH
    assert best.entry.loop == demo_history.loop and best.entry.iterations[0] == "1"
    assert best.entry.measures[0].action == COUNTERMEASURE and best.entry.measures[0].verified
    assert best.regression_of == "C1" and best.fixed_in == f"loop {demo_history.loop}, iteration 2"
    text = known.to_text(found)
    assert f"seen in loop {demo_history.loop}, iteration 1: root cause R1" in text
    assert "came back after being fixed in loop demo-1, iteration 2" in text

    unmatched = [f for f in found.failures if "connection_established" not in f.signature]
    assert unmatched, "the database lock made no failure cluster"
    assert not {f.label for f in unmatched} & {m.failure.label for m in found}

    a = known.draft(store, "later", index=index, root=tmp_path / "data" / "whys")
    why = next(w for w in a.whys if best.failure.clusters[0] in w.clusters)
    first = why.becauses[0]
    assert first.source.startswith(f"known cause {best.entry.analysis} why 1")
    assert first.status is whys.StepStatus.HYPOTHESIS and first.stage == "welcome"
