"""One real turn against the sandbox with the demo's two faults: the draft names both causes.

The e2e suite, the WebSocket probe and both services' logs are stored as an
iteration; the draft's whys must name the welcome stage (with the probe's
failed stage as evidence that the store confirms) and the database lock.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import whyloop
from tests.support.sandbox import STAGE_S, login, sandbox
from whyloop.probes.ws.probe import probe_ws, results_frame
from whyloop.sandbox import run_e2e
from whyloop.sandbox.faults import Fault
from whyloop.store import Store
from whyloop.whys import Claim, Level, StepStatus, check, draft, load, resolve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_a_live_iteration_with_two_faults_drafts_both_causes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHYLOOP_E2E_TIMEOUT_SCALE", "0.5")
    report = tmp_path / "report.jsonl"
    with sandbox(tmp_path / "sb", ("ws-no-welcome", "db-locked")) as box:
        run_e2e(
            backend_url=box.backend_url,
            auth_url=box.auth_url,
            ws_url=box.ws_url,
            report_log=report,
            extra_args=["-q", "--tb=no", "-p", "no:warnings"],
        )
        probe = probe_ws(box.ws_url, token=login(box), auth="header", timeout=STAGE_S)
        paths = list(box.log_paths.values())
    logs = pd.concat([whyloop.read_logs(p) for p in paths], ignore_index=True)
    store = Store(tmp_path / "data" / "iterations")
    store.write("live", tests=whyloop.read_tests(report), logs=logs, probes=results_frame([probe]))

    a = draft(store, "live", root=tmp_path / "data" / "whys")
    path = a.save()
    by_stage = {w.becauses[0].stage: w for w in a.whys if w.becauses}
    welcome = by_stage["welcome"].becauses[0]
    assert "welcome" in welcome.text and "fail at the welcome stage" in by_stage["welcome"].question
    probe_ev = next(e for e in welcome.evidence if e.stage == "welcome" and e.claim is Claim.FAILED)
    assert resolve(probe_ev.ref, store).found
    lock = next(w.becauses[0] for w in a.whys if w.becauses and "lock" in w.becauses[0].text)
    assert any("database is locked" in e.text for e in lock.evidence)
    assert all(b.status is StepStatus.HYPOTHESIS for b in a.steps())
    assert not [p for p in check(a, store) if p.level is Level.ERROR]
    assert not [p for p in check(a, store) if "contradicts" in p.message]
    text = path.read_text().lower()
    assert not any(f.value in text for f in Fault), "a draft names a fault"
    assert load(path).id == "live-1"
