"""Fixtures for the known-causes tests: a past analysis of the sample, and the sample again later."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import whyloop
from whyloop import whys
from whyloop.sandbox import SAMPLE
from whyloop.store import Store


@dataclass(frozen=True)
class History:
    """Loop ``old`` (the sample, analysed: the welcome chain, fixed and verified), loop ``new``."""

    store: Store
    root: Path
    path: Path
    welcome_cluster: str
    lock_cluster: str


@pytest.fixture(scope="session")
def sample_tables() -> dict[str, pd.DataFrame]:
    """The sample iteration's tests and logs (both demo faults: no welcome, database locked)."""
    tests = whyloop.read_tests(SAMPLE / "tests", categories=SAMPLE / "categories.yaml")
    logs = whyloop.read_logs(str(SAMPLE / "logs" / "*.jsonl"))
    return {"tests": tests, "logs": logs}


@pytest.fixture
def history(tmp_path: Path, sample_tables: dict[str, pd.DataFrame]) -> History:
    """The sample analysed in loop ``old`` (welcome chain only, countermeasure verified), seen again in ``new``."""
    store = Store(tmp_path / "data" / "iterations")
    store.write("old", **sample_tables)
    fixed = sample_tables["tests"].assign(outcome="passed", message="", signature="")
    store.write("old", tests=fixed)  # iteration 2: everything passes
    root = whys.whys_dir(store.root)
    a = whys.draft(store, "old", "1", root=root)
    welcome = next(w for w in a.whys if w.becauses and w.becauses[0].stage == "welcome")
    lock = next(w for w in a.whys if w.becauses and "lock" in w.becauses[0].text)
    a.whys = [welcome]  # the team analysed the welcome failure only
    a.clusters = list(welcome.clusters)
    a.link()
    welcome.becauses[0].confirm("probe:welcome", by="tester")
    cause = welcome.becauses[0].mark(whys.CausalRole.ROOT_CAUSE)
    a.add_countermeasure(
        "Send the welcome right after the handshake", addresses=[cause.id], tests=welcome.tests
    )
    whys.verify(a, store, "old", "2", by="tester")
    assert a.countermeasures[0].verified.ok
    path = a.save()
    store.write("new", **sample_tables)
    return History(store, root, path, welcome.clusters[0], lock.clusters[0])
