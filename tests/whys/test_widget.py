"""The notebook view, driven through its view-model and its buttons' handlers (no browser)."""

from __future__ import annotations

from whyloop.whys import StepStatus, WhysViewModel, draft, load, show


def test_the_view_model_selects_adds_attaches_confirms_and_saves(store, tmp_path) -> None:
    a = draft(store, "demo", root=tmp_path / "whys")
    vm = WhysViewModel(a, store=store, by="ann")
    keys = [key for _, key in vm.options()]
    assert keys == ["why 1", "1.1", "why 2", "2.1"]
    assert vm.select("2.1")
    assert vm.detail()[0].startswith("2.1 [hypothesis] The server accepts")
    assert any("found: 1 row of tests" in line for line in vm.evidence())
    assert vm.add_because("The client's timeout is too short")
    assert vm.selected == "2.2" and a.step("2.2").status is StepStatus.HYPOTHESIS
    assert not vm.set_status("confirmed")  # no evidence yet: refused, said, not raised
    assert "confirming needs evidence" in vm.message
    assert vm.attach("note: the client waits 3 s, the server greets after 5 s")
    assert vm.set_status("confirmed", "seen in the logs")
    assert a.step("2.2").history[-1].by == "ann"
    assert vm.ask("Why does the server greet so late?")
    assert vm.selected == "why 2.2"
    assert vm.save() and vm.message.startswith("saved ")
    again = load(a.path)
    assert again.step("2.2").status is StepStatus.CONFIRMED
    assert again.why("2.2").question == "Why does the server greet so late?"


def test_the_widget_shows_the_tree_and_its_buttons_change_the_analysis(store, tmp_path) -> None:
    a = draft(store, "demo", root=tmp_path / "whys")
    view = show(a, store=store, by="bob")
    assert [key for _, key in view.tree.options] == ["why 1", "1.1", "why 2", "2.1"]
    view.tree.value = "1.1"  # a click in the list
    assert view.model.selected == "1.1"
    assert "database is locked" in view.evidence.value
    view.evidence_text.value = "file:lib/app/db.py:88"
    view.buttons["attach"].click()
    assert a.step("1.1").evidence[-1].ref == "lib/app/db.py:88"
    assert view.evidence_text.value == ""
    view.status.value = "confirmed"
    view.note_text.value = "the lock waits match"
    view.buttons["status"].click()
    assert a.step("1.1").status is StepStatus.CONFIRMED
    assert a.step("1.1").history[-1].by == "bob"
    view.because_text.value = "Writes hold the lock across an HTTP call"
    view.buttons["add"].click()
    assert a.step("1.2").text == "Writes hold the lock across an HTTP call"
    assert "1.2" in [key for _, key in view.tree.options] and view.tree.value == "1.2"
    view.buttons["save"].click()
    assert view.message.value.startswith("saved ")
    assert load(a.path).step("1.1").status is StepStatus.CONFIRMED


def test_a_refused_click_shows_the_reason(store, tmp_path) -> None:
    view = show(draft(store, "demo", root=tmp_path / "whys"))
    view.tree.value = "why 1"
    view.buttons["status"].click()  # a why has no status of its own
    assert view.message.value == "select a because first"
    view.buttons["add"].click()  # nothing typed
    assert "type the because first" in view.message.value
