"""The live demo's health probes and reruns, as its two iterations and reports show them."""

from __future__ import annotations

import pytest

from whyloop.sandbox.demo import _rerun_line
from whyloop.store import Store


def test_the_rerun_line_says_what_is_rerun_or_that_nothing_failed() -> None:
    assert _rerun_line(0) == "no test failed: nothing to rerun"
    assert _rerun_line(1) == "rerunning the failed test twice: flaky or consistent?"
    assert _rerun_line(3) == "rerunning the 3 failed tests twice: flaky or consistent?"


@pytest.mark.slow
def test_each_iteration_keeps_its_health_answers_and_the_report_shows_them(demo_history) -> None:
    out = demo_history.out
    first, second = out.split("== iteration 2")
    assert "rerunning the 3 failed tests twice" in first
    assert "no test failed: nothing to rerun" in second and "rerunning" not in second
    store = Store(demo_history.store_root)
    for iteration in ("1", "2"):
        health = store.read(demo_history.loop, iteration, "health").set_index("service")
        assert sorted(health.index) == ["auth", "backend"] and health["up"].all()
        assert health.loc["backend", "revision"] == "sandbox-backend-00035-abc"
        assert health["observed_at"].notna().all()
    html = demo_history.reports / demo_history.loop / "iteration-001" / "iteration_report.html"
    page = html.read_text()
    assert "up (HTTP 200)" in page and "sandbox-auth-00012-xyz" in page
    assert "unknown: /health reported no version" in page
