"""``whyloop postmortem new|render|check``: postmortems, one library call each.

``new`` calls :func:`whyloop.postmortem.build` and saves the file (its path
is printed); ``render`` runs :func:`whyloop.report.postmortem.render` (HTML
without code and Markdown; their paths are printed; exit 1 when a section of
the notebook failed); ``check`` prints the problems of
:func:`whyloop.postmortem.check`, one per line, and exits 1 on any error.
Postmortems live in ``--dir`` (default: ``postmortems/`` beside the store
root, ``data/postmortems``); the five whys are read from ``--whys-dir``
(default: ``whys/`` beside the store root).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from whyloop.cli.options import add_command, add_store
from whyloop.redact import redact_text
from whyloop.store import DEFAULT_ROOT

__all__ = ["EXAMPLES", "register"]

EXAMPLES = {
    "new": "whyloop postmortem new --loop demo-1 --iterations 1 2",
    "render": "whyloop postmortem render data/postmortems/demo-1/demo-1-1-to-2.yaml",
    "check": "whyloop postmortem check data/postmortems/demo-1/demo-1-1-to-2.yaml",
}


def register(commands: Any) -> None:
    """Add ``postmortem`` and its three commands to ``commands`` (the top-level subparsers)."""
    group = commands.add_parser(
        "postmortem", help="postmortems: build one from iterations and their whys, render, check"
    )
    sub = group.add_subparsers(dest="postmortem_command", required=True, metavar="COMMAND")

    p = add_command(
        sub,
        "new",
        help="build a draft postmortem from stored iterations and their five whys; prints the file",
        example=EXAMPLES["new"],
    )
    p.add_argument("--loop", required=True, help="the loop in the store")
    p.add_argument(
        "--iterations", nargs="+", metavar="N", help="the iterations it covers (default: all)"
    )
    p.add_argument(
        "--whys",
        nargs="+",
        metavar="FILE",
        help="the five-whys files to build from (default: every one of the loop naming the iterations)",
    )
    add_store(p)
    p.add_argument(
        "--whys-dir", metavar="DIR", help="the analyses' folder (default: whys/ beside the store)"
    )
    p.add_argument(
        "--dir",
        metavar="DIR",
        help="the postmortems' folder (default: postmortems/ beside the store)",
    )
    p.add_argument("--id", help="the postmortem id (default: LOOP-FIRST-to-LAST)")
    p.add_argument("--title", help="the title (default: the loop, iterations and failure)")
    p.add_argument("--replace", action="store_true", help="write over a postmortem already there")
    p.set_defaults(run=run_new)

    p = add_command(
        sub,
        "render",
        help="render a postmortem with papermill: HTML without code, and Markdown",
        example=EXAMPLES["render"],
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--out", default="reports", metavar="DIR", help="reports root (%(default)s)")
    add_store(p)
    p.add_argument(
        "--cell-timeout",
        type=float,
        default=300,
        metavar="S",
        help="per-cell timeout (%(default)s s)",
    )
    p.set_defaults(run=run_render, renamed={"cell_timeout_s": "--cell-timeout"})

    p = add_command(
        sub,
        "check",
        help="check postmortems: exit 1 when an action item has no owner, a timeline entry no "
        "evidence, or the root cause is the trigger",
        example=EXAMPLES["check"],
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--store",
        metavar="DIR",
        help=f"look the evidence up in this store (default: {DEFAULT_ROOT} when it exists)",
    )
    p.add_argument(
        "--no-store", action="store_true", help="do not look the evidence up in the store"
    )
    p.set_defaults(run=run_check)


def run_new(args: argparse.Namespace) -> int:
    """``whyloop postmortem new``: build, save, print the file's path."""
    from whyloop.postmortem import build, default_path, postmortems_dir

    pm = build(
        args.store,
        args.loop,
        args.iterations,
        analyses=args.whys,
        whys_root=args.whys_dir,
        postmortem_id=args.id,
        title=args.title,
    )
    root = Path(args.dir) if args.dir else postmortems_dir(args.store)
    print(pm.save(default_path(pm, root), replace=args.replace))
    return 0


def run_render(args: argparse.Namespace) -> int:
    """``whyloop postmortem render``: the HTML and Markdown paths; 1 when a section failed."""
    from whyloop.report.postmortem import render

    store = args.store if Path(args.store).is_dir() else None
    out = render(args.file, out_root=args.out, store=store, cell_timeout_s=args.cell_timeout)
    print(f"html: {out.html}")
    print(f"markdown: {out.markdown}")
    for failure in out.failures:
        print(redact_text(f"section failed: {failure}"))
    return out.status


def run_check(args: argparse.Namespace) -> int:
    """``whyloop postmortem check``: every problem, one per line; 1 when any is an error."""
    from whyloop.postmortem import Level, check, load
    from whyloop.store import Store

    if args.no_store:
        store = None
    elif args.store:
        store = Store(args.store)  # named: a missing one is a warning of the check
    else:
        store = Store(DEFAULT_ROOT) if DEFAULT_ROOT.is_dir() else None
    failed = False
    for name in args.files:
        problems = check(load(name), store)
        failed |= any(p.level is Level.ERROR for p in problems)
        for problem in problems:
            print(f"{name}: {problem}")
        if not problems:
            print(f"{name}: ok")
    return 1 if failed else 0
