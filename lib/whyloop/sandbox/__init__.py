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

``list_faults()`` names every fault; ``EXPECTED_FAILURES[fault]`` says which
e2e tests it makes fail. A sandbox started by ``up()`` keeps running after the
starting process exits; ``down(state_dir)`` stops it from its state file.
"""

from __future__ import annotations

from whyloop.errors import SandboxError
from whyloop.sandbox.control import Sandbox, default_state_dir, down, status, up
from whyloop.sandbox.expected import E2E_TESTS, EXPECTED_FAILURES
from whyloop.sandbox.faults import Fault, list_faults
from whyloop.sandbox.runner import run_e2e

__all__ = [
    "E2E_TESTS",
    "EXPECTED_FAILURES",
    "Fault",
    "Sandbox",
    "SandboxError",
    "default_state_dir",
    "down",
    "list_faults",
    "run_e2e",
    "status",
    "up",
]
