"""Read test result files: each file's format detected from its content, rows in one frame.

Formats: JUnit dialects, NUnit, xUnit.net, TRX, pytest report-log and
json-report (and the others :mod:`.detect` knows). Rows come out in the
canonical columns of :data:`whyloop.schema.TEST_COLUMNS` minus the labels
that analysis adds (``category``, ``category_rule``, ``signature``,
``signature_text``); :func:`whyloop.read_tests` reads and labels in one call.

What each file was (path, format, rows, the counts it declares, its error)
is a table of its own, :data:`FILE_COLUMNS`, beside the tests: kept out of
``df.attrs``, which pandas deep-copies on every operation.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from whyloop.errors import IngestError
from whyloop.ingest.tests.contract import ParsedTests
from whyloop.ingest.tests.frame import frame_of_files
from whyloop.ingest.tests.xmlsafe import no_gc
from whyloop.redact import redact_frame, redact_text

__all__ = [
    "FILE_COLUMNS",
    "LABEL_COLUMNS",
    "ReadResults",
    "expand_paths",
    "final_executions",
    "read_test_files",
]

RESULT_SUFFIXES = (".xml", ".json", ".jsonl", ".trx", ".gz", ".log")
#: columns of the tests frame that analysis fills, not the parsers
LABEL_COLUMNS = ("category", "category_rule", "signature", "signature_text")
#: columns of the files table: one row per file read (or refused)
FILE_COLUMNS = (
    "path",
    "format",
    "rows",
    "tests",
    "warnings",
    "error",
    "declared_tests",
    "declared_failures",
    "declared_errors",
    "declared_skipped",
    "same_run_as",
)
#: formats that carry pytest node ids, so one run written in two of them can be recognised
_PYTEST_FORMATS = ("pytest-reportlog", "pytest-json-report", "junit")
#: the copy kept when one run was written twice, best first
_KEEP_ORDER = {"pytest-reportlog": 0, "pytest-json-report": 1, "junit": 2}


@dataclass
class ReadResults:
    """What reading result files gave: the tests, a row per file, the warnings.

    ``tests`` is one row per test case execution; ``files`` has the columns
    of :data:`FILE_COLUMNS`; ``warnings`` are one-line problems (also in
    ``tests.attrs["warnings"]``).
    """

    __test__ = False  # not a pytest test class

    tests: pd.DataFrame
    files: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def expand_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files, directories (searched recursively for result files) and globs, in order.

    Raises IngestError for a path or glob that names nothing.
    """
    return [Path(p) for p in _expand(paths)]


def _expand(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """:func:`expand_paths` as strings: a build's thousands of files need no Path objects."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    for item in paths:
        text = os.fspath(item)
        if any(ch in text for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not found:
                raise IngestError("glob matched no files", path=text)
            out.extend(map(str, found))
        elif os.path.isdir(text):
            # walked from the folder as Path spells it, the joined names need no normalising
            found_names = sorted(_result_files(str(Path(text))))
            if not found_names:
                raise IngestError("directory holds no result files", path=text)
            out.extend(found_names)
        elif os.path.isfile(text):
            out.append(str(Path(text)))
        else:
            raise IngestError("no such file", path=text)
    return list(dict.fromkeys(out))


def _result_files(folder: str) -> Iterable[str]:
    """Result files below ``folder``, by suffix (os.walk: a build may hold thousands)."""
    for root, _dirs, names in os.walk(folder):
        for name in names:
            if (
                os.path.splitext(name)[1].lower() in RESULT_SUFFIXES
                and "-attachment." not in name  # Allure's attachments sit beside its results
            ):
                yield os.path.join(root, name)


def read_test_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    errors: str = "raise",
) -> ReadResults:
    """Read test result files into one frame, one row per test case execution, secrets redacted.

    ``paths`` may mix files, directories and globs. A file that cannot be read
    at all raises :class:`IngestError`, or, with ``errors="warn"``, is listed
    in the warnings and the files table while the other files are kept.
    Problems with single records are always warnings. One run written twice
    (JUnit XML and a report-log of the same pytest session) is counted once.
    """
    from whyloop.ingest.tests.detect import read_test_file

    if errors not in ("raise", "warn"):
        raise ValueError("errors must be 'raise' or 'warn'")
    parts: list[tuple[ParsedTests, str]] = []
    warnings: list[str] = []
    files: list[dict[str, Any]] = []
    # one collector pause for all the files and their frame: a collection midway would
    # traverse every row built so far
    with no_gc():
        for path in _expand(paths):
            try:
                parsed = read_test_file(path)
            except IngestError as exc:
                exc.at(str(path))
                if errors == "raise":
                    raise
                warnings.append(str(exc))
                files.append({"path": str(path), "rows": 0, "error": redact_text(str(exc))})
                continue
            warnings.extend(redact_text(w) for w in parsed.warnings)
            declared = parsed.declared
            files.append(
                {
                    "path": str(path),
                    "format": parsed.format.value,
                    "rows": parsed.n_rows,
                    "tests": _first_executions(parsed),
                    "warnings": len(parsed.warnings),
                    **{f"declared_{k}": v for k, v in vars(declared).items() if v is not None},
                }
            )
            parts.append((parsed, str(path)))
        df = _allure_runs(frame_of_files(parts))
        del parts
    # results carry what the tests printed: tokens and auth headers among it
    df = redact_frame(df, ["message", "details", "stdout", "stderr", "properties"])
    table = _files_table(files)
    df = _count_each_run_once(df, table, warnings)
    df.attrs["warnings"] = warnings
    return ReadResults(df, table, warnings)


def _files_table(files: list[dict[str, Any]]) -> pd.DataFrame:
    """The files table from one dict per file, each column built once in its final dtype."""
    n = len(files)
    data: dict[str, Any] = {}
    for column in FILE_COLUMNS:
        values = [f.get(column) for f in files]
        if column in ("rows", "tests", "warnings") or column.startswith("declared_"):
            mask = np.fromiter((v is None for v in values), dtype=bool, count=n)
            ints = np.fromiter((0 if v is None else v for v in values), dtype=np.int64, count=n)
            data[column] = pd.arrays.IntegerArray(ints, mask)
        else:
            column_values = np.empty(n, dtype=object)
            column_values[:] = values
            data[column] = pd.Series(column_values, dtype=object, copy=False)
    return pd.DataFrame(data, columns=list(FILE_COLUMNS), copy=False)


def _allure_runs(df: pd.DataFrame) -> pd.DataFrame:
    """An ``allure-results`` folder is one run: ``file`` is the folder, retries are numbered.

    Allure adapters write one ``*-result.json`` per execution; the executions
    of one test share its ``historyId``, numbered here by start time.
    """
    mask = (df["format"] == "allure").to_numpy()
    if not mask.any():
        return df
    rows = df.loc[mask]
    folder = rows["file"].map(lambda f: os.path.dirname(str(f)) or ".")
    history = rows["properties"].str.extract(r'"historyId": "([^"]+)"')[0]
    key = history.fillna(rows["test_id"].astype(object))
    order = pd.DataFrame({"folder": folder, "key": key, "start": rows["start"]}).sort_values(
        ["folder", "key", "start"], kind="stable"
    )
    df.loc[order.index, "rerun"] = order.groupby(["folder", "key"]).cumcount().to_numpy()
    df.loc[mask, "file"] = folder.to_numpy()
    return df


def _first_executions(parsed: ParsedTests) -> int:
    """How many tests a file holds: its rows that are a test's first execution (``rerun`` 0)."""
    if parsed.columns is not None:
        return parsed.columns.rerun.count(0)
    return sum(1 for row in parsed.rows if not row.get("rerun"))


def _count_each_run_once(
    df: pd.DataFrame, files: pd.DataFrame, warnings: list[str]
) -> pd.DataFrame:
    """Drop the second copy of a run written twice; fill the files table's ``tests`` and ``same_run_as``.

    Two files are one run when they hold the same pytest node ids and their
    times overlap. With the same ids but no times to compare, both are kept
    and a warning says they may be one run.
    """
    if df.empty:
        return df
    if (files["format"] == "allure").any():  # numbered per folder once all were read
        counts = _distinct_ids_per_file(df)
        files["tests"] = files["path"].map(counts).fillna(0).astype("int64")
    else:
        counts = dict(zip(files["path"], files["tests"].fillna(0), strict=True))
        files["tests"] = files["tests"].fillna(0).astype("int64")
    formats = dict(zip(files["path"], files["format"], strict=True))
    # one run written twice is two files of different formats with as many tests each
    candidates: dict[int, list[str]] = {}
    for path, n in counts.items():
        if n and formats.get(path) in _PYTEST_FORMATS:
            candidates.setdefault(int(n), []).append(str(path))
    candidates = {
        n: paths for n, paths in candidates.items() if len({formats[p] for p in paths}) > 1
    }
    if not candidates:
        return df
    wanted = [p for paths in candidates.values() for p in paths]
    subset = df.loc[df["file"].isin(wanted), ["file", "test_id", "start", "stop"]]
    tests = subset.groupby("file", sort=False, observed=True)["test_id"].agg(frozenset)
    spans = subset.groupby("file", sort=False, observed=True).agg(
        start=("start", "min"), stop=("stop", "max")
    )
    by_ids: dict[frozenset[str], list[str]] = {}
    for path, ids in tests.items():
        if any("::" in i for i in ids):
            by_ids.setdefault(ids, []).append(str(path))
    dropped: set[str] = set()
    for paths in by_ids.values():
        if len(paths) < 2:
            continue
        paths.sort(key=lambda p: _KEEP_ORDER.get(formats[p], 9))
        keep = paths[0]
        for other in paths[1:]:
            if _overlap(spans, keep, other):
                dropped.add(other)
                files.loc[files["path"] == other, "same_run_as"] = keep
                warnings.append(
                    f"{other}: the same run as {keep} ({len(tests[keep])} tests, times overlapping): "
                    f"counted once, from {keep}"
                )
            else:
                warnings.append(
                    f"{other}: the same {len(tests[keep])} tests as {keep}, but their times do not "
                    "show whether it is one run written twice or two runs: both counted"
                )
    if not dropped:
        return df
    return df[~df["file"].isin(dropped)].reset_index(drop=True)


def _distinct_ids_per_file(df: pd.DataFrame) -> dict[str, int]:
    """How many tests each file holds: its rows that are a test's first execution (``rerun`` 0).

    Counting distinct ids over the text instead would cost several times a
    large file's own size in memory.
    """
    first = df.loc[df["rerun"].to_numpy() == 0, "file"]
    return {str(k): int(v) for k, v in first.value_counts(sort=False).items()}


def _overlap(spans: pd.DataFrame, a: str, b: str) -> bool:
    """True when both files' runs have times and the time ranges overlap (within a minute)."""
    slack = pd.Timedelta(minutes=1)
    (a0, a1), (b0, b1) = spans.loc[a, ["start", "stop"]], spans.loc[b, ["start", "stop"]]
    if any(pd.isna(x) for x in (a0, a1, b0, b1)):
        return False
    return bool(a0 - slack <= b1 and b0 - slack <= a1)


def final_executions(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the last execution of each test (highest ``rerun``) per file: one row per test."""
    if df.empty:
        return df
    order = df.sort_values(["file", "test_id", "rerun"], kind="stable")
    return order.drop_duplicates(["file", "test_id", "name", "classname"], keep="last")
