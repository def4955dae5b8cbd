"""``whyloop store list``: the loops, iterations and tables (with row counts) a store holds."""

from __future__ import annotations

import argparse
import json
from typing import Any

from whyloop.cli.options import add_command, add_json, add_store

__all__ = ["EXAMPLE", "register"]

EXAMPLE = "whyloop store list --loop staging"


def register(commands: Any) -> None:
    """Add ``store list`` to ``commands`` (the top-level subparsers)."""
    group = commands.add_parser("store", help="list what the iteration store holds")
    sub = group.add_subparsers(dest="what", required=True, metavar="WHAT")
    listing = add_command(sub, "list", help="loops and iterations", example=EXAMPLE)
    add_store(listing)
    listing.add_argument("--loop", help="only this loop (default: every loop)")
    add_json(listing, "the listing as one JSON object: {loop: {iteration: {table: rows}}}")
    listing.set_defaults(run=run_list)


def run_list(args: argparse.Namespace) -> int:
    """``whyloop store list``: print each loop's iterations and their tables' row counts."""
    from whyloop.store import Store

    store = Store(args.store)
    loops = [args.loop] if args.loop else store.loops()
    listing = {
        loop: {
            it: {name: t["rows"] for name, t in store.manifest(loop, it)["tables"].items()}
            for it in store.iterations(loop)
        }
        for loop in loops
    }
    if args.json:
        print(json.dumps(listing))
        return 0
    if not listing:
        print(f"no iterations under {args.store}")
    for loop, iterations in listing.items():
        print(f"{loop}:")
        for it, tables in iterations.items():
            print(f"  {it}: " + ", ".join(f"{k} {v} rows" for k, v in tables.items()))
    return 0
