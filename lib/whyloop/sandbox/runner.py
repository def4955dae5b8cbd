"""Run the e2e suite (:mod:`whyloop.sandbox.e2e`) against a deployment, in a subprocess."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from whyloop.errors import ConfigError

__all__ = ["E2E_DIR", "E2E_TIMEOUT_S", "e2e_command", "run_e2e"]

E2E_DIR = Path(__file__).resolve().parent / "e2e"
#: the whole suite must finish within this (the slowest fault needs ~30 s)
E2E_TIMEOUT_S = 600.0


def e2e_command(
    *,
    junitxml: str | Path | None = None,
    report_log: str | Path | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The pytest command line :func:`run_e2e` runs.

    It names the suite's own directory as rootdir and an empty ini file, so
    the caller's pytest configuration (filterwarnings, testpaths) does not leak in.
    """
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(E2E_DIR),
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(E2E_DIR),
        "-c",
        os.devnull,
        "-q",
        "-rfE",
    ]
    if junitxml is not None:
        cmd += ["--junitxml", str(Path(junitxml).resolve()), "-o", "junit_family=xunit1"]
    if report_log is not None:
        if importlib.util.find_spec("pytest_reportlog") is None:
            raise ConfigError(
                "--report-log needs the pytest-reportlog package: pip install pytest-reportlog"
            )
        cmd += ["--report-log", str(Path(report_log).resolve())]
    return [*cmd, *extra_args]


def run_e2e(
    *,
    backend_url: str,
    auth_url: str,
    ws_url: str,
    junitxml: str | Path | None = None,
    report_log: str | Path | None = None,
    extra_args: Sequence[str] = (),
    timeout_s: float = E2E_TIMEOUT_S,
) -> int:
    """Run the 25-test e2e suite against the given URLs and return pytest's exit status.

    The targets reach the suite as ``WHYLOOP_BACKEND_URL``, ``WHYLOOP_AUTH_URL``
    and ``WHYLOOP_WS_URL``, so any deployment with the same API can be tested.
    ``junitxml`` and ``report_log`` are where pytest writes its JUnit XML and
    pytest-reportlog JSON lines. 0 means all passed, 1 that some failed;
    raises ConfigError when the run exceeds ``timeout_s``.
    """
    for name, url in (("backend_url", backend_url), ("auth_url", auth_url)):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{name} must be an http(s) URL, got {url!r}")
    if not ws_url.startswith(("ws://", "wss://")):
        raise ConfigError(f"ws_url must be a ws(s) URL, got {ws_url!r}")
    for target in (junitxml, report_log):
        if target is not None:
            Path(target).resolve().parent.mkdir(parents=True, exist_ok=True)
    cmd = e2e_command(junitxml=junitxml, report_log=report_log, extra_args=extra_args)
    env = {
        **os.environ,
        "WHYLOOP_BACKEND_URL": backend_url.rstrip("/"),
        "WHYLOOP_AUTH_URL": auth_url.rstrip("/"),
        "WHYLOOP_WS_URL": ws_url,
    }
    try:
        return subprocess.run(cmd, env=env, timeout=timeout_s, check=False).returncode
    except subprocess.TimeoutExpired:
        raise ConfigError(f"the e2e suite did not finish within {timeout_s:g} s") from None
