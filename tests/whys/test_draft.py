"""Drafting: the first whys of an iteration name the broken stage or component, as hypotheses."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

import pandas as pd
import pytest

from whyloop.store import Store
from whyloop.whys import EvidenceKind, RefState, StepStatus, draft, draft_from_tables, resolve
from whyloop.whys.model import DRAFT_AUTHOR

T0 = pd.Timestamp("2026-01-05T10:00:00Z")
OPTIONAL = ("whyloop.analyze.clusters", "whyloop.analyze.correlate", "whyloop.analyze.templates")


def have(module: str, name: str = "") -> bool:
    """Whether ``module`` (and its attribute ``name``) can be imported: others are writing them."""
    if importlib.util.find_spec(module) is None:
        return False
    return not name or hasattr(importlib.import_module(module), name)


def frames(message: str, log_lines: list[tuple[str, str]], n: int = 2) -> dict[str, pd.DataFrame]:
    """``n`` tests failing with ``message`` (1 s each from T0), one passing, and log lines at 0.5 s."""
    rows = []
    for k in range(n + 1):
        failed = k < n
        rows.append(
            {
                "test_id": f"test_app.py::test_{k}",
                "outcome": "failed" if failed else "passed",
                "rerun": 0,
                "message": message if failed else "",
                "failure_type": message.partition(":")[0] if failed else "",
                "signature": "sig1" if failed else "",
                "signature_text": message if failed else "",
                "start": T0 + pd.Timedelta(seconds=k),
                "stop": T0 + pd.Timedelta(seconds=k + 1),
            }
        )
    logs = pd.DataFrame(
        [
            {
                "timestamp": T0 + pd.Timedelta(seconds=0.5),
                "level": level,
                "service": "backend",
                "message": text,
            }
            for level, text in log_lines
        ],
        columns=["timestamp", "level", "service", "message"],
    )
    return {"tests": pd.DataFrame(rows), "logs": logs}


def test_the_sample_drafts_one_why_per_cause_naming_the_stage_and_component(store: Store) -> None:
    a = draft(store, "demo")
    assert a.id == "demo-1" and a.iterations == ["1"]
    assert "10 of 25 tests failed" in a.problem
    by_stage = {w.becauses[0].stage: w for w in a.whys if w.becauses}
    welcome = by_stage["welcome"].becauses[0]
    assert "welcome" in welcome.text and len(by_stage["welcome"].tests) == 3
    assert "Why did 3 tests fail with 'TimeoutError" in by_stage["welcome"].question
    lock = a.whys[0].becauses[0]  # the surest finding first
    assert "database" in lock.text.lower() and "lock" in lock.text.lower()
    assert len(a.whys[0].tests) == 7


def test_every_drafted_because_is_a_hypothesis_proposed_by_the_draft(store: Store) -> None:
    steps = list(draft(store, "demo").steps())
    assert steps and all(b.status is StepStatus.HYPOTHESIS for b in steps)
    assert all([c.by for c in b.history] == [DRAFT_AUTHOR] for b in steps)
    assert all(b.source.startswith("finding ") for b in steps)


def test_drafted_evidence_points_at_rows_that_are_there(store: Store) -> None:
    a = draft(store, "demo")
    refs = [e for b in a.steps() for e in b.evidence if e.ref]
    assert {e.kind for e in refs} >= {EvidenceKind.LOG, EvidenceKind.TEST}
    for e in refs:
        res = resolve(e.ref, store)
        assert res.state is RefState.FOUND, (e.ref, res.message)
    logs = [e for e in refs if e.kind is EvidenceKind.LOG]
    assert all("#row=" in e.ref for e in logs)
    locked = resolve(logs[0].ref, store).rows.iloc[0]["message"]
    assert "database is locked" in locked


def test_a_failed_probe_in_the_iteration_drafts_its_stage(tmp_path, sample_tables) -> None:
    probes = pd.DataFrame(
        {
            "target": ["ws://127.0.0.1:8080/ws"] * 3,
            "ok": [False] * 3,
            "failed_stage": ["welcome"] * 3,
            "stage": ["tcp", "upgrade", "welcome"],
            "stage_ok": [True, True, False],
            "ms": [1.0, 3.0, 1500.0],
            "summary": ["connected", "101 Switching Protocols", "no first message within 1.5 s"],
            "diagnosis": ["The handshake succeeded but no first message arrived within 1.5 s"] * 3,
        }
    )
    store = Store(tmp_path / "iterations")
    store.write("demo", **sample_tables, probes=probes)
    a = draft(store, "demo")
    why = next(w for w in a.whys if w.becauses and w.becauses[0].stage == "welcome")
    assert "ws probe of ws://127.0.0.1:8080/ws fail at the welcome stage" in why.question
    probe = next(e for e in why.becauses[0].evidence if e.stage == "welcome")
    assert probe.ref == "store:demo/1/probes#stage=welcome" and probe.claim == "failed"
    assert resolve(probe.ref, store).found
    assert "and 1 probes failed" in a.problem


def test_nothing_failed_drafts_no_why(tmp_path) -> None:
    tests = pd.DataFrame({"test_id": ["t.py::a"], "outcome": ["passed"], "message": [""]})
    a = draft_from_tables({"tests": tests}, loop="demo", iteration="2")
    assert a.whys == [] and a.notes == ["nothing failed"]


def test_failures_no_rule_explains_still_get_a_why_without_an_answer() -> None:
    a = draft_from_tables(frames("ValueError: bad pixel", []), loop="demo", iteration="1")
    assert len(a.whys) == 1 and a.whys[0].becauses == []
    assert a.whys[0].question == "Why did 2 tests fail with 'ValueError: bad pixel'?"
    assert "no finding rule explained a failure" in a.notes


@pytest.mark.parametrize(
    ("message", "logs", "stage", "words"),
    [
        ('AssertionError: list agents: expected HTTP 200, got 401: {"error":"unauthorized"}', [("WARNING", "token rejected: invalid audience")], "auth", "audience"),
        ("httpx.ReadTimeout: timed out", [("WARNING", "agent run abandoned: client closed the request")], "first_byte", "timeout"),
        ("AssertionError: 30 requests never got a 429", [], "expect", "rate limiting"),
        ("AssertionError: the server did not echo the subprotocol in Sec-WebSocket-Protocol", [], "subprotocol", "sec-websocket-protocol"),
        ("InvalidStatus: websocket upgrade refused with HTTP 403 for Origin http://localhost:3000", [("WARNING", "websocket origin refused")], "upgrade", "origin"),
        ("InvalidStatus: websocket upgrade refused with HTTP 401 (token sent as subprotocol)", [], "auth", "authorization header"),
        ("TimeoutError: timed out after 3 s waiting for connection_established (received [])", [], "welcome", "welcome"),
        ('AssertionError: create thread: expected HTTP 201, got 500: {"error":"internal_error"}', [("ERROR", "create thread failed: sqlite3.OperationalError: database is locked")], "expect", "database lock"),
    ],
)  # fmt: skip
def test_each_fault_s_failures_draft_a_first_hypothesis_naming_its_stage(
    message: str, logs: list[tuple[str, str]], stage: str, words: str
) -> None:
    a = draft_from_tables(frames(message, logs), loop="demo", iteration="1")
    first = a.whys[0].becauses[0]
    assert first.stage == stage, (first.stage, first.source)
    assert words in first.text.lower()
    assert first.status is StepStatus.HYPOTHESIS


def test_without_the_other_analyses_the_draft_uses_findings_and_says_so(
    monkeypatch: pytest.MonkeyPatch, sample_tables
) -> None:
    for name in OPTIONAL:
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    a = draft_from_tables(
        dict(sample_tables), loop="demo", iteration="1", previous_logs=sample_tables["logs"]
    )
    assert len(a.whys) == 2 and a.clusters == []
    assert any("clusters is not available" in n for n in a.notes)
    assert any("correlate is not available" in n for n in a.notes)
    assert any("templates is not available" in n for n in a.notes)


def fake_correlate(tests: pd.DataFrame, logs: pd.DataFrame, **_: Any) -> pd.DataFrame:
    """The documented shape: test_id, cluster_id, the log columns, rank, score, reasons."""
    locked = logs[logs["message"].astype(str).str.contains("database is locked")].head(2)
    rows = []
    for test_id in tests["test_id"]:
        for rank, row in enumerate(locked.to_dict("records"), 1):
            rows.append(
                {"test_id": test_id, "cluster_id": "c1", **row, "rank": rank, "score": 0.9, "reasons": ["same window", "error level"]}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_correlated_log_lines_join_the_evidence(monkeypatch: pytest.MonkeyPatch, sample_tables):
    module = types.ModuleType("whyloop.analyze.correlate")
    module.correlate_logs = fake_correlate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "whyloop.analyze.correlate", module)
    a = draft_from_tables(dict(sample_tables), loop="demo", iteration="1")
    lock = a.whys[0].becauses[0]
    correlated = [e for e in lock.evidence if "correlated" in e.text]
    # the same rows the finding cites are not cited twice: only new ones are added
    assert all(e.kind is EvidenceKind.LOG and "#row=" in e.ref for e in correlated)
    assert len({e.ref for e in lock.evidence if e.ref}) == len([e for e in lock.evidence if e.ref])
    assert not any("correlate is not available" in n for n in a.notes)


@pytest.mark.skipif(
    not have("whyloop.analyze.clusters"), reason="analyze/clusters.py not there yet"
)
def test_with_clusters_each_why_names_its_clusters(store: Store) -> None:
    from whyloop.analyze.clusters import cluster_failures

    a = draft(store, "demo")
    clusters = cluster_failures(store.read("demo", "1", "tests"))
    assert set(a.clusters) == set(clusters["cluster_id"].astype(str))
    assert all(w.clusters for w in a.whys)
    assert not any("clusters is not available" in n for n in a.notes)


@pytest.mark.skipif(
    not have("whyloop.analyze.correlate"), reason="analyze/correlate.py not there yet"
)
def test_with_the_real_correlation_the_draft_cites_correlated_lines(store: Store) -> None:
    a = draft(store, "demo")
    assert not any("correlate" in n for n in a.notes), a.notes
    for e in (e for b in a.steps() for e in b.evidence if e.ref):
        assert resolve(e.ref, store).found, e.ref


@pytest.mark.skipif(
    not have("whyloop.analyze.templates", "template_diff"),
    reason="analyze/templates.py has no template_diff yet",
)
def test_with_the_real_template_diff_the_draft_runs_against_the_previous_iteration(
    store: Store, sample_tables
) -> None:
    store.write("demo", **sample_tables)
    a = draft(store, "demo")
    assert a.iterations == ["2"]
    assert not any("templates is not available" in n for n in a.notes), a.notes


def test_an_unexplained_failure_gets_its_most_correlated_record_as_a_hypothesis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def correlate(tests: pd.DataFrame, logs: pd.DataFrame, **_: Any) -> pd.DataFrame:
        failed = tests[tests["outcome"] == "failed"]
        return pd.DataFrame(
            [
                {"test_id": t, **logs.iloc[0].to_dict(), "rank": 1, "score": 7.5, "reasons": "ERROR level", "log_row": 0}
                for t in failed["test_id"]
            ]
        )  # fmt: skip

    module = types.ModuleType("whyloop.analyze.correlate")
    module.correlate_logs = correlate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "whyloop.analyze.correlate", module)
    tables = frames("ValueError: bad pixel", [("ERROR", "pixel decoder crashed: no codec")])
    a = draft_from_tables(tables, loop="demo", iteration="1")
    (because,) = a.whys[0].becauses
    assert because.source == "log correlation" and because.status is StepStatus.HYPOTHESIS
    assert because.text.endswith("backend ERROR pixel decoder crashed: no codec")
    assert [e.ref for e in because.evidence] == ["store:demo/1/logs#row=0"]
    assert "correlated, score 7.50: ERROR level" in because.evidence[0].text


# -- known causes: a precedent drafted first, as a hypothesis ---------------------------


def test_a_known_cause_comes_first_among_its_why_s_becauses_as_a_hypothesis(store: Store) -> None:
    from whyloop.whys import Evidence
    from whyloop.whys.draft import KnownCause

    plain = draft(store, "demo")
    welcome = next(w for w in plain.whys if w.becauses and w.becauses[0].stage == "welcome")
    known = KnownCause(
        "The same cause as before: the welcome is never sent",
        "known cause old-1 why 1 (high confidence)",
        clusters=tuple(welcome.clusters),
        stage="welcome",
        evidence=(Evidence(EvidenceKind.FILE, ref="data/whys/old/old-1.yaml"),),
    )
    a = draft(store, "demo", known=[known])
    why = next(w for w in a.whys if w.clusters == welcome.clusters)
    first = why.becauses[0]
    assert first.text.startswith("The same cause as before")
    assert first.status is StepStatus.HYPOTHESIS and first.stage == "welcome"
    assert first.history[0].by == DRAFT_AUTHOR
    assert first.evidence[0].ref == "data/whys/old/old-1.yaml"
    assert [b.text for b in why.becauses[1:]] == [b.text for b in welcome.becauses]
    others = [w for w in a.whys if w is not why]
    assert all(not b.source.startswith("known cause") for w in others for b in w.becauses)


def test_a_known_cause_about_no_failure_of_the_iteration_is_left_out_and_noted(
    store: Store,
) -> None:
    from whyloop.whys.draft import KnownCause

    known = KnownCause("elsewhere", "known cause x-1 why 1 (low confidence)", clusters=("nope",))
    a = draft(store, "demo", known=[known])
    assert not [b for b in a.steps() if b.text == "elsewhere"]
    assert any("known cause x-1" in n and "no failure" in n for n in a.notes)
