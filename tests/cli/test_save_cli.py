"""Saving into an iteration that holds the table already: refused in one line, or ``--replace``.

The commands that work long before they save (``probe suite``, ``rerun``)
refuse before the work, not after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import pytest

from tests.support import FIXTURES
from whyloop.cli import main
from whyloop.store import Store

RESULTS = FIXTURES / "tests" / "junit-pytest.xml"
LOGS = FIXTURES / "logs" / "cloudrun.jsonl"


def _ingest(what: str, path: Path, store: Path, *extra: str) -> list[str]:
    return ["ingest", what, str(path), "--loop", "ci", "--store", str(store), *extra]


def _files(store: Store) -> set[str]:
    return {p.name for p in store.path("ci", "1").glob("*.parquet")}


def _never(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("the work ran although its result would be refused")


def test_the_cli_refuses_a_table_the_iteration_holds_unless_replace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "store"
    other = FIXTURES / "tests" / "junit-jest.xml"
    assert main(_ingest("tests", RESULTS, root)) == 0
    assert main(_ingest("logs", LOGS, root, "--iteration", "1")) == 0  # a new table: no flag
    capsys.readouterr()
    store = Store(root)
    first = store.manifest("ci", "1")
    files = _files(store)
    assert main(_ingest("logs", LOGS, root, "--iteration", "1")) == 1
    assert capsys.readouterr().err == (
        "whyloop: iteration '1' of loop 'ci' already has table 'logs': "
        "pass replace=True (--replace) to replace it\n"
    )
    assert main(_ingest("tests", other, root, "--iteration", "1")) == 1
    err = capsys.readouterr().err
    assert err.startswith("whyloop: iteration '1' of loop 'ci' already has ")
    assert "'tests'" in err and err.endswith(": pass replace=True (--replace) to replace it\n")
    assert store.manifest("ci", "1") == first and _files(store) == files  # untouched
    assert main(_ingest("tests", other, root, "--iteration", "1", "--replace")) == 0
    capsys.readouterr()
    tables = store.manifest("ci", "1")["tables"]
    assert tables["tests"]["sources"] == [str(other)]
    assert tables["logs"] == first["tables"]["logs"]  # the other table stays as it was
    assert _files(store) == {t["file"] for t in tables.values()}  # replaced files went too


@pytest.mark.parametrize("command", [["ingest", "tests"], ["ingest", "logs"], ["probe", "suite"]])
def test_help_offers_replace(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    assert "--replace" in capsys.readouterr().out


def test_probe_suite_refuses_before_any_traffic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path / "store")
    store.write("ci", "1", probes=pd.DataFrame({"ok": [True]}))
    monkeypatch.setattr("whyloop.probes.run_suite", _never)
    argv = ["probe", "suite", str(tmp_path / "s.yaml"), "--loop", "ci", "--iteration", "1"]
    assert main([*argv, "--store", str(store.root)]) == 1
    assert "already has table 'probes'" in capsys.readouterr().err


def test_rerun_refuses_before_pytest_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import whyloop

    store = Store(tmp_path / "store")
    done = pd.DataFrame({"test_id": ["t"]})
    tests = whyloop.read_tests(FIXTURES / "tests" / "reportlog.jsonl")
    store.write("ci", "1", tests=tests, reruns=done, rerun_verdicts=done)
    monkeypatch.setattr("whyloop.probes.rerun.rerun_failures", _never)
    assert main(["rerun", "store:ci/1", "--store", str(store.root)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "already has tables 'rerun_verdicts', 'reruns'" in err and "--replace" in err
