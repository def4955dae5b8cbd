"""Checks: errors fail a review, warnings point a reviewer at what to look at twice."""

from __future__ import annotations

import pandas as pd
import pytest

from whyloop.store import Store
from whyloop.whys import Analysis, Evidence, EvidenceKind, Level, blames_a_person, check
from whyloop.whys.model import Because, Claim, StepStatus


def analysis() -> Analysis:
    a = Analysis("c-1", "t", "p", loop="demo", iterations=["1"])
    a.add_why("Why did the writes fail?").because("The database is locked", stage="expect")
    return a


def messages(problems, level: Level | None = None) -> list[str]:
    return [f"{p.where}: {p.message}" for p in problems if level is None or p.level is level]


def test_a_clean_analysis_has_no_problem() -> None:
    a = analysis()
    root = a.step("1.1").confirm(evidence="note: the logs say so", by="ann").mark("root_cause")
    a.add_countermeasure("shorter transactions", addresses=[root.id], tests=["t.py::a"])
    assert check(a) == []


def test_a_confirmed_step_without_evidence_is_an_error() -> None:
    a = analysis()
    a.step("1.1").status = StepStatus.CONFIRMED  # as a hand edit of the file would
    assert messages(check(a), Level.ERROR) == [
        "because 1.1: confirmed without evidence: attach what shows it"
    ]


def test_a_root_cause_without_countermeasure_is_an_error() -> None:
    a = analysis()
    a.step("1.1").mark("root_cause")
    assert "root cause R1: has no countermeasure" in messages(check(a), Level.ERROR)


def test_names_that_point_nowhere_are_errors() -> None:
    a = analysis()
    a.add_cause("root_cause", "x", step="4.2")
    a.add_countermeasure("y", addresses=["R1", "R7"], tests=["t.py::a"])
    assert messages(check(a), Level.ERROR) == [
        "root cause R1: names step 4.2, which does not exist",
        "countermeasure C1: addresses R7, which is not a cause",
    ]


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("Someone deployed the old config", True),
        ("The engineer forgot to run the migration", True),
        ("we didn't add a lock timeout", True),
        ("Alice forgot the flag", True),
        ("The on-call engineer missed the alert", True),
        ("The server didn't answer the upgrade", False),
        ("Migration failed to run before start", False),
        ("The deploy pipeline has no migration step", False),
        ("Nothing checks the lock timeout", False),
    ],
)
def test_a_chain_that_stops_at_a_person_is_recognised(text: str, person: bool) -> None:
    assert blames_a_person(text) is person


def test_a_chain_ending_at_a_person_warns_but_one_that_goes_on_does_not() -> None:
    a = analysis()
    blame = a.step("1.1").ask("Why is it locked?").because("Someone forgot to commit")
    assert messages(check(a), Level.WARNING) == [
        "because 1.1.1: the chain stops at a person; ask why the process or system let it happen"
    ]
    blame.ask("Why could a transaction stay open?").because("No statement timeout is set")
    assert check(a) == []


def test_the_trigger_recorded_as_root_cause_warns() -> None:
    a = analysis()
    a.step("1.1").confirm(evidence="note: the lock waits line up", by="ann").mark("trigger")
    root = a.step("1.1").mark("root_cause")
    a.add_countermeasure("z", addresses=[root.id], tests=["t.py::a"])
    assert messages(check(a)) == [
        "trigger T1: is also recorded as root cause R1: the trigger set it off, "
        "the root cause let it do harm"
    ]


def test_a_countermeasure_without_a_check_warns() -> None:
    a = analysis()
    a.add_countermeasure("be careful")
    assert messages(check(a), Level.WARNING) == [
        "countermeasure C1: names no test or probe that will show it worked"
    ]


def test_evidence_that_contradicts_the_because_warns(tmp_path, sample_tables) -> None:
    probes = pd.DataFrame(
        {
            "target": ["ws://h/ws"] * 2,
            "ok": [True, True],
            "failed_stage": [None, None],
            "stage": ["upgrade", "welcome"],
            "stage_ok": [True, True],
            "ms": [3.0, 40.0],
            "summary": ["101", "connection_established"],
            "diagnosis": ["", ""],
        }
    )
    store = Store(tmp_path / "iterations")
    store.write("demo", **sample_tables, probes=probes)
    a = analysis()
    step = a.step("1.1")
    step.attach("probe:welcome")  # cited as failed; it passed in iteration 1
    step.attach("test:test_agents.py::test_agent_discovery")  # cited as failed; it passed
    step.attach("test:test_auth.py::test_user_isolation")  # cited as failed; it failed: fine
    step.attach(Evidence(EvidenceKind.LOG, ref="store:demo/9/logs#row=1"))
    assert messages(check(a, store)) == [
        "because 1.1, evidence 1: store:demo/1/probes#stage=welcome cites probe stage welcome "
        "as failed, but it passed there: the evidence contradicts the because",
        "because 1.1, evidence 2: store:demo/1/tests#test_id=test_agents.py::test_agent_discovery"
        " cites test test_agents.py::test_agent_discovery as failed, but it passed there: "
        "the evidence contradicts the because",
        "because 1.1, evidence 4: store:demo/9/logs#row=1: gone: loop demo has no iteration 9",
    ]


def test_a_refuted_step_may_be_contradicted_and_blame_anyone_without_warning(store) -> None:
    a = analysis()
    a.why(1).becauses.append(
        Because("Someone forgot it", status=StepStatus.REFUTED, evidence=[], history=[])
    )
    a.link()
    assert check(a, store) == []
    assert Claim.FAILED.value == "failed"


def test_a_store_that_is_not_there_is_one_warning(tmp_path) -> None:
    a = analysis()
    a.step("1.1").attach("probe:welcome")
    assert messages(check(a, Store(tmp_path / "nowhere"))) == [
        f"evidence: no store at {tmp_path / 'nowhere'}: the evidence was not looked up"
    ]


def test_a_root_cause_resting_on_a_hypothesis_warns() -> None:
    a = analysis()
    root = a.step("1.1").mark("root_cause")
    a.add_countermeasure("z", addresses=[root.id], tests=["t.py::a"])
    assert messages(check(a)) == [
        "root cause R1: rests on because 1.1, which is hypothesis, not confirmed"
    ]
