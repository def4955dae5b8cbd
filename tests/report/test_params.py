"""The parameters cell read with ast, values parsed as literals, unknown names refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from whyloop.errors import ReportError
from whyloop.report.params import (
    check_params,
    describe_params,
    load_params_file,
    merge_params,
    notebook_params,
    params_from_source,
    parse_cli_params,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"


def test_defaults_types_and_descriptions_come_from_the_cell() -> None:
    params = {p.name: p for p in notebook_params(NOTEBOOKS / "renders_metrics.ipynb")}
    assert params["pass_rate"].default == 0.9 and params["pass_rate"].type == "float"
    assert params["repeat"].type == "int" and params["repeat"].default == 2
    assert params["loop"].description == "the loop this report is about"


def test_a_non_literal_default_is_kept_as_its_source() -> None:
    [p] = params_from_source('root = Path("data")  # where # the data lives\n')
    assert (p.default, p.type, p.description) == (
        'Path("data")',
        "expression",
        "where # the data lives",
    )
    assert params_from_source("s = '# not a comment'\n")[0].description == ""


def test_cli_values_keep_their_types() -> None:
    given = parse_cli_params(["repeat=5", ("pass_rate", "1"), ("loop", "7"), "flag=True"])
    declared = [*notebook_params(NOTEBOOKS / "renders_metrics.ipynb")]
    assert given == {"repeat": 5, "pass_rate": 1, "loop": 7, "flag": True}
    checked = check_params({k: v for k, v in given.items() if k != "flag"} | {}, declared)
    assert checked["repeat"] == 5
    checked = check_params(
        merge_params(given), [p for p in declared] + params_from_source("flag = False")
    )
    assert checked["loop"] == "7"  # a string parameter stays the text typed
    assert checked["pass_rate"] == 1.0 and isinstance(checked["pass_rate"], float)
    assert checked["flag"] is True
    assert parse_cli_params(["name=hello world"]) == {"name": "hello world"}


def test_an_unknown_parameter_is_refused_in_one_line() -> None:
    declared = params_from_source("a = 1\nb = 2\n")
    with pytest.raises(ReportError) as caught:
        check_params({"x": 1}, declared)
    assert str(caught.value) == "unknown parameter 'x' (the notebook takes: a, b)"
    assert caught.value.param == "params"


def test_a_yaml_file_gives_typed_values_and_cli_values_win(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("repeat: 4\nloop: staging\n", encoding="utf-8")
    merged = merge_params(load_params_file(path), parse_cli_params(["repeat=9"]))
    assert merged == {"repeat": 9, "loop": "staging"}
    path.write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(ReportError, match="mapping"):
        load_params_file(path)


def test_help_lists_each_parameter_on_a_line() -> None:
    text = describe_params(notebook_params(NOTEBOOKS / "renders_metrics.ipynb"))
    assert "pass_rate: float = 0.9  # pass rate the fake run reports" in text.splitlines()
    assert "repeat: int = 2" in text
