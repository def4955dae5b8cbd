"""Postmortem files: a fixed style, byte-for-byte round trips, one-line errors naming line and field."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from whyloop import postmortem
from whyloop.errors import PostmortemError
from whyloop.postmortem import ActionKind, Status

from .conftest import LOOP


@pytest.fixture
def saved(history):
    pm = postmortem.build(history.store, LOOP)
    path = pm.save(postmortem.default_path(pm, postmortem.postmortems_dir(history.store.root)))
    return pm, path


def test_load_then_save_writes_back_the_same_bytes(saved):
    pm, path = saved
    assert path.name == f"{LOOP}-1-to-3.yaml" and path.parent.name == LOOP
    assert path.parent.parent.name == "postmortems"
    text = path.read_bytes()
    loaded = postmortem.load(path)
    assert loaded == pm
    loaded.save()
    assert path.read_bytes() == text


def test_the_fixed_style_is_rebuilt_from_the_model_alone(saved):
    _, path = saved
    fresh = dataclasses.replace(postmortem.load(path))  # no loaded text to fall back on
    assert not hasattr(fresh, "_source")
    assert postmortem.dumps(fresh) == path.read_text(encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "format: whyloop-postmortem/1"
    keys = [line.split(":")[0] for line in lines if line and not line.startswith(" ")]
    assert keys == postmortem.reader.TOP


def test_an_edit_changes_only_its_own_lines(saved):
    _, path = saved
    before = path.read_text(encoding="utf-8").splitlines()
    pm = postmortem.load(path)
    pm.status = Status.IN_REVIEW
    pm.action("A1").due = date(2027, 1, 31)
    pm.lessons.got_lucky.append("the fault was switched on in staging, not in production")
    pm.save()
    after = path.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=False) if a != b]
    assert ("status: draft", "status: in review") in changed
    assert len(after) == len(before) + 1  # the lucky lesson: "got_lucky: []" became two lines
    again = postmortem.load(path)
    assert again.status is Status.IN_REVIEW and again.action("A1").due == date(2027, 1, 31)
    assert again.lessons.got_lucky == ["the fault was switched on in staging, not in production"]


def test_a_file_edited_in_another_style_is_kept_until_something_changes(tmp_path):
    text = (
        'format: whyloop-postmortem/1\nid: x\ntitle: "a title"\nstatus: final\n'
        "action_items: [{id: A1, kind: detect, action: Alert on a missing welcome, owner: ops}]\n"
    )
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    pm = postmortem.load(path)
    assert pm.action("A1").kind is ActionKind.DETECT and pm.status is Status.FINAL
    pm.save()
    assert path.read_text(encoding="utf-8") == text
    pm.action("A1").owner = "sre"
    pm.save()
    assert "  - id: A1\n    kind: detect\n" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("kind: prevent", "kind: fix"),
            r":\d+: action_items\[0\]\.kind: 'fix' is not one of prevent",
        ),
        (("status: draft", "status: done"), r":4: status: 'done' is not one of draft, in review"),
        (
            ("    owner: ws-team", "    owners: ws-team"),
            r":\d+: action_items\[0\]\.owners: unknown field",
        ),
        (("due: 2026-12-15", "due: next week"), r"action_items\[0\]\.due: expected a date"),
    ],
)
def test_a_bad_field_is_one_line_naming_the_file_line_and_field(saved, edit, expected):
    _, path = saved
    text = path.read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(PostmortemError, match=expected) as bad:
        postmortem.load(path)
    assert str(bad.value).startswith(str(path)) and "\n" not in str(bad.value)
    line = int(str(bad.value).split(":")[1])
    assert edit[1] in path.read_text(encoding="utf-8").splitlines()[line - 1]


def test_a_new_build_never_overwrites_a_postmortem_someone_edited(saved, history):
    _, path = saved
    again = postmortem.build(history.store, LOOP)
    with pytest.raises(PostmortemError, match="already there"):
        again.save(path)
    assert again.save(path, replace=True) == path


def test_secrets_in_texts_are_redacted_when_written(tmp_path):
    pm = postmortem.Postmortem(
        "s", "t", notes=["token=ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked"]
    )
    text = postmortem.dumps(pm)
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in text


def test_list_postmortems_gives_one_row_per_file_and_the_error_of_a_bad_one(saved):
    _, path = saved
    (path.parent / "broken.yaml").write_text("format: whyloop-postmortem/1\n", encoding="utf-8")
    rows = postmortem.list_postmortems(path.parent.parent, LOOP)
    assert list(rows["path"]) == [str(path.parent / "broken.yaml"), str(path)]
    good = rows.iloc[1]
    assert (good["id"], good["status"], good["iterations"]) == (f"{LOOP}-1-to-3", "draft", "1,2,3")
    assert (good["root_causes"], good["action_items"], good["verified"]) == (1, 1, 1)
    assert "missing field 'id'" in rows.iloc[0]["error"]
