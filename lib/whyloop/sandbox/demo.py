"""``make demo``: the main job end to end against the bundled sandbox.

One turn of the loop (:func:`live_run` + :func:`save_run`): start the sandbox
in a fresh state folder (so its logs are that run's alone), run the
priority-1 e2e suite against it, rerun what failed (flaky or consistent?),
probe the WebSocket stage by stage with every way of sending the token, ask
each service's ``/health`` which revision it runs, stop the sandbox, ingest
the results and the services' logs, derive findings and save it all as an
iteration in the store. The live demo runs two such turns
as one loop, with five whys and a report each (:mod:`.demo_loop`).
``offline=True`` does the ingest-to-findings part from the recorded sample in
``whyloop/sandbox/sample/`` without starting anything, and prints what an
iteration report starts with: pass rates by category, failures grouped by
signature, and the findings with their evidence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd

from whyloop.analyze.findings import Finding, derive_findings, findings_frame, format_findings
from whyloop.analyze.flaky import classify_reruns, failures_to_rerun
from whyloop.analyze.health import health_from_results
from whyloop.analyze.summary import summarize_logs, summarize_tests
from whyloop.ingest.logs.read import read_logs
from whyloop.probes.ws.probe import results_frame
from whyloop.pull import read_tests
from whyloop.results import ProbeResult
from whyloop.sandbox import SAMPLE
from whyloop.store import Store

__all__ = ["DEMO_FAULTS", "LiveRun", "live_run", "run_demo", "save_run"]

#: the faults of the offline sample; the live demo's first iteration has ws-no-welcome alone
DEMO_FAULTS = ("ws-no-welcome", "db-locked")


@dataclass
class LiveRun:
    """What one live turn against the sandbox produced."""

    results: Path
    tests: pd.DataFrame
    logs: list[Path]
    probes: list[ProbeResult] = field(default_factory=list)
    reruns: pd.DataFrame | None = None
    #: the services' health probes (``GET /health``), kept as the iteration's ``health`` table
    health: list[ProbeResult] = field(default_factory=list)
    health_at: datetime | None = None


def _token(auth_url: str) -> str:
    resp = httpx.post(
        f"{auth_url}/auth/login", json={"username": "demo", "password": "demo-password"}, timeout=10
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


def _read_results(path: Path) -> pd.DataFrame:
    return read_tests(path, categories=SAMPLE / "categories.yaml")


def _rerun_line(failed: int) -> str:
    """What the demo says before rerunning: how many tests it reruns, or that none failed."""
    if not failed:
        return "no test failed: nothing to rerun"
    tests = "the failed test" if failed == 1 else f"the {failed} failed tests"
    return f"rerunning {tests} twice: flaky or consistent?"


def live_run(workdir: Path, faults: tuple[str, ...] = DEMO_FAULTS) -> LiveRun:
    """Run the e2e suite, rerun its failures and probe the WebSocket against a fresh sandbox.

    The sandbox's state and logs go to ``workdir/sandbox``, which must be new:
    the logs ingested are this run's alone. Nothing is left running.
    """
    from whyloop.probes import probe_http, probe_ws, rerun_failures
    from whyloop.sandbox import run_e2e, up
    from whyloop.sandbox.runner import E2E_DIR

    results = workdir / "report-log.jsonl"
    print(f"starting the sandbox with faults: {', '.join(faults) or 'none'}", flush=True)
    with up(faults=faults, state_dir=workdir / "sandbox") as box:
        print(f"running the e2e suite against {box.backend_url} ...", flush=True)
        run_e2e(
            backend_url=box.backend_url,
            auth_url=box.auth_url,
            ws_url=box.ws_url,
            report_log=results,
            junitxml=workdir / "junit.xml",
            extra_args=["-q", "--tb=no", "--no-header"],
        )
        tests = _read_results(results)
        print(_rerun_line(len(failures_to_rerun(tests))), flush=True)
        env = {
            "WHYLOOP_BACKEND_URL": box.backend_url,
            "WHYLOOP_AUTH_URL": box.auth_url,
            "WHYLOOP_WS_URL": box.ws_url,
        }
        reruns = rerun_failures(
            tests,
            times=2,
            rootdir=E2E_DIR,
            pytest_args=["-c", os.devnull, "-p", "no:warnings"],
            env=env,
            timeout_s=180,
        )
        print(
            f"probing {box.ws_url} stage by stage, every way of sending the token ...", flush=True
        )
        probe = probe_ws(box.ws_url, token=_token(box.auth_url), auth="auto", timeout=3.0)
        print("asking each service's /health which revision is deployed ...", flush=True)
        health_at = datetime.now(UTC)
        health = [
            probe_http(f"{url}/health", timeout=3.0) for url in (box.auth_url, box.backend_url)
        ]
        logs = sorted(Path(p) for p in box.log_paths.values())
    return LiveRun(results, tests, logs, [probe], reruns, health, health_at)


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


def save_run(
    store: Store, loop: str, run: LiveRun, faults: tuple[str, ...]
) -> tuple[Path, list[Finding], pd.DataFrame | None]:
    """Ingest ``run``'s results and logs, derive findings, save a new iteration of ``loop``.

    Returns the iteration folder, the findings and the rerun verdicts (None without reruns).
    """
    tests = run.tests
    logs = read_logs([str(p) for p in run.logs])
    tables: dict[str, pd.DataFrame] = {"tests": tests, "logs": logs}
    verdicts = None
    if run.reruns is not None:
        verdicts = classify_reruns(tests, run.reruns)
        tables.update(reruns=run.reruns, rerun_verdicts=verdicts)
    if run.probes:
        tables["probes"] = results_frame(run.probes)
    if run.health:
        tables["health"] = health_from_results(run.health, observed_at=run.health_at)
    findings = derive_findings(run.probes, reruns=verdicts, logs=logs, tests=tests)
    tables["findings"] = findings_frame(findings)
    folder = store.write(
        loop,
        sources=[str(run.results), *map(str, run.logs)],
        meta={"faults": list(faults)},
        **tables,
    )
    return folder, findings, verdicts


def run_demo(
    *,
    store_root: Path,
    offline: bool = False,
    loop: str | None = None,
    out_root: Path = Path("reports"),
    workdir: Path | None = None,
) -> int:
    """The demo: two live iterations with whys and reports, or one offline from the sample.

    Live, ``loop`` defaults to the next free ``demo-N`` of the store and the
    reports go to ``out_root/<loop>/iteration-NNN``; ``workdir`` (default: a
    temporary folder, removed) holds the sandboxes' state and logs.
    Offline, ``loop`` defaults to ``demo`` and nothing is reported.
    """
    if not offline:
        from whyloop.sandbox.demo_loop import run_loop

        return run_loop(store_root=store_root, loop=loop, out_root=out_root, workdir=workdir)
    loop = loop or "demo"
    results = SAMPLE / "tests"
    run = LiveRun(results, _read_results(results), sorted((SAMPLE / "logs").glob("*.jsonl")))
    store = Store(store_root)
    folder, findings, _ = save_run(store, loop, run, ())
    tables = store.manifest(loop, folder.name)["tables"]
    print(f"\nsaved iteration {folder.name} of loop {loop!r} in {folder}: {', '.join(tables)}")
    _print(store.read(loop, folder.name, "tests"), store.read(loop, folder.name, "logs"), findings)
    return 0
