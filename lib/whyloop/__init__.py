"""whyloop: a failure analysis workbench for test-deploy loops.

Pull test results and service logs into pandas, keep them per iteration,
probe the live system stage by stage, and (later) ask why and report::

    import whyloop
    tests = whyloop.read_tests("results/junit.xml")
    whyloop.summarize_tests(tests)["by_category"]
"""

from whyloop.errors import (
    ConfigError,
    IngestError,
    ProbeError,
    ReportError,
    SandboxError,
    StoreError,
    UnsupportedFormatError,
    WhyloopError,
    WhysError,
)
from whyloop.ingest.log_summary import summarize_logs
from whyloop.ingest.logs import read_logs
from whyloop.ingest.tests import read_tests, summarize_tests
from whyloop.probes import (
    classify_reruns,
    derive_findings,
    probe_http,
    probe_ws,
    rerun_failures,
    run_suite,
)
from whyloop.schema import Outcome, TestFormat
from whyloop.store import Store

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "IngestError",
    "Outcome",
    "ProbeError",
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
    "probe_http",
    "probe_ws",
    "read_logs",
    "read_tests",
    "rerun_failures",
    "run_suite",
    "summarize_logs",
    "summarize_tests",
]
