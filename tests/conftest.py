"""Shared test helpers: fixture paths and the real-world corpus beside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
CORPUS = HERE.parent.parent / "shared" / "corpus"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def corpus_or_skip(sub: str = "") -> Path:
    """The corpus folder (or a sub-folder), skipping the test when a clone has none."""
    path = CORPUS / sub
    if not path.exists():
        pytest.skip(f"corpus not present at {path} (it lives beside the project, not in it)")
    return path
