"""Reruns for real: a tiny pytest project in tmp_path, rerun through rerun_failures and classified."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import whyloop
from tests.support import TIMEOUT_SCALE
from whyloop.analyze.flaky import RERUN_COLUMNS, Verdict, classify_reruns
from whyloop.errors import ConfigError
from whyloop.probes.rerun import rerun_failures, resolve_targets, split_pytest_args

#: one constant scales every timeout in these tests

# test_flaky counts its runs in a file beside it and fails on odd-numbered ones;
# test_fixed fails only while BROKEN is set (it is, for the original run)
PROJECT = """
import os
import pathlib

COUNTER = pathlib.Path(__file__).with_name("runs.txt")
MARKER = pathlib.Path(__file__).with_name("passing-ran.txt")


def test_always_fails():
    assert 1 + 1 == 3, "arithmetic is broken"


def test_flaky():
    runs = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
    COUNTER.write_text(str(runs))
    assert runs % 2 == 0, f"odd run {runs}"


def test_fixed():
    assert not os.environ.get("BROKEN"), "broken while BROKEN is set"


def test_passes():
    MARKER.write_text("ran")
"""


def _original_run(root: Path, suite: Path, *extra: str) -> pd.DataFrame:
    """Run the suite once (BROKEN set) with a report-log and read it like `whyloop ingest`."""
    log = root / "original.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(suite),
            "-p",
            "no:cacheprovider",
            "-q",
            "--report-log",
            str(log),
            *extra,
        ],
        cwd=root,
        env={**os.environ, "BROKEN": "1"},
        capture_output=True,
        timeout=120 * TIMEOUT_SCALE,
        check=False,
    )
    (suite / "passing-ran.txt").unlink(missing_ok=True)
    return whyloop.read_tests(log)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "test_demo.py").write_text(PROJECT)
    return tmp_path


def _verdicts(original: pd.DataFrame, attempts: pd.DataFrame) -> dict[str, tuple[str, float]]:
    table = classify_reruns(original, attempts)
    return {row.test_id: (row.verdict, row.pass_fraction) for row in table.itertuples(index=False)}


def test_three_reruns_tell_consistent_flaky_and_fixed_apart(project: Path) -> None:
    original = _original_run(project, project, "-c", os.devnull, "--rootdir", str(project))
    failed = set(original.loc[original["outcome"] == "failed", "test_id"])
    assert failed == {
        "test_demo.py::test_always_fails",
        "test_demo.py::test_flaky",
        "test_demo.py::test_fixed",
    }

    attempts = rerun_failures(
        original, times=3, rootdir=project, pytest_args=["-c", os.devnull], timeout_s=120
    )

    assert list(attempts.columns) == list(RERUN_COLUMNS)
    assert len(attempts) == 9 and sorted(set(attempts["attempt"])) == [1, 2, 3]
    assert not (project / "passing-ran.txt").exists(), "a passing test was rerun"
    verdicts = _verdicts(original, attempts)
    assert verdicts["test_demo.py::test_always_fails"] == (Verdict.CONSISTENT, 0.0)
    # runs 2, 3, 4 after the original run 1: pass, fail, pass
    assert verdicts["test_demo.py::test_flaky"][0] == Verdict.FLAKY
    assert verdicts["test_demo.py::test_flaky"][1] == pytest.approx(2 / 3, abs=1e-3)
    assert verdicts["test_demo.py::test_fixed"] == (Verdict.FIXED, 1.0)
    table = classify_reruns(original, attempts).set_index("test_id")
    assert bool(table.loc["test_demo.py::test_always_fails", "same_signature"]) is True
    assert pd.isna(table.loc["test_demo.py::test_fixed", "same_signature"])
    consistent = attempts[attempts["test_id"] == "test_demo.py::test_always_fails"]
    assert consistent["message"].str.contains("arithmetic is broken").all()
    assert (consistent["signature"] == consistent["signature"].iloc[0]).all()


def test_four_reruns_of_a_test_failing_every_other_run_pass_half(project: Path) -> None:
    original = _original_run(project, project, "-c", os.devnull, "--rootdir", str(project))
    attempts = rerun_failures(original, times=4, rootdir=project, pytest_args=["-c", os.devnull])
    verdicts = _verdicts(original, attempts)
    assert verdicts["test_demo.py::test_flaky"] == (Verdict.FLAKY, 0.5)
    assert verdicts["test_demo.py::test_always_fails"] == (Verdict.CONSISTENT, 0.0)
    assert verdicts["test_demo.py::test_fixed"] == (Verdict.FIXED, 1.0)
    flaky = attempts[attempts["test_id"] == "test_demo.py::test_flaky"]
    assert list(flaky["outcome"]) == ["passed", "failed", "passed", "failed"]


def test_a_suite_with_its_own_rootdir_is_found_through_the_pytest_args(tmp_path: Path) -> None:
    """Like the sandbox e2e suite: node ids relative to the suite's folder, rerun from above it."""
    suite = tmp_path / "pkg" / "e2e"
    suite.mkdir(parents=True)
    (suite / "test_demo.py").write_text(PROJECT)
    (suite / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture(autouse=True)\ndef _here():\n    yield\n"
    )
    original = _original_run(tmp_path, suite, "-c", os.devnull, "--rootdir", str(suite))
    assert "test_demo.py::test_always_fails" in set(original["test_id"])

    args = ["-c", os.devnull, "--rootdir", "pkg/e2e", "pkg/e2e"]
    attempts = rerun_failures(original, times=1, rootdir=tmp_path, pytest_args=args)

    assert set(attempts["test_id"]) == {
        "test_demo.py::test_always_fails",
        "test_demo.py::test_flaky",
        "test_demo.py::test_fixed",
    }
    assert set(attempts["nodeid"]) >= {"pkg/e2e/test_demo.py::test_always_fails"}
    assert not (suite / "passing-ran.txt").exists(), "the suite path was passed on to pytest"


def test_junit_classnames_map_to_files_classes_and_functions(tmp_path: Path) -> None:
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_mod.py").write_text("class TestK:\n    pass\n")
    failures = pd.DataFrame(
        {
            "test_id": ["tests.unit.test_mod.TestK::test_m[1]", "test_mod::test_top"],
            "classname": ["tests.unit.test_mod.TestK", "test_mod"],
            "name": ["test_m[1]", "test_top"],
        }
    )
    targets, warnings = resolve_targets(failures, rootdir=tmp_path, pytest_args=["tests/unit"])
    assert [t.nodeid for t in targets] == [
        "tests/unit/test_mod.py::TestK::test_m[1]",
        "tests/unit/test_mod.py::test_top",
    ]
    assert warnings == []


def test_tests_not_found_are_listed_and_none_found_is_an_error(project: Path) -> None:
    original = _original_run(project, project, "-c", os.devnull, "--rootdir", str(project))
    ghost = original[original["outcome"] == "failed"].head(1).copy()
    ghost["test_id"] = "gone/test_gone.py::test_x"
    ghost["classname"] = "gone.test_gone"
    mixed = pd.concat([original, ghost], ignore_index=True)

    attempts = rerun_failures(mixed, times=1, rootdir=project, pytest_args=["-c", os.devnull])
    assert "gone/test_gone.py::test_x" not in set(attempts["test_id"])
    assert any("not found" in w and "--rootdir" in w for w in attempts.attrs["warnings"])
    table = classify_reruns(mixed, attempts).set_index("test_id")
    assert table.loc["gone/test_gone.py::test_x", "verdict"] == Verdict.UNKNOWN

    with pytest.raises(ConfigError, match="not found"):
        rerun_failures(ghost, times=1, rootdir=project)


def test_a_run_past_its_timeout_is_killed_and_its_tests_are_unknown(tmp_path: Path) -> None:
    (tmp_path / "test_slow.py").write_text(
        "import time\n\ndef test_slow():\n    time.sleep(60)\n    assert False\n"
    )
    original = pd.DataFrame(
        {
            "test_id": ["test_slow.py::test_slow"],
            "classname": ["test_slow"],
            "name": ["test_slow"],
            "outcome": ["failed"],
            "rerun": [0],
            "signature": ["abc"],
        }
    )
    attempts = rerun_failures(
        original, times=1, rootdir=tmp_path, pytest_args=["-c", os.devnull], timeout_s=3
    )
    assert attempts.empty
    assert any("killed after 3 s" in w for w in attempts.attrs["warnings"])
    assert classify_reruns(original, attempts)["verdict"].tolist() == [Verdict.UNKNOWN]


def test_pytest_that_cannot_run_is_a_config_error_with_its_output(project: Path) -> None:
    original = _original_run(project, project, "-c", os.devnull, "--rootdir", str(project))
    with pytest.raises(ConfigError, match=r"status 4.*no-such-option"):
        rerun_failures(original, times=1, rootdir=project, pytest_args=["--no-such-option"])


def test_nothing_failed_means_no_reruns(project: Path) -> None:
    passed = pd.DataFrame(
        {"test_id": ["test_demo.py::test_passes"], "outcome": ["passed"], "rerun": [0]}
    )
    attempts = rerun_failures(passed, times=2, rootdir=project)
    assert attempts.empty and attempts.attrs["warnings"] == ["no failed tests to rerun"]
    with pytest.raises(ConfigError, match="at least 1"):
        rerun_failures(passed, times=0, rootdir=project)


def test_split_pytest_args_keeps_option_values_and_takes_out_paths() -> None:
    options, paths = split_pytest_args(
        ["-c", "/dev/null", "--rootdir", "lib/e2e", "lib/e2e", "-k", "ws", "-x", "--tb=line"]
    )
    assert options == ["-c", "/dev/null", "--rootdir", "lib/e2e", "-k", "ws", "-x", "--tb=line"]
    assert paths == ["lib/e2e"]


# ingest/frames.py normalise() fills the all-None stdout column of a collection-error-only
# report with "" and pandas 3 warns about it (an ingest issue, reported; not this module's)
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_a_module_that_does_not_collect_is_rerun_as_a_module(tmp_path: Path) -> None:
    (tmp_path / "test_broken.py").write_text("import no_such_module_anywhere\n")
    original = _original_run(tmp_path, tmp_path, "-c", os.devnull, "--rootdir", str(tmp_path))
    assert original[["test_id", "outcome"]].values.tolist() == [["test_broken.py", "error"]]
    attempts = rerun_failures(original, times=2, rootdir=tmp_path, pytest_args=["-c", os.devnull])
    assert attempts["outcome"].tolist() == ["error", "error"]
    assert classify_reruns(original, attempts)["verdict"].tolist() == [Verdict.CONSISTENT]
