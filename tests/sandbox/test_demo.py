"""``make demo``: the offline sample turn, and the live two-iteration loop with whys and reports."""

from __future__ import annotations

import json

import pytest

from whyloop import whys
from whyloop.sandbox.demo import run_demo
from whyloop.sandbox.demo_loop import notebook_path
from whyloop.store import Store


def test_offline_demo_saves_the_sample_as_an_iteration_and_starts_nothing(tmp_path, capsys):
    assert run_demo(store_root=tmp_path / "store", offline=True, workdir=tmp_path / "w") == 0
    out = capsys.readouterr().out
    assert "25 tests: 15 passed, 10 failed" in out and "welcome" in out
    assert Store(tmp_path / "store").iterations("demo") == ["1"]
    assert not (tmp_path / "w").exists() and not (tmp_path / "reports").exists()


def test_the_report_notebook_is_found_from_the_package():
    assert notebook_path().name == "iteration_report.ipynb" and notebook_path().is_file()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
def test_live_demo_runs_two_iterations_from_fault_to_done(demo_history):
    store_root, reports, work = demo_history.store_root, demo_history.reports, demo_history.workdir
    assert demo_history.status == 0
    out = demo_history.out
    assert "the demo confirms as the engineer would" in out
    store = Store(store_root)
    assert store.loops() == ["demo-1"] and store.iterations("demo-1") == ["1", "2"]

    first = json.loads((reports / "demo-1" / "iteration-001" / "metrics.json").read_text())
    assert first["status"] == "continue"
    tests = store.read("demo-1", "1", "tests")
    failing = tests[tests["outcome"].astype(str) == "failed"]
    assert len(failing) == 3 and set(failing["category"].astype(str)) == {"WebSocket"}
    assert "stage welcome" in out

    second = json.loads((reports / "demo-1" / "iteration-002" / "metrics.json").read_text())
    assert second["status"] == "done" and second["totals"]["pass_rate"] == 1.0
    analysis = whys.load(whys.whys_dir(store_root) / "demo-1" / "demo-1-1.yaml")
    assert analysis.root_causes and analysis.step(analysis.root_causes[0].step).stage == "welcome"
    (measure,) = analysis.countermeasures
    assert measure.verify_probes == ["welcome"]
    assert (
        measure.verified is not None and measure.verified.ok and measure.verified.iteration == "2"
    )
    assert "countermeasure C1 verified" in out
    for n in ("001", "002"):
        assert (reports / "demo-1" / f"iteration-{n}" / "iteration_report.html").is_file()
    # the loop's postmortem: saved beside the store, checked, rendered without code
    (pm_file,) = (store_root.parent / "postmortems" / "demo-1").glob("*.yaml")
    assert f"postmortem {pm_file}: its check passes" in out and "trigger: " in out
    (page,) = (reports / "demo-1").glob("postmortem-*/*.html")
    assert "Trigger" in page.read_text(encoding="utf-8")
    # nothing left running: each sandbox removed its state file when it stopped
    assert not list(work.rglob("sandbox.json"))
