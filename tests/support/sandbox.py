"""A sandbox for a test: started on free ports, always stopped, and a login to it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support import TIMEOUT_SCALE
from whyloop.sandbox import Sandbox, up

#: the per-stage timeout the probes get in tests (the no-welcome case waits this long)
STAGE_S = 1.5 * TIMEOUT_SCALE
#: the per-stage timeout of probes expected to pass (generous: a loaded CI machine is slow)
OK_S = 5.0 * TIMEOUT_SCALE
PASSWORD = "probe-password"


@contextlib.contextmanager
def sandbox(state_dir: Path, faults: tuple[str, ...] = (), **kwargs: object) -> Iterator[Sandbox]:
    """A sandbox with ``faults`` (keywords go to :func:`whyloop.sandbox.up`); always stopped."""
    box = up(faults=faults, state_dir=state_dir, **kwargs)  # type: ignore[arg-type]
    try:
        yield box
    finally:
        box.down()


def login(box: Sandbox, username: str = "probe_user", password: str = PASSWORD) -> str:
    """An access token from the sandbox's auth service."""
    answer = httpx.post(
        f"{box.auth_url}/auth/login",
        json={"username": username, "password": password},
        timeout=10 * TIMEOUT_SCALE,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])
