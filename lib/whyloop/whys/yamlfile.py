"""The YAML files a team reviews (five whys, postmortems): one style, atomic writes, located errors.

Both kinds of file are read in pull requests, so both are written the same
way: keys in the model's order, a text on one line (a block when it spans
lines), block lists indented under their key, nothing wrapped. A write is
atomic; a file that does not read raises one line naming the file, the line
and the field.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from whyloop.errors import WhyloopError
from whyloop.redact import redact_text
from whyloop.whys.reader import BadField, dotted, field_lines

__all__ = ["clean", "dump", "parse", "read_file", "write_atomic"]

T = TypeVar("T")


class _Dumper(yaml.SafeDumper):
    """The one style: block lists indented under their key, texts plain where YAML allows."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def clean(value: object) -> str:
    """A text as it may be written: redacted."""
    return redact_text(str(value))


def dump(data: dict[str, Any]) -> str:
    """``data`` in the one style, keys in the order given."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,  # never wrap: one field, one line
    )


def write_atomic(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` all at once: a reader sees the old file or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # a name of our own rather than mkstemp's, so the file gets the umask's mode, not 0600
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_file(path: Path, *, error: type[WhyloopError], what: str) -> str:
    """The text of the file at ``path``; ``error`` naming it when it is missing or unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"no such {what}", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read: {exc}", path=str(path)) from None


def parse(
    text: str,
    read: Callable[[Any], T],
    *,
    path: str | Path | None,
    error: type[WhyloopError],
    what: str,
) -> tuple[T, Any]:
    """The model ``read`` makes of the YAML ``text``, and the data it was made from.

    Raises ``error`` naming ``path``, the line and the field: for text that is
    not YAML, an empty file (not ``what``) and a field ``read`` refuses.
    """
    where = None if path is None else str(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(
            f"not valid YAML: {problem}", path=where, line=mark.line + 1 if mark else None
        ) from None
    if node is None:
        raise error(f"empty file: not {what}", path=where)
    try:
        return read(data), data
    except BadField as bad:
        lines = field_lines(node)
        key = bad.path
        while key not in lines and key:
            key = key[:-1]
        raise error(f"{dotted(bad.path)}: {bad.reason}", path=where, line=lines.get(key)) from None
