"""``whyloop demo``: a two-iteration loop against the bundled sandbox, or offline from its sample.

One call to :func:`whyloop.sandbox.demo.run_demo`, which prints as it goes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from whyloop.cli.options import add_command, add_store

__all__ = ["EXAMPLE", "register"]

EXAMPLE = "whyloop demo"


def register(commands: Any) -> None:
    """Add ``demo`` to ``commands`` (the top-level subparsers)."""
    parser = add_command(
        commands, "demo", help="run the main job against the bundled sandbox", example=EXAMPLE
    )
    add_store(parser)
    parser.add_argument(
        "--offline", action="store_true", help="use the recorded sample, start nothing"
    )
    parser.add_argument(
        "--reports", default="reports", metavar="DIR", help="report root (%(default)s)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """``whyloop demo``: run the demo into ``--store`` and ``--reports``; 0 when it ends DONE."""
    from whyloop.sandbox.demo import run_demo

    return run_demo(store_root=Path(args.store), offline=args.offline, out_root=Path(args.reports))
