"""Running the probe against the real servers of :mod:`tests.support.ws_servers`, as users would.

``probe`` calls the library; ``run_recipe`` runs a README recipe's exact
command through the CLI (``--json``) with the token in the environment.
Both check the result with :func:`~tests.probes.ws.claims.assert_no_contradiction`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.probes.ws.claims import assert_no_contradiction
from tests.support import TIMEOUT_SCALE
from tests.support.ws_servers import TOKEN
from whyloop import cli
from whyloop.probes.ws.probe import probe_ws
from whyloop.probes.ws.recipes import RECIPES

#: per-stage timeout against these local servers (they answer in milliseconds)
STAGE = 1.0 * TIMEOUT_SCALE


def probe(url: str, *secrets: str, **options: Any) -> dict:
    """``probe_ws(url, **options)`` (short timeout), checked; its ``--json`` dict."""
    options.setdefault("timeout", STAGE)
    return assert_no_contradiction(probe_ws(url, **options), TOKEN, *secrets)


def run_recipe(
    name: str,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
    token: str = TOKEN,
) -> tuple[int, dict]:
    """The README recipe ``name``'s exact command for ``url`` (+ ``extra``), with --json."""
    recipe = RECIPES[name]
    for var in ("TOKEN", "JUPYTER_TOKEN"):
        monkeypatch.setenv(var, token)
    argv = [*recipe.argv(url), *extra, "--json", "--timeout", str(STAGE)]
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse errors
        status = int(exc.code or 0)
    out = capsys.readouterr().out
    assert token not in out
    return status, assert_no_contradiction(json.loads(out), TOKEN, token)


def stage(data: dict, name: str) -> dict:
    """The stage ``name`` of a ``--json`` result (KeyError when it did not run)."""
    return next(s for s in data["stages"] if s["name"] == name)


def matrix(data: dict) -> dict[str, str]:
    """method -> outcome (``accepted``, or the first words of the detail)."""
    return {
        r["method"]: "accepted" if r["accepted"] else r["detail"].split(":", 1)[0]
        for r in data.get("auth_matrix") or []
    }
