"""A report notebook's parameters: declared in its ``parameters`` cell, given on the command line or in YAML.

Pure: the notebook is read as JSON and its parameters cell with :mod:`ast`,
never executed. Each ``name = <literal>  # description`` line of the cell
is a :class:`Param`; a default that is not a literal (``Path("x")``) is kept
as its source text with type ``"expression"``.

Given values keep their types: ``-p count 5`` is the int 5 and ``-p rate 0.9``
the float 0.9 (``ast.literal_eval``, else the raw string); a value for a
parameter whose default is a string stays the string it was typed as
(``-p iteration 007`` is ``"007"``), and an int given for a float default
becomes a float. A name the cell does not declare is refused with
``ReportError("unknown parameter 'x' (the notebook takes: a, b, c)", param="params")``.
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from whyloop.errors import ReportError

__all__ = [
    "Param",
    "check_params",
    "describe_params",
    "load_params_file",
    "merge_params",
    "notebook_params",
    "params_from_source",
    "parse_cli_params",
    "parse_value",
]

#: the cell tag papermill looks for
TAG = "parameters"


@dataclass(frozen=True)
class Param:
    """One parameter of a notebook: its name, default, type name and description (the ``#`` comment)."""

    name: str
    default: Any
    type: str
    description: str = ""


def params_from_source(source: str) -> list[Param]:
    """The parameters assigned in a parameters cell's source, in order (a later assignment wins)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ReportError(
            f"the parameters cell is not valid Python: {exc.msg}", line=exc.lineno
        ) from exc
    lines = source.splitlines()
    found: dict[str, Param] = {}
    for node in tree.body:
        target, value = _assignment(node)
        if target is None or value is None:
            continue
        try:
            default = ast.literal_eval(value)
            kind = type(default).__name__
        except (ValueError, SyntaxError, TypeError):
            default, kind = (
                ast.get_source_segment(source, value) or ast.unparse(value),
                "expression",
            )
        if isinstance(node, ast.AnnAssign) and node.annotation is not None:
            kind = ast.unparse(node.annotation)
        found[target] = Param(target, default, kind, _comment(lines[node.end_lineno - 1]))
    return list(found.values())


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _comment(line: str) -> str:
    """The trailing ``# comment`` of a line, found with the tokenizer's view of strings."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, SyntaxError):
        return ""
    return next((t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT), "")


def notebook_params(notebook: str | Path) -> list[Param]:
    """The parameters of the notebook at ``notebook``: those of its cell tagged ``parameters``.

    A notebook without such a cell takes no parameters (an empty list).
    """
    path = Path(notebook)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read the notebook: {exc}", path=str(path)) from exc
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and TAG in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            try:
                return params_from_source(source)
            except ReportError as exc:
                raise exc.at(str(path)) from None
    return []


def describe_params(params: Sequence[Param]) -> str:
    """One line a parameter: ``name: type = default  # description`` (for ``--help-params``)."""
    if not params:
        return "the notebook takes no parameters (it has no cell tagged 'parameters')"
    rows = []
    for p in params:
        default = p.default if p.type == "expression" else repr(p.default)
        rows.append(
            f"{p.name}: {p.type} = {default}" + (f"  # {p.description}" if p.description else "")
        )
    return "\n".join(rows)


def parse_value(text: str) -> Any:
    """A command-line value as a Python literal (``5``, ``0.9``, ``True``, ``['a']``), else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_cli_params(items: Iterable[str | Sequence[str]]) -> dict[str, Any]:
    """``["key=value", ("key", "value"), ...]`` as ``{key: literal}``; values as :func:`parse_value`.

    The raw text of each value is kept too (``result.raw[key]``) so that
    :func:`check_params` can keep a string parameter a string.
    """
    values = _RawDict()
    for item in items:
        if isinstance(item, str):
            key, sep, text = item.partition("=")
            if not sep:
                raise ReportError(f"a parameter must be KEY=VALUE, not {item!r}", param="params")
        else:
            key, text = item
        key = key.strip()
        if not key.isidentifier():
            raise ReportError(f"{key!r} is not a parameter name", param="params")
        values[key] = parse_value(text)
        values.raw[key] = text
    return values


class _RawDict(dict):
    """A dict of parsed values that remembers the text each was parsed from."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: dict[str, str] = {}


def merge_params(*sources: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of ``sources`` merged, a later one winning (a file's, then ``-p``'s).

    The raw text of values parsed by :func:`parse_cli_params` is kept for :func:`check_params`.
    """
    merged = _RawDict()
    for source in sources:
        merged.update(source)
        raw = getattr(source, "raw", {})
        for key in source:
            if key in raw:
                merged.raw[key] = raw[key]
            else:
                merged.raw.pop(key, None)
    return merged


def load_params_file(path: str | Path) -> dict[str, Any]:
    """The parameters in a YAML file: one mapping of name to value (types as YAML reads them)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReportError(f"cannot read the parameters file: {exc}", path=str(path)) from exc
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ReportError("a parameters file must be a mapping of names to values", path=str(path))
    return dict(data)


def check_params(given: Mapping[str, Any], declared: Sequence[Param]) -> dict[str, Any]:
    """``given`` checked against the notebook's ``declared`` parameters, types kept.

    An unknown name raises :class:`ReportError` naming what the notebook takes.
    A value typed for a string parameter stays the text it was typed as; an
    int for a float parameter becomes a float.
    """
    by_name = {p.name: p for p in declared}
    raw = getattr(given, "raw", {})
    checked: dict[str, Any] = {}
    for name, value in given.items():
        param = by_name.get(name)
        if param is None:
            takes = ", ".join(by_name) or "nothing"
            raise ReportError(
                f"unknown parameter {name!r} (the notebook takes: {takes})", param="params"
            )
        if param.type == "str" and not isinstance(value, str) and name in raw:
            value = raw[name]
        elif param.type == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        checked[name] = value
    return checked
