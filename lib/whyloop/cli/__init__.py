"""The ``whyloop`` command line: each command translates its arguments into one library call.

One module per command group (:mod:`.ingest`, :mod:`.store`, :mod:`.probe`,
:mod:`.rerun`, :mod:`.findings`, :mod:`.whys`, :mod:`.postmortem`, :mod:`.known`,
:mod:`.sandbox`, :mod:`.report`, :mod:`.lab`, :mod:`.demo`) exposes
``register(subparsers)``: it adds its parsers and sets ``run=<function>`` on
each leaf command. :func:`main` parses, calls ``args.run(args)`` and applies
the exit-code policy; nothing else dispatches. Shared options live in
:mod:`.options`. A new command group is a module with ``register`` listed in
``GROUPS``; ``tests/cli/test_help.py`` checks that every leaf has an example.

Exit status:

- **0**: the command did its job (an analysis that finds failures, such as
  ``rerun`` or ``findings``, still exits 0; ``whyloop sandbox e2e`` passes
  pytest's own status through).
- **1**: a check failed, a probe stage failed, or the input was unusable: any
  :class:`~whyloop.errors.WhyloopError`, printed as the one line
  ``whyloop: <message>`` on stderr, redacted.
- **2**: bad arguments: argparse's own errors, a malformed argument the CLI
  detects itself (``--header`` not ``Name:Value``, ``--var`` not
  ``NAME=VALUE``, ``--token-env`` naming an unset variable, ``--data`` not
  JSON), and a ``WhyloopError`` whose ``param`` names the library argument
  that was invalid; the message then names the flag (``--timeout``) instead.
- **130**: interrupted (Ctrl-C). A closed pipe (``whyloop ... | head``) exits 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from whyloop.cli import (
    demo,
    findings,
    ingest,
    known,
    lab,
    postmortem,
    probe,
    report,
    rerun,
    sandbox,
    store,
    whys,
)
from whyloop.cli.options import flag_message
from whyloop.errors import WhyloopError
from whyloop.redact import redact_text

__all__ = ["GROUPS", "build_parser", "main"]

#: the command groups, in the order ``whyloop --help`` lists them
GROUPS = (
    ingest,
    store,
    sandbox,
    probe,
    rerun,
    findings,
    whys,
    postmortem,
    known,
    report,
    lab,
    demo,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``whyloop`` parser, every command registered; each leaf's ``run`` is its handler."""
    parser = argparse.ArgumentParser(
        prog="whyloop",
        description="Failure analysis workbench for test-deploy loops.",
        epilog="example: " + ingest.EXAMPLES["tests"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def _fail(message: str, status: int) -> int:
    print(f"whyloop: {redact_text(message)}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status (see the module docstring for the policy).

    argparse errors and ``--help`` raise SystemExit (status 2 and 0) as usual.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except WhyloopError as exc:
        if exc.param:
            return _fail(flag_message(exc, getattr(args, "renamed", None)), 2)
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
