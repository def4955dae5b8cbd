"""``whyloop demo``: one turn of the loop against the bundled sandbox, or offline from its sample.

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
        commands, "demo", help="run the main job on the bundled sample", example=EXAMPLE
    )
    add_store(parser)
    parser.add_argument(
        "--offline", action="store_true", help="use the recorded sample, start nothing"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """``whyloop demo``: run the demo into ``--store``; its status (0)."""
    from whyloop.sandbox.demo import run_demo

    return run_demo(store_root=Path(args.store), offline=args.offline)
