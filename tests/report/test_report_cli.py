"""``whyloop report`` translates its arguments: no kernel is started by these tests."""

from __future__ import annotations

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
