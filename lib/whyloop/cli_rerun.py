"""``whyloop rerun``: rerun a run's failed tests N times and say which are consistent, flaky or fixed.

Wired into :mod:`whyloop.cli` with :func:`add_parser` (the subcommand) and
:func:`run` (its handler). It translates arguments into two library calls,
:func:`~whyloop.probes.rerun.rerun_failures` and
:func:`~whyloop.probes.flaky.classify_reruns`, then prints a table (or
``--json``) and, with a loop, writes the tables ``reruns`` (one row per test
per attempt) and ``rerun_verdicts`` into the store beside the original run.

The exit status is 0 whatever the verdicts (it is an analysis command: a
consistent failure is a finding, not an error of whyloop); a
:class:`~whyloop.errors.WhyloopError` (unreadable results, pytest that cannot
run, no failed test found) is reported by the CLI as one line and exit 1.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["EXAMPLE", "add_parser", "run"]

EXAMPLE = "whyloop rerun results/report-log.jsonl --times 3 -- -x"
_STORE_REF = re.compile(r"^store:([^/]+)/([^/]+)$")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``rerun`` command to ``sub`` (an ``add_subparsers()`` object) and return it.

    Arguments after ``--`` are pytest's: they are split off before argparse
    sees the rest, because argparse cannot put them after a positional
    argument and options reliably (``RESULTS --times 3 -- -x``).
    """
    parser = sub.add_parser(
        "rerun",
        help="rerun the failed tests N times: consistent, flaky or fixed",
        usage="whyloop rerun RESULTS [options] [-- PYTEST_ARGS ...]",
        description=(
            "Rerun the failed tests of an ingested run with pytest, N times, and classify each "
            "failure as consistent (fails every time), flaky (passes on some reruns) or fixed "
            "(passes on every rerun). PYTEST_ARGS after -- go to every run; paths among them "
            "only say where the tests live. Exit status 0 whatever the verdicts."
        ),
        epilog="example: " + EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "results",
        metavar="RESULTS",
        help="a results file or directory, or store:LOOP/ITERATION (its tests table)",
    )
    parser.add_argument("--times", type=int, default=3, help="reruns per test (%(default)s)")
    parser.add_argument(
        "--rootdir",
        metavar="DIR",
        help="the directory the node ids are relative to; pytest runs there (default: cwd)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds per rerun (%(default)s)"
    )
    parser.add_argument("--store", default="data/iterations", help="store root (%(default)s)")
    parser.add_argument(
        "--loop", help="save into this loop (default: the loop of a store:LOOP/ITERATION input)"
    )
    parser.add_argument(
        "--iteration", help="iteration to save beside (default: the input's, else the latest)"
    )
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    parser.set_defaults(pytest_args=[], func=run)
    plain = parser.parse_known_args

    def parse_known_args(
        args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        items = list(args or [])
        extra: list[str] = []
        if "--" in items:
            cut = items.index("--")
            items, extra = items[:cut], items[cut + 1 :]
        parsed, rest = plain(items, namespace)
        parsed.pytest_args = extra
        return parsed, rest

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]
    return parser


def _load(args: argparse.Namespace) -> tuple[pd.DataFrame, str | None, str | None]:
    """The tests frame, and the (loop, iteration) it came from when read from the store."""
    ref = _STORE_REF.match(args.results)
    if ref:
        from whyloop.store import Store

        loop, iteration = ref.groups()
        return Store(args.store).read(loop, iteration, "tests"), loop, iteration
    from whyloop.ingest.tests import read_tests

    return read_tests(args.results), None, None


def _save(
    args: argparse.Namespace, loop: str | None, iteration: str | None, **tables: pd.DataFrame
) -> str | None:
    loop = args.loop or loop
    if not loop:
        return None
    from whyloop.store import Store

    store = Store(args.store)
    if args.iteration:
        iteration = args.iteration
    elif iteration is None or args.loop:
        existing = store.iterations(loop)
        iteration = existing[-1] if existing else "1"
    return str(store.write(loop, iteration, sources=[args.results], **tables))


def _print_table(verdicts: pd.DataFrame) -> None:
    if verdicts.empty:
        print("no failed tests to rerun")
        return
    width = min(max(len(t) for t in verdicts["test_id"]), 90)
    print(f"{'test_id':<{width}}  {'verdict':<10}  passed")
    for row in verdicts.itertuples(index=False):
        fraction = "" if pd.isna(row.pass_fraction) else f" ({row.pass_fraction:.0%})"
        ran = row.passed + row.failed
        print(f"{row.test_id:<{width}}  {row.verdict:<10}  {row.passed}/{ran}{fraction}")
    counts = verdicts["verdict"].value_counts()
    print(", ".join(f"{name} {n}" for name, n in counts.items()))


def run(args: argparse.Namespace) -> int:
    """Run ``whyloop rerun``: load, rerun, classify, print, save. Returns 0."""
    from whyloop.probes.flaky import classify_reruns
    from whyloop.probes.rerun import rerun_failures
    from whyloop.redact import redact_text

    tests, loop, iteration = _load(args)
    attempts = rerun_failures(
        tests,
        times=args.times,
        rootdir=args.rootdir,
        pytest_args=args.pytest_args,
        timeout_s=args.timeout,
    )
    verdicts = classify_reruns(tests, attempts)
    warnings = list(attempts.attrs.get("warnings", []))
    saved = _save(args, loop, iteration, reruns=attempts, rerun_verdicts=verdicts)
    if args.json:
        records = json.loads(verdicts.to_json(orient="records"))
        print(json.dumps({"verdicts": records, "warnings": warnings, "saved_to": saved}))
        return 0
    _print_table(verdicts)
    for warning in warnings[:10]:
        print("warning: " + redact_text(warning))
    if saved:
        print(f"saved: {saved}")
    return 0
