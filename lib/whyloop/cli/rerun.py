"""``whyloop rerun``: rerun a run's failed tests N times and say which are consistent, flaky or fixed.

It reads the run (:meth:`whyloop.store.Store.read_ref` for a
``store:LOOP/ITERATION`` input, else :func:`whyloop.read_tests`), reruns with
:func:`~whyloop.probes.rerun.rerun_failures`, classifies with
:func:`~whyloop.analyze.flaky.classify_reruns`, then prints a table (or
``--json``) and, with a loop, writes the tables ``reruns`` (one row per test
per attempt) and ``rerun_verdicts`` into the store beside the original run
(:meth:`~whyloop.store.Store.target_iteration`). An iteration that already
holds them (a second rerun of one run) is refused before pytest runs, unless
``--replace``.

The exit status is 0 whatever the verdicts (it is an analysis command: a
consistent failure is a finding, not an error of whyloop); a
:class:`~whyloop.errors.WhyloopError` (unreadable results, pytest that cannot
run, no failed test found) is reported by the CLI as one line and exit 1.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from whyloop.cli.options import add_command, add_json, add_loop, add_replace, add_store

if TYPE_CHECKING:
    from whyloop.store import Store

__all__ = ["EXAMPLE", "register", "run"]

EXAMPLE = "whyloop rerun results/report-log.jsonl --times 3 -- -x"
#: the tables a rerun writes beside the run
TABLES = ("reruns", "rerun_verdicts")


def register(commands: Any) -> argparse.ArgumentParser:
    """Add ``rerun`` to ``commands`` (the top-level subparsers) and return its parser.

    Arguments after ``--`` are pytest's: they are split off before argparse
    sees the rest, because argparse cannot put them after a positional
    argument and options reliably (``RESULTS --times 3 -- -x``).
    """
    parser = add_command(
        commands,
        "rerun",
        help="rerun the failed tests N times: consistent, flaky or fixed",
        usage="whyloop rerun RESULTS [options] [-- PYTEST_ARGS ...]",
        description=(
            "Rerun the failed tests of an ingested run with pytest, N times, and classify each "
            "failure as consistent (fails every time), flaky (passes on some reruns) or fixed "
            "(passes on every rerun). PYTEST_ARGS after -- go to every run; paths among them "
            "only say where the tests live. Exit status 0 whatever the verdicts."
        ),
        example=EXAMPLE,
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
    add_store(parser)
    add_loop(
        parser,
        loop_help="save into this loop (default: the loop of a store:LOOP/ITERATION input)",
        iteration_help="iteration to save beside (default: the input's, else the latest)",
    )
    add_replace(parser)
    add_json(parser, "the verdicts as JSON")
    parser.set_defaults(pytest_args=[], run=run, renamed={"timeout_s": "--timeout"})
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


def _target(
    args: argparse.Namespace, store: Store, loop: str | None, iteration: str | None
) -> tuple[str, str] | None:
    """Where the tables go, checked before the reruns: ``(loop, iteration)``, or None.

    ``--loop`` (or the input's loop) and ``--iteration`` (or the input's, or the
    latest): an explicit ``--loop`` means "the latest of that loop", not the
    input's iteration. Without ``--replace``, an iteration that already holds
    rerun tables is refused now, before pytest runs, not after.
    """
    loop = args.loop or loop
    if not loop:
        return None
    target = store.target_iteration(loop, args.iteration or (None if args.loop else iteration))
    if not args.replace:
        store.check_free(loop, target, *TABLES)
    return loop, target


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
    from whyloop.analyze.flaky import classify_reruns
    from whyloop.probes.rerun import rerun_failures
    from whyloop.pull import read_tests
    from whyloop.redact import redact_text
    from whyloop.store import Store

    store = Store(args.store)
    stored = store.read_ref(args.results, "tests")
    tests, loop, iteration = stored or (read_tests(args.results), None, None)
    target = _target(args, store, loop, iteration)
    attempts = rerun_failures(
        tests,
        times=args.times,
        rootdir=args.rootdir,
        pytest_args=args.pytest_args,
        timeout_s=args.timeout,
    )
    verdicts = classify_reruns(tests, attempts)
    warnings = list(attempts.attrs.get("warnings", []))
    saved = None
    if target is not None:
        tables = {"reruns": attempts, "rerun_verdicts": verdicts}
        folder = store.write(*target, sources=[args.results], replace=args.replace, **tables)
        saved = str(folder)
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
