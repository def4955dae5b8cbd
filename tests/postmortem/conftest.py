"""Fixtures for the postmortem tests: a small three-iteration loop built from the bundled sample.

Loop ``pm``: iteration 1 passes everything (backend at revision 00035, an hour
earlier); iteration 2 is the sample itself, its ten failures, with backend at
a new revision 00036; iteration 3 passes again (an hour later). One five-whys
analysis of iteration 2 confirms the welcome stage as the root cause, with a
countermeasure verified by its tests in iteration 3.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import whyloop
from whyloop import whys
from whyloop.sandbox import SAMPLE
from whyloop.store import Store

LOOP = "pm"
OLD, NEW = "sandbox-backend-00035-abc", "sandbox-backend-00036-new"
WELCOME_TESTS = [
    "test_websocket.py::test_websocket_connection_header_auth",
    "test_websocket.py::test_websocket_connection_subprotocol_auth",
    "test_websocket.py::test_websocket_connection_browser_origin",
]


@dataclass(frozen=True)
class History:
    store: Store
    analysis: Path
    tests: dict[str, pd.DataFrame]


@pytest.fixture(scope="session")
def sample() -> dict[str, pd.DataFrame]:
    tests = whyloop.read_tests(SAMPLE / "tests", categories=SAMPLE / "categories.yaml")
    logs = whyloop.read_logs(str(SAMPLE / "logs" / "*.jsonl"))
    return {"tests": tests, "logs": logs}


def _passing(tests: pd.DataFrame, hours: int) -> pd.DataFrame:
    out = tests.copy()
    out["outcome"] = pd.Categorical(["passed"] * len(out), categories=out["outcome"].cat.categories)
    for column in ("message", "failure_type", "details", "signature", "signature_text"):
        out[column] = ""
    for column in ("start", "stop"):
        out[column] = out[column] + pd.Timedelta(hours=hours)
    return out


def _logs(logs: pd.DataFrame, revision: str, hours: int) -> pd.DataFrame:
    out = logs.copy()
    out.loc[out["service"] == "backend", "revision"] = revision
    out["timestamp"] = out["timestamp"] + pd.Timedelta(hours=hours)
    return out


@pytest.fixture
def history(tmp_path: Path, built: History) -> History:
    """A fresh copy of the loop and its analysis, for a test to change."""
    base = built.store.root.parent.parent
    shutil.copytree(base, tmp_path / "copy")
    store = Store(tmp_path / "copy" / built.store.root.relative_to(base))
    return History(store, tmp_path / "copy" / built.analysis.relative_to(base), built.tests)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, sample: dict[str, pd.DataFrame]) -> History:
    """The loop, built once; tests take a copy (:func:`history`)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("WHYLOOP_USER", "tester")
    try:
        return _build(tmp_path_factory.mktemp("pm"), sample)
    finally:
        mp.undo()


def _build(tmp_path: Path, sample: dict[str, pd.DataFrame]) -> History:
    store = Store(tmp_path / "data" / "iterations")
    tests = {
        "1": _passing(sample["tests"], -1),
        "2": sample["tests"],
        "3": _passing(sample["tests"], 1),
    }
    store.write(LOOP, tests=tests["1"], logs=_logs(sample["logs"], OLD, -1))
    store.write(LOOP, tests=tests["2"], logs=_logs(sample["logs"], NEW, 0))
    store.write(LOOP, tests=tests["3"], logs=_logs(sample["logs"], NEW, 1))
    a = whys.draft(store, LOOP, "2", root=whys.whys_dir(store.root))
    welcome = next(b for b in a.steps() if b.stage == "welcome")
    welcome.confirm(f"test:{WELCOME_TESTS[0]}", note="the welcome never arrives")
    root = welcome.mark(whys.CausalRole.ROOT_CAUSE)
    a.add_countermeasure(
        "Send the welcome message right after the handshake",
        addresses=[root.id],
        owner="ws-team",
        due=date(2026, 12, 15),
        tests=WELCOME_TESTS,
    )
    whys.verify(a, store, LOOP, "3")
    a.iterations.append("3")
    return History(store, a.save(), tests)
