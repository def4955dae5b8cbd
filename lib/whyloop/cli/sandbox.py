"""``whyloop sandbox up|down|faults|e2e``: the local stand-in staging system and its e2e suite.

Each subcommand is one call into :mod:`whyloop.sandbox`. ``e2e`` exits with
pytest's own status (0 all passed, 1 some failed). A sandbox started by ``up``
keeps running after the command exits; ``down`` stops it.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from whyloop.cli.options import add_command

__all__ = ["EXAMPLES", "register"]

EXAMPLES = {
    "up": "whyloop sandbox up --fault ws-no-welcome --fault slow-agent",
    "down": "whyloop sandbox down",
    "faults": "whyloop sandbox faults",
    "e2e": "whyloop sandbox e2e --junitxml out/results.xml --report-log out/report.jsonl",
}
#: whyloop.sandbox.default_state_dir(), spelled relative so that printed paths stay short
STATE_DIR = "data/sandbox"
SERVICES = ("backend", "auth", "ws")


def register(commands: Any) -> None:
    """Add ``sandbox up``, ``down``, ``faults`` and ``e2e`` to ``commands`` (top-level subparsers)."""
    group = commands.add_parser(
        "sandbox", help="the local stand-in staging system and its e2e suite"
    )
    sub = group.add_subparsers(dest="what", required=True, metavar="WHAT")

    def subcommand(name: str, help_: str, run: Any) -> argparse.ArgumentParser:
        parser = add_command(sub, name, help=help_, example=EXAMPLES[name])
        parser.add_argument("--state-dir", default=STATE_DIR, help="state and logs (%(default)s)")
        parser.set_defaults(run=run)
        return parser

    up = subcommand("up", "start the auth service and backend on 127.0.0.1", run_up)
    up.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a fault (repeatable)",
    )
    up.add_argument("--port", type=int, default=0, help="base port (default: free ports)")
    up.add_argument("--rate-limit", type=int, default=40, help="requests per window per user")
    subcommand("down", "stop the sandbox started in --state-dir", run_down)
    subcommand("faults", "list the faults with a one-line description each", run_faults)
    e2e = subcommand("e2e", "run the 25-test priority-1 e2e suite against the sandbox", run_e2e)
    e2e.add_argument("--junitxml", metavar="FILE", help="write JUnit XML here")
    e2e.add_argument("--report-log", metavar="FILE", help="write pytest report-log JSON lines here")
    for name in SERVICES:
        e2e.add_argument(
            f"--{name}-url",
            help=f"target (default: the running sandbox, or $WHYLOOP_{name.upper()}_URL)",
        )
    e2e.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS")


def run_faults(args: argparse.Namespace) -> int:
    """``whyloop sandbox faults``: each fault's name and what it breaks."""
    from whyloop.sandbox import list_faults

    faults = list_faults()
    width = max(map(len, faults))
    for name, text in faults.items():
        print(f"{name:<{width}}  {text}")
    return 0


def run_up(args: argparse.Namespace) -> int:
    """``whyloop sandbox up``: start the sandbox, leave it running, print its URLs and logs."""
    from whyloop.sandbox import up

    box = up(
        faults=args.fault, port=args.port, state_dir=args.state_dir, rate_limit=args.rate_limit
    )
    box.detach()
    print(f"auth     {box.auth_url}")
    print(f"backend  {box.backend_url}")
    print(f"ws       {box.ws_url}")
    print("faults   " + (", ".join(box.faults) or "none"))
    for name, path in box.log_paths.items():
        print(f"log      {name}: {path}")
    print("stop it with: whyloop sandbox down")
    return 0


def run_down(args: argparse.Namespace) -> int:
    """``whyloop sandbox down``: stop the sandbox recorded in ``--state-dir``."""
    from whyloop.sandbox import down

    stopped = down(args.state_dir)
    print("stopped: " + (", ".join(stopped) or "nothing was running"))
    return 0


def run_e2e(args: argparse.Namespace) -> int:
    """``whyloop sandbox e2e``: the e2e suite against the URLs given, else the running sandbox."""
    from whyloop import sandbox

    urls = {
        name: getattr(args, f"{name}_url") or os.environ.get(f"WHYLOOP_{name.upper()}_URL")
        for name in SERVICES
    }
    if not all(urls.values()):
        running = sandbox.status(args.state_dir)["urls"]
        urls = {name: urls[name] or running[name] for name in urls}
    return sandbox.run_e2e(
        backend_url=urls["backend"],
        auth_url=urls["auth"],
        ws_url=urls["ws"],
        junitxml=args.junitxml,
        report_log=args.report_log,
        extra_args=args.pytest_args,
    )
