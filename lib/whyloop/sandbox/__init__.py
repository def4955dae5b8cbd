"""A local stand-in staging system, with switchable faults and an e2e suite to run against it.

A small but real multi-service system modelled on an AI-agent chat platform:
an auth service issuing JWTs and a backend with agents, threads, messages and
a WebSocket, each its own process on 127.0.0.1, logging Cloud Run style JSON::

    from whyloop.sandbox import up, run_e2e

    with up(faults=["ws-no-welcome"], state_dir="data/sandbox") as box:
        status = run_e2e(backend_url=box.backend_url, auth_url=box.auth_url,
                         ws_url=box.ws_url, junitxml="results.xml")
    # the three WebSocket connection tests failed, each timing out waiting for
    # connection_established; box.log_paths["backend"] holds the evidence

``SUITE`` is the bundled probe suite for the sandbox (``probe_suite()``
runs it against the running sandbox) and ``SAMPLE`` a recorded iteration (results
and logs) that works offline. ``list_faults()`` names every fault; ``EXPECTED_FAILURES[fault]`` says which
e2e tests it makes fail. A sandbox started by ``up()`` keeps running after the
starting process exits; ``down(state_dir)`` stops it from its state file.
"""

from __future__ import annotations

import os
import pathlib as _pathlib
import typing as _typing

from whyloop.errors import SandboxError
from whyloop.sandbox.control import Sandbox, default_state_dir, down, status, up
from whyloop.sandbox.expected import E2E_TESTS, EXPECTED_FAILURES
from whyloop.sandbox.faults import Fault, list_faults
from whyloop.sandbox.runner import run_e2e

if _typing.TYPE_CHECKING:
    import pandas as pd

#: the bundled probe suite: health, load, errors, resilience, ws and rate limit against the sandbox
SUITE = _pathlib.Path(__file__).resolve().parent / "suites" / "sandbox.yaml"
#: a recorded iteration of the sandbox (``tests/``, ``logs/``, ``categories.yaml``)
SAMPLE = _pathlib.Path(__file__).resolve().parent / "sample"


def suite_variables(state_dir: str | _pathlib.Path | None = None) -> dict[str, str]:
    """``WHYLOOP_AUTH_URL``/``BACKEND_URL``/``WS_URL`` of the sandbox running in ``state_dir``.

    ``state_dir`` defaults to :func:`default_state_dir`; SandboxError when none runs there.
    """
    urls = status(default_state_dir() if state_dir is None else state_dir)["urls"]
    return {
        "WHYLOOP_AUTH_URL": urls["auth"],
        "WHYLOOP_BACKEND_URL": urls["backend"],
        "WHYLOOP_WS_URL": urls["ws"],
    }


def probe_suite(
    state_dir: str | _pathlib.Path | None = None, *, variables: dict[str, str] | None = None
) -> pd.DataFrame:
    """Run the bundled probe suite (:data:`SUITE`) against the sandbox running in ``state_dir``.

    ``variables`` add to the environment (``WHYLOOP_LOAD_USERS=10`` makes
    the load probe smaller); the sandbox's URLs are filled in.
    """
    from whyloop.probes import run_suite

    values = {**os.environ, **(variables or {}), **suite_variables(state_dir)}
    return run_suite(SUITE, variables=values)


def run_named_suite(
    suite: str | _pathlib.Path | None,
    state_dir: str | _pathlib.Path | None = None,
    *,
    variables: dict[str, str] | None = None,
) -> pd.DataFrame | None:
    """Run the suite named by a notebook parameter: ``"sandbox"`` (the bundled suite against the
    sandbox in ``state_dir``, :func:`probe_suite`), a suite file, or None (nothing run: None)."""
    if suite is None:
        return None
    if str(suite) == "sandbox":
        return probe_suite(state_dir, variables=variables)
    from whyloop.probes import run_suite

    return run_suite(suite, variables={**os.environ, **(variables or {})})


__all__ = [
    "E2E_TESTS",
    "EXPECTED_FAILURES",
    "SAMPLE",
    "SUITE",
    "Fault",
    "Sandbox",
    "SandboxError",
    "default_state_dir",
    "down",
    "list_faults",
    "probe_suite",
    "run_e2e",
    "run_named_suite",
    "status",
    "suite_variables",
    "up",
]
