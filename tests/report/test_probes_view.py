"""Probe runs side by side (report/probes.py), from hand-built probe results and suite rows."""

from __future__ import annotations

import pandas as pd
import pytest

from whyloop.report import probes
from whyloop.results import ProbeResult, StageResult
from whyloop.schema import Stage


def _ws(welcome_ms: float, ok: bool, upgrade_ms: float = 2.0) -> ProbeResult:
    stages = [
        StageResult(Stage.TCP, True, 0.5, {"summary": "connected"}),
        StageResult(Stage.UPGRADE, True, upgrade_ms, {"summary": "HTTP 101"}),
        StageResult(
            Stage.WELCOME, ok, welcome_ms, {"summary": "no first message" if not ok else "ok"}
        ),
    ]
    return ProbeResult("ws://h/ws", "ws", stages, None if ok else Stage.WELCOME, "why")


def test_runs_are_tabled_with_their_total_and_failed_stage() -> None:
    table = probes.run_table({"before": _ws(1500.0, False), "after": _ws(3.0, True)})
    assert table[["run", "ok", "failed_stage", "total_ms"]].values.tolist() == [
        ["before", False, "welcome", 1502.5],
        ["after", True, "", 5.5],
    ]


def test_stage_diff_names_what_changed_between_two_runs() -> None:
    runs = {"before": _ws(1500.0, False, upgrade_ms=2.0), "after": _ws(3.0, True, upgrade_ms=9.0)}
    stages = probes.stage_table(runs)
    assert stages["run"].tolist() == ["before"] * 3 + ["after"] * 3
    diff = probes.stage_diff(stages, "before", "after").set_index("stage")
    assert diff.loc["welcome", "change"] == "passes in the second run"
    assert diff.loc["upgrade", "change"] == "4.5x slower in the second run"
    assert diff.loc["tcp", "change"] == ""
    with pytest.raises(KeyError, match="no run named 'other'"):
        probes.stage_diff(stages, "before", "other")


def test_suite_runs_compare_check_by_check_and_time_per_probe() -> None:
    first = pd.DataFrame(
        {
            "probe": ["health", "load", "load"],
            "kind": ["http", "load", "load"],
            "check": ["probe", "load", "load"],
            "metric": ["total_ms", "p95_ms", "success_rate"],
            "ok": [True, True, True],
            "value": [3.0, 120.0, 1.0],
            "duration_ms": [3.0, 900.0, 900.0],
        }
    )
    second = first.assign(ok=[True, False, True], value=[3.1, 800.0, 1.0])
    compared = probes.suite_compare(first, second).set_index("metric")
    assert compared.loc["p95_ms", "change"] == "fails in the second run"
    assert compared.loc["total_ms", "change"] == ""
    timed = probes.suite_stages(second)
    assert timed[["stage", "ms", "ok"]].values.tolist() == [
        ["health", 3.0, True],
        ["load", 900.0, False],
    ]
    assert probes.suite_stages(None).startswith("no probe suite was run")
    assert probes.suite_table(None).startswith("no probe suite was run")
