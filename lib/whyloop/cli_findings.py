"""``whyloop findings``: explain a stored iteration's failures with the findings rules.

Reads the iteration's ``tests``, ``logs`` and (when present) ``rerun_verdicts``
tables from the store, runs :func:`whyloop.probes.derive_findings`, prints the
findings and saves them as the iteration's ``findings`` table.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from whyloop.errors import StoreError
from whyloop.probes.findings import Finding, derive_findings, findings_frame
from whyloop.store import Store

__all__ = ["EXAMPLE", "add_parser", "print_findings", "run"]

EXAMPLE = "whyloop findings --loop staging --iteration 12"


def add_parser(sub: Any) -> None:
    """Add the ``findings`` command to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser(
        "findings",
        help="explain a stored iteration's failures: stage, cause, evidence",
        epilog="example: " + EXAMPLE,
    )
    p.add_argument("--loop", required=True, help="the loop in the store")
    p.add_argument("--iteration", help="the iteration (default: the latest)")
    p.add_argument("--store", default="data/iterations", help="store root (%(default)s)")
    p.add_argument("--json", action="store_true", help="print the findings as a JSON list")


def _table(store: Store, loop: str, iteration: str, name: str) -> Any:
    try:
        return store.read(loop, iteration, name)
    except StoreError:
        return None


def print_findings(findings: list[Finding]) -> None:
    """Print findings for a person: stage, cause, the tests they explain, evidence."""
    if not findings:
        print("no findings: nothing failed, or no rule explains what did")
    for n, f in enumerate(findings, 1):
        d = f.to_dict()
        print(f"\n{n}. [{d['confidence']}] stage {d['stage'] or '-'}: {d['likely_cause']}")
        print(f"   seen: {d['observation']}")
        if d["affected_tests"]:
            tests = d["affected_tests"]
            more = f", and {len(tests) - 6} more" if len(tests) > 6 else ""
            print(f"   explains {len(tests)} failed tests: {', '.join(tests[:6])}{more}")
        for line in d["evidence"][:6]:
            print(f"   - {line[:160]}")


def run(args: argparse.Namespace) -> int:
    """Derive, print and save the findings; 0 unless a whyloop error."""
    store = Store(args.store)
    iterations = store.iterations(args.loop)
    if not iterations:
        raise StoreError(f"loop {args.loop!r} has no iterations", path=args.store)
    iteration = args.iteration or iterations[-1]
    tests = store.read(args.loop, iteration, "tests")
    findings = derive_findings(
        tests=tests,
        logs=_table(store, args.loop, iteration, "logs"),
        reruns=_table(store, args.loop, iteration, "rerun_verdicts"),
    )
    store.write(args.loop, iteration, findings=findings_frame(findings))
    if args.json:
        print(json.dumps([f.to_dict() for f in findings]))
    else:
        print(f"iteration {iteration} of loop {args.loop!r}: {len(findings)} findings")
        print_findings(findings)
    return 0
