"""Canonical columns, dtypes and enums shared by ingest, store and analysis."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["LOG_COLUMNS", "LOG_LEVELS", "TEST_COLUMNS", "Outcome", "TestFormat"]


class Outcome(StrEnum):
    """The outcome of one test case execution."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    XPASSED = "xpassed"

    @property
    def is_failure(self) -> bool:
        """True for outcomes that make a run red (failed, error, xpassed-strict is not counted)."""
        return self in (Outcome.FAILED, Outcome.ERROR)


class TestFormat(StrEnum):
    """The result-file formats whyloop reads; recorded per file in ``format``."""

    __test__ = False  # not a pytest test class

    JUNIT = "junit"
    NUNIT3 = "nunit3"
    NUNIT2 = "nunit2"
    XUNIT2 = "xunit2"
    TRX = "trx"
    PYTEST_REPORTLOG = "pytest-reportlog"
    PYTEST_JSON = "pytest-json-report"


#: Columns of the tests DataFrame, in order. Parsers fill what their format
#: gives; ``read_tests`` adds the rest (category, signature) and the dtypes.
TEST_COLUMNS: tuple[str, ...] = (
    "file",
    "format",
    "suite",
    "classname",
    "name",
    "test_id",
    "outcome",
    "rerun",
    "duration_s",
    "start",
    "stop",
    "message",
    "failure_type",
    "details",
    "stdout",
    "stderr",
    "markers",
    "properties",
    "category",
    "category_rule",
    "signature",
    "signature_text",
)

#: Columns every logs DataFrame starts with; other fields follow, kept as-is.
LOG_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "level",
    "service",
    "revision",
    "message",
    "trace_id",
    "request_id",
    "source",
    "line",
)

#: Normalised log levels, lowest first.
LOG_LEVELS: tuple[str, ...] = ("TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL")
