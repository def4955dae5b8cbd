"""The Markdown summary is a pure rendering of metrics.json."""

from __future__ import annotations

from whyloop.report.export import markdown_summary

METRICS = {
    "loop": "staging",
    "iteration": "003",
    "status": "continue",
    "target": 0.95,
    "totals": {"total": 25, "passed": 20, "failed": 4, "errors": 1, "skipped": 0, "pass_rate": 0.8},
    "by_category": {
        "WebSocket": {"total": 5, "passed": 1, "failed": 4, "errors": 0, "pass_rate": 0.2}
    },
    "clusters": [
        {
            "cluster_id": "c1",
            "size": 4,
            "representative": "welcome timeout",
            "tests": ["t.py::a", "t.py::b", "t.py::c", "t.py::d", "t.py::e"],
        }
    ],
    "sla": [
        {
            "probe": "login",
            "check": "p95",
            "metric": "p95_ms",
            "value": 320,
            "sla": "<= 200",
            "ok": False,
        }
    ],
    "criteria": [{"criterion": "pass rate >= 95%", "met": False, "figure": "80.0%"}],
    "errors": [{"cell": 7, "section": "Logs", "kind": "timeout", "message": "ran longer than 3 s"}],
}


def test_the_summary_has_the_shape_of_a_loop_iteration_report() -> None:
    text = markdown_summary(METRICS)
    assert text.startswith("# staging — iteration 003: CONTINUE\n")
    assert (
        "**Pass rate 80.0%** (25 tests: 20 passed, 4 failed, 1 errors, 0 skipped); target 95.0%"
        in text
    )
    assert "| WebSocket | 20.0% | 1 | 4 | 0 |" in text
    assert "- **4×** `welcome timeout`\n  - a, b, c, d, and 1 more" in text
    assert "- ❌ login/p95: p95_ms 320 (<= 200)" in text
    assert "- [ ] pass rate >= 95%: 80.0%" in text
    assert "- **Logs** (cell 7, timeout): ran longer than 3 s" in text


def test_a_minimal_metrics_file_still_renders() -> None:
    assert markdown_summary({"errors": []}) == "# ? — iteration ?: UNKNOWN\n"
