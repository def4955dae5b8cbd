"""``make demo``: the main job end to end against the bundled sandbox.

One turn of the loop: start the sandbox with two faults switched on, run the
priority-1 e2e suite against it, stop it, ingest the suite's results and the
services' logs, save them as an iteration in the store, read them back and
print what an iteration report starts with: pass rates by category, failures
grouped by signature, and the error log lines beside them. ``offline=True``
does the same from the recorded sample in ``data/sample/`` without starting
anything.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from whyloop.ingest.log_summary import summarize_logs
from whyloop.ingest.logs import read_logs
from whyloop.ingest.tests import read_tests, summarize_tests
from whyloop.store import Store

__all__ = ["DEMO_FAULTS", "SAMPLE", "run_demo"]

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
DEMO_FAULTS = ("ws-no-welcome", "db-locked")


def _live_run(workdir: Path) -> tuple[Path, list[Path]]:
    """Run the e2e suite against a fresh sandbox; return (results file, log files)."""
    from whyloop.sandbox import run_e2e, up

    results = workdir / "report-log.jsonl"
    print(f"starting the sandbox with faults: {', '.join(DEMO_FAULTS)}", flush=True)
    with up(faults=DEMO_FAULTS, state_dir=workdir / "sandbox") as box:
        print(f"running the e2e suite against {box.backend_url} ...", flush=True)
        run_e2e(
            backend_url=box.backend_url,
            auth_url=box.auth_url,
            ws_url=box.ws_url,
            report_log=results,
            junitxml=workdir / "junit.xml",
            extra_args=["-q", "--tb=no", "--no-header"],
        )
        logs = sorted(Path(p) for p in box.log_paths.values())
    return results, logs


def _print(tests: pd.DataFrame, logs: pd.DataFrame) -> None:
    summary = summarize_tests(tests)
    rate = summary["pass_rate"] or 0.0
    print(
        f"\n{summary['total']} tests: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['errors']} errors, {summary['skipped']} skipped; pass rate {rate:.1%}"
    )
    print("\nby category:")
    for name, c in summary["by_category"].items():
        print(f"  {name:<32} {c['passed']:>3}/{c['total']:<3}")
    failing = tests[tests["outcome"].isin(["failed", "error"])]
    if len(failing):
        print("\nfailures grouped by signature:")
        groups = failing.groupby("signature_text", sort=False)["name"].agg(list)
        for text, names in groups.items():
            print(f"  {len(names)} x {text[:110]}")
            for name in names:
                print(f"      {name}")
    log_summary = summarize_logs(logs)
    print(
        f"\n{log_summary['rows']} log records from {', '.join(log_summary['by_service'])}: "
        + ", ".join(f"{k} {v}" for k, v in log_summary["by_level"].items())
    )
    bad = logs[logs["level"].isin(["ERROR", "CRITICAL"])]
    if len(bad):
        print("error lines (first 8):")
        for row in bad.head(8).itertuples():
            print(f"  {row.timestamp:%H:%M:%S} {row.level:<8} {row.service:<8} {row.message}"[:150])


def run_demo(*, store_root: Path, offline: bool = False, loop: str = "demo") -> int:
    """Run one loop iteration (live against the sandbox, or from the sample) and print it."""
    with tempfile.TemporaryDirectory(prefix="whyloop-demo-") as tmp:
        if offline:
            results, log_files = SAMPLE / "tests", sorted((SAMPLE / "logs").glob("*.jsonl"))
        else:
            results, log_files = _live_run(Path(tmp))
        tests = read_tests(results, categories=SAMPLE / "categories.yaml")
        logs = read_logs([str(p) for p in log_files])
        store = Store(store_root)
        folder = store.write(
            loop,
            sources=[str(results), *map(str, log_files)],
            meta={"faults": [] if offline else list(DEMO_FAULTS)},
            tests=tests,
            logs=logs,
        )
    print(f"\nsaved iteration {folder.name} of loop {loop!r} in {folder}")
    _print(store.read(loop, folder.name, "tests"), store.read(loop, folder.name, "logs"))
    return 0
