"""A postmortem built from a small stored loop: every figure and entry checked against the data."""

from __future__ import annotations

import pandas as pd

from whyloop import postmortem
from whyloop.analyze.clusters import failed_runs
from whyloop.postmortem import ActionKind, EntryKind, Status
from whyloop.whys.refs import RefState

from .conftest import LOOP, NEW, OLD, WELCOME_TESTS


def test_impact_counts_the_failing_tests_of_each_iteration_and_the_time_to_recovery(history):
    pm = postmortem.build(history.store, LOOP)
    assert pm.iterations == ["1", "2", "3"] and pm.status is Status.DRAFT
    figures = {r.iteration: (r.total, r.failed) for r in pm.impact.iterations}
    assert figures == {"1": (25, 0), "2": (25, 10), "3": (25, 0)}
    failing = failed_runs(history.tests["2"])
    assert set(pm.impact.iterations[1].tests) == set(failing["test_id"])
    assert "WebSocket" in pm.impact.categories
    first = failing["stop"].min()
    last_back = history.tests["3"].set_index("test_id").loc[failing["test_id"], "stop"].max()
    assert pm.impact.duration_s == round((last_back - first).total_seconds(), 3)
    assert pm.impact.started == first.isoformat(timespec="milliseconds")
    assert pm.impact.users.startswith("unknown: ")


def test_the_trigger_is_the_new_revision_and_the_root_cause_the_confirmed_because(history):
    pm = postmortem.build(history.store, LOOP)
    assert NEW in pm.trigger.text and OLD not in pm.trigger.text
    assert pm.trigger.source.startswith("inferred")
    assert pm.trigger.evidence and pm.trigger.evidence[0].startswith(f"store:{LOOP}/2/logs#row=")
    [root] = pm.root_causes
    assert "welcome" in root.text and root.analysis == f"{LOOP}-2"
    assert f"store:{LOOP}/2/tests#test_id={WELCOME_TESTS[0]}" in root.evidence
    assert "confirmed by tester" in root.source


def test_a_trigger_recorded_in_the_analysis_wins_over_the_inferred_one(history):
    from whyloop import whys

    a = whys.load(history.analysis)
    a.add_cause(whys.CausalRole.TRIGGER, "The config flag ws_welcome was switched off")
    a.save()
    pm = postmortem.build(history.store, LOOP)
    assert pm.trigger.text == "The config flag ws_welcome was switched off"
    assert pm.trigger.source == f"recorded as the trigger (T1) in {LOOP}-2"


def test_detection_names_the_iteration_and_the_first_failing_test(history):
    pm = postmortem.build(history.store, LOOP)
    failing = failed_runs(history.tests["2"]).sort_values("stop")
    assert pm.detection.iteration == "2"
    assert failing["test_id"].iloc[0] in pm.detection.how
    assert pm.detection.evidence[0] == f"store:{LOOP}/2/tests#test_id={failing['test_id'].iloc[0]}"
    assert "alert" in pm.detection.how  # it says that whether an alert fired is unknown


def test_the_timeline_is_in_time_order_and_every_entry_resolves_in_the_store(history):
    pm = postmortem.build(history.store, LOOP)
    times = [pd.Timestamp(e.at) for e in pm.timeline]
    assert times == sorted(times)
    kinds = {e.kind for e in pm.timeline}
    assert {EntryKind.DEPLOY, EntryKind.ITERATION, EntryKind.TEST, EntryKind.LOG} <= kinds
    assert EntryKind.ANALYSIS in kinds
    deploys = [e.text for e in pm.timeline if e.kind is EntryKind.DEPLOY and NEW in e.text]
    assert any("new since iteration 1" in t for t in deploys)
    for entry in pm.timeline:
        assert entry.evidence, entry
        for ref in entry.evidence:
            if ref.startswith("store:"):
                assert postmortem.resolve_ref(ref, history.store).state is RefState.FOUND, ref
    recovered = [e for e in pm.timeline if "recovered" in e.text]
    assert recovered and all(e.iteration == "3" for e in recovered)
    verified = [e for e in pm.timeline if "countermeasure C1" in e.text]
    assert verified and "verified in iteration 3" in verified[0].text


def test_action_items_come_from_the_countermeasures_with_their_verification(history):
    pm = postmortem.build(history.store, LOOP)
    [item] = pm.action_items
    assert item.kind is ActionKind.PREVENT and item.owner == "ws-team"
    assert item.addresses == ["R1"] and item.verify_tests == WELCOME_TESTS
    assert item.verified is not None and item.verified.ok and item.verified.iteration == "3"
    assert item.source == f"{LOOP}-2 C1"
    assert postmortem.check(pm, history.store) == []


def test_a_chosen_range_of_iterations_and_no_analysis(history, tmp_path):
    pm = postmortem.build(history.store, LOOP, ["2"], whys_root=tmp_path / "none")
    assert pm.id == f"{LOOP}-2" and pm.iterations == ["2"]
    assert not pm.root_causes and not pm.action_items
    assert "no five-whys analysis" in " ".join(pm.notes)
    assert pm.impact.duration.startswith("unknown: no recovery seen yet")
    # iteration 1 was before: the revision is still new, so the deploy is the trigger
    assert NEW in pm.trigger.text


def test_a_missing_iteration_or_loop_is_one_error_naming_it(history):
    import pytest

    from whyloop.errors import PostmortemError

    with pytest.raises(PostmortemError, match="has no iteration 9") as bad:
        postmortem.build(history.store, LOOP, ["2", "9"])
    assert bad.value.param == "iterations"
    with pytest.raises(PostmortemError, match="no stored iteration"):
        postmortem.build(history.store, "nope")
