"""Canonical columns, dtypes and enums shared by ingest, store and analysis."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "LOG_COLUMNS",
    "LOG_LEVELS",
    "TEST_COLUMNS",
    "ChangeKind",
    "Confidence",
    "CriterionState",
    "FlakeVerdict",
    "LoopStatus",
    "Outcome",
    "Side",
    "Stage",
    "TestFormat",
    "Verdict",
]


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
    GO_TEST_JSON = "go-test-json"
    JEST_JSON = "jest-json"
    PLAYWRIGHT_JSON = "playwright-json"
    MOCHA_JSON = "mocha-json"
    MOCHAWESOME = "mochawesome"
    DART_JSON = "dart-json"
    RSPEC_JSON = "rspec-json"
    CTRF = "ctrf"
    ALLURE = "allure"
    BOOST_TEST = "boost-test"
    CPPUNIT = "cppunit"
    QTESTLIB = "qtestlib"


class Stage(StrEnum):
    """The stages of a staged probe, in the order they run."""

    DNS = "dns"
    TCP = "tcp"
    TLS = "tls"
    UPGRADE = "upgrade"
    SUBPROTOCOL = "subprotocol"
    AUTH = "auth"
    WELCOME = "welcome"
    ECHO = "echo"
    CLOSE = "close"
    # HTTP probe phases
    REQUEST = "request"
    FIRST_BYTE = "first_byte"
    BODY = "body"
    CORS = "cors"
    EXPECT = "expect"


class Verdict(StrEnum):
    """What reruns say about a failure."""

    #: failed on every rerun that gave a result: a real, reproducible failure
    CONSISTENT = "consistent"
    #: passed on some reruns and failed on others: look at timing, shared state, dependencies
    FLAKY = "flaky"
    #: passed on every rerun: it no longer fails (fixed since, or a one-off)
    FIXED = "fixed"
    #: no rerun gave a pass or a fail (not found, not run, or skipped): rerun it by hand
    UNKNOWN = "unknown"


class Confidence(StrEnum):
    """How sure a finding is: high when independent evidence agrees (probe and logs)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for high, 2 for low: sort findings by it."""
        return ("high", "medium", "low").index(self.value)


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


class FlakeVerdict(StrEnum):
    """What a test's history (and its retries) says about it: :func:`whyloop.analyze.history.flakiness`.

    Apart from :class:`Verdict` (what reruns of one failure say), because history
    can also call a test *new*; the values shared with it are spelled the same.
    """

    #: passed on retry in one run, or flipped between pass and fail past a threshold
    FLAKY = "flaky"
    #: no rule calls it flaky: it passes (or fails) run after run
    CONSISTENT = "consistent"
    #: failed within the window and has passed since, without flipping enough to be flaky
    FIXED = "fixed"
    #: first run in the latest iteration: no history to judge yet
    NEW = "new"
    #: too few runs for the history rules (fewer than ``min_runs``)
    UNKNOWN = "unknown"


class Side(StrEnum):
    """Where the evidence puts a failure: in the test, or in the service it tests."""

    #: nothing seen beyond the test itself (not proof that the test is at fault)
    TEST = "test"
    #: the same failure or log template at the same time in other tests, or a failed probe
    SERVICE = "service"


class ChangeKind(StrEnum):
    """How a test's result changed from one iteration to the next (the iteration diff)."""

    #: fails now; never failed before in the history compared
    NEW_FAILURE = "new_failure"
    #: failed last time it gave a result; passes now
    FIXED = "fixed"
    #: failed last time it gave a result; fails now
    STILL_FAILING = "still_failing"
    #: fails now; failed earlier, then passed (it was fixed and broke again)
    REGRESSED = "regressed"


class CriterionState(StrEnum):
    """The state of one exit criterion of the loop: met, not met, or not computable."""

    MET = "met"
    NOT_MET = "not_met"
    #: the data to compute the figure is missing (counts as not met)
    UNKNOWN = "unknown"


class LoopStatus(StrEnum):
    """The loop's verdict: go round again, or stop: every exit criterion is met."""

    CONTINUE = "continue"
    DONE = "done"
