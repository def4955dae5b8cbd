"""Iteration report benchmark: notebooks/iteration_report.ipynb on 1,000 tests and 1,000,000 log lines.

What a user does after a loop iteration: ``whyloop report
notebooks/iteration_report.ipynb -p results junit.xml -p logs app.jsonl -p
store DIR``; the report ingests the results and logs as a new iteration of
the store (templates and findings included), then draws every section and
writes its four outputs. Measured here through :func:`whyloop.report.run_report`
(papermill, the HTML export and metrics.json included), beside the floor:
papermill executing an empty notebook in the same run (a kernel started,
nothing run, shut down).

Inputs, generated once in a scratch folder: a Surefire-like JUnit file of
1,000 testcases (``bench_junit.generate``, 5% failing) and the cached Cloud
Run JSON lines of ``bench_logs`` (1,000,000 lines, ~340 MB), cut to 100,000
lines for the growth row. Each report runs in a fresh store as a second
iteration (the first, from the same inputs, is built untimed), so the trend
and the template diff have an iteration to compare with.

Target: the report's own work (report minus floor) under 20 s at 1,000,000
lines. The slowest cells are printed from the run's progress events.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOTEBOOK = ROOT / "notebooks" / "iteration_report.ipynb"
sys.path.insert(0, str(HERE))

import bench_junit  # noqa: E402
import bench_logs  # noqa: E402
from whyloop.report import run_report  # noqa: E402
from whyloop.report.progress import Progress  # noqa: E402

N_TESTS = 1_000
SIZES = (100_000, 1_000_000)
TARGET_S = 20.0
FLOOR_REPEAT = 3


class CellTimes(Progress):
    """Records when each cell finished, to name the slowest sections."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.cells: list[tuple[int, str, float]] = []

    def report_started(self, key: str, total: int) -> None:
        self.start = time.perf_counter()

    def cell_done(self, key: str, done: int, total: int, section: str) -> None:
        self.cells.append((done, section, time.perf_counter()))

    def slowest(self, n: int = 3) -> list[tuple[str, float]]:
        times, last = [], self.start
        for done, section, at in self.cells:
            times.append((f"cell {done} ({section or 'setup'})", at - last))
            last = at
        return sorted(times, key=lambda t: -t[1])[:n]


def _floor(tmp: Path) -> float:
    """Best time of papermill executing a notebook without cells (kernel start and stop)."""
    import papermill as pm

    empty = tmp / "empty.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, empty)
    best = float("inf")
    for i in range(FLOOR_REPEAT):
        start = time.perf_counter()
        pm.execute_notebook(
            str(empty), str(tmp / f"empty-out-{i}.ipynb"), kernel_name="python3", progress_bar=False
        )
        best = min(best, time.perf_counter() - start)
    return best


def _logs(tmp: Path, n_lines: int) -> Path:
    full = bench_logs.json_file()
    if n_lines >= bench_logs.N_LINES:
        return full
    part = tmp / f"logs-{n_lines}.jsonl"
    with full.open("rb") as src, part.open("wb") as dst:
        for _, line in zip(range(n_lines), src, strict=False):
            dst.write(line)
    return part


def _report(tmp: Path, junit: Path, logs: Path, name: str) -> tuple[float, Any, CellTimes]:
    """The second iteration of a fresh loop: build the first untimed, time the second."""
    store, params = tmp / f"store-{name}", {}
    params = {"results": str(junit), "logs": str(logs), "store": str(store)}
    params |= {"whys_dir": str(tmp / "whys"), "environment": "bench"}
    run_report(NOTEBOOK, params=params, out_root=tmp / "reports", loop=name)
    cells = CellTimes()
    start = time.perf_counter()
    result = run_report(
        NOTEBOOK, params=params, out_root=tmp / "reports", loop=name, progress=cells
    )
    return time.perf_counter() - start, result, cells


def main() -> dict[str, Any]:
    """Run the benchmark, print the figures and return them."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        junit = tmp / "junit.xml"
        failures = bench_junit.generate(junit, n_cases=N_TESTS)
        floor = _floor(tmp)
        rows = []
        for n in SIZES:
            took, result, cells = _report(tmp, junit, _logs(tmp, n), f"logs{n}")
            errors = result.metrics.get("errors") or []
            assert not errors, f"a section failed: {errors}"
            assert result.metrics["totals"]["total"] == N_TESTS, "miscounted"
            rows.append((n, took, cells.slowest()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    own = {n: took - floor for n, took, _ in rows}
    figures: dict[str, Any] = {
        "tests": N_TESTS,
        "failures": failures,
        "floor_empty_notebook_s": round(floor, 2),
        "report_s": {str(n): round(took, 2) for n, took, _ in rows},
        "report_own_work_s": {str(n): round(own[n], 2) for n in own},
        "slowest_cells_1m": [(name, round(s, 2)) for name, s in rows[-1][2]],
        "targets_met": {"own_work_under_20s_at_1m_lines": own[SIZES[-1]] < TARGET_S},
    }
    print(f"Iteration report, {N_TESTS:,} tests ({failures} failing), papermill included")
    print(f"  floor: papermill, empty notebook : {floor:6.2f} s (best of {FLOOR_REPEAT})")
    for n, took, slow in rows:
        print(
            f"  report, {n:>9,} log lines     : {took:6.2f} s  "
            f"(own work {own[n]:5.2f} s beyond the floor)"
        )
        print("      slowest: " + "; ".join(f"{name} {s:.1f} s" for name, s in slow))
    print(f"  target: own work under {TARGET_S:g} s at 1,000,000 lines: {figures['targets_met']}")
    return figures


if __name__ == "__main__":
    main()
