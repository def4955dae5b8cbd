"""Options shared by several commands, and the few helpers that go with them.

``--store``, ``--loop``, ``--iteration``, ``--replace`` and ``--json`` are
declared here once, so that every command spells, defaults and documents them
alike. A command that saves what it returns into the store calls :func:`save`
(and, when it works long first, :func:`check_save` before). A malformed
argument the CLI finds itself is reported with :func:`bad_argument`, which the
exit-code policy of :mod:`whyloop.cli` turns into exit status 2 naming the flag.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping
from typing import Any

from whyloop.errors import WhyloopError
from whyloop.store import DEFAULT_ROOT, Store

__all__ = [
    "add_command",
    "add_json",
    "add_loop",
    "add_replace",
    "add_save_options",
    "add_store",
    "bad_argument",
    "check_save",
    "flag_message",
    "save",
]


def add_command(
    sub: Any, name: str, *, help: str, example: str, **kwargs: Any
) -> argparse.ArgumentParser:
    """Add the leaf command ``name`` to ``sub`` (an ``add_subparsers()`` object), with its example.

    ``example`` (a whole command line, ``whyloop ...``) ends the ``--help``
    text as ``example: ...``, never wrapped, so it can be copied as is.
    ``kwargs`` go to ``add_parser`` (``description``, ``usage``).
    """
    return sub.add_parser(
        name,
        help=help,
        epilog="example: " + example,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )


def add_store(parser: argparse.ArgumentParser) -> None:
    """``--store DIR``: the iteration store's root (default ``whyloop.store.DEFAULT_ROOT``)."""
    parser.add_argument(
        "--store", default=str(DEFAULT_ROOT), metavar="DIR", help="store root (%(default)s)"
    )


def add_loop(
    parser: argparse.ArgumentParser,
    *,
    loop_help: str,
    iteration_help: str,
    required: bool = False,
) -> None:
    """``--loop NAME`` and ``--iteration NAME``, with the meaning the command gives them."""
    parser.add_argument("--loop", required=required, help=loop_help)
    parser.add_argument("--iteration", help=iteration_help)


def add_json(parser: argparse.ArgumentParser, what: str = "the result as one JSON object") -> None:
    """``--json``: print ``what`` for a program instead of text for a person."""
    parser.add_argument("--json", action="store_true", help=f"print {what}")


def add_replace(parser: argparse.ArgumentParser) -> None:
    """``--replace``: write over a table the iteration already holds, which is refused otherwise."""
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace a table the iteration already holds (default: refuse, exit 1)",
    )


def add_save_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--loop``, ``--iteration``, ``--replace``, ``--store``, ``--json``: for saving commands."""
    add_loop(
        parser,
        loop_help="save into the iteration store under this loop name",
        iteration_help="add the tables to this iteration (default: a new one, the next number)",
    )
    add_replace(parser)
    add_store(parser)
    add_json(parser, what)


def check_save(args: argparse.Namespace, *tables: str) -> None:
    """Refuse before a long run what :func:`save` would refuse after it.

    Checks the names of ``--loop`` and ``--iteration`` and, without ``--replace``,
    that the iteration does not hold ``tables`` yet (a new one holds nothing).
    Nothing to check without a ``--loop``; nothing is written either way.
    """
    if not args.loop:
        return
    store = Store(args.store)
    store.path(args.loop, "1" if args.iteration is None else args.iteration)  # the names
    if args.iteration is not None and not args.replace:
        store.check_free(args.loop, args.iteration, *tables)


def save(args: argparse.Namespace, sources: Iterable[str], **tables: Any) -> str | None:
    """Write ``tables`` into ``--store`` under ``--loop``/``--iteration``; the folder, or None.

    Nothing is written when the user gave no ``--loop``. Without ``--iteration``
    the tables start a new iteration, never shared with another process saving
    at the same time; with it they join that iteration, and a table it already
    holds is refused (StoreError, exit 1) unless ``--replace``.
    """
    if not args.loop:
        return None
    store = Store(args.store)
    folder = store.write(
        args.loop, args.iteration, sources=list(sources), replace=args.replace, **tables
    )
    return str(folder)


def bad_argument(dest: str, reason: str) -> WhyloopError:
    """The error for a malformed argument the CLI found itself: exit 2, naming the flag.

    ``dest`` is the argument's name as argparse stores it (``token_env``);
    ``reason`` starts with it, as in ``"token_env: $TOKEN is not set or empty"``.
    """
    return WhyloopError(reason, param=dest)


def flag_message(exc: WhyloopError, renamed: Mapping[str, str] | None = None) -> str:
    """``exc``'s message with its parameter named as the user types it: ``--timeout``.

    ``renamed`` maps the library parameters whose flag is not simply the
    parameter with dashes (``{"headers": "--header", "url": "URL"}``). The first
    mention of the parameter is replaced; a message that already names the
    flag is kept, and one that does not mention it at all is prefixed with it.
    """
    param = exc.param or ""
    flag = (renamed or {}).get(param) or "--" + param.replace("_", "-")
    message = str(exc)
    if flag in message:
        return message
    mention = re.compile(rf"(?<![\w-]){re.escape(param)}(?![\w-])")
    named, count = mention.subn(flag, message, count=1)
    return named if count else f"{flag}: {message}"
