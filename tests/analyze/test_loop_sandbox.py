"""The loop analyses against real runs of the sandbox: two consistent faults, one flaky one.

One run each (about 30 s and 20 s): ``ws-no-welcome`` + ``db-locked`` with one
rerun of what failed, and ``flaky-messages`` with six (its seeded draws let
both failing tests pass on some rerun).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import whyloop
from tests.support import TIMEOUT_SCALE
from tests.support.sandbox import sandbox
from whyloop.analyze import (
    classify_reruns,
    cluster_failures,
    cluster_logs,
    correlate_logs,
    flakiness,
    loop_verdict,
)
from whyloop.probes.rerun import rerun_failures
from whyloop.sandbox import EXPECTED_FAILURES, SAMPLE, run_e2e
from whyloop.sandbox.runner import E2E_DIR
from whyloop.schema import FlakeVerdict, LoopStatus, Verdict

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    """What one turn of the loop against the sandbox leaves: results, logs, rerun attempts."""

    tests: pd.DataFrame
    logs: pd.DataFrame
    attempts: pd.DataFrame


def _run(folder: Path, faults: tuple[str, ...], reruns: int) -> Run:
    with pytest.MonkeyPatch.context() as mp:
        # the suite waits 3 s for each welcome; half of that proves the point as well
        mp.setenv("WHYLOOP_E2E_TIMEOUT_SCALE", str(0.5 * TIMEOUT_SCALE))
        with sandbox(folder / "sandbox", faults) as box:
            report = folder / "report.jsonl"
            run_e2e(
                backend_url=box.backend_url,
                auth_url=box.auth_url,
                ws_url=box.ws_url,
                report_log=report,
                extra_args=["-q", "--tb=no", "-p", "no:warnings"],
            )
            tests = whyloop.read_tests(report, categories=SAMPLE / "categories.yaml")
            suite = os.path.relpath(E2E_DIR, ROOT)
            attempts = rerun_failures(
                tests,
                times=reruns,
                rootdir=ROOT,
                pytest_args=["-c", os.devnull, "--rootdir", suite, suite, "-p", "no:warnings"],
                env={
                    "WHYLOOP_BACKEND_URL": box.backend_url,
                    "WHYLOOP_AUTH_URL": box.auth_url,
                    "WHYLOOP_WS_URL": box.ws_url,
                },
                timeout_s=120 * TIMEOUT_SCALE,
            )
            paths = list(box.log_paths.values())
    logs = pd.concat([whyloop.read_logs(p) for p in paths], ignore_index=True)
    return Run(tests, logs, attempts)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("locked"), ("ws-no-welcome", "db-locked"), reruns=1)


@pytest.fixture(scope="module")
def flaky(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("flaky"), ("flaky-messages",), reruns=6)


def _names(ids: list[str]) -> set[str]:
    return {i.split("::")[-1] for i in ids}


def test_clusters_name_the_welcome_timeout_and_the_http_500(locked: Run) -> None:
    clusters = cluster_failures(locked.tests)
    welcome = clusters[clusters["signature_text"].str.contains("connection_established")]
    assert len(welcome) == 1, clusters[["signature_text", "size"]]
    assert _names(welcome.iloc[0]["tests"]) == EXPECTED_FAILURES["ws-no-welcome"]
    assert welcome.iloc[0]["categories"] == ["WebSocket"] and welcome.iloc[0]["size"] == 3
    http_500 = clusters[clusters["signature_text"].str.contains("got 500")]
    assert len(http_500) == 1 and http_500.iloc[0]["size"] >= 5
    assert _names(http_500.iloc[0]["tests"]) <= EXPECTED_FAILURES["db-locked"]
    everything = set().union(*(_names(t) for t in clusters["tests"]))
    assert everything == EXPECTED_FAILURES["ws-no-welcome"] | EXPECTED_FAILURES["db-locked"]


def test_a_database_is_locked_error_is_within_the_top_three_of_each_lock_failure(
    locked: Run,
) -> None:
    correlated = correlate_logs(locked.tests, locked.logs)
    lock_failures = [
        t
        for t in dict.fromkeys(correlated["test_id"])
        if _names([t]) <= EXPECTED_FAILURES["db-locked"]
    ]
    assert _names(lock_failures) == EXPECTED_FAILURES["db-locked"]
    for test_id in lock_failures:
        top = correlated[(correlated["test_id"] == test_id) & (correlated["rank"] <= 3)]
        telling = top[(top["level"] == "ERROR") & top["message"].str.contains("database is locked")]
        assert len(telling), (test_id, top[["rank", "message", "reasons"]].to_string())
        assert telling.iloc[0]["reasons"].startswith("ERROR level; ")
    per_cluster = cluster_logs(correlated, top=3)
    http_500 = cluster_failures(locked.tests)
    http_500 = http_500[http_500["signature_text"].str.contains("got 500")].iloc[0]["cluster_id"]
    top = per_cluster[per_cluster["cluster_id"] == http_500]
    assert top["message"].str.contains("database is locked").any(), top.to_string()


def test_consistent_faults_are_called_consistent_and_service_side(locked: Run) -> None:
    reruns = classify_reruns(locked.tests, locked.attempts)
    assert (reruns["verdict"] == Verdict.CONSISTENT).all(), reruns
    out = flakiness(locked.tests, reruns=reruns).set_index("test_id")
    failed = list(reruns["test_id"])
    assert (out.loc[failed, "verdict"] == FlakeVerdict.CONSISTENT).all()
    assert out.loc[failed, "rule"].str.startswith("failed on its only rerun in this run").all()
    welcome = [t for t in failed if "websocket" in t]
    assert (out.loc[welcome, "side"] == "service").all()
    assert out.loc[welcome, "side_evidence"].str.contains("in 2 other tests in this run").all()
    verdict = loop_verdict([{"pass_rate": 1.0, "category": "WebSocket"}], tests=locked.tests)
    assert verdict.status is LoopStatus.CONTINUE
    assert verdict.criteria.iloc[0]["figure"] == 0.4  # 2 of the 5 WebSocket tests pass


def test_the_flaky_fault_is_called_flaky_and_service_side(flaky: Run) -> None:
    reruns = classify_reruns(flaky.tests, flaky.attempts)
    assert _names(list(reruns["test_id"])) == EXPECTED_FAILURES["flaky-messages"]
    passed_on_retry = list(reruns.loc[reruns["verdict"] == Verdict.FLAKY, "test_id"])
    assert passed_on_retry, reruns  # the seeded draws let them pass on some of the 6 reruns
    out = flakiness(flaky.tests, reruns=flaky.attempts).set_index("test_id")
    assert (out.loc[passed_on_retry, "verdict"] == FlakeVerdict.FLAKY).all()
    assert out.loc[passed_on_retry, "rule"].str.startswith("pass on retry in this run").all()
    failed = list(reruns["test_id"])
    # both failed with one 503 signature at the same time: the service, not the tests
    assert (out.loc[failed, "side"] == "service").all(), out.loc[failed, "side_evidence"]
    assert out.loc[failed, "side_evidence"].str.contains("the same failure").all()
    correlated = correlate_logs(flaky.tests, flaky.logs)
    for test_id in failed:
        top = correlated[(correlated["test_id"] == test_id) & (correlated["rank"] <= 3)]
        assert (top["level"] == "ERROR").any() and top["message"].str.contains(
            "503|message delivery failed"
        ).any(), top.to_string()
