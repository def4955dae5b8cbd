"""whyloop: a failure analysis workbench for test-deploy loops.

Pull test results and service logs into pandas, keep them per iteration, and
(later) probe, ask why and report::

    import whyloop
    tests = whyloop.read_tests("results/junit.xml")
    whyloop.summarize_tests(tests)["by_category"]
"""

from whyloop.errors import (
    ConfigError,
    IngestError,
    ProbeError,
    ReportError,
    StoreError,
    UnsupportedFormatError,
    WhyloopError,
    WhysError,
)
from whyloop.ingest.tests import read_tests, summarize_tests
from whyloop.schema import Outcome, TestFormat
from whyloop.store import Store

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "IngestError",
    "Outcome",
    "ProbeError",
    "ReportError",
    "Store",
    "StoreError",
    "TestFormat",
    "UnsupportedFormatError",
    "WhyloopError",
    "WhysError",
    "__version__",
    "read_tests",
    "summarize_tests",
]
