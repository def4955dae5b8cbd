"""Fixtures for every test; shared helpers live in :mod:`tests.support`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import FIXTURES


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
