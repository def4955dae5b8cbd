"""Read test result files: each file's format detected from its content, rows in one frame.

Formats: JUnit dialects, NUnit, xUnit.net, TRX, pytest report-log and
json-report. Rows come out in the canonical columns of
:data:`whyloop.schema.TEST_COLUMNS` minus the labels that analysis adds
(``category``, ``category_rule``, ``signature``, ``signature_text``);
:func:`whyloop.read_tests` reads and labels in one call.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from whyloop.errors import IngestError
from whyloop.ingest.tests.frame import empty_frame, to_frame
from whyloop.redact import redact_frame, redact_text

__all__ = ["LABEL_COLUMNS", "expand_paths", "final_executions", "read_test_files"]

RESULT_SUFFIXES = (".xml", ".json", ".jsonl", ".trx", ".gz", ".log")
#: columns of the tests frame that analysis fills, not the parsers
LABEL_COLUMNS = ("category", "category_rule", "signature", "signature_text")


def expand_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files, directories (searched recursively for result files) and globs, in order.

    Raises IngestError for a path or glob that names nothing.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[Path] = []
    for item in paths:
        text = os.fspath(item)
        if any(ch in text for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not found:
                raise IngestError("glob matched no files", path=text)
            out.extend(found)
        elif Path(text).is_dir():
            found = sorted(
                p
                for p in Path(text).rglob("*")
                if p.is_file() and p.suffix.lower() in RESULT_SUFFIXES
            )
            if not found:
                raise IngestError("directory holds no result files", path=text)
            out.extend(found)
        elif Path(text).is_file():
            out.append(Path(text))
        else:
            raise IngestError("no such file", path=text)
    return list(dict.fromkeys(out))


def read_test_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    errors: str = "raise",
) -> pd.DataFrame:
    """Read test result files into one frame, one row per test case execution, secrets redacted.

    ``paths`` may mix files, directories and globs. A file that cannot be read
    at all raises :class:`IngestError`, or, with ``errors="warn"``, is listed
    in ``df.attrs["warnings"]`` while the other files are kept. Problems with
    single records are always warnings. ``df.attrs["files"]`` lists each file
    read (path, format, rows, declared counts).
    """
    from whyloop.ingest.tests.detect import read_test_file

    if errors not in ("raise", "warn"):
        raise ValueError("errors must be 'raise' or 'warn'")
    frames: list[pd.DataFrame] = []
    warnings: list[str] = []
    files: list[dict[str, Any]] = []
    for path in expand_paths(paths):
        try:
            parsed = read_test_file(path)
        except IngestError as exc:
            exc.at(str(path))
            if errors == "raise":
                raise
            warnings.append(str(exc))
            files.append({"path": str(path), "format": None, "rows": 0, "error": str(exc)})
            continue
        frames.append(to_frame(parsed, str(path)))
        warnings.extend(redact_text(w) for w in parsed.warnings)
        files.append(
            {
                "path": str(path),
                "format": parsed.format.value,
                "rows": parsed.n_rows,
                "declared": {k: v for k, v in vars(parsed.declared).items() if v is not None},
                "warnings": len(parsed.warnings),
            }
        )
    if frames:
        df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    else:
        df = empty_frame()
    # results carry what the tests printed: tokens and auth headers among it
    df = redact_frame(df, ["message", "details", "stdout", "stderr", "properties"])
    df.attrs["warnings"] = warnings
    df.attrs["files"] = files
    return df


def final_executions(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the last execution of each test (highest ``rerun``) per file: one row per test."""
    if df.empty:
        return df
    order = df.sort_values(["file", "test_id", "rerun"], kind="stable")
    return order.drop_duplicates(["file", "test_id", "name", "classname"], keep="last")
