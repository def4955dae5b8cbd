"""The review check: what fails it (owner, evidence, trigger as root cause), what it flags (blame)."""

from __future__ import annotations

from whyloop import postmortem
from whyloop.cli import main
from whyloop.postmortem import Cause, Entry, EntryKind, Level, Status

from .conftest import LOOP


def _errors(problems):
    return [p for p in problems if p.level is Level.ERROR]


def test_a_built_postmortem_passes(history):
    pm = postmortem.build(history.store, LOOP)
    assert postmortem.check(pm, history.store) == []


def test_an_action_item_without_an_owner_fails_with_one_line(history, tmp_path, capsys):
    pm = postmortem.build(history.store, LOOP)
    pm.action("A1").owner = ""
    [problem] = postmortem.check(pm, history.store)
    assert problem.level is Level.ERROR
    assert str(problem) == "error: action item A1: has no owner: name who will do it"
    path = pm.save(tmp_path / "pm.yaml")
    status = main(["postmortem", "check", str(path), "--store", str(history.store.root)])
    lines = capsys.readouterr().out.splitlines()
    assert status == 1
    assert lines == [f"{path}: error: action item A1: has no owner: name who will do it"]


def test_a_timeline_entry_without_evidence_fails(history):
    pm = postmortem.build(history.store, LOOP)
    pm.timeline.append(
        Entry("2026-11-24T07:00:00.000+00:00", EntryKind.NOTE, "rolled back by hand")
    )
    [problem] = _errors(postmortem.check(pm))
    assert problem.where == f"timeline entry {len(pm.timeline)}"
    assert "cites no evidence" in problem.message


def test_the_root_cause_recorded_as_the_trigger_fails(history):
    pm = postmortem.build(history.store, LOOP)
    root = pm.root_causes[0]
    pm.trigger = Cause("T1", root.text.upper() + "  ", evidence=list(root.evidence))
    [problem] = _errors(postmortem.check(pm))
    assert problem.where == "root cause R1" and "is the trigger T1" in problem.message
    pm.trigger = Cause("T1", "a config flag", analysis=root.analysis, step=root.step)
    assert [p.where for p in _errors(postmortem.check(pm))] == ["root cause R1"]


def test_a_cause_that_stops_at_a_person_is_flagged_as_blame(history):
    pm = postmortem.build(history.store, LOOP)
    pm.contributing.append(Cause("F1", "The engineer forgot to run the migration"))
    pm.lessons.went_wrong.append("Alice forgot to check the dashboard")
    pm.contributing.append(Cause("F2", "The deploy pipeline runs no migration check"))
    flagged = [p for p in postmortem.check(pm) if "blameless" in p.message]
    n = len(pm.lessons.went_wrong)
    assert [p.where for p in flagged] == ["contributing F1", f"lesson went_wrong {n}"]
    assert all(p.level is Level.WARNING for p in flagged)
    assert not _errors(postmortem.check(pm))


def test_once_in_review_an_action_item_needs_a_due_date_and_gone_evidence_is_warned(history):
    pm = postmortem.build(history.store, LOOP)
    pm.action("A1").due = None
    assert postmortem.check(pm) == []  # a draft may leave it open
    pm.status = Status.IN_REVIEW
    assert [str(p) for p in postmortem.check(pm)] == [
        "warning: action item A1: has no due date (in review)"
    ]
    pm.trigger.evidence.append(f"store:{LOOP}/9/logs#row=1")
    gone = [p for p in postmortem.check(pm, history.store) if "gone" in p.message]
    assert [p.where for p in gone] == ["trigger T1"]
    assert "loop pm has no iteration 9" in gone[0].message


def test_an_unknown_trigger_and_no_root_cause_are_warned(history, tmp_path):
    pm = postmortem.build(history.store, LOOP, ["2"], whys_root=tmp_path)
    pm.trigger = Cause("T1", "unknown: nothing shows it")
    wheres = {p.where for p in postmortem.check(pm)}
    assert {"trigger", "root causes"} <= wheres
    assert not _errors(postmortem.check(pm))
