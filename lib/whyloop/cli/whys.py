"""``whyloop whys draft|show|list|check|verify``: five-whys analyses, one library call each.

``draft`` calls :func:`whyloop.whys.draft` and saves the file (its path is
printed); ``show`` prints :func:`whyloop.whys.to_markdown`; ``list`` prints
:func:`whyloop.whys.list_analyses`; ``check`` prints the problems of
:func:`whyloop.whys.check`, one per line, and exits 1 on any error;
``verify`` runs :func:`whyloop.whys.verify` against a later iteration, saves
the file and exits 1 when a countermeasure is not verified. Analyses live in
``--dir`` (default: ``whys/`` beside the store root, ``data/whys``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from whyloop.cli.options import add_command, add_loop, add_store
from whyloop.redact import redact_text

__all__ = ["EXAMPLES", "register"]

EXAMPLES = {
    "draft": "whyloop whys draft --loop staging --iteration 3",
    "show": "whyloop whys show data/whys/staging/staging-3.yaml",
    "list": "whyloop whys list --loop staging",
    "check": "whyloop whys check data/whys/staging/staging-3.yaml --store data/iterations",
    "verify": "whyloop whys verify data/whys/staging/staging-3.yaml --loop staging --iteration 4",
}


def _add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help="the analyses' folder (default: whys/ beside the store root, data/whys)",
    )


def _dir(args: argparse.Namespace) -> Path:
    from whyloop.whys import whys_dir

    return Path(args.dir) if args.dir else whys_dir(args.store)


def register(commands: Any) -> None:
    """Add ``whys`` and its five commands to ``commands`` (the top-level subparsers)."""
    group = commands.add_parser(
        "whys", help="five whys: draft, show, list, check and verify analyses"
    )
    sub = group.add_subparsers(dest="whys_command", required=True, metavar="COMMAND")

    p = add_command(
        sub,
        "draft",
        help="draft the whys of a stored iteration (all hypotheses); prints the file",
        example=EXAMPLES["draft"],
    )
    add_loop(
        p,
        required=True,
        loop_help="the loop in the store",
        iteration_help="the iteration (default: the latest)",
    )
    add_store(p)
    _add_dir(p)
    p.add_argument("--id", help="the analysis id (default: LOOP-ITERATION)")
    p.add_argument(
        "--replace", action="store_true", help="write over an analysis file already there"
    )
    p.set_defaults(run=run_draft)

    p = add_command(sub, "show", help="print an analysis as Markdown", example=EXAMPLES["show"])
    p.add_argument("file", metavar="FILE")
    p.add_argument("--figure", metavar="PNG", help="also draw the why tree into this image file")
    p.set_defaults(run=run_show)

    p = add_command(
        sub,
        "list",
        help="list the analyses: steps by status, countermeasures",
        example=EXAMPLES["list"],
    )
    p.add_argument("--loop", help="only this loop's analyses")
    add_store(p)
    _add_dir(p)
    p.set_defaults(run=run_list)

    p = add_command(
        sub,
        "check",
        help="check analyses: exit 1 on an error (confirmed without evidence, root cause without countermeasure)",
        example=EXAMPLES["check"],
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    add_store(p)
    p.add_argument(
        "--no-store", action="store_true", help="do not look the evidence up in the store"
    )
    p.set_defaults(run=run_check)

    p = add_command(
        sub,
        "verify",
        help="mark countermeasures verified or not from a later iteration's tests and probes; saves",
        example=EXAMPLES["verify"],
    )
    p.add_argument("file", metavar="FILE")
    add_loop(
        p,
        required=True,
        loop_help="the loop in the store",
        iteration_help="the iteration (default: the latest)",
    )
    add_store(p)
    p.set_defaults(run=run_verify)


def run_draft(args: argparse.Namespace) -> int:
    """``whyloop whys draft``: draft, save, print the file's path; 0 unless a whyloop error."""
    from whyloop.store import Store
    from whyloop.whys import draft

    analysis = draft(
        Store(args.store), args.loop, args.iteration, root=_dir(args), analysis_id=args.id
    )
    path = analysis.save(replace=args.replace)
    print(path)
    return 0


def run_show(args: argparse.Namespace) -> int:
    """``whyloop whys show``: the analysis as Markdown (and a figure with ``--figure``)."""
    from whyloop.whys import load, to_markdown

    analysis = load(args.file)
    print(to_markdown(analysis), end="")
    if args.figure:
        from whyloop.whys import figure

        figure(analysis).savefig(args.figure, bbox_inches="tight")
        print(f"figure: {args.figure}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """``whyloop whys list``: one line per analysis file."""
    from whyloop.whys import list_analyses

    rows = list_analyses(_dir(args), args.loop)
    if rows.empty:
        print(f"no analyses in {_dir(args)}")
        return 0
    for r in rows.to_dict("records"):
        if r["error"]:
            print(redact_text(f"{r['path']}: cannot load: {r['error']}"))
            continue
        print(
            f"{r['path']}: {r['id']} (loop {r['loop']}, iteration {r['iterations']}): "
            f"{r['whys']} whys; {r['hypothesis']} hypotheses, {r['confirmed']} confirmed, "
            f"{r['refuted']} refuted; {r['root_causes']} root causes; "
            f"{r['countermeasures']} countermeasures, {r['done']} done, {r['verified']} verified"
        )
    return 0


def run_check(args: argparse.Namespace) -> int:
    """``whyloop whys check``: every problem, one per line; 1 when any is an error."""
    from whyloop.store import Store
    from whyloop.whys import Level, check, load

    store = None if args.no_store else Store(args.store)
    failed = False
    for name in args.files:
        problems = check(load(name), store)
        failed |= any(p.level is Level.ERROR for p in problems)
        for problem in problems:
            print(f"{name}: {problem}")
        if not problems:
            print(f"{name}: ok")
    return 1 if failed else 0


def run_verify(args: argparse.Namespace) -> int:
    """``whyloop whys verify``: mark the countermeasures verified or not, save; 1 when any is not."""
    from whyloop.store import Store
    from whyloop.whys import load, verify

    analysis = load(args.file)
    results = verify(analysis, Store(args.store), args.loop, args.iteration)
    analysis.save()
    if not results:
        print(f"{args.file}: no countermeasure names a test or probe to verify it")
    for r in results:
        verdict = "verified" if r.ok else "NOT verified"
        print(redact_text(f"{r.countermeasure}: {verdict} in iteration {r.iteration}: {r.figures}"))
    return 0 if all(r.ok for r in results) else 1
