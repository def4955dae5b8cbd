"""``whyloop rerun``: arguments into one library call, a table or JSON out, tables into the store."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from tests.probes.test_rerun import PROJECT, _original_run
from whyloop.cli import build_parser, main
from whyloop.cli.rerun import EXAMPLE, run
from whyloop.errors import IngestError
from whyloop.store import Store


def parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_arguments_after_the_double_dash_go_to_pytest() -> None:
    args = parse(["rerun", "out/report.jsonl", "--times", "4", "--", "-x", "-k", "ws", "--tb=no"])
    assert (args.results, args.times, args.pytest_args) == ("out/report.jsonl", 4, ["-x", "-k", "ws", "--tb=no"])  # fmt: skip
    args = parse(["rerun", "--times", "2", "r.xml", "--", "-c", "/dev/null", "--rootdir", "a", "a"])
    assert args.results == "r.xml" and args.pytest_args == [
        "-c",
        "/dev/null",
        "--rootdir",
        "a",
        "a",
    ]
    args = parse(["rerun", "store:staging/7", "--json"])
    assert args.pytest_args == [] and args.json and args.run is run


def test_help_shows_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(["rerun", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "example: " + EXAMPLE in out and "-- PYTEST_ARGS" in out


@pytest.fixture
def ingested(tmp_path: Path) -> tuple[Path, Store]:
    """The demo project run once and ingested into a store as staging/3."""
    import whyloop

    (tmp_path / "test_demo.py").write_text(PROJECT)
    _original_run(tmp_path, tmp_path, "-c", os.devnull, "--rootdir", str(tmp_path))
    store = Store(tmp_path / "store")
    store.write("staging", 3, tests=whyloop.read_tests(tmp_path / "original.jsonl"))
    return tmp_path, store


def test_a_table_of_verdicts_and_the_tables_saved_beside_the_run(
    ingested: tuple[Path, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    project, store = ingested
    argv = ["rerun", "store:staging/3", "--store", str(store.root), "--times", "2"]
    args = parse([*argv, "--rootdir", str(project), "--", "-c", os.devnull])
    assert run(args) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if "::" in line}
    assert lines["test_demo.py::test_always_fails"] == ["consistent", "0/2", "(0%)"]
    assert lines["test_demo.py::test_flaky"] == ["flaky", "1/2", "(50%)"]
    assert lines["test_demo.py::test_fixed"] == ["fixed", "2/2", "(100%)"]
    assert "consistent 1" in out and f"saved: {store.path('staging', 3)}" in out
    tables = store.manifest("staging", 3)["tables"]
    assert {"tests", "reruns", "rerun_verdicts"} <= set(tables)
    assert len(store.read("staging", 3, "reruns")) == 6
    verdicts = store.read("staging", 3, "rerun_verdicts").set_index("test_id")
    assert verdicts.loc["test_demo.py::test_flaky", "pass_fraction"] == 0.5


def test_json_output_from_a_results_file(
    ingested: tuple[Path, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    project, _store = ingested
    report = str(project / "original.jsonl")
    args = parse(["rerun", report, "--times", "1", "--rootdir", str(project), "--json"])
    args.pytest_args = ["-c", os.devnull]
    assert run(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"verdicts", "warnings", "saved_to"} and data["saved_to"] is None
    by_id = {v["test_id"]: v for v in data["verdicts"]}
    assert by_id["test_demo.py::test_always_fails"]["verdict"] == "consistent"
    assert by_id["test_demo.py::test_fixed"]["pass_fraction"] == 1.0


def test_unreadable_results_are_a_whyloop_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        run(parse(["rerun", str(tmp_path / "missing.xml")]))


def test_an_explicit_loop_saves_beside_its_latest_iteration(
    ingested: tuple[Path, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    project, store = ingested
    report = str(project / "original.jsonl")
    store.write("staging", 5, tests=store.read("staging", 3, "tests"))
    argv = ["rerun", report, "--times", "1", "--rootdir", str(project), "--store", str(store.root)]
    assert main([*argv, "--loop", "staging", "--json", "--", "-c", os.devnull]) == 0
    assert json.loads(capsys.readouterr().out)["saved_to"] == str(store.path("staging", 5))
    assert main([*argv, "--loop", "fresh", "--json", "--", "-c", os.devnull]) == 0
    assert json.loads(capsys.readouterr().out)["saved_to"] == str(store.path("fresh", 1))
    assert "rerun_verdicts" in store.manifest("fresh", 1)["tables"]


def test_a_missing_stored_iteration_is_exit_1(
    ingested: tuple[Path, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    _project, store = ingested
    assert main(["rerun", "store:staging/9", "--store", str(store.root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("whyloop: ") and "no iteration '9'" in err
