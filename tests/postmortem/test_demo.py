"""The postmortem of ``make demo``'s loop: built from its two real iterations and their five whys."""

from __future__ import annotations

import pytest

from whyloop import postmortem, whys
from whyloop.postmortem import EntryKind, Level
from whyloop.store import Store
from whyloop.whys.refs import RefState

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # jupyter_client/zmq internals
]


@pytest.fixture
def demo_pm(demo_history):
    store = Store(demo_history.store_root)
    pm = postmortem.build(
        store, demo_history.loop, ["1", "2"], whys_root=whys.whys_dir(demo_history.store_root)
    )
    return store, pm


def test_the_demo_postmortem_names_trigger_root_cause_timeline_and_verified_fix(demo_pm, tmp_path):
    store, pm = demo_pm
    loop = pm.loop
    # the trigger: what iteration 1 was run with, kept apart from the root cause
    assert "ws-no-welcome" in pm.trigger.text
    assert pm.trigger.evidence == [f"store:{loop}/1/manifest#meta=faults"]
    [root] = pm.root_causes
    assert "welcome message" in root.text and root.text != pm.trigger.text
    assert f"store:{loop}/1/probes#stage=welcome" in root.evidence
    # impact: the three WebSocket tests of iteration 1, none in iteration 2
    assert [(r.iteration, r.total, r.failed) for r in pm.impact.iterations] == [
        ("1", 25, 3),
        ("2", 25, 0),
    ]
    assert pm.impact.categories == ["WebSocket"] and pm.impact.duration_s > 0
    assert pm.detection.iteration == "1" and "welcome" in pm.detection.how
    # the timeline, from the real records, each entry's evidence found in the store
    tests = store.read(loop, "1", "tests")
    failing = set(tests.loc[tests["outcome"].astype(str) == "failed", "test_id"])
    first = next(e for e in pm.timeline if e.kind is EntryKind.TEST)
    assert "TimeoutError" in first.text and any(t in first.text for t in failing)
    assert any(e.kind is EntryKind.DEPLOY and "sandbox-backend" in e.text for e in pm.timeline)
    assert any(e.kind is EntryKind.LOG and "websocket closed" in e.text for e in pm.timeline)
    assert any(e.kind is EntryKind.PROBE and "stage welcome" in e.text for e in pm.timeline)
    for entry in pm.timeline:
        for ref in entry.evidence:
            if ref.startswith("store:"):
                assert postmortem.resolve_ref(ref, store).state is RefState.FOUND, ref
    # the countermeasure, verified by its probe in iteration 2
    [item] = pm.action_items
    assert item.verify_probes == ["welcome"] and item.owner == "demo"
    assert item.verified is not None and item.verified.ok and item.verified.iteration == "2"
    assert any("recovered" in e.text and e.iteration == "2" for e in pm.timeline)
    # and it passes its review check, looked up in the store
    assert [p for p in postmortem.check(pm, store) if p.level is Level.ERROR] == []
    path = pm.save(tmp_path / "demo.yaml")
    assert postmortem.load(path) == pm
    text = postmortem.to_markdown(pm)
    assert "ws-no-welcome" in text and "verified" in text
