"""The contract between the test-result parsers and ``read_tests``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from whyloop.schema import TestFormat

__all__ = ["Declared", "ParsedTests"]


@dataclass
class Declared:
    """Counts a file declares about itself (suite attributes), for cross-checking rows."""

    tests: int | None = None
    failures: int | None = None
    errors: int | None = None
    skipped: int | None = None


@dataclass
class ParsedTests:
    """What a test-result parser returns for one file.

    ``rows`` are dicts keyed by names from :data:`whyloop.schema.TEST_COLUMNS`
    (parsers fill what their format gives: suite, classname, name, test_id,
    outcome, rerun, duration_s, start, stop, message, failure_type, details,
    stdout, stderr, markers, properties). ``warnings`` are one-line problems
    with records that were still read; ``declared`` holds the file's own counts.
    """

    format: TestFormat
    rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    declared: Declared = field(default_factory=Declared)
