"""The live ``make demo``: one loop of two iterations against the sandbox, with whys and reports.

Iteration 1: the sandbox with ``ws-no-welcome``; e2e, reruns, the WebSocket
probe; saved in the store under a new loop (the next free ``demo-N``); the
five whys drafted (hypotheses only). Then the demo acts as the engineer would,
as ``by="demo"``: it confirms the welcome-stage hypothesis citing the probe,
marks it the root cause and adds a countermeasure verified by the probe's
welcome stage. Report: CONTINUE. Iteration 2: the sandbox without the fault;
the countermeasure verified against it; report: DONE. Each sandbox runs in a
fresh state folder, so each iteration's logs are its own, and is stopped
before the next step.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from whyloop import postmortem, whys
from whyloop.errors import ReportError
from whyloop.report import ReportResult, run_report
from whyloop.report.postmortem import render as render_postmortem
from whyloop.sandbox.demo import live_run, save_run
from whyloop.store import Store

__all__ = ["DEMO_TARGET", "FIRST_FAULTS", "notebook_path", "run_loop"]

FIRST_FAULTS = ("ws-no-welcome",)
DEMO_TARGET = "pass_rate 100% on category WebSocket"
COUNTERMEASURE = "Send the welcome message right after the WebSocket handshake, and probe for it"
_NOTEBOOK = ("notebooks", "iteration_report.ipynb")


def notebook_path() -> Path:
    """The iteration report notebook of the repository this package runs from."""
    path = Path(__file__).resolve().parents[3].joinpath(*_NOTEBOOK)
    if not path.is_file():
        raise ReportError(f"no report notebook at {path}: run the demo from a clone of whyloop")
    return path


def _next_loop(store: Store) -> str:
    taken = [int(m[1]) for name in store.loops() if (m := re.fullmatch(r"demo-(\d+)", name))]
    return f"demo-{max(taken, default=0) + 1}"


def _report(
    loop: str, iteration: str, store_root: Path, whys_root: Path, out_root: Path
) -> ReportResult:
    print(f"writing the report of iteration {iteration} ...", flush=True)
    params: dict[str, Any] = {
        "loop": loop,
        "iteration": iteration,
        "environment": "sandbox",
        "store": str(store_root.resolve()),
        "whys_dir": str(whys_root.resolve()),
        "target": DEMO_TARGET,
    }
    return run_report(
        notebook_path(), params=params, out_root=out_root, loop=loop, iteration=iteration
    )


def _print_iteration(
    store: Store, loop: str, iteration: str, cause: str, rep: ReportResult
) -> None:
    tests = store.read(loop, iteration, "tests")
    failing = tests[tests["outcome"].astype(str).isin(["failed", "error"])]
    rate = (rep.metrics.get("totals") or {}).get("pass_rate")
    rate_text = f"{rate:.1%}" if isinstance(rate, int | float) else "unknown"
    print(f"\niteration {iteration} of loop {loop!r}: pass rate {rate_text}")
    for name in failing["name"]:
        print(f"  failed: {name}")
    print(f"  verdict: {str(rep.metrics.get('status') or 'unknown').upper()}")
    print(f"  {cause}")
    print(f"  report: {rep.html}")
    print(f"  summary: {rep.markdown}")
    if rep.reasons:
        print(f"  ({'; '.join(rep.reasons)})")


def run_loop(
    *,
    store_root: Path,
    loop: str | None = None,
    out_root: Path = Path("reports"),
    workdir: Path | None = None,
) -> int:
    """Run the two-iteration demo loop into ``store_root`` and ``out_root``; 0 when it ended DONE."""
    store = Store(store_root)
    loop = loop or _next_loop(store)
    whys_root = whys.whys_dir(store_root)
    print(f"demo loop {loop!r}: store {store_root}, reports {out_root / loop}", flush=True)
    with tempfile.TemporaryDirectory(prefix="whyloop-demo-") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        print("\n== iteration 1: the sandbox with ws-no-welcome ==", flush=True)
        run = live_run(work / "iteration-1", FIRST_FAULTS)
        first = save_run(store, loop, run, FIRST_FAULTS)[0].name
        analysis = whys.draft(store, loop, first, root=whys_root)
        welcome = next((b for b in analysis.steps() if b.stage == "welcome"), None)
        if welcome is None:
            cause = "cause: none found, no hypothesis names the welcome stage"
        else:
            print("the five whys are drafted; the demo confirms as the engineer would", flush=True)
            welcome.confirm("probe:welcome", by="demo", note="the probe stops at the welcome stage")
            root = welcome.mark(whys.CausalRole.ROOT_CAUSE)
            analysis.add_countermeasure(
                COUNTERMEASURE, addresses=[root.id], owner="demo", probes=["welcome"]
            )
            cause = (
                f"cause: {root.text.split(': ')[0]} (stage welcome; evidence: {_evidence(welcome)})"
            )
        path = analysis.save()
        first_report = _report(loop, first, store_root, whys_root, out_root)
        _print_iteration(store, loop, first, cause, first_report)

        print("\n== iteration 2: the sandbox without the fault ==", flush=True)
        run = live_run(work / "iteration-2", ())
        second = save_run(store, loop, run, ())[0].name
        analysis = whys.load(path)
        checked = whys.verify(analysis, store, loop, second, by="demo")
        if second not in analysis.iterations:
            analysis.iterations.append(second)
        analysis.save(replace=True)
        second_report = _report(loop, second, store_root, whys_root, out_root)
        verified = "; ".join(
            f"countermeasure {r.countermeasure} {'verified' if r.ok else 'NOT verified'}: "
            f"{r.figures}"
            for r in checked
        )
        _print_iteration(store, loop, second, verified or "no countermeasure", second_report)
        written = _postmortem(store, loop, out_root)
    print(f"\nreports:\n  {first_report.out_dir}\n  {second_report.out_dir}\n  {written}")
    done = second_report.metrics.get("status") == "done"
    return 0 if done else 1


def _postmortem(store: Store, loop: str, out_root: Path) -> Path:
    """The loop's postmortem from both iterations and the analysis: saved, checked, rendered."""
    print("\n== the postmortem of the loop ==", flush=True)
    made = postmortem.build(store, loop)
    path = made.save(replace=True)
    errors = [p for p in postmortem.check(made, store) if p.level == postmortem.Level.ERROR]
    print(f"postmortem {path}: {'; '.join(map(str, errors)) if errors else 'its check passes'}")
    if made.trigger is not None:
        print(f"  trigger: {made.trigger.text}")
    for cause in made.root_causes:
        print(f"  root cause {cause.id}: {cause.text.split(': ')[0]}")
    rendered = render_postmortem(path, out_root=out_root, store=store.root)
    return rendered.html.parent


def _evidence(because: whys.Because) -> str:
    refs = dict.fromkeys(e.ref for e in because.evidence if e.ref)
    return ", ".join(list(refs)[:2]) or "a note"
