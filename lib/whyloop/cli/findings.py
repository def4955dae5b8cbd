"""``whyloop findings``: explain a stored iteration's failures with the findings rules.

One call to :func:`whyloop.analyze.findings.explain_iteration`, which reads the
iteration's ``tests``, ``logs`` and (when present) ``rerun_verdicts`` tables,
derives the findings and saves them as its ``findings`` table; the command
prints them with :func:`~whyloop.analyze.findings.format_findings` (or ``--json``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from whyloop.cli.options import add_command, add_json, add_loop, add_store

__all__ = ["EXAMPLE", "register"]

EXAMPLE = "whyloop findings --loop staging --iteration 12"


def register(commands: Any) -> None:
    """Add ``findings`` to ``commands`` (the top-level subparsers)."""
    parser = add_command(
        commands,
        "findings",
        help="explain a stored iteration's failures: stage, cause, evidence",
        example=EXAMPLE,
    )
    add_loop(
        parser,
        required=True,
        loop_help="the loop in the store",
        iteration_help="the iteration (default: the latest)",
    )
    add_store(parser)
    add_json(parser, "the findings as a JSON list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """``whyloop findings``: derive, save and print the findings; 0 unless a whyloop error."""
    from whyloop.analyze.findings import explain_iteration, format_findings
    from whyloop.store import Store

    iteration, findings = explain_iteration(Store(args.store), args.loop, args.iteration)
    if args.json:
        print(json.dumps([f.to_dict() for f in findings]))
        return 0
    print(f"iteration {iteration} of loop {args.loop!r}: {len(findings)} findings")
    if findings:
        print()
    print(format_findings(findings))
    return 0
