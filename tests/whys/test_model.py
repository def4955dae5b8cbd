"""The model as a notebook cell uses it: addressing steps, confirming with evidence, causes."""

from __future__ import annotations

import pytest

from whyloop.errors import WhysError
from whyloop.whys import (
    Analysis,
    CausalRole,
    Claim,
    Evidence,
    EvidenceKind,
    StepStatus,
    current_user,
)
from whyloop.whys.model import DRAFT_AUTHOR


def tree() -> Analysis:
    a = Analysis("t-1", "title", "3 tests failed", loop="demo", iterations=["1"])
    first = a.add_why("Why did 3 tests time out?")
    first.because("The server never sends its welcome", stage="welcome")
    first.because("The client waits too little")
    a.add_why("Why did 7 writes fail?").because("The database is locked")
    return a


def test_steps_are_addressed_by_position_and_nesting() -> None:
    a = tree()
    assert a.why(1).question == "Why did 3 tests time out?"
    assert a.step("1.2").text == "The client waits too little"
    assert a.why(1).because(2) is a.step("1.2")
    under = a.step("1.1").ask("Why is the welcome skipped?")
    assert a.why("1.1") is under and under.address == "1.1"
    deeper = under.because("The handler returns before the greeting")
    assert deeper.address == "1.1.1" and a.step("1.1.1") is deeper
    assert [b.address for b in a.steps()] == ["1.1", "1.1.1", "1.2", "2.1"]


def test_missing_steps_say_what_is_there() -> None:
    a = tree()
    with pytest.raises(WhysError, match="no why 3: the analysis has 2"):
        a.why(3)
    with pytest.raises(WhysError, match=r"because 1\.1 has none under it"):
        a.why("1.1")
    with pytest.raises(WhysError, match="has no because 5"):
        a.step("1.5")


def test_a_new_because_is_a_hypothesis_and_confirming_needs_evidence() -> None:
    a = tree()
    step = a.step("1.1")
    assert step.status is StepStatus.HYPOTHESIS
    with pytest.raises(WhysError, match="confirming needs evidence"):
        step.confirm()
    assert step.status is StepStatus.HYPOTHESIS and not step.history


def test_confirm_records_who_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHYLOOP_USER", "ann")
    step = tree().step("1.1").confirm(evidence="probe:welcome", note="probe shows it")
    assert step.status is StepStatus.CONFIRMED
    assert (step.history[-1].by, step.history[-1].status) == ("ann", StepStatus.CONFIRMED)
    assert step.history[-1].note == "probe shows it"
    assert current_user() == "ann"


def test_confirm_by_names_the_person_and_refute_keeps_the_history() -> None:
    step = tree().step("2.1")
    step.confirm(evidence="note: the log says so", by="bob")
    step.refute(evidence="test:test_x.py::test_y", by="cy")
    assert [(c.by, c.status.value) for c in step.history] == [
        ("bob", "confirmed"),
        ("cy", "refuted"),
    ]


def test_a_why_with_one_because_can_be_confirmed_directly_but_not_one_with_two() -> None:
    a = tree()
    assert a.why(2).confirm(evidence="note: seen", by="ann").status is StepStatus.CONFIRMED
    with pytest.raises(WhysError, match=r"has 2 becauses: pick one"):
        a.why(1).confirm(evidence="note: seen")


def test_shorthand_evidence_points_into_the_analysis_iteration() -> None:
    a = tree()
    step = a.step("1.1").attach("probe:welcome", "test:test_ws.py::test_connect")
    probe, test = step.evidence
    assert probe.kind is EvidenceKind.PROBE and probe.stage == "welcome"
    assert probe.ref == "store:demo/1/probes#stage=welcome" and probe.claim is Claim.FAILED
    assert test.ref == "store:demo/1/tests#test_id=test_ws.py::test_connect"


@pytest.mark.parametrize(
    ("text", "kind", "ref", "shown"),
    [
        ("store:demo/2/logs#row=4", EvidenceKind.LOG, "store:demo/2/logs#row=4", ""),
        ("file:lib/app/ws.py:42", EvidenceKind.FILE, "lib/app/ws.py:42", ""),
        ("commit:1a2b3c4", EvidenceKind.COMMIT, "1a2b3c4", ""),
        ("template:create thread failed: <*>", EvidenceKind.TEMPLATE, "", "create thread failed: <*>"),
        ("the dashboard shows it", EvidenceKind.NOTE, "", "the dashboard shows it"),
        ("Note: said by ops", EvidenceKind.NOTE, "", "said by ops"),
    ],
)  # fmt: skip
def test_evidence_parses_what_a_person_types(text, kind, ref, shown) -> None:
    e = Evidence.parse(text)
    assert (e.kind, e.ref, e.text) == (kind, ref, shown)


def test_causes_get_ids_by_role_and_countermeasures_name_them() -> None:
    a = tree()
    root = a.step("1.1").mark(CausalRole.ROOT_CAUSE)
    trigger = a.add_cause(CausalRole.TRIGGER, "the 1.4 deploy", step="2.1")
    factor = a.add_cause("contributing", "no alert on lock waits")
    c = a.add_countermeasure("greet before reading", addresses=[root.id], due="2026-12-10")
    assert (root.id, root.step, trigger.id, factor.id, c.id) == ("R1", "1.1", "T1", "F1", "C1")
    assert str(c.due) == "2026-12-10"
    assert [role for role, _ in a.causes()] == [
        CausalRole.TRIGGER,
        CausalRole.ROOT_CAUSE,
        CausalRole.CONTRIBUTING,
    ]


def test_draft_author_is_not_a_person() -> None:
    assert DRAFT_AUTHOR == "whyloop draft"
