"""The loop verdict: CONTINUE or DONE from explicit criteria, each with its figure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from tests.analyze.loop_frames import failing, histories, make_frame
from whyloop.analyze.summary import summarize_tests
from whyloop.analyze.verdict import (
    CRITERIA_COLUMNS,
    Criterion,
    CriterionKind,
    load_criteria,
    loop_verdict,
)
from whyloop.errors import ConfigError
from whyloop.schema import CriterionState, LoopStatus

# 4 WebSocket tests (3 pass), 2 Auth tests (both pass), one skipped
TESTS = make_frame(
    [
        {"test_id": "ws1", "category": "WebSocket"},
        {"test_id": "ws2", "category": "WebSocket"},
        {"test_id": "ws3", "category": "WebSocket", "suite": "smoke"},
        failing("ws4", "W", category="WebSocket", suite="smoke"),
        {"test_id": "au1", "category": "Auth"},
        {"test_id": "au2", "category": "Auth", "outcome": "xpassed"},
        {"test_id": "sk", "category": "Auth", "outcome": "skipped"},
    ]
)
PROBES = pd.DataFrame(
    {
        "probe": ["health-load", "health-load", "errors"],
        "check": ["p95", "success_rate", "unknown_path"],
        "metric": ["p95_ms", "success_rate", "status"],
        "value": [612.0, 1.0, 404.0],
        "sla": ["<= 500", ">= 0.99", ""],
        "ok": [False, True, True],
    }
)


def test_pass_rates_overall_by_category_and_by_suite_are_computed_by_hand() -> None:
    criteria = [
        Criterion(CriterionKind.PASS_RATE, 0.8),
        Criterion(CriterionKind.PASS_RATE, 0.75, category="WebSocket"),
        Criterion(CriterionKind.PASS_RATE, 0.9, suite="smoke"),
    ]
    verdict = loop_verdict(criteria, tests=TESTS)
    table = verdict.criteria
    assert list(table.columns) == list(CRITERIA_COLUMNS)
    # overall: 5 passed (xpassed counts) of 6 that passed or failed (the skip is left out)
    assert table["figure"].tolist() == pytest.approx([5 / 6, 0.75, 0.5], abs=1e-4)
    assert table["met"].tolist() == [True, True, False]
    assert table.iloc[1]["detail"] == "3 of 4 passed (category WebSocket): 75.00% >= 75.00%"
    assert table.iloc[2]["criterion"] == "pass rate of suite smoke"
    assert verdict.status is LoopStatus.CONTINUE and not verdict.done
    # the same figures from a summary (no suites there)
    from_summary = loop_verdict(criteria[:2], summary=summarize_tests(TESTS))
    assert from_summary.criteria["figure"].tolist() == pytest.approx([5 / 6, 0.75], abs=1e-4)
    assert from_summary.status is LoopStatus.DONE


def test_done_only_when_every_criterion_is_met_and_missing_data_is_unknown() -> None:
    criteria = [{"kind": "pass_rate", "target": 0.5}, {"kind": "sla"}, {"kind": "whys_answered"}]
    verdict = loop_verdict(criteria, tests=TESTS, whys=[])
    sla = verdict.criteria.iloc[1]
    assert sla["state"] == CriterionState.UNKNOWN and not sla["met"]
    assert sla["detail"] == "unknown: no probes table" and pd.isna(sla["figure"])
    assert verdict.status is LoopStatus.CONTINUE
    assert list(verdict.unmet()["kind"]) == ["sla"]

    green = PROBES.assign(ok=True)
    assert loop_verdict(criteria, tests=TESTS, probes=green, whys=[]).status is LoopStatus.DONE


def test_sla_and_probe_checks_name_what_missed() -> None:
    verdict = loop_verdict([{"kind": "sla"}, {"kind": "probes_ok"}], suite_checks=PROBES)
    sla, every = verdict.criteria.iloc[0], verdict.criteria.iloc[1]
    assert sla["figure"] == 0.5  # 1 of the 2 checks with an SLA
    assert sla["detail"] == (
        "1 of 2 SLA checks met; missed: health-load p95 p95_ms 612 (SLA <= 500)"
    )
    assert every["figure"] == pytest.approx(2 / 3, abs=1e-4)
    no_sla = loop_verdict([{"kind": "sla"}], probes=PROBES[PROBES["sla"] == ""])
    assert no_sla.criteria.iloc[0]["detail"] == "unknown: no SLA check in the probes table"


def test_new_signatures_come_from_the_diff_or_the_tests_history() -> None:
    history = histories({"a": "PF", "b": "FF"})  # iteration 2 adds a's failure: sig-a
    verdict = loop_verdict([{"kind": "no_new_signatures"}], tests=history)
    row = verdict.criteria.iloc[0]
    assert row["figure"] == 1.0 and row["detail"] == "1 new: sig-a text of sig-a"
    given = loop_verdict([{"kind": "no_new_signatures"}], new_signatures=[])
    assert given.status is LoopStatus.DONE
    one_run = loop_verdict([{"kind": "no_new_signatures"}], tests=TESTS)
    assert one_run.criteria.iloc[0]["detail"].startswith("unknown: no iteration diff given")


@dataclass
class Why:
    id: str
    open: bool
    has_countermeasure: bool


def test_open_whys_without_a_countermeasure_keep_the_loop_going() -> None:
    whys = [Why("W1", True, False), {"id": "W2", "open": True, "has_countermeasure": True},
            {"title": "db lock", "open": False, "has_countermeasure": False}]  # fmt: skip
    row = loop_verdict([{"kind": "whys_answered"}], whys=whys).criteria.iloc[0]
    assert (row["figure"], row["met"]) == (1.0, False)
    assert row["detail"] == "1 open without a countermeasure: W1"


def test_criteria_load_from_yaml_with_shorthands_and_errors_name_the_criterion(
    tmp_path: Path,
) -> None:
    path = tmp_path / "exit.yaml"
    path.write_text(
        "criteria:\n"
        "  - pass_rate: 0.95\n"
        "  - {pass_rate: 1.0, category: WebSocket}\n"
        "  - sla\n"
        "  - {kind: no_new_signatures}\n"
        "  - whys_answered: true\n",
        encoding="utf-8",
    )
    criteria = load_criteria(path)
    assert [c.kind for c in criteria] == [
        CriterionKind.PASS_RATE,
        CriterionKind.PASS_RATE,
        CriterionKind.SLA,
        CriterionKind.NO_NEW_SIGNATURES,
        CriterionKind.WHYS_ANSWERED,
    ]
    assert criteria[1] == Criterion(CriterionKind.PASS_RATE, 1.0, category="WebSocket")
    path.write_text("criteria:\n  - sla\n  - {pass_rate: 95}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_criteria(path)
    assert str(err.value) == (
        f"{path}: criterion 2: pass_rate needs a target between 0 and 1, got 95.0"
    )
    with pytest.raises(ConfigError, match="unknown kind 'uptime'"):
        load_criteria([{"kind": "uptime"}])
    with pytest.raises(ConfigError, match="non-empty list"):
        load_criteria({"criteria": []})


def test_the_verdict_is_data_a_ci_gate_can_read_as_json() -> None:
    verdict = loop_verdict([{"pass_rate": 0.5}, "sla"], tests=TESTS)
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data["status"] == "continue"
    assert [c["state"] for c in data["criteria"]] == ["met", "unknown"]
    assert data["criteria"][1]["figure"] is None
    assert str(verdict).splitlines()[0] == "CONTINUE"


@dataclass
class Probed:
    """A stand-in for whyloop.results.ProbeResult: what the criterion reads of one."""

    target: str
    ok: bool
    diagnosis: str = ""


def test_probe_results_count_for_every_probe_passed() -> None:
    results = [Probed("ws://backend/ws", False, "no connection_established"), Probed("http", True)]
    row = loop_verdict(["probes_ok"], probes=results).criteria.iloc[0]
    assert (row["figure"], row["met"]) == (0.5, False)
    assert row["detail"] == "1 of 2 probe checks met; missed: ws://backend/ws"
