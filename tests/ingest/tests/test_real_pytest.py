"""Files written by real pytest runs (rerunfailures, xdist, freezegun, time-machine), read back.

Each test writes a small pytest project, runs the real pytest on it with the
plugins a team uses, and checks whyloop's figures against pytest's own
closing line (``= 2 failed, 8 passed, ... 9 rerun in 0.15s =``).

Counting rule where the two differ: pytest counts reports, whyloop counts
tests. A test whose call passed and whose teardown then failed is counted by
pytest as passed *and* as an error (with pytest-rerunfailures, once per
attempt); whyloop counts it once, as an error.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import whyloop
from tests.support import TIMEOUT_SCALE
from whyloop.analyze.summary import summarize_tests

pytest.importorskip("pytest_rerunfailures")
pytest.importorskip("freezegun")
pytest.importorskip("time_machine")

PROJECT = """
import os, pytest

COUNTER = os.path.join(os.path.dirname(__file__), "count-")

def _bump(name):
    path = COUNTER + name
    n = int(open(path).read()) if os.path.exists(path) else 0
    open(path, "w").write(str(n + 1))
    return n

def test_pass():
    pass

def test_fail_always():
    assert 1 == 2

def test_flaky():
    assert _bump("flaky") >= 1

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="fixed?")
def test_xpass():
    pass

@pytest.fixture
def broken_setup():
    raise RuntimeError("setup broke")

def test_setup_error(broken_setup):
    pass

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")

def test_teardown_error(broken_teardown):
    pass

@pytest.mark.websocket
@pytest.mark.parametrize("kind", ["a", None, "hmac"])
def test_param(kind):
    assert kind != "hmac"
"""
SKIPPED_MODULE = "import pytest\npytest.skip('not here', allow_module_level=True)\n"
FROZEN = """
import datetime, time, pytest, time_machine
from freezegun import freeze_time

@pytest.fixture
def frozen():
    freezer = freeze_time("1985-06-01")
    freezer.start()
    yield
    freezer.stop()

def test_frozen_in_a_fixture(frozen):
    time.sleep(0.01)

@pytest.fixture
def later():
    traveller = time_machine.travel(datetime.datetime(2090, 1, 1, tzinfo=datetime.timezone.utc))
    traveller.start()
    yield
    traveller.stop()

def test_travelled(later):
    assert 1 == 2

def test_plain():
    time.sleep(0.02)
"""
INI = "[pytest]\nmarkers =\n    websocket: talks to the socket\n"
CLOSING = re.compile(r"=+ (.+) in [\d.]+s")


def run_pytest(tmp_path: Path, files: dict[str, str], *args: str) -> dict[str, int]:
    """Run the real pytest on ``files``; return the counts of its closing line."""
    project = tmp_path / "project"
    project.mkdir()
    for name, text in {**files, "pytest.ini": INI}.items():
        (project / name).write_text(text)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
         f"--junitxml={out / 'junit.xml'}", f"--report-log={out / 'report.jsonl'}", *args],
        cwd=project, capture_output=True, text=True, timeout=120 * TIMEOUT_SCALE,
    )  # fmt: skip
    line = CLOSING.findall(done.stdout)[-1]
    counts = {}
    for part in line.split(", "):
        number, word = part.split(" ", 1)
        counts[word.rstrip("s") if word != "rerun" else word] = int(number)
    return counts


def figures(path: Path) -> dict[str, int]:
    summary = summarize_tests(whyloop.read_tests(path))
    return {k: summary[k] for k in ("total", "passed", "failed", "errors", "skipped",
                                    "xfailed", "xpassed", "reruns", "flaky")}  # fmt: skip


@pytest.fixture(scope="module")
def reruns_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    tmp = tmp_path_factory.mktemp("reruns")
    files = {"test_cases.py": PROJECT, "test_skipmod.py": SKIPPED_MODULE}
    return tmp / "out", run_pytest(tmp, files, "--reruns", "2")


@pytest.mark.parametrize("name", ["junit.xml", "report.jsonl"])
def test_counts_match_pytest_closing_line(reruns_run, name):
    out, pytest_says = reruns_run
    got = figures(out / name)
    assert pytest_says["failed"] == got["failed"] == 2
    assert pytest_says["error"] == got["errors"] == 2
    assert pytest_says["skipped"] == got["skipped"] == 2  # the module skipped at collection too
    assert pytest_says["rerun"] == got["reruns"] == 9
    # pytest counts test_teardown_error's passing call once per attempt (3) beside its error
    assert pytest_says["passed"] == got["passed"] - pytest_says["xpassed"] + 3
    assert got["total"] == 12
    assert (
        got["total"]
        == got["passed"] + got["failed"] + got["errors"] + got["skipped"] + got["xfailed"]
    )
    if name == "report.jsonl":  # JUnit XML writes xfail as a skip and xpass as a pass
        assert (got["xfailed"], got["xpassed"]) == (pytest_says["xfailed"], pytest_says["xpassed"])


@pytest.mark.parametrize("name", ["junit.xml", "report.jsonl"])
def test_a_test_failing_every_attempt_is_consistent_not_flaky(reruns_run, name):
    out, _ = reruns_run
    df = whyloop.read_tests(out / name)
    assert figures(out / name)["flaky"] == 1  # test_flaky: failed, then passed on its rerun
    attempts = df[df["test_id"] == "test_cases.py::test_fail_always"].sort_values("rerun")
    assert list(attempts["outcome"].astype(str)) == ["failed", "failed", "failed"]
    setup = df[df["test_id"] == "test_cases.py::test_setup_error"].sort_values("rerun")
    assert list(setup["outcome"].astype(str))[-1] == "error"
    assert "passed" not in set(setup["outcome"].astype(str))


def test_parametrize_ids_are_not_markers_or_categories(reruns_run):
    out, _ = reruns_run
    df = whyloop.read_tests(out / "report.jsonl")
    params = df[df["name"].str.startswith("test_param")]
    assert set(params["markers"]) == {"websocket"}
    assert set(params["category"]) == {"websocket"}
    assert not {"a", "None", "hmac"} & set(df["category"])


def test_default_category_is_one_level_for_every_row(reruns_run):
    out, _ = reruns_run
    for name in ("junit.xml", "report.jsonl"):
        df = whyloop.read_tests(out / name)
        plain = df[df["category_rule"] != "marker websocket"]
        assert set(plain["category"]) == {"test_cases.py", "test_skipmod.py"}, name
        assert len(set(plain["category_rule"])) == 1, name


def test_one_run_written_twice_is_counted_once(reruns_run):
    out, _ = reruns_run
    results = whyloop.read_results(out)
    assert summarize_tests(results.tests)["total"] == 12
    assert set(results.tests["format"]) == {"pytest-reportlog"}
    twice = results.files.set_index("format").loc["junit", "same_run_as"]
    assert twice == str(out / "report.jsonl")
    assert any("counted once" in w for w in results.warnings)


def test_xdist_workers_keep_the_counts(tmp_path):
    pytest.importorskip("xdist")
    files = {"test_cases.py": PROJECT, "test_skipmod.py": SKIPPED_MODULE}
    pytest_says = run_pytest(tmp_path, files, "--reruns", "2", "-n", "2")
    for name in ("junit.xml", "report.jsonl"):
        got = figures(tmp_path / "out" / name)
        assert (got["failed"], got["errors"], got["skipped"]) == (
            pytest_says["failed"],
            pytest_says["error"],
            pytest_says["skipped"],
        ), name
        assert got["reruns"] == pytest_says["rerun"] and got["flaky"] == 1, name


def test_frozen_clocks_never_make_a_run_decades_long(tmp_path):
    pytest_says = run_pytest(tmp_path, {"test_time.py": FROZEN})
    assert pytest_says == {"failed": 1, "passed": 2}
    log = tmp_path / "out" / "report.jsonl"
    reports = [json.loads(line) for line in log.read_text().splitlines()]
    durations = [r["duration"] for r in reports if r.get("$report_type") == "TestReport"]
    assert min(durations) < -1e8 and max(durations) > 1e8  # what pytest wrote: ±decades
    df = whyloop.read_tests(log)
    assert df["duration_s"].max() < 60 and (df["duration_s"].dropna() >= 0).all()
    span = df["stop"].max() - df["start"].min()
    assert span.total_seconds() < 60, span
    assert df["start"].dt.year.nunique() == 1
    assert any("frozen or mocked clock" in w for w in df.attrs["warnings"])
    assert summarize_tests(df)["duration_s"] < 60
