"""``whyloop known``: look failures up among the analyses a team already wrote.

One call to :func:`whyloop.known.lookup_file` (``FILE``: a five-whys file, a postmortem or a
test results file) or :func:`whyloop.known.lookup_iteration` (``--loop``,
``--iteration``: a stored iteration's failure clusters), printed with
:func:`whyloop.known.to_text` (or ``--json``: the rows of
:func:`whyloop.known.matches_frame`). With ``--draft``, one call to
:func:`whyloop.known.draft` instead: the five whys of the iteration, starting
from its known causes as hypotheses, saved (the file's path is printed).
Analyses are read from each ``--dir`` (default: ``whys/`` and ``postmortems/``
beside the store root);
finding none, or no match, still exits 0.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from whyloop.cli.options import add_command, add_json, add_loop, add_store
from whyloop.errors import WhyloopError

__all__ = ["EXAMPLE", "register"]

EXAMPLE = "whyloop known --loop staging --iteration 4"


def register(commands: Any) -> None:
    """Add ``known`` to ``commands`` (the top-level subparsers)."""
    parser = add_command(
        commands,
        "known",
        help="match failures to past analyses: root cause, countermeasure, similarity, regression",
        example=EXAMPLE,
        usage="whyloop known (FILE | --loop LOOP [--iteration N]) [options]",
    )
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="a five-whys, postmortem or test results file to look up (instead of --loop)",
    )
    add_loop(
        parser,
        loop_help="look up the failure clusters of this loop's iteration in the store",
        iteration_help="the iteration (default: the latest)",
    )
    add_store(parser)
    parser.add_argument(
        "--dir",
        action="append",
        metavar="DIR",
        help="a folder of analyses or postmortems, repeatable "
        "(default: whys/ and postmortems/ beside the store root)",
    )
    parser.add_argument(
        "--top", type=int, default=5, metavar="N", help="matches shown per failure (%(default)s)"
    )
    parser.add_argument(
        "--draft",
        action="store_true",
        help="with --loop: draft the iteration's five whys starting from the known causes; saves",
    )
    add_json(parser, "the matches as a JSON list of rows")
    parser.set_defaults(run=run)


def _dirs(args: argparse.Namespace) -> list[Path]:
    from whyloop.known import default_roots

    return [Path(d) for d in args.dir] if args.dir else default_roots(args.store)


def run(args: argparse.Namespace) -> int:
    """``whyloop known``: print the ranked matches (or save the draft); 0 unless a whyloop error."""
    from whyloop import known

    if bool(args.file) == bool(args.loop):
        raise WhyloopError("give a FILE or --loop (not both)", param="loop")
    if args.top < 1:
        raise WhyloopError(f"must be at least 1, not {args.top}", param="top")
    if args.draft:
        if not args.loop:
            raise WhyloopError("--draft drafts a stored iteration: give --loop", param="loop")
        analysis = known.draft(args.store, args.loop, args.iteration, root=_dirs(args))
        print(analysis.save())
        return 0
    if args.file:
        found = known.lookup_file(args.file, root=_dirs(args), top=args.top)
    else:
        found = known.lookup_iteration(
            args.store, args.loop, args.iteration, root=_dirs(args), top=args.top
        )
    if args.json:
        print(known.matches_frame(found).to_json(orient="records"))
        return 0
    for line in [*found.index.notes, *(f"skipped {e}" for e in found.index.skipped.values())]:
        print(f"note: {line}")
    print(
        f"{len(found.failures)} failure cluster(s) looked up in "
        f"{found.index.analyses()} analyses under {', '.join(map(str, _dirs(args)))}"
    )
    print(known.to_text(found, len(found.failures)), end="")
    return 0
