"""Fixtures for the five-whys tests: the bundled sample iteration in a fresh store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import whyloop
from whyloop.sandbox import SAMPLE
from whyloop.store import Store

LOOP = "demo"


@pytest.fixture(scope="session")
def sample_tables() -> dict[str, pd.DataFrame]:
    """The sample iteration's tests and logs (both demo faults: no welcome, database locked)."""
    tests = whyloop.read_tests(SAMPLE / "tests", categories=SAMPLE / "categories.yaml")
    logs = whyloop.read_logs(str(SAMPLE / "logs" / "*.jsonl"))
    return {"tests": tests, "logs": logs}


@pytest.fixture
def store(tmp_path: Path, sample_tables: dict[str, pd.DataFrame]) -> Store:
    """A store under ``tmp_path/iterations`` holding the sample as iteration 1 of loop ``demo``."""
    store = Store(tmp_path / "iterations")
    store.write(LOOP, **sample_tables)
    return store


@pytest.fixture(autouse=True)
def _user(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changes are made by a known person unless a test says otherwise."""
    monkeypatch.setenv("WHYLOOP_USER", "tester")
