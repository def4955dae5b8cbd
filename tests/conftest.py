"""Fixtures for every test; shared helpers live in :mod:`tests.support`."""

from __future__ import annotations

import io
import warnings
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import FIXTURES


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@dataclass(frozen=True)
class DemoHistory:
    """One live demo loop (``demo-1``: the fault, then DONE), run once for every test that reads it."""

    status: int
    out: str
    store_root: Path
    reports: Path
    workdir: Path
    loop: str = "demo-1"


@pytest.fixture(scope="session")
def demo_history(tmp_path_factory: pytest.TempPathFactory) -> DemoHistory:
    """``make demo``'s two iterations, run live into a session folder (about 2 minutes, once)."""
    from whyloop.sandbox.demo import run_demo

    base = tmp_path_factory.mktemp("demo")
    store_root, reports, work = base / "data" / "iterations", base / "reports", base / "w"
    printed = io.StringIO()
    with redirect_stdout(printed), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # jupyter_client/zmq internals
        status = run_demo(store_root=store_root, out_root=reports, workdir=work)
    return DemoHistory(status, printed.getvalue(), store_root, reports, work)
