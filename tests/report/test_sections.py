"""The iteration report's sections: small hand-built frames, and the bundled sample as two iterations."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import whyloop
from whyloop.errors import ConfigError, ReportError
from whyloop.report import metrics, sections
from whyloop.report.outputs import write_metrics
from whyloop.report.sections import IterationData
from whyloop.sandbox import SAMPLE
from whyloop.schema import LoopStatus
from whyloop.store import Store


def _tests(outcomes: dict[str, str], category: str = "API") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "test_id": list(outcomes),
            "outcome": list(outcomes.values()),
            "rerun": 0,
            "category": category,
            "message": ["boom" if o == "failed" else "" for o in outcomes.values()],
            "signature": ["sig1" if o == "failed" else "" for o in outcomes.values()],
            "signature_text": ["boom" if o == "failed" else "" for o in outcomes.values()],
        }
    )


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, IterationData]:
    """The sample as iteration 1, and as iteration 2 with the WebSocket tests fixed."""
    root = tmp_path_factory.mktemp("store")
    store = Store(root)
    sections.load_iteration(
        store,
        "smp",
        results=str(SAMPLE / "tests"),
        logs=str(SAMPLE / "logs" / "*.jsonl"),
        categories=str(SAMPLE / "categories.yaml"),
    )
    second = store.read("smp", "1", "tests")
    ws = second["category"] == "WebSocket"
    second["outcome"] = second["outcome"].astype(str).mask(ws, "passed")
    second["message"] = second["message"].astype(str).mask(ws, "")
    store.write("smp", tests=second, logs=store.read("smp", "1", "logs"))
    return store, sections.load_iteration(store, "smp")


def test_missing_data_is_said_plainly_never_invented() -> None:
    empty = IterationData("l", "1")
    assert sections.deployment(empty).startswith("unknown")
    assert sections.sla_table(empty) == "no probe suite was run in this iteration"
    assert sections.impact(empty, None) == "no impact mapping given"
    assert sections.results_by_category(empty) == "this iteration holds no test results"
    assert "no" in sections.trend(empty)
    assert sections.template_changes(empty).startswith("this iteration holds no")
    assert sections.whys_markdown([]) == "no five-whys analysis names this iteration"
    logs = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01"], utc=True), "service": ["a"]})
    assert sections.deployment(IterationData("l", "1", logs=logs)) == (
        "unknown: the logs carry no revision; and no health probe was run in this iteration"
    )


def test_deployment_lists_each_service_with_its_revisions() -> None:
    logs = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(
                ["2026-01-01T10:00", "2026-01-01T10:05", "2026-01-01T10:01"]
            ),
            "service": ["api", "api", "auth"],
            "revision": ["api-7", "api-7", None],
        }
    )
    out = sections.deployment(IterationData("l", "1", logs=logs))
    assert out[["service", "revisions_in_logs", "log_records"]].values.tolist() == [
        ["api", "api-7", 2],
        ["auth", "unknown", 1],
    ]
    assert set(out["health"]) == {"unknown: no health probe was run"}


def test_deployment_shows_what_health_probes_saw_beside_the_logs() -> None:
    logs = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-01-01T10:00", "2026-01-01T10:01"], utc=True),
            "service": ["api", "worker"],
            "revision": ["api-7", "worker-3"],
        }
    )
    health = pd.DataFrame(
        {
            "service": ["api", "auth"],
            "url": ["http://api/health", "http://auth/healthz"],
            "up": [True, False],
            "http_status": pd.array([200, 503], dtype="Int64"),
            "revision": ["api-8", None],
            "version": ["1.4.2", None],
            "observed_at": pd.NaT,
            "source": "probe",
            "detail": ["", "GET http://auth/healthz answered 503"],
        }
    )
    out = sections.deployment(IterationData("l", "1", logs=logs, health=health)).set_index(
        "service"
    )
    assert out.loc["api", ["health", "revision", "version", "revisions_in_logs"]].tolist() == [
        "up (HTTP 200)", "api-8", "1.4.2", "api-7"
    ]  # fmt: skip
    assert out.loc["auth", "health"] == "down (HTTP 503): GET http://auth/healthz answered 503"
    assert out.loc["auth", "revision"].startswith("unknown: GET http://auth/healthz answered 503")
    assert out.loc["auth", "revisions_in_logs"] == "unknown: no log record of this service"
    assert out.loc["worker", "health"] == (
        "unknown: no health probe of this service in this iteration"
    )


def test_sla_table_keeps_the_suite_checks_with_their_figures() -> None:
    probes = pd.DataFrame(
        {
            "probe": ["load", "ratelimit"],
            "check": ["p95", "429"],
            "ok": [False, True],
            "metric": ["p95_ms", "status"],
            "value": [900.0, 429.0],
            "sla": ["<= 500", ""],
            "diagnosis": ["slow", ""],
            "failed_stage": ["p95", None],
            "duration_ms": [1200.0, 30.0],
        }
    )
    data = IterationData("l", "1", probes=probes)
    table = sections.sla_table(data)
    assert table.columns.tolist() == ["probe", "check", "ok", "metric", "value", "sla", "diagnosis"]
    assert table["ok"].tolist() == [False, True]
    timings = sections.stage_timings(data)
    assert timings["stage"].tolist() == ["load p95", "ratelimit 429"]
    found = sections.probe_findings(data)
    assert found[["stage", "rule", "source"]].values.tolist() == [["p95", "load", "probes"]]


def test_ws_stage_rows_give_stage_timings() -> None:
    probes = pd.DataFrame(
        {
            "target": "ws://x/ws",
            "ok": False,
            "failed_stage": "welcome",
            "stage": ["dns", "tcp", "welcome"],
            "stage_ok": [True, True, False],
            "ms": [1.0, 2.0, 2000.0],
        }
    )
    timings = sections.stage_timings(IterationData("l", "1", probes=probes))
    assert timings.values.tolist() == [
        ["dns", 1.0, True],
        ["tcp", 2.0, True],
        ["welcome", 2000.0, False],
    ]
    assert sections.sla_table(IterationData("l", "1", probes=probes)).startswith("no probe suite")


def test_impact_maps_failing_tests_by_category_then_glob_and_names_the_unmapped() -> None:
    tests = pd.concat(
        [
            _tests({"a::pay": "failed", "a::ok": "passed"}, "Billing"),
            _tests({"b::chat": "failed", "b::other": "failed"}, "Chat"),
        ]
    )
    rules = [
        {"category": "Billing", "risk": "high", "affects": "payments"},
        {"test": "b::chat*", "risk": "medium", "affects": "live chat"},
    ]
    out = sections.impact(IterationData("l", "1", tests=tests), rules)
    assert out[["match", "risk", "failing"]].values.tolist() == [
        ["Billing", "high", 1],
        ["b::chat*", "medium", 1],
        ["(no rule)", "unknown: the mapping does not cover these", 1],
    ]
    with pytest.raises(ConfigError):
        sections.impact(IterationData("l", "1", tests=tests), [["not", "a", "mapping"]])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pass_rate>=1.0 on category WebSocket", [("pass_rate", 1.0, "WebSocket")]),
        ("pass_rate >= 95%", [("pass_rate", 0.95, None)]),
        ("pass_rate 100% on suite e2e", [("pass_rate", 1.0, None)]),
        (
            "pass_rate>=0.9; sla; no_new_signatures",
            [("pass_rate", 0.9, None), ("sla", None, None), ("no_new_signatures", None, None)],
        ),
    ],
)
def test_loop_target_text_reads_as_criteria(text: str, expected: list) -> None:
    got = [(c.kind.value, c.target, c.category) for c in sections.parse_target(text)]
    assert got == expected


def test_a_loop_target_that_cannot_be_read_is_refused() -> None:
    with pytest.raises(ConfigError, match="cannot read the loop target"):
        sections.parse_target("pass rate of at least 90")


def test_results_by_category_are_summarize_tests_figures(sample_store) -> None:
    store, _ = sample_store
    data = sections.load_iteration(store, "smp", 1)
    table = sections.results_by_category(data).set_index("category")
    expected = whyloop.summarize_tests(data.tests)["by_category"]
    for name, figures in expected.items():
        for key in ("passed", "failed", "errors", "skipped", "total", "pass_rate"):
            assert table.loc[name, key] == figures[key], (name, key)
    assert table.loc["WebSocket", ["passed", "total"]].tolist() == [2, 5]


def test_sample_iteration_reads_continue_with_its_failures(sample_store) -> None:
    store, _ = sample_store
    data = sections.load_iteration(store, "smp", 1)
    result = sections.verdict(data, "pass_rate>=1.0", [])
    assert result.status is LoopStatus.CONTINUE
    assert result.criteria["figure"].tolist() == [0.6]
    assert "CONTINUE" in sections.header(data, result, environment="staging", target="x")
    clusters = sections.failure_clusters(data)
    assert clusters["size"].sum() == 10 and clusters["size"].is_monotonic_decreasing
    assert sections.deployment(data)["service"].tolist() == ["auth", "backend"]
    evidence = sections.log_evidence(data)
    assert "database is locked" in " ".join(evidence["message"])
    actions = sections.next_actions(data, [])
    assert set(actions["kind"]) == {"open cluster"} and len(actions) == len(clusters)


def test_trend_counts_new_and_fixed_per_iteration(sample_store) -> None:
    _, data = sample_store
    assert data.iteration == "2" and data.previous == "1"
    trend = sections.trend(data)
    assert trend["iteration"].tolist() == ["1", "2"]
    assert trend["pass_rate"].tolist() == [0.6, 0.72]
    assert trend["fixed"].tolist()[1] == 3 and trend["new_failures"].tolist()[1] == 0
    result = sections.verdict(data, "pass_rate>=1.0 on category WebSocket", [])
    assert result.status is LoopStatus.DONE
    only_first = sections.load_iteration(sample_store[0], "smp", 2, compare_with=["2"])
    assert sections.trend(only_first)["iteration"].tolist() == ["2"]


def test_metrics_hold_the_iterations_figures_as_json(sample_store, tmp_path: Path) -> None:
    _, data = sample_store
    result = sections.verdict(data, "pass_rate>=0.95; no_new_signatures", [])
    m = metrics.iteration_metrics(data, result, environment="staging", target="pass_rate>=0.95")
    assert m["totals"] == {
        "total": 25, "passed": 18, "failed": 7, "errors": 0, "skipped": 0,
        "xfailed": 0, "xpassed": 0, "pass_rate": 0.72,
    }  # fmt: skip
    assert m["status"] == "continue" and m["target"] == 0.95
    assert m["by_category"]["WebSocket"]["pass_rate"] == 1.0
    assert (m["new_failures"], m["fixed"]) == (0, 3)
    assert sum(c["size"] for c in m["clusters"]) == 7
    assert [c["met"] for c in m["criteria"]] == [False, True]
    assert m["sla"] == [] and m["whys"] == []
    path = write_metrics(m, tmp_path / "out")
    assert json.loads(path.read_text()) == m


def test_unknown_iteration_is_a_report_error(sample_store) -> None:
    with pytest.raises(ReportError, match="no iteration '9'"):
        sections.load_iteration(sample_store[0], "smp", 9)
    assert sections.load_iteration(sample_store[0], "smp", "002").iteration == "2"


def test_whys_of_this_iteration_cover_their_clusters_and_leave_countermeasures_open(
    sample_store, tmp_path: Path
) -> None:
    from whyloop import whys

    store, _ = sample_store
    data = sections.load_iteration(store, "smp", 1)
    clusters = sections.failure_clusters(data)
    biggest = clusters["cluster_id"].iloc[0]
    a = whys.Analysis(
        id="smp-1", title="writes fail", problem="HTTP 500", loop="smp", iterations=["1"],
        clusters=[biggest],
    )  # fmt: skip
    a.add_why("Why do writes fail?").because("the database is locked")
    a.add_countermeasure("commit before calling out", owner="ann", due="2026-12-10")
    a.save(tmp_path / "smp" / "smp-1.yaml")
    other = whys.Analysis(id="smp-9", title="later", problem="p", loop="smp", iterations=["9"])
    other.save(tmp_path / "smp" / "smp-9.yaml")

    found = sections.whys_section("smp", "1", tmp_path)
    assert [x.id for x in found] == ["smp-1"]
    assert "the database is locked" in sections.whys_markdown(found)
    actions = sections.next_actions(data, found)
    assert biggest not in set(actions["id"])
    assert actions[actions["kind"] == "open countermeasure"].values.tolist() == [
        ["open countermeasure", "smp-1/C1", "commit before calling out (owner ann, due 2026-12-10)",
         "not done"]
    ]  # fmt: skip
    result = sections.verdict(data, "whys_answered", found)
    assert result.status is LoopStatus.DONE  # open, but it has a countermeasure
    assert sections.verdict(data, "whys_answered", None).criteria["state"].tolist() == ["unknown"]
    m = metrics.iteration_metrics(data, result, analyses=found)
    assert m["whys"] == [{"id": "smp-1", "title": "writes fail", "open": True}]
