"""Report batch benchmark: 8 iteration reports on a 2-process pool against the same 8 one after another.

Each report is ``notebooks/iteration_report.ipynb`` on the bundled sample
(25 tests, two services' JSON logs), for a different loop (a service) in
one shared store: what ``whyloop report --batch nightly.yaml --workers 2``
does for eight services. The sequential baseline runs the same eight
reports with :func:`whyloop.report.run_report` in this process, one after
another (no process start-up to pay), then the batch on a local pool of
2 processes (:func:`whyloop.report.run_batch`), in turns, ``ROUNDS`` times,
the best of each kept (other sessions share the CPUs: every round's figures
and the load average are printed to show how noisy it was); and the batch
of 4 reports once, to show how it grows.

Target: the batch of 8 in at most 0.6x the sequential time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from whyloop.report import run_batch, run_report
from whyloop.report.batch import load_batch

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "iteration_report.ipynb"
SAMPLE = ROOT / "lib" / "whyloop" / "sandbox" / "sample"
N_REPORTS = 8
WORKERS = 2
TARGET_RATIO = 0.6
ROUNDS = 2


def _spec(tmp: Path, name: str, n: int) -> dict[str, Any]:
    params = {
        "results": str(SAMPLE / "tests"),
        "logs": str(SAMPLE / "logs" / "*.jsonl"),
        "categories": str(SAMPLE / "categories.yaml"),
        "store": str(tmp / f"store-{name}"),
        "whys_dir": str(tmp / "whys"),
        "environment": "bench",
    }
    return {
        "defaults": {"notebook": str(NOTEBOOK), "out": str(tmp / name), "params": params},
        "reports": [{"loop": f"service{i}"} for i in range(n)],
    }


def _sequential(tmp: Path, name: str) -> float:
    jobs = load_batch(_spec(tmp, name, N_REPORTS))
    start = time.perf_counter()
    for job in jobs:
        result = run_report(
            job.notebook, params=job.params, out_root=job.out, loop=job.loop, fail_under=0
        )
        assert not result.metrics["errors"], result.metrics["errors"]
    return time.perf_counter() - start


def _batch(tmp: Path, name: str, n: int) -> float:
    start = time.perf_counter()
    result = run_batch(_spec(tmp, name, n), workers=WORKERS)
    took = time.perf_counter() - start
    failed = [i.line() for i in result.items if i.result is None or i.result.metrics["errors"]]
    assert not failed, failed
    return took


def main() -> dict[str, Any]:
    """Run the benchmark, print the figures and return them."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    load = os.getloadavg()[0]
    rounds: list[tuple[float, float]] = []
    try:
        for r in range(ROUNDS):
            rounds.append((_sequential(tmp, f"seq{r}"), _batch(tmp, f"pool{r}", N_REPORTS)))
        pool = {N_REPORTS // 2: _batch(tmp, "pool-half", N_REPORTS // 2)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sequential = min(s for s, _ in rounds)
    pool[N_REPORTS] = min(p for _, p in rounds)
    ratio = pool[N_REPORTS] / sequential
    figures = {
        "reports": N_REPORTS,
        "workers": WORKERS,
        "cpus": os.cpu_count(),
        "load_average_before": round(load, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "rounds_sequential_pool_s": [(round(s, 2), round(p, 2)) for s, p in rounds],
        "sequential_s": round(sequential, 2),
        "pool_s": {str(n): round(t, 2) for n, t in pool.items()},
        "pool_vs_sequential": round(ratio, 3),
        "targets_met": {"pool_at_most_0.6x_sequential": ratio <= TARGET_RATIO},
    }
    print(f"Report batch, iteration report on the sample, {WORKERS}-process pool")
    for r, (s, p) in enumerate(rounds, 1):
        print(f"  round {r}: {N_REPORTS} one after another {s:6.2f} s, on the pool {p:6.2f} s")
    print(f"  {N_REPORTS} reports one after another (in process) : {sequential:6.2f} s (best)")
    for n, took in sorted(pool.items()):
        print(f"  {n} reports on the pool                       : {took:6.2f} s")
    print(f"  pool / sequential for {N_REPORTS}: {ratio:.3f} (target <= {TARGET_RATIO})")
    print(
        f"  load average before {figures['load_average_before']}, after "
        f"{figures['load_average_after']} on {figures['cpus']} CPUs (other sessions share them)"
    )
    print(f"  targets met: {figures['targets_met']}")
    return figures


if __name__ == "__main__":
    main()
