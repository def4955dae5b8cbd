"""``whyloop report``: run a report notebook into ``reports/<loop>/iteration-NNN/``.

One library call, :func:`whyloop.report.run_report`; then the paths and a
summary line. ``--help-params NOTEBOOK`` lists the notebook's parameters
instead (:func:`whyloop.report.params.describe_params`). The exit status is
the report's own: 0, or 1 when a section failed or the pass rate is under
``--fail-under`` (else the loop's target in the metrics), so a CI pipeline
can gate on it; an unknown parameter is exit 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from whyloop.cli.options import add_command

__all__ = ["EXAMPLE", "register", "run"]

EXAMPLE = (
    "whyloop report notebooks/iteration_report.ipynb --loop staging --iteration 3 -p target 0.95"
)


def register(commands: Any) -> argparse.ArgumentParser:
    """Add ``report`` to ``commands`` (the top-level subparsers) and return its parser."""
    parser = add_command(
        commands,
        "report",
        help="run a report notebook: executed notebook, HTML page, Markdown summary, metrics.json",
        description=(
            "Execute NOTEBOOK with papermill into OUT/LOOP/iteration-NNN/: the executed notebook, "
            "one HTML page without code, summary.md and metrics.json. A section that fails, hangs "
            "past --cell-timeout or kills its kernel is shown in its place; the rest is still "
            "produced. Exit status 1 when a section failed or the pass rate is under --fail-under "
            "(else the loop's target)."
        ),
        example=EXAMPLE,
    )
    parser.add_argument("notebook", metavar="NOTEBOOK", help="the report notebook (.ipynb)")
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
    parser.add_argument("--loop", default="adhoc", help="the loop reported on (%(default)s)")
    parser.add_argument("--iteration", help="the iteration (default: the next free number)")
    parser.add_argument(
        "--out", default="reports", metavar="DIR", help="reports root (%(default)s)"
    )
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=600.0,
        metavar="S",
        help="seconds per cell (%(default)s)",
    )
    parser.add_argument(
        "--fail-under", type=float, metavar="PCT", help="exit 1 when the pass rate is under PCT %%"
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from whyloop import report
    from whyloop.report import params

    if args.help_params:
        print(params.describe_params(params.notebook_params(args.notebook)))
        return 0
    from_file = params.load_params_file(args.params) if args.params else {}
    merged = params.merge_params(from_file, params.parse_cli_params(args.param))
    args.renamed = {
        "params": "-p",
        "cell_timeout_s": "--cell-timeout",
        "fail_under": "--fail-under",
    }
    result = report.run_report(
        args.notebook,
        params=merged,
        out_root=args.out,
        loop=args.loop,
        iteration=args.iteration,
        cell_timeout_s=args.cell_timeout,
        fail_under=args.fail_under,
    )
    for path in (result.notebook, result.html, result.markdown, result.metrics_path):
        print(path)
    print(result.summary_line())
    return result.status
