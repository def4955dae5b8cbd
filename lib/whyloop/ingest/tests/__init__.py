"""Test result files in, one row per test case execution out.

:func:`read_test_files` detects each file's format (:mod:`.detect`), parses
it into the :class:`~whyloop.ingest.tests.contract.ParsedTests` contract
(:mod:`.junit`, :mod:`.nunit`, :mod:`.xunit_trx`, :mod:`.pytest_json`) and
builds the frame (:mod:`.frame`). Labels (category, signature) come from
analysis: :func:`whyloop.read_tests` does both.
"""

from whyloop.ingest.tests.contract import ParsedTests
from whyloop.ingest.tests.read import (
    FILE_COLUMNS,
    ReadResults,
    expand_paths,
    final_executions,
    read_test_files,
)

__all__ = [
    "FILE_COLUMNS",
    "ParsedTests",
    "ReadResults",
    "expand_paths",
    "final_executions",
    "read_test_files",
]
