"""``whyloop report`` translates its arguments: no kernel is started by these tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from whyloop.cli import main

NOTEBOOK = str(
    Path(__file__).resolve().parents[1] / "fixtures" / "notebooks" / "renders_metrics.ipynb"
)


def test_help_params_lists_the_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--help-params", NOTEBOOK]) == 0
    out = capsys.readouterr().out
    assert "repeat: int = 2  # how many rows to print" in out


def test_an_unknown_parameter_is_exit_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", NOTEBOOK, "--out", str(tmp_path), "-p", "colour", "red"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unknown parameter 'colour' (the notebook takes: loop, iteration, pass_rate" in err
    assert not any(tmp_path.rglob("*.ipynb"))  # refused before anything ran


def test_a_bad_cell_timeout_names_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", NOTEBOOK, "--out", str(tmp_path), "--cell-timeout", "0"]) == 2
    assert "--cell-timeout" in capsys.readouterr().err


def test_a_bad_batch_file_is_exit_1_in_one_line_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "nightly.yaml"
    batch.write_text(f"defaults: {{notebook: {NOTEBOOK}}}\nreports:\n  - {{loop: a, colur: red}}\n")
    assert main(["report", "--batch", str(batch)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"whyloop: {batch}:3: reports[0].colur: unknown key (a report takes: ")


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler: only a batch"),
        (["--workers", "2"], "--workers: only a batch"),
        (["--batch", "b.yaml", "-p", "repeat", "3"], "-p: --batch takes it from the file"),
        (["--batch", "b.yaml", "--loop", "x"], "--loop: --batch takes it from the file"),
    ],
    ids=["scheduler", "workers", "param", "loop"],
)
def test_batch_only_and_single_only_options_are_refused_naming_the_flag(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--batch" not in argv:
        argv = [NOTEBOOK, *argv]
    assert main(["report", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err


def test_neither_notebook_nor_batch_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report"]) == 2
    assert "NOTEBOOK: give a notebook to run, or --batch FILE" in capsys.readouterr().err


def test_workers_and_scheduler_errors_name_their_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = tmp_path / "b.yaml"
    batch.write_text(f"defaults: {{notebook: {NOTEBOOK}, out: {tmp_path}}}\nreports: [{{}}]\n")
    assert main(["report", "--batch", str(batch), "--workers", "0"]) == 2
    assert "--workers must be at least 1, not 0" in capsys.readouterr().err
    argv = ["report", "--batch", str(batch), "--scheduler", "tcp://127.0.0.1:8786"]
    assert main([*argv, "--workers", "2"]) == 2
    assert "--workers size the local pool" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "distributed", None)  # as without the dask extra
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "needs Dask's distributed package, which is not installed: " in err
    assert "pip install 'whyloop[dask]'" in err
    assert list(tmp_path.iterdir()) == [batch]  # nothing ran
