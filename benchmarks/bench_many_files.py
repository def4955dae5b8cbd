"""Many small result files: a Maven/Gradle build writes one JUnit file per test class.

For 300, 1,000 and 3,000 Surefire-like files of 10 testcases each (about 5%
failing, 3% skipped), measured best of five turns at 3,000 files (and as many more at the
smaller sizes as keep the total time the same: a 15 ms run is noisy), in turns:

* (a) the baseline: a bare ``defusedxml.ElementTree.parse`` loop over the same files;
* (b) ``whyloop.read_results(folder)``: detection, parse, one typed frame,
  the files table, categories and signatures;
* (c) on (b)'s frame: ``summarize_tests`` plus a filter and a groupby, the
  first things a notebook does.

Targets: (b) within 3x of (a) at every size, so the cost per file stays what
a parse costs as the build grows; (c) under 2 s at 3,000 files (30,000 rows).
``main()`` prints each figure and returns them as a dict.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET

import whyloop
from whyloop.analyze.summary import summarize_tests

SIZES = (300, 1_000, 3_000)
PER_FILE = 10
REPEAT = 5
TARGET_RATIO = 3.0
TARGET_ANALYSIS_S = 2.0


def generate(folder: Path, n_files: int, seed: int = 11) -> None:
    """Write ``n_files`` Surefire-style ``TEST-*.xml`` files of :data:`PER_FILE` cases."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        cls = f"com.example.module{i % 40}.Service{i}Test"
        cases = []
        for j in range(PER_FILE):
            r = rnd.random()
            body = ""
            if r < 0.05:
                body = (
                    f'<failure message="expected 200 but was 500" type="java.lang.AssertionError">'
                    f"java.lang.AssertionError: expected 200 but was 500\n\tat {cls}.test{j}"
                    f"({cls}.java:{40 + j})</failure>"
                )
            elif r < 0.08:
                body = "<skipped/>"
            cases.append(
                f'  <testcase name="test{j}" classname="{cls}" time="0.{rnd.randint(1, 999):03d}">'
                f"{body}</testcase>"
            )
        (folder / f"TEST-{cls}.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuite name="{cls}" tests="{PER_FILE}" failures="0" errors="0" skipped="0" '
            f'time="1.5" timestamp="2026-11-30T10:{i // 60 % 60:02d}:{i % 60:02d}">\n'
            + "\n".join(cases)
            + "\n</testsuite>\n",
            encoding="utf-8",
        )


def _best(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _bare(files: list[Path]) -> int:
    n = 0
    for path in files:
        n += len(DET.parse(path).getroot())
    return n


def _analysis(tests: Any, files: Any) -> int:
    summary = summarize_tests(tests, files)
    failed = tests[tests["outcome"] == "failed"]
    by_class = failed.groupby("classname", observed=True).size()
    return summary["total"] + len(by_class)


def main() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="whyloop-many-") as tmp:
        for n_files in SIZES:
            folder = Path(tmp) / str(n_files)
            generate(folder, n_files)
            files = sorted(folder.glob("*.xml"))
            whyloop.read_results(files[:5])  # first-use costs (imports, regexes) left out
            bare, read, analysis = [], [], []
            results = None
            # as many turns at every size for the same total time: a 15 ms run is noisy
            for _ in range(max(REPEAT, REPEAT * SIZES[-1] // n_files)):
                bare.append(_best(lambda files=files: _bare(files))[0])
                took, results = _best(lambda folder=folder: whyloop.read_results(folder))
                read.append(took)
                analysis.append(_best(lambda r=results: _analysis(r.tests, r.files))[0])
            assert results is not None and len(results.tests) == n_files * PER_FILE
            row = {
                "files": n_files,
                "rows": len(results.tests),
                "bare_parse_s": round(min(bare), 3),
                "read_results_s": round(min(read), 3),
                "ratio": round(min(read) / min(bare), 2),
                "per_file_ms": round(min(read) / n_files * 1000, 3),
                "summarize_filter_groupby_s": round(min(analysis), 3),
            }
            figures[str(n_files)] = row
            print(
                f"{n_files:>5} files, {row['rows']:>6} rows: read_results {row['read_results_s']:.3f} s "
                f"vs bare parse loop {row['bare_parse_s']:.3f} s = {row['ratio']:.2f}x "
                f"(target <= {TARGET_RATIO}x); {row['per_file_ms']:.3f} ms/file; "
                f"summarize+filter+groupby {row['summarize_filter_groupby_s']:.3f} s"
                f" (target < {TARGET_ANALYSIS_S} s)"
            )
    return figures


if __name__ == "__main__":
    main()
