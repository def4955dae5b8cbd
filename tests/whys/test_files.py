"""YAML files: byte-for-byte round trips, readable diffs, one-line errors naming line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import JWT_RE
from whyloop.errors import WhysError
from whyloop.whys import Analysis, StepStatus, draft, dumps, load, loads, save, whys_dir
from whyloop.whys.files import default_path


def example() -> Analysis:
    a = Analysis("demo-1", "demo iteration 1", "3 of 25 tests failed", loop="demo")
    a.iterations = ["1"]
    a.created = "2026-11-24T10:00:00+00:00"
    why = a.add_why("Why did 3 tests fail with 'TimeoutError: ...'?", tests=["t.py::a", "t.py::b"])
    b = why.because("The server never sends its welcome.\nSecond line.", stage="welcome")
    b.attach("probe:welcome", "note: 1.5 s without a first message")
    b.confirm(by="ann")
    b.ask("Why does the handler skip it?").because("The greeting was moved behind auth")
    root = b.mark("root_cause")
    a.add_countermeasure(
        "send the welcome first",
        addresses=[root.id],
        owner="ann",
        due="2026-12-01",
        tests=["t.py::a"],
    )
    return a  # fmt: skip


def test_a_saved_analysis_loads_and_saves_back_byte_for_byte(tmp_path: Path) -> None:
    path = example().save(tmp_path / "a.yaml")
    text = path.read_bytes()
    again = load(path)
    assert again.step("1.1").status is StepStatus.CONFIRMED
    assert again.step("1.1.1").text == "The greeting was moved behind auth"
    assert again.countermeasures[0].addresses == ["R1"]
    again.save()
    assert path.read_bytes() == text
    assert dumps(load(path)).encode() == text


def test_a_draft_round_trips_exactly(store, tmp_path: Path) -> None:
    path = draft(store, "demo", root=tmp_path / "whys").save()
    text = path.read_bytes()
    load(path).save()
    assert path.read_bytes() == text


def test_a_hand_edit_of_one_status_round_trips_and_changes_one_line(tmp_path: Path) -> None:
    path = example().save(tmp_path / "a.yaml")
    before = path.read_text()
    edited = before.replace("status: hypothesis", "status: refuted", 1)
    assert edited != before
    path.write_text(edited)
    a = load(path)
    assert a.step("1.1.1").status is StepStatus.REFUTED
    a.save()
    after = path.read_text()
    assert after == edited
    changed = [x for x, y in zip(before.splitlines(), after.splitlines(), strict=True) if x != y]
    assert [line.strip() for line in changed] == ["status: hypothesis"]


def test_the_style_is_fixed_for_review(tmp_path: Path) -> None:
    text = example().save(tmp_path / "a.yaml").read_text()
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert keys == [
        "format",
        "id",
        "title",
        "problem",
        "loop",
        "iterations",
        "clusters",
        "created",
        "notes",
        "whys",
        "trigger",
        "root_causes",
        "contributing",
        "countermeasures",
    ]
    assert "text: |-\n" in text  # a text with a line break is a literal block
    assert "due: 2026-12-01\n" in text


def test_a_file_in_another_style_is_written_back_unchanged_when_nothing_changed(
    tmp_path: Path,
) -> None:
    path = example().save(tmp_path / "a.yaml")
    restyled = path.read_text().replace("id: demo-1", 'id: "demo-1"')
    path.write_text(restyled)
    a = load(path)
    a.save()
    assert path.read_text() == restyled
    a.step("1.1").reopen(by="ann")
    a.save()
    assert 'id: "demo-1"' not in path.read_text()  # changed: back to the fixed style


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("status: confirmed", "status: confimed"), "whys[0].becauses[0].status: 'confimed' is not one of hypothesis, confirmed, refuted"),
        (("owner: ann", "owner: ann\n    stauts: x"), "countermeasures[0].stauts: unknown field 'stauts'"),
        (("due: 2026-12-01", "due: next week"), "countermeasures[0].due: expected a date such as 2026-12-01, not 'next week'"),
        (("kind: probe", "kind: rumour"), "whys[0].becauses[0].evidence[0].kind: 'rumour' is not one of probe, log"),
        (("format: whyloop-whys/1", "format: other/9"), "format: 'other/9' is not 'whyloop-whys/1'"),
    ],
)  # fmt: skip
def test_a_hand_edit_with_an_error_names_the_line_and_the_field(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    path = example().save(tmp_path / "a.yaml")
    text = path.read_text()
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(WhysError) as caught:
        load(path)
    shown = str(caught.value)
    assert "\n" not in shown and message in shown
    bad = edit[1].splitlines()[-1].strip()
    line = next(
        n
        for n, x in enumerate(path.read_text().splitlines(), 1)
        if x.strip().removeprefix("- ") == bad
    )
    assert shown.startswith(f"{path}:{line}: ")


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("format: whyloop-whys/1\nid: x\nwhys:\n  - question: [unclosed\n")
    with pytest.raises(WhysError, match=r"bad\.yaml:\d+: not valid YAML") as caught:
        load(path)
    assert caught.value.line is not None


def test_a_missing_field_names_its_parent_line(tmp_path: Path) -> None:
    text = "format: whyloop-whys/1\nid: x\nwhys:\n  - tests: []\n"
    with pytest.raises(WhysError, match=r"x\.yaml:4: whys\[0\]: missing field 'question'"):
        loads(text, path="x.yaml")


def test_saving_never_overwrites_another_analysis(tmp_path: Path) -> None:
    path = example().save(tmp_path / "a.yaml")
    with pytest.raises(WhysError, match="already there"):
        example().save(path)
    assert save(example(), path, replace=True) == path


def test_secrets_typed_into_an_analysis_are_not_saved(tmp_path: Path) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc"
    a = example()
    a.step("1.1").attach(f"note: curl -H 'Authorization: Bearer {token}' /api/threads")
    a.notes.append(f"token was {token}")
    text = a.save(tmp_path / "a.yaml").read_text()
    assert not JWT_RE.search(text)
    load(tmp_path / "a.yaml").save()
    assert (tmp_path / "a.yaml").read_text() == text


def test_default_paths_sit_beside_the_store(tmp_path: Path) -> None:
    assert whys_dir(tmp_path / "data" / "iterations") == tmp_path / "data" / "whys"
    assert default_path(example(), tmp_path) == tmp_path / "demo" / "demo-1.yaml"


def test_the_issue_s_example_reads_naturally_in_a_cell(store, tmp_path: Path) -> None:
    path = draft(store, "demo", root=tmp_path).save()
    a = load(path)
    a.why(1).confirm(evidence="store:demo/1/logs#message~database is locked")
    a.save()
    assert load(path).why(1).because(1).status is StepStatus.CONFIRMED
    assert load(path).step("1.1").history[-1].by == "tester"  # $WHYLOOP_USER
