"""Rerun the sandbox e2e suite's failures for real: a fault that stays on fails consistently."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import whyloop
from tests.support import TIMEOUT_SCALE
from whyloop.analyze.flaky import Verdict, classify_reruns
from whyloop.probes.rerun import rerun_failures
from whyloop.sandbox import EXPECTED_FAILURES, run_e2e, up
from whyloop.sandbox.runner import E2E_DIR

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: one constant scales every timeout in these tests


def test_websocket_tests_without_a_welcome_fail_on_every_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the suite waits 3 s for each welcome; half of that proves the point as well
    monkeypatch.setenv("WHYLOOP_E2E_TIMEOUT_SCALE", str(0.5 * TIMEOUT_SCALE))
    box = up(faults=["ws-no-welcome"], state_dir=tmp_path / "sandbox")
    try:
        report = tmp_path / "report.jsonl"
        status = run_e2e(
            backend_url=box.backend_url,
            auth_url=box.auth_url,
            ws_url=box.ws_url,
            report_log=report,
            extra_args=["-q", "--tb=no", "-p", "no:warnings", "-k", "websocket_connection"],
        )
        assert status == 1
        tests = whyloop.read_tests(report)
        env = {
            "WHYLOOP_BACKEND_URL": box.backend_url,
            "WHYLOOP_AUTH_URL": box.auth_url,
            "WHYLOOP_WS_URL": box.ws_url,
        }
        # node ids in the report are relative to the suite's folder; name it like a user would
        suite = os.path.relpath(E2E_DIR, ROOT)
        attempts = rerun_failures(
            tests,
            times=2,
            rootdir=ROOT,
            pytest_args=["-c", os.devnull, "--rootdir", suite, suite, "-p", "no:warnings"],
            env=env,
            timeout_s=120 * TIMEOUT_SCALE,
        )
    finally:
        box.down()

    verdicts = classify_reruns(tests, attempts)
    expected = {f"test_websocket.py::{name}" for name in EXPECTED_FAILURES["ws-no-welcome"]}
    assert set(verdicts["test_id"]) == expected
    assert (verdicts["verdict"] == Verdict.CONSISTENT).all(), verdicts
    assert (verdicts["reruns"] == 2).all() and (verdicts["pass_fraction"] == 0.0).all()
    assert verdicts["same_signature"].all()
    assert attempts["message"].str.contains("connection_established").all()
    assert attempts["nodeid"].str.startswith("lib/whyloop/sandbox/e2e/test_websocket.py::").all()
