"""JUnit ingest benchmark: ``parse_junit`` and ``read_tests`` against a bare iterparse loop.

Generates a 100,000-testcase Surefire-like JUnit file (2,000 suites of 50
cases, ~5% failures with a 12-frame Java stack trace and captured output) in a
temporary directory, then measures, best of three, run in turns so a change of
machine load hits all alike:

* (a) the baseline: a bare ``defusedxml.ElementTree.iterparse`` loop that only
  counts ``<testcase>`` end events and clears each element;
* (b) ``parse_junit`` to a ``ParsedTests`` (columns: outcomes, reruns, implied
  start/stop times, everything);
* (c) end to end, ``whyloop.read_tests(file)``: detection, parse, the typed
  DataFrame, categories and signatures;
* (d) the peak memory of (c): the peak resident set size (RSS, so Arrow's
  buffers count too, which ``tracemalloc`` does not see) of a fresh child
  process reading the file, minus its RSS just before, after importing whyloop
  and reading a 50-testcase file once (import and first-use costs left out);
* the peak traced Python memory (``tracemalloc``) of (b), for reference.

Targets: (c) at least 100,000 testcases/s and (d) under 3x the file size; (b)
no slower than (a) by more than ~15%. ``parse_junit`` reads with the
C-accelerated parser after defusedxml has vetted the prolog (see
``whyloop/ingest/xmlsafe.py``), which is why it can keep up with a loop that
does nothing. ``main()`` prints each figure and returns them as a dict.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET

import whyloop
from whyloop.ingest.tests.junit import parse_junit

N_CASES = 100_000
PER_SUITE = 50
FAIL_RATE = 0.05
REPEAT = 3
TARGET_RATE = 100_000
TARGET_MEMORY = 3.0  # peak RSS increase of read_tests, in file sizes


def generate(path: Path, n_cases: int = N_CASES, seed: int = 7) -> int:
    """Write a Surefire-like aggregated report with ``n_cases`` testcases; return failures."""
    rnd = random.Random(seed)
    failures = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
        for s in range(n_cases // PER_SUITE):
            cls = f"com.example.module{s % 37}.Service{s}Test"
            short = cls.rsplit(".", 1)[1]
            out.write(
                f'<testsuite name="{cls}" tests="{PER_SUITE}" failures="?" errors="0" '
                f'skipped="0" time="{PER_SUITE * 0.05:.3f}" timestamp="2026-01-02T03:04:05">\n'
                '  <properties><property name="java.version" value="21"/>'
                '<property name="os.name" value="Linux"/></properties>\n'
            )
            for i in range(PER_SUITE):
                took = rnd.random() / 10
                if rnd.random() < FAIL_RATE:
                    failures += 1
                    frames = "\n".join(
                        f"\tat {cls}.step{k}({short}.java:{rnd.randint(1, 400)})" for k in range(12)
                    )
                    out.write(
                        f'  <testcase name="test{i}" classname="{cls}" time="{took:.3f}">\n'
                        '    <failure message="expected:&lt;1&gt; but was:&lt;2&gt;" '
                        'type="org.opentest4j.AssertionFailedError">'
                        "org.opentest4j.AssertionFailedError: expected:&lt;1&gt; but was:&lt;2&gt;\n"
                        f"{frames}\n</failure>\n"
                        f"    <system-out><![CDATA[connecting to db\nrequest {i} took 12ms\n]]>"
                        "</system-out>\n  </testcase>\n"
                    )
                else:
                    out.write(f'  <testcase name="test{i}" classname="{cls}" time="{took:.3f}"/>\n')
            out.write("</testsuite>\n")
        out.write("</testsuites>\n")
    return failures


def _bare(path: Path) -> int:
    count = 0
    for _, el in DET.iterparse(str(path), forbid_dtd=False, forbid_entities=True):
        if el.tag == "testcase":
            count += 1
            el.clear()
    return count


def _parse(path: Path) -> Any:
    with path.open("rb") as stream:
        return parse_junit(stream, path.name)


def _best_interleaved(*fns: Callable[[], Any]) -> list[tuple[float, Any]]:
    """Best of ``REPEAT`` (time, result) for each function, run in turns."""
    best: list[tuple[float, Any]] = [(float("inf"), None)] * len(fns)
    for _ in range(REPEAT):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            result = fn()
            took = time.perf_counter() - t0
            if took < best[i][0]:
                best[i] = (took, result)
            del result
    return best


_PEAK_CHILD = """
import json, resource, sys
import whyloop

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith(key + ":")) * 1024

whyloop.read_tests(sys.argv[2])  # first use: lazy imports and allocator set-up
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM (the peak) to the current RSS
    before, peak = status("VmRSS"), lambda: status("VmHWM")
except OSError:  # not Linux: ru_maxrss (it may include the parent's, so an overestimate)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
df = whyloop.read_tests(sys.argv[1])
print(json.dumps({"rows": len(df), "before": before, "peak": peak()}))
"""


def _peak_increase(path: Path, warm_up: Path) -> tuple[int, int]:
    """(peak RSS increase in bytes, rows) of ``read_tests(path)`` in a fresh child process."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, str(path), str(warm_up)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(out.stdout)
    return figures["peak"] - figures["before"], figures["rows"]


def main() -> dict[str, Any]:
    """Run the benchmark, print the figures and return them."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "surefire-100k.xml"
        failures = generate(path)
        warm_up = Path(tmp) / "surefire-50.xml"
        generate(warm_up, n_cases=PER_SUITE)
        size = path.stat().st_size
        (t_bare, n_bare), (t_parse, parsed), (t_read, df) = _best_interleaved(
            lambda: _bare(path), lambda: _parse(path), lambda: whyloop.read_tests(path)
        )
        n_rows, n_failed = parsed.n_rows, int((df["outcome"] == "failed").sum())
        del parsed, df
        tracemalloc.start()
        kept = _parse(path)
        parsed_bytes, traced_peak = tracemalloc.get_traced_memory()  # "current": what it returns
        tracemalloc.stop()
        del kept
        rss_increase, rss_rows = _peak_increase(path, warm_up)
    assert n_bare == n_rows == rss_rows == N_CASES and n_failed == failures, "miscounted"
    figures = {
        "testcases": N_CASES,
        "file_mb": round(size / 1e6, 2),
        "bare_iterparse_per_s": round(N_CASES / t_bare),
        "parse_junit_per_s": round(N_CASES / t_parse),
        "read_tests_per_s": round(N_CASES / t_read),
        "parse_junit_vs_bare": round(t_bare / t_parse, 2),
        "read_tests_vs_bare": round(t_bare / t_read, 2),
        "read_tests_peak_rss_increase_mb": round(rss_increase / 1e6, 1),
        "read_tests_peak_rss_vs_file": round(rss_increase / size, 2),
        "parse_junit_traced_peak_mb": round(traced_peak / 1e6, 1),
        "parse_junit_result_traced_mb": round(parsed_bytes / 1e6, 1),
        "targets_met": {
            "read_tests_100k_per_s": N_CASES / t_read >= TARGET_RATE,
            "read_tests_peak_under_3x_file": rss_increase < TARGET_MEMORY * size,
            "parse_junit_within_15pct_of_bare": t_parse <= t_bare * 1.15,
        },
    }
    f = figures
    print(f"JUnit ingest, {N_CASES:,} testcases ({f['file_mb']} MB, {failures:,} failures)")
    print(f"  (a) bare defusedxml iterparse  : {f['bare_iterparse_per_s']:>10,} testcases/s")
    print(
        f"  (b) parse_junit -> ParsedTests : {f['parse_junit_per_s']:>10,} testcases/s"
        f"  ({f['parse_junit_vs_bare']}x the speed of (a))"
    )
    print(
        f"  (c) read_tests -> DataFrame    : {f['read_tests_per_s']:>10,} testcases/s"
        f"  ({f['read_tests_vs_bare']}x the speed of (a); target >= {TARGET_RATE:,}/s)"
    )
    print(
        f"  (d) peak RSS increase of (c)   : {f['read_tests_peak_rss_increase_mb']:>10} MB"
        f"  ({f['read_tests_peak_rss_vs_file']}x the file; target < {TARGET_MEMORY:g}x)"
    )
    print(
        f"      traced Python peak of (b)  : {f['parse_junit_traced_peak_mb']:>10} MB"
        f"  ({f['parse_junit_result_traced_mb']} MB of it the columns returned)"
    )
    print(f"  targets met: {f['targets_met']}")
    return figures


if __name__ == "__main__":
    main()
