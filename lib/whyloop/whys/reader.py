"""From loaded YAML data to the model, naming the field of any error by its path and line.

Pure. :func:`read_analysis` builds an :class:`~whyloop.whys.model.Analysis`
from what ``yaml.safe_load`` returned and raises :class:`BadField` with the
field's path in the data (``("whys", 0, "becauses", 1, "status")``);
:func:`field_lines` gives the line of every path from the composed YAML
nodes, so :func:`whyloop.whys.files.loads` can say ``file:23: whys[0]...``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import yaml

from whyloop.whys.model import (
    Analysis,
    Because,
    Cause,
    Change,
    Claim,
    Countermeasure,
    Evidence,
    EvidenceKind,
    StepStatus,
    Verification,
    Why,
)

__all__ = [
    "FORMAT",
    "BadField",
    "dotted",
    "field_enum",
    "field_items",
    "field_lines",
    "field_map",
    "field_text",
    "field_texts",
    "kind_of",
    "read_analysis",
]

#: the first key of every file: the format and its version
FORMAT = "whyloop-whys/1"


class BadField(Exception):
    """A field's value is wrong: its path in the data, and why."""

    def __init__(self, path: tuple[Any, ...], reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


def field_lines(node: yaml.Node, path: tuple[Any, ...] = (), out: dict | None = None) -> dict:
    """Line (1-based) of every field and list item, by its path in the data."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            field_lines(value, (*path, key.value), out)
            out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for n, item in enumerate(node.value):
            field_lines(item, (*path, n), out)
    return out


def dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"


# The field readers both reviewed files use (five whys here, postmortems too): each names
# the field of any error by its path in the data.


def field_map(
    data: Any, path: tuple[Any, ...], required: set[str], known: list[str]
) -> dict[str, Any]:
    """``data`` as a mapping with only ``known`` keys and every ``required`` one."""
    if not isinstance(data, dict):
        raise BadField(path, f"expected a mapping of {', '.join(known)}, not {kind_of(data)}")
    for key in data:
        if key not in known:
            raise BadField((*path, key), f"unknown field {key!r} (known: {', '.join(known)})")
    for key in known:
        if key in required and key not in data:
            raise BadField(path, f"missing field {key!r}")
    return data


def field_text(data: dict, path: tuple[Any, ...], key: str, default: str = "") -> str:
    """A text field (``default`` when absent or null)."""
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, (dict, list)):
        raise BadField((*path, key), f"expected a text, not {kind_of(value)}")
    return str(value)


def field_texts(data: dict, path: tuple[Any, ...], key: str) -> list[str]:
    """A list field, each item as text."""
    value = data.get(key) or []
    if not isinstance(value, list):
        raise BadField((*path, key), f"expected a list, not {kind_of(value)}")
    return [str(v) for v in value]


def field_enum(data: dict, path: tuple[Any, ...], key: str, kind: type, default: Any) -> Any:
    """A field whose value is one of the enum ``kind``'s (``default`` when absent)."""
    value = data.get(key)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise BadField((*path, key), f"{value!r} is not one of {allowed}") from None


def field_items(data: dict, path: tuple[Any, ...], key: str, read: Callable) -> list:
    """A list field, each item made by ``read(item, its path)``."""
    value = data.get(key) or []
    if not isinstance(value, list):
        raise BadField((*path, key), f"expected a list, not {kind_of(value)}")
    return [read(item, (*path, key, n)) for n, item in enumerate(value)]


def kind_of(value: Any) -> str:
    """What a wrong value is, for an error: "a mapping", "a list" or its repr."""
    return {dict: "a mapping", list: "a list"}.get(type(value), repr(value))


def _read_evidence(d: Any, p: tuple) -> Evidence:
    field_map(d, p, {"kind"}, ["kind", "ref", "text", "stage", "claim"])
    kind = field_enum(d, p, "kind", EvidenceKind, None)
    stage = d.get("stage")
    return Evidence(
        kind,
        ref=field_text(d, p, "ref"),
        text=field_text(d, p, "text"),
        stage=None if stage is None else str(stage),
        claim=field_enum(d, p, "claim", Claim, None),
    )


def _read_change(d: Any, p: tuple) -> Change:
    field_map(d, p, {"by", "status"}, ["at", "by", "status", "note"])
    return Change(
        field_text(d, p, "at"),
        field_text(d, p, "by"),
        field_enum(d, p, "status", StepStatus, None),
        field_text(d, p, "note"),
    )


def _read_because(d: Any, p: tuple) -> Because:
    known = ["text", "status", "stage", "source", "evidence", "history", "why"]
    field_map(d, p, {"text"}, known)
    stage = d.get("stage")
    return Because(
        field_text(d, p, "text"),
        status=field_enum(d, p, "status", StepStatus, StepStatus.HYPOTHESIS),
        stage=None if stage is None else str(stage),
        source=field_text(d, p, "source"),
        evidence=field_items(d, p, "evidence", _read_evidence),
        history=field_items(d, p, "history", _read_change),
        why=None if d.get("why") is None else _read_why(d["why"], (*p, "why")),
    )


def _read_why(d: Any, p: tuple) -> Why:
    field_map(d, p, {"question"}, ["question", "tests", "clusters", "becauses"])
    return Why(
        field_text(d, p, "question"),
        becauses=field_items(d, p, "becauses", _read_because),
        tests=field_texts(d, p, "tests"),
        clusters=field_texts(d, p, "clusters"),
    )


def _read_cause(d: Any, p: tuple) -> Cause:
    field_map(d, p, {"id", "text"}, ["id", "text", "step"])
    step = d.get("step")
    return Cause(
        field_text(d, p, "id"), field_text(d, p, "text"), None if step is None else str(step)
    )


def _read_verification(d: Any, p: tuple) -> Verification:
    field_map(d, p, {"ok", "iteration"}, ["ok", "iteration", "figures", "at", "by"])
    if not isinstance(d["ok"], bool):
        raise BadField((*p, "ok"), f"expected true or false, not {d['ok']!r}")
    return Verification(
        d["ok"],
        field_text(d, p, "iteration"),
        field_text(d, p, "figures"),
        field_text(d, p, "at"),
        field_text(d, p, "by"),
    )


def _read_countermeasure(d: Any, p: tuple) -> Countermeasure:
    known = ["id", "action", "addresses", "owner", "due", "verify_tests", "verify_probes"]
    field_map(d, p, {"id", "action"}, [*known, "done", "verified"])
    due = d.get("due")
    if due is not None and not isinstance(due, date):
        raise BadField((*p, "due"), f"expected a date such as 2026-12-01, not {due!r}")
    if not isinstance(d.get("done", False), bool):
        raise BadField((*p, "done"), f"expected true or false, not {d['done']!r}")
    return Countermeasure(
        field_text(d, p, "id"),
        field_text(d, p, "action"),
        addresses=field_texts(d, p, "addresses"),
        owner=field_text(d, p, "owner"),
        due=due,
        verify_tests=field_texts(d, p, "verify_tests"),
        verify_probes=field_texts(d, p, "verify_probes"),
        done=d.get("done", False),
        verified=None
        if d.get("verified") is None
        else _read_verification(d["verified"], (*p, "verified")),
    )


_TOP = [
    "format",
    "id",
    "title",
    "problem",
    "loop",
    "iterations",
    "clusters",
    "created",
    "notes",
    "whys",
    "trigger",
    "root_causes",
    "contributing",
    "countermeasures",
]


def read_analysis(d: Any) -> Analysis:
    p: tuple = ()
    field_map(d, p, {"format", "id"}, _TOP)
    if d["format"] != FORMAT:
        raise BadField(("format",), f"{d['format']!r} is not {FORMAT!r}")
    return Analysis(
        field_text(d, p, "id"),
        field_text(d, p, "title"),
        field_text(d, p, "problem"),
        loop=field_text(d, p, "loop"),
        iterations=field_texts(d, p, "iterations"),
        clusters=field_texts(d, p, "clusters"),
        created=field_text(d, p, "created"),
        notes=field_texts(d, p, "notes"),
        whys=field_items(d, p, "whys", _read_why),
        trigger=None if d.get("trigger") is None else _read_cause(d["trigger"], ("trigger",)),
        root_causes=field_items(d, p, "root_causes", _read_cause),
        contributing=field_items(d, p, "contributing", _read_cause),
        countermeasures=field_items(d, p, "countermeasures", _read_countermeasure),
    )
