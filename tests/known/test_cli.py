"""``whyloop known``: the matches of a stored iteration, a five-whys file, a results file; a draft."""

from __future__ import annotations

import json

from whyloop import whys
from whyloop.cli import main
from whyloop.sandbox import SAMPLE

from .conftest import History


def test_known_loop_prints_the_match_with_its_countermeasure_and_the_regression(
    history: History, capsys
):
    assert main(["known", "--loop", "new", "--store", str(history.store.root)]) == 0
    out = capsys.readouterr().out
    assert "3 failure cluster(s) looked up in 1 analyses" in out
    assert f"failure {history.welcome_cluster}: TimeoutError" in out
    assert "1. seen in loop old, iteration 1: root cause R1" in out
    assert "REGRESSION: came back after being fixed in loop old, iteration 2 (C1)" in out
    assert history.lock_cluster not in out


def test_known_json_gives_one_row_per_match(history: History, capsys):
    assert main(["known", "--loop", "new", "--store", str(history.store.root), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["failure"] == history.welcome_cluster and row["confidence"] == "high"
    assert row["file"] == str(history.path)


def test_known_file_looks_up_a_results_file_and_leaves_its_own_analysis_out(
    history: History, capsys
):
    store = str(history.store.root)
    assert main(["known", str(SAMPLE / "tests"), "--store", store]) == 0
    assert "root cause R1" in capsys.readouterr().out
    assert main(["known", str(history.path), "--store", store]) == 0
    assert "no known cause for 1 failure cluster(s)" in capsys.readouterr().out


def test_known_draft_saves_a_draft_starting_from_the_known_cause(history: History, capsys):
    assert main(["known", "--loop", "new", "--store", str(history.store.root), "--draft"]) == 0
    path = capsys.readouterr().out.strip()
    a = whys.load(path)
    first = next(w for w in a.whys if history.welcome_cluster in w.clusters).becauses[0]
    assert first.source == "known cause old-1 why 1 (high confidence)"
    assert first.status is whys.StepStatus.HYPOTHESIS
    assert "came back after being fixed in loop old, iteration 2" in first.text
    assert first.evidence[0].ref == str(history.path)


def test_known_needs_a_file_or_a_loop_and_says_which_flag(capsys):
    assert main(["known"]) == 2
    assert "--loop" in capsys.readouterr().err
    assert main(["known", "x.xml", "--loop", "a"]) == 2
    assert main(["known", "x.xml", "--draft"]) == 2


def test_known_of_a_missing_file_is_one_line_and_exit_1(tmp_path, capsys):
    assert main(["known", str(tmp_path / "nope.xml"), "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("whyloop: ") and err.count("\n") == 1
