"""Parallel writers of one store: real processes, started together, each bounded in time.

Every writer imports whyloop first, says it is ready, and waits for one "go"
file, so their writes overlap instead of running one after another as their
start-up would otherwise spread them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from tests.support import FIXTURES, ROOT, TIMEOUT_SCALE
from whyloop.store import Store

TIMEOUT = 60 * TIMEOUT_SCALE
RESULTS = FIXTURES / "tests" / "junit-pytest.xml"  # 6 tests, 7 rows (one rerun)
LOGS = FIXTURES / "logs" / "cloudrun.jsonl"  # 6 records

#: ``python -c`` body: import, report ready, wait for the go file, run the CLI with the rest of argv
CLI = """
import sys, time
from pathlib import Path
from whyloop.cli import main
import whyloop.analyze.summary, whyloop.ingest.logs.read, whyloop.pull, whyloop.store
go, ready, limit, *argv = sys.argv[1:]
Path(ready).touch()
deadline = time.monotonic() + float(limit)
while not Path(go).exists():
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.005)
sys.exit(main(argv))
"""

#: ``python -c`` body: a writer that stalls just before naming its table, to be killed there
STALLS = """
import sys, time
from pathlib import Path
import pandas as pd
import whyloop.store
root, ready, iteration, table = sys.argv[1:]
def stall(path, data):
    Path(ready).touch()
    time.sleep(600)
whyloop.store._write_json_atomic = stall
whyloop.store.Store(root).write("l", iteration or None, **{table: pd.DataFrame({"a": [1]})})
"""


def _wait_for(paths: list[Path], procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not all(p.exists() for p in paths):
        dead = [p.args for p in procs if p.poll() is not None]
        assert not dead, f"a writer ended before it was ready: {dead}"
        assert time.monotonic() < deadline, "writers never got ready"
        time.sleep(0.01)


def _together(tmp_path: Path, *argvs: list[str]) -> list[tuple[int, str, str]]:
    """Run ``whyloop ARGV`` once per argv, all released at the same moment: (status, out, err)."""
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(len(argvs))]
    procs: list[subprocess.Popen[str]] = []
    try:
        for flag, argv in zip(ready, argvs, strict=True):
            command = [sys.executable, "-c", CLI, str(go), str(flag), str(TIMEOUT), *argv]
            procs.append(
                subprocess.Popen(
                    command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
            )
        _wait_for(ready, procs)
        go.touch()
        outputs = [p.communicate(timeout=TIMEOUT) for p in procs]
        return [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=TIMEOUT)


def _unnamed(store: Store, loop: str) -> list[str]:
    """Files under the loop that no manifest names (the manifests and lock files aside)."""
    named = {
        f"{it}/{t['file']}"
        for it in store.iterations(loop)
        for t in store.manifest(loop, it)["tables"].values()
    }
    base = store.root / loop
    files = {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()}
    return sorted(f for f in files - named if Path(f).name not in ("manifest.json", ".lock"))


def _ingest(what: str, path: Path, store: Path, *extra: str) -> list[str]:
    return ["ingest", what, str(path), "--loop", "ci", "--store", str(store), "--json", *extra]


def test_eight_writers_at_once_get_eight_iterations_and_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "store"
    runs = _together(tmp_path, *[_ingest("tests", RESULTS, root) for _ in range(8)])
    assert [(status, err) for status, _out, err in runs] == [(0, "")] * 8
    saved = sorted(json.loads(out)["saved_to"] for _status, out, _err in runs)
    store = Store(root)
    assert sorted(saved) == sorted(str(store.path("ci", n)) for n in range(1, 9))  # one each
    assert store.iterations("ci") == [str(n) for n in range(1, 9)]
    names = {frozenset(store.manifest("ci", it)["tables"]) for it in store.iterations("ci")}
    assert len(names) == 1 and "tests" in next(iter(names))  # the same tables in each
    for it in store.iterations("ci"):
        assert store.manifest("ci", it)["tables"]["tests"]["rows"] == 7
        assert len(store.read("ci", it)) == 7
    assert _unnamed(store, "ci") == []


def test_tests_and_logs_added_to_one_iteration_at_once_both_land(tmp_path: Path) -> None:
    root = tmp_path / "store"
    one = ("--iteration", "1")
    runs = _together(
        tmp_path, _ingest("tests", RESULTS, root, *one), _ingest("logs", LOGS, root, *one)
    )
    assert [status for status, _out, _err in runs] == [0, 0], runs
    store = Store(root)
    assert store.iterations("ci") == ["1"]
    tables = store.manifest("ci", "1")["tables"]
    assert (tables["tests"]["rows"], tables["logs"]["rows"]) == (7, 6)
    assert _unnamed(store, "ci") == []


def test_two_writers_of_one_table_one_lands_and_the_other_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "store"
    argv = _ingest("tests", RESULTS, root, "--iteration", "1")
    runs = _together(tmp_path, argv, argv)
    assert sorted(status for status, _out, _err in runs) == [0, 1], runs
    err = next(err for status, _out, err in runs if status == 1)
    assert err.count("\n") == 1 and "already has" in err and "'tests'" in err
    assert "--replace" in err
    winner = next(json.loads(out) for status, out, _err in runs if status == 0)
    store = Store(root)
    assert winner["saved_to"] == str(store.path("ci", "1"))
    assert len(store.read("ci", "1")) == 7
    assert _unnamed(store, "ci") == []


def test_writers_killed_midway_leave_nothing_readers_see_and_clean_removes_it(
    tmp_path: Path,
) -> None:
    """No writer cleans up after a SIGKILL: the store ignores what it left, clean() removes it."""
    store = Store(tmp_path / "store")
    store.write("l", tests=_frame(3))
    before = store.manifest("l", "1")
    ready = [tmp_path / "ready-new", tmp_path / "ready-add"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STALLS, str(store.root), str(flag), iteration, table],
            cwd=ROOT,
            text=True,
        )
        for flag, iteration, table in zip(ready, ["", "1"], ["tests", "logs"], strict=True)
    ]
    try:
        _wait_for(ready, procs)
        # both stall with their table written and unnamed: clean() leaves writers in progress be
        assert store.clean("l") == []
        assert len(list(store.root.rglob("*.parquet"))) == 3
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=TIMEOUT)
    assert [p.returncode for p in procs] == [-signal.SIGKILL] * 2
    assert store.iterations("l") == ["1"]  # the new iteration never got a manifest
    assert store.manifest("l", "1") == before and len(store.read("l", "1")) == 3
    left = [
        "1/" + _only(store.path("l", "1"), "logs-*"),
        "2/" + _only(store.path("l", "2"), "tests-*"),
    ]
    assert _unnamed(store, "l") == left
    removed = store.clean("l")
    assert store.root / "l" / "2" in removed
    assert _unnamed(store, "l") == [] and not (store.root / "l" / "2").exists()
    assert store.manifest("l", "1") == before and len(store.read("l", "1")) == 3
    assert store.write("l", tests=_frame(1)).name == "2"


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"a": range(n)})


def _only(folder: Path, pattern: str) -> str:
    (found,) = folder.glob(pattern)
    return found.name


def test_clean_keeps_what_manifests_name_and_what_the_store_did_not_write(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write("l", tests=_frame(2))
    folder = store.path("l", "1")
    (folder / "notes.txt").write_text("mine")
    (folder / ".tests-0badc0de.parquet.tmp").write_bytes(b"half")
    (folder / ".manifest-x1y2").write_text("{")
    unfinished = store.path("l", "7")
    unfinished.mkdir()
    (unfinished / "keep.me").write_text("mine")
    removed = {p.name for p in store.clean("l")}
    assert removed == {".tests-0badc0de.parquet.tmp", ".manifest-x1y2"}
    assert (folder / "notes.txt").exists() and (unfinished / "keep.me").exists()
    assert len(store.read("l", "1")) == 2
