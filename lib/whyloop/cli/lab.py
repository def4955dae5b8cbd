"""``whyloop lab``: JupyterLab on the notebooks folder, with the workbench's kernel.

One library call, :func:`whyloop.report.lab.serve`: it installs the
``whyloop`` kernelspec, starts JupyterLab on 127.0.0.1 (a free port unless
``--port``), prints the URL with its token once the server answers, and stops
it, kernels included, on Ctrl-C (exit 0). ``--install-kernel`` only installs
the kernelspec (:func:`whyloop.report.lab.install_kernel`) and prints where.
"""

from __future__ import annotations

import argparse
from typing import Any

from whyloop.cli.options import add_command

__all__ = ["EXAMPLE", "register", "run"]

EXAMPLE = "whyloop lab --dir notebooks --port 8890 --no-browser"


def register(commands: Any) -> argparse.ArgumentParser:
    """Add ``lab`` to ``commands`` (the top-level subparsers) and return its parser."""
    parser = add_command(
        commands,
        "lab",
        help="start JupyterLab on the notebooks with the workbench's kernel and print its URL",
        description=(
            "Install the 'whyloop' kernelspec (Python (whyloop): this environment's interpreter), "
            "start JupyterLab on DIR at 127.0.0.1, print the URL with its token once it answers, "
            "and run until Ctrl-C, which stops the server and its kernels."
        ),
        example=EXAMPLE,
    )
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help="the notebooks folder (default: notebooks/ of the checkout whyloop runs from)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    browser = parser.add_mutually_exclusive_group()
    browser.add_argument(
        "--browser",
        dest="open_browser",
        action="store_true",
        default=None,
        help="open a web browser on the lab (default: only where a display is available)",
    )
    browser.add_argument(
        "--no-browser", dest="open_browser", action="store_false", help="never open a browser"
    )
    parser.add_argument(
        "--install-kernel",
        action="store_true",
        help="only install the 'whyloop' kernelspec into this environment, and exit",
    )
    parser.set_defaults(run=run)
    return parser


def _ready(lab: Any) -> None:
    print(f"JupyterLab is up on {lab.root_dir} with the whyloop kernel:", flush=True)
    print(f"    {lab.url}", flush=True)
    print("Ctrl-C stops it.", flush=True)


def run(args: argparse.Namespace) -> int:
    from whyloop.report import lab

    if args.install_kernel:
        print(f"installed the {lab.KERNEL_NAME} kernelspec in {lab.install_kernel()}")
        return 0
    args.renamed = {"root_dir": "--dir", "notebooks_dir": "--dir"}
    status = lab.serve(args.dir, port=args.port, open_browser=args.open_browser, on_ready=_ready)
    print("JupyterLab stopped.")
    return status
