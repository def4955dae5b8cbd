"""whyloop: a failure analysis workbench for test-deploy loops.

Pull test results and service logs into pandas, keep them per iteration,
probe the live system stage by stage, and (later) ask why and report::

    import whyloop
    tests = whyloop.read_tests("results/junit.xml")
    whyloop.summarize_tests(tests)["by_category"]

Importing whyloop is light: the probes (and httpx, aiohttp, websockets) load
when one is first used.
"""

import importlib as _importlib
import typing as _typing

from whyloop.analyze import classify_reruns, derive_findings, summarize_logs, summarize_tests
from whyloop.analyze.templates import mine_templates
from whyloop.errors import (
    ConfigError,
    IngestError,
    PostmortemError,
    ProbeError,
    ReportError,
    SandboxError,
    StoreError,
    UnsupportedFormatError,
    WhyloopError,
    WhysError,
)
from whyloop.ingest.logs import read_logs
from whyloop.pull import ReadResults, read_results, read_tests
from whyloop.schema import Outcome, TestFormat
from whyloop.store import Store

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "IngestError",
    "Outcome",
    "PostmortemError",
    "ProbeError",
    "ReadResults",
    "ReportError",
    "SandboxError",
    "Store",
    "StoreError",
    "TestFormat",
    "UnsupportedFormatError",
    "WhyloopError",
    "WhysError",
    "__version__",
    "classify_reruns",
    "derive_findings",
    "mine_templates",
    "probe_http",
    "probe_ws",
    "read_logs",
    "read_results",
    "read_tests",
    "rerun_failures",
    "run_suite",
    "summarize_logs",
    "summarize_tests",
]

_LAZY = {
    name: "whyloop.probes" for name in ("probe_http", "probe_ws", "rerun_failures", "run_suite")
}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'whyloop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
