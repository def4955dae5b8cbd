"""Pull test output into pandas: read the result files, then label each row for analysis.

Reading is ingest's job (:func:`whyloop.ingest.tests.read_test_files`);
the category and the failure signature are analysis
(:mod:`whyloop.analyze.categories`, :mod:`whyloop.analyze.signatures`). This
module joins the two steps behind :func:`read_tests`, the call users make.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from whyloop.analyze.categories import CategoryRule, assign_categories, load_category_rules
from whyloop.analyze.signatures import MaskRule, signatures
from whyloop.ingest.tests.read import ReadResults, read_test_files
from whyloop.schema import TEST_COLUMNS

__all__ = ["ReadResults", "label_tests", "read_results", "read_tests"]


def _category_rules(
    categories: str | os.PathLike[str] | Sequence[CategoryRule | dict[str, Any]] | None,
) -> list[CategoryRule]:
    if isinstance(categories, (str, os.PathLike)):
        return load_category_rules(categories)
    if not categories:
        return []
    rules = [r if isinstance(r, CategoryRule) else load_category_rules([r])[0] for r in categories]
    return [CategoryRule(r.category, r.match, r.outcomes, index=i) for i, r in enumerate(rules)]


def label_tests(
    df: pd.DataFrame,
    *,
    categories: str | os.PathLike[str] | Sequence[CategoryRule | dict[str, Any]] | None = None,
    fingerprint_rules: Sequence[MaskRule | dict[str, Any] | tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Give each row its category and, for failures, its signature; columns in canonical order."""
    attrs = dict(df.attrs)
    df = assign_categories(df, _category_rules(categories))
    df["signature"], df["signature_text"] = signatures(df, fingerprint_rules)
    df = df[list(TEST_COLUMNS)]
    df.attrs.update(attrs)
    return df


def read_results(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    categories: str | os.PathLike[str] | Sequence[CategoryRule | dict[str, Any]] | None = None,
    fingerprint_rules: Sequence[MaskRule | dict[str, Any] | tuple[str, str]] | None = None,
    errors: str = "raise",
) -> ReadResults:
    """Like :func:`read_tests`, with the files table and the warnings beside the tests.

    ``results.files`` has a row per file (path, format, rows, tests, the
    counts the file declares, its error, ``same_run_as`` for a run written
    twice); keep it with the tests (``store.write(loop, tests=r.tests, files=r.files)``).
    """
    rules = _category_rules(categories)  # a bad mapping file fails before any file is read
    results = read_test_files(paths, errors=errors)
    results.tests = label_tests(
        results.tests, categories=rules, fingerprint_rules=fingerprint_rules
    )
    return results


def read_tests(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    categories: str | os.PathLike[str] | Sequence[CategoryRule | dict[str, Any]] | None = None,
    fingerprint_rules: Sequence[MaskRule | dict[str, Any] | tuple[str, str]] | None = None,
    errors: str = "raise",
) -> pd.DataFrame:
    """Read test result files into one DataFrame, one row per test case execution.

    ``paths`` may mix files, directories and globs. ``categories`` is a mapping
    file or a list of rules (see :mod:`whyloop.analyze.categories`);
    ``fingerprint_rules`` are extra masking rules put in front of the built-in
    ones. A file that cannot be read at all raises :class:`~whyloop.IngestError`,
    or, with ``errors="warn"``, is listed in ``df.attrs["warnings"]`` while the
    other files are kept. Problems with single records are always warnings.
    The per-file table (formats, declared counts) comes with :func:`read_results`.
    """
    return read_results(
        paths, categories=categories, fingerprint_rules=fingerprint_rules, errors=errors
    ).tests
