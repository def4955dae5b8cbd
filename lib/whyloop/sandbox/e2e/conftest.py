"""Fixtures of the e2e suite: the targets, an HTTP client, fresh users, and categories."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from whyloop.sandbox.e2e._support import HTTP_TIMEOUT_S, Targets, User, login, targets_from_env


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "category(name): the part of the system a test exercises")
    config.addinivalue_line("markers", "priority(level): 1 is must-pass before a release")


@pytest.fixture(scope="session")
def targets() -> Targets:
    """The system under test, from WHYLOOP_BACKEND_URL, WHYLOOP_AUTH_URL, WHYLOOP_WS_URL."""
    try:
        return targets_from_env()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """An HTTP client whose every call is bounded by HTTP_TIMEOUT_S."""
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as c:
        yield c


@pytest.fixture
def new_user(
    client: httpx.Client, targets: Targets, request: pytest.FixtureRequest
) -> Callable[[], User]:
    """Log in a fresh user per call (each test gets its own rate-limit budget)."""
    prefix = request.node.name.removeprefix("test_").replace("_", "-")[:20]
    return lambda: login(client, targets, prefix)


@pytest.fixture(autouse=True)
def _record_category(
    request: pytest.FixtureRequest, record_property: Callable[[str, object], None]
) -> None:
    """Put the test's category in its JUnit XML properties and report-log record."""
    marker = request.node.get_closest_marker("category")
    if marker is not None:
        record_property("category", marker.args[0])
