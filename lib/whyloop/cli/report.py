"""``whyloop report``: run a report notebook into ``reports/<loop>/iteration-NNN/``, or a batch of them.

One library call, :func:`whyloop.report.run_report`; then the paths and a
summary line. ``--help-params NOTEBOOK`` lists the notebook's parameters
instead (:func:`whyloop.report.params.describe_params`). ``--batch FILE``
runs every report a batch file lists (:func:`whyloop.report.run_batch`) on
a local process pool (``--workers``) or a Dask cluster (``--scheduler``).
Progress goes to stderr: bars on a terminal, plain lines every few seconds
otherwise. The exit status is the report's own: 0, or 1 when a section
failed or the pass rate is under ``--fail-under`` (else the loop's target in
the metrics), so a CI pipeline can gate on it; in a batch, 1 when any report
failed or was gated. An unknown parameter is exit 2.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from whyloop.cli.options import add_command, bad_argument

__all__ = ["EXAMPLE", "EXAMPLE_BATCH", "register", "run"]

EXAMPLE = (
    "whyloop report notebooks/iteration_report.ipynb --loop staging --iteration 3 "
    "-p target 'pass_rate 95%'"
)
EXAMPLE_BATCH = "whyloop report --batch nightly.yaml --workers 2"
BATCH_FILE = """\
batch file (YAML; notebook and out relative to the file, params as the notebook reads them):
  defaults: {notebook: ../notebooks/iteration_report.ipynb, out: ../reports,
             params: {store: ../data/iterations}, cell_timeout: 600, fail_under: 95}
  reports:
    - {loop: checkout, iteration: 3, params: {results: ../ci/checkout}}
    - {loop: auth, params: {results: ../ci/auth, environment: eu}}
  each report takes: notebook, loop, iteration, params, out, cell_timeout, fail_under
"""
#: options that say which single report to run, refused beside --batch
_SINGLE = {"param": "-p", "params": "--params", "loop": "--loop", "iteration": "--iteration"}


def register(commands: Any) -> argparse.ArgumentParser:
    """Add ``report`` to ``commands`` (the top-level subparsers) and return its parser."""
    parser = add_command(
        commands,
        "report",
        help="run a report notebook: executed notebook, HTML page, Markdown summary, metrics.json",
        description=textwrap.fill(
            "Execute NOTEBOOK with papermill into OUT/LOOP/iteration-NNN/: the executed notebook, "
            "one HTML page without code, summary.md and metrics.json. A section that fails, hangs "
            "past --cell-timeout or kills its kernel is shown in its place; the rest is still "
            "produced. Exit status 1 when a section failed or the pass rate is under --fail-under "
            "(else the loop's target). With --batch FILE, every report the file lists, on a local "
            "pool of processes or a Dask cluster; exit 1 when any failed or was gated.",
            width=88,
        )
        + "\n\n"
        + BATCH_FILE
        + "another example: "
        + EXAMPLE_BATCH,
        example=EXAMPLE,
    )
    parser.add_argument(
        "notebook", metavar="NOTEBOOK", nargs="?", help="the report notebook (.ipynb)"
    )
    parser.add_argument(
        "--help-params",
        action="store_true",
        help="list the notebook's parameters with their defaults and descriptions, and exit",
    )
    parser.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="a parameter; VALUE is read as a Python literal (5, 0.9, True), else a string",
    )
    parser.add_argument("--params", metavar="FILE", help="a YAML file of parameters (-p wins)")
    parser.add_argument("--loop", help="the loop reported on (default: adhoc)")
    parser.add_argument("--iteration", help="the iteration (default: the next free number)")
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="reports root (default: reports; with --batch, replaces the file's defaults.out)",
    )
    parser.add_argument(
        "--cell-timeout",
        type=float,
        metavar="S",
        help="seconds per cell (default: 600; with --batch, replaces defaults.cell_timeout)",
    )
    parser.add_argument(
        "--fail-under",
        type=float,
        metavar="PCT",
        help="exit 1 when the pass rate is under PCT %% (with --batch, replaces defaults.fail_under)",
    )
    parser.add_argument(
        "--batch", metavar="FILE", help="run every report the batch FILE (YAML) lists"
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with --batch: processes of the local pool (default: the number of CPUs)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --batch: run on this Dask scheduler (tcp://host:8786) instead of a local "
        "pool; needs pip install 'whyloop[dask]'",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or lines on stderr")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from whyloop import report
    from whyloop.report import params
    from whyloop.report.progress import Progress, for_stream

    args.renamed = {"notebook": "NOTEBOOK", "help_params": "--help-params"}
    if args.batch:
        return _run_batch(args)
    if args.notebook is None:
        raise bad_argument("notebook", "NOTEBOOK: give a notebook to run, or --batch FILE")
    for dest in ("workers", "scheduler"):
        if getattr(args, dest) is not None:
            raise bad_argument(dest, f"{dest}: only a batch (--batch FILE) takes it")
    if args.help_params:
        print(params.describe_params(params.notebook_params(args.notebook)))
        return 0
    from_file = params.load_params_file(args.params) if args.params else {}
    merged = params.merge_params(from_file, params.parse_cli_params(args.param))
    args.renamed.update(
        {"params": "-p", "cell_timeout_s": "--cell-timeout", "fail_under": "--fail-under"}
    )
    progress = Progress() if args.quiet else for_stream(sys.stderr)
    try:
        result = report.run_report(
            args.notebook,
            params=merged,
            out_root=args.out or "reports",
            loop=args.loop or "adhoc",
            iteration=args.iteration,
            cell_timeout_s=600.0 if args.cell_timeout is None else args.cell_timeout,
            fail_under=args.fail_under,
            progress=progress,
        )
    finally:
        progress.close()
    for path in (result.notebook, result.html, result.markdown, result.metrics_path):
        print(path)
    print(result.summary_line())
    return result.status


def _run_batch(args: argparse.Namespace) -> int:
    from whyloop import report
    from whyloop.report.progress import Progress, for_stream

    if args.notebook is not None:
        raise bad_argument("notebook", "NOTEBOOK: --batch takes its notebooks from the file")
    for dest, flag in _SINGLE.items():
        if getattr(args, dest):
            raise bad_argument(dest, f"{flag}: --batch takes it from the file, per report")
    if args.help_params:
        raise bad_argument("help_params", "--help-params: give a NOTEBOOK, not --batch")
    overrides = {"out": args.out, "cell_timeout": args.cell_timeout, "fail_under": args.fail_under}
    progress = Progress() if args.quiet else for_stream(sys.stderr)
    try:
        result = report.run_batch(
            args.batch,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=progress,
            overrides=overrides,
        )
    finally:
        progress.close()
    for item in result.items:
        print(item.line())
    print(result.summary_line())
    return result.status
