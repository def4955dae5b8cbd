"""``whyloop whys``: each command is one library call; exit 1 on a failed check or unverified fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import whyloop
from whyloop.cli import main
from whyloop.sandbox import SAMPLE
from whyloop.store import Store
from whyloop.whys import load


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    tests = whyloop.read_tests(SAMPLE / "tests", categories=SAMPLE / "categories.yaml")
    logs = whyloop.read_logs(str(SAMPLE / "logs" / "*.jsonl"))
    root = tmp_path / "data" / "iterations"
    Store(root).write("demo", tests=tests, logs=logs)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_draft_writes_beside_the_store_and_prints_the_path(store_root: Path, capsys) -> None:
    status, out, _ = run(capsys, "whys", "draft", "--loop", "demo", "--store", str(store_root))
    path = store_root.parent / "whys" / "demo" / "demo-1.yaml"
    assert (status, out) == (0, f"{path}\n")
    assert load(path).whys[1].becauses[0].stage == "welcome"
    status, _, err = run(capsys, "whys", "draft", "--loop", "demo", "--store", str(store_root))
    assert status == 1 and "already there" in err and err.count("\n") == 1
    status, _, _ = run(
        capsys, "whys", "draft", "--loop", "demo", "--store", str(store_root), "--replace"
    )
    assert status == 0


def test_show_prints_markdown_and_draws_the_figure(store_root: Path, tmp_path, capsys) -> None:
    run(capsys, "whys", "draft", "--loop", "demo", "--store", str(store_root))
    path = store_root.parent / "whys" / "demo" / "demo-1.yaml"
    png = tmp_path / "tree.png"
    status, out, _ = run(capsys, "whys", "show", str(path), "--figure", str(png))
    assert status == 0 and out.startswith("# demo iteration 1: 10 failed tests")
    assert png.stat().st_size > 1000


def test_list_counts_steps_by_status(store_root: Path, capsys) -> None:
    status, out, _ = run(capsys, "whys", "list", "--store", str(store_root))
    assert status == 0 and out.startswith("no analyses in ")
    run(capsys, "whys", "draft", "--loop", "demo", "--store", str(store_root))
    status, out, _ = run(capsys, "whys", "list", "--store", str(store_root), "--loop", "demo")
    assert status == 0
    assert "demo-1 (loop demo, iteration 1): 2 whys; 2 hypotheses, 0 confirmed" in out


def test_check_exits_1_on_an_error_and_0_on_warnings_only(store_root: Path, capsys) -> None:
    run(capsys, "whys", "draft", "--loop", "demo", "--store", str(store_root))
    path = store_root.parent / "whys" / "demo" / "demo-1.yaml"
    status, out, _ = run(capsys, "whys", "check", str(path), "--store", str(store_root))
    assert (status, out) == (0, f"{path}: ok\n")
    a = load(path)
    a.step("1.1").mark("root_cause")
    a.save()
    status, out, _ = run(capsys, "whys", "check", str(path), "--store", str(store_root))
    assert status == 1
    assert out == (
        f"{path}: error: root cause R1: has no countermeasure\n"
        f"{path}: warning: root cause R1: rests on because 1.1, which is hypothesis, "
        "not confirmed\n"
    )


def test_check_of_a_broken_file_is_one_line_naming_line_and_field(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: whyloop-whys/1\nid: x\nwhys:\n  - question: q\n    becauses: 3\n")
    status, out, err = run(capsys, "whys", "check", str(bad), "--no-store")
    assert status == 1 and out == ""
    assert err == f"whyloop: {bad}:5: whys[0].becauses: expected a list, not 3\n"


def test_verify_marks_countermeasures_from_a_later_iteration(store_root: Path, capsys) -> None:
    run(capsys, "whys", "draft", "--loop", "demo", "--store", str(store_root))
    path = store_root.parent / "whys" / "demo" / "demo-1.yaml"
    a = load(path)
    root = a.step("1.1").mark("root_cause")
    fixed = "test_messaging.py::test_thread_creation"
    a.add_countermeasure("statement timeout", addresses=[root.id], tests=[fixed])
    a.save()
    later = pd.DataFrame({"test_id": [fixed], "outcome": ["passed"], "rerun": [0]})
    Store(store_root).write("demo", tests=later)
    args = ("whys", "verify", str(path), "--loop", "demo", "--store", str(store_root))
    status, out, _ = run(capsys, *args)
    assert (status, out) == (0, "C1: verified in iteration 2: 1 of 1 named tests passed\n")
    assert load(path).countermeasures[0].verified.ok
    status, out, _ = run(capsys, *args, "--iteration", "1")
    assert status == 1 and out.startswith("C1: NOT verified in iteration 1: 0 of 1")


def test_a_secret_typed_into_a_file_by_hand_is_never_printed(tmp_path: Path, capsys) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc"
    path = tmp_path / "a.yaml"
    path.write_text(
        "format: whyloop-whys/1\nid: s\ntitle: t\nproblem: p\nwhys:\n"
        f"  - question: Why was Bearer {token} refused?\n    becauses:\n"
        f"      - text: 'token={token}'\n        status: confirmed\n"
    )
    _, out, err = run(capsys, "whys", "show", str(path))
    assert "Why was Bearer" in out and token[:12] not in out + err
    status, out, err = run(capsys, "whys", "check", str(path), "--no-store")
    assert status == 1 and "because 1.1: confirmed without evidence" in out
    assert token[:12] not in out + err
