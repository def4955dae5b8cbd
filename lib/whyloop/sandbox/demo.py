"""``make demo``: the main job end to end against the bundled sandbox.

One turn of the loop: start the sandbox with two faults switched on, run the
priority-1 e2e suite against it, rerun what failed (flaky or consistent?),
probe the WebSocket stage by stage with every way of sending the token, stop
the sandbox, ingest the results and the services' logs, derive findings, save
it all as an iteration in the store, read it back and print what an iteration
report starts with: pass rates by category, failures grouped by signature, and
the findings with their evidence. ``offline=True`` does the ingest-to-findings
part from the recorded sample in ``whyloop/sandbox/sample/`` without starting anything.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pandas as pd

from whyloop.analyze.findings import Finding, derive_findings, findings_frame, format_findings
from whyloop.analyze.flaky import classify_reruns
from whyloop.analyze.summary import summarize_logs, summarize_tests
from whyloop.ingest.logs.read import read_logs
from whyloop.probes.ws.probe import results_frame
from whyloop.pull import read_tests
from whyloop.results import ProbeResult
from whyloop.sandbox import SAMPLE
from whyloop.store import Store

__all__ = ["DEMO_FAULTS", "run_demo"]

DEMO_FAULTS = ("ws-no-welcome", "db-locked")


@dataclass
class LiveRun:
    """What one live turn against the sandbox produced."""

    results: Path
    tests: pd.DataFrame
    logs: list[Path]
    probes: list[ProbeResult] = field(default_factory=list)
    reruns: pd.DataFrame | None = None


def _token(auth_url: str) -> str:
    resp = httpx.post(
        f"{auth_url}/auth/login", json={"username": "demo", "password": "demo-password"}, timeout=10
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


def _read_results(path: Path) -> pd.DataFrame:
    return read_tests(path, categories=SAMPLE / "categories.yaml")


def _live_run(workdir: Path) -> LiveRun:
    """Run the e2e suite, rerun its failures and probe the WebSocket against a fresh sandbox."""
    from whyloop.probes import probe_ws, rerun_failures
    from whyloop.sandbox import run_e2e, up
    from whyloop.sandbox.runner import E2E_DIR

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
        print("rerunning the failed tests twice: flaky or consistent?", flush=True)
        env = {
            "WHYLOOP_BACKEND_URL": box.backend_url,
            "WHYLOOP_AUTH_URL": box.auth_url,
            "WHYLOOP_WS_URL": box.ws_url,
        }
        tests = _read_results(results)
        reruns = rerun_failures(
            tests,
            times=2,
            rootdir=E2E_DIR,
            pytest_args=["-c", os.devnull, "-p", "no:warnings"],
            env=env,
            timeout_s=180,
        )
        print(f"probing {box.ws_url} stage by stage, every way of sending the token ...")
        probe = probe_ws(box.ws_url, token=_token(box.auth_url), auth="auto", timeout=3.0)
        logs = sorted(Path(p) for p in box.log_paths.values())
    return LiveRun(results, tests, logs, [probe], reruns)


def _print(tests: pd.DataFrame, logs: pd.DataFrame, findings: list[Finding]) -> None:
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
    print("\nfindings (stage, likely cause, evidence):")
    print(format_findings(findings))


def run_demo(*, store_root: Path, offline: bool = False, loop: str = "demo") -> int:
    """Run one loop iteration (live against the sandbox, or from the sample) and print it."""
    with tempfile.TemporaryDirectory(prefix="whyloop-demo-") as tmp:
        if offline:
            results = SAMPLE / "tests"
            run = LiveRun(
                results, _read_results(results), sorted((SAMPLE / "logs").glob("*.jsonl"))
            )
        else:
            run = _live_run(Path(tmp))
        tests = run.tests
        logs = read_logs([str(p) for p in run.logs])
        tables: dict[str, pd.DataFrame] = {"tests": tests, "logs": logs}
        verdicts = None
        if run.reruns is not None:
            verdicts = classify_reruns(tests, run.reruns)
            tables.update(reruns=run.reruns, rerun_verdicts=verdicts)
        if run.probes:
            tables["probes"] = results_frame(run.probes)
        findings = derive_findings(run.probes, reruns=verdicts, logs=logs, tests=tests)
        tables["findings"] = findings_frame(findings)
        store = Store(store_root)
        folder = store.write(
            loop,
            sources=[str(run.results), *map(str, run.logs)],
            meta={"faults": [] if offline else list(DEMO_FAULTS)},
            **tables,
        )
    print(f"\nsaved iteration {folder.name} of loop {loop!r} in {folder}: {', '.join(tables)}")
    _print(store.read(loop, folder.name, "tests"), store.read(loop, folder.name, "logs"), findings)
    if verdicts is not None and len(verdicts):
        counts = verdicts["verdict"].astype(str).value_counts().to_dict()
        print("\nreruns: " + ", ".join(f"{v} {n}" for v, n in counts.items()))
    return 0
