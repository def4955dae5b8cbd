"""From loaded YAML data to a :class:`~whyloop.postmortem.model.Postmortem`, naming any bad field.

Pure. :func:`read_postmortem` raises :class:`~whyloop.whys.reader.BadField`
with the field's path in the data (``("action_items", 0, "kind")``), which
:func:`whyloop.postmortem.files.loads` turns into ``file:LINE: field: reason``
with the line from :func:`~whyloop.whys.reader.field_lines`, as the five-whys
files do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from whyloop.postmortem.model import (
    ActionItem,
    ActionKind,
    Cause,
    Detection,
    Entry,
    EntryKind,
    Impact,
    IterationImpact,
    Lessons,
    Postmortem,
    Source,
    Status,
    Verification,
)
from whyloop.whys.reader import BadField

__all__ = ["FORMAT", "TOP", "read_postmortem"]

#: the first key of every file: the format and its version
FORMAT = "whyloop-postmortem/1"
#: the top-level keys, in the file's order
TOP = [
    "format",
    "id",
    "title",
    "status",
    "loop",
    "iterations",
    "clusters",
    "analyses",
    "created",
    "summary",
    "impact",
    "trigger",
    "root_causes",
    "contributing",
    "detection",
    "response",
    "recovery",
    "timeline",
    "lessons",
    "action_items",
    "notes",
]

Path_ = tuple[Any, ...]


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list"}.get(type(value), repr(value))


def _fields(data: Any, path: Path_, required: set[str], known: list[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadField(path, f"expected a mapping of {', '.join(known)}, not {_kind(data)}")
    for key in data:
        if key not in known:
            raise BadField((*path, key), f"unknown field {key!r} (known: {', '.join(known)})")
    for key in known:
        if key in required and key not in data:
            raise BadField(path, f"missing field {key!r}")
    return data


def _text(d: dict, p: Path_, key: str) -> str:
    value = d.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise BadField((*p, key), f"expected a text, not {_kind(value)}")
    return str(value)


def _optional(d: dict, p: Path_, key: str) -> str | None:
    return None if d.get(key) is None else _text(d, p, key)


def _texts(d: dict, p: Path_, key: str) -> list[str]:
    value = d.get(key) or []
    if not isinstance(value, list):
        raise BadField((*p, key), f"expected a list, not {_kind(value)}")
    for n, v in enumerate(value):
        if isinstance(v, (dict, list)):
            raise BadField((*p, key, n), f"expected a text, not {_kind(v)}")
    return [str(v) for v in value]


def _enum(d: dict, p: Path_, key: str, kind: type, default: Any) -> Any:
    value = d.get(key)
    if value is None:
        if default is None:
            raise BadField((*p, key), f"missing: one of {', '.join(m.value for m in kind)}")
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise BadField((*p, key), f"{value!r} is not one of {allowed}") from None


def _int(d: dict, p: Path_, key: str) -> int:
    value = d.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadField((*p, key), f"expected a whole number, not {value!r}")
    return value


def _bool(d: dict, p: Path_, key: str) -> bool:
    value = d.get(key, False)
    if not isinstance(value, bool):
        raise BadField((*p, key), f"expected true or false, not {value!r}")
    return value


def _items(d: dict, p: Path_, key: str, read: Callable[[Any, Path_], Any]) -> list:
    value = d.get(key) or []
    if not isinstance(value, list):
        raise BadField((*p, key), f"expected a list, not {_kind(value)}")
    return [read(item, (*p, key, n)) for n, item in enumerate(value)]


def _source(d: Any, p: Path_) -> Source:
    _fields(d, p, {"id"}, ["id", "path"])
    return Source(_text(d, p, "id"), _text(d, p, "path"))


def _iteration_impact(d: Any, p: Path_) -> IterationImpact:
    _fields(d, p, {"iteration", "total", "failed"}, ["iteration", "total", "failed", "tests"])
    return IterationImpact(
        _text(d, p, "iteration"), _int(d, p, "total"), _int(d, p, "failed"), _texts(d, p, "tests")
    )


def _impact(d: Any, p: Path_) -> Impact:
    known = ["iterations", "categories", "users", "started", "ended", "duration_s", "duration"]
    _fields(d, p, set(), known)
    seconds = d.get("duration_s")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float)):
        raise BadField((*p, "duration_s"), f"expected a number of seconds, not {seconds!r}")
    return Impact(
        _items(d, p, "iterations", _iteration_impact),
        _texts(d, p, "categories"),
        _text(d, p, "users"),
        _text(d, p, "started"),
        _text(d, p, "ended"),
        None if seconds is None else float(seconds),
        _text(d, p, "duration"),
    )


def _cause(d: Any, p: Path_) -> Cause:
    _fields(d, p, {"id", "text"}, ["id", "text", "analysis", "step", "source", "evidence"])
    return Cause(
        _text(d, p, "id"),
        _text(d, p, "text"),
        _text(d, p, "analysis"),
        _optional(d, p, "step"),
        _text(d, p, "source"),
        _texts(d, p, "evidence"),
    )


def _detection(d: Any, p: Path_) -> Detection:
    _fields(d, p, set(), ["iteration", "at", "how", "evidence"])
    return Detection(
        _text(d, p, "iteration"), _text(d, p, "at"), _text(d, p, "how"), _texts(d, p, "evidence")
    )


def _entry(d: Any, p: Path_) -> Entry:
    _fields(d, p, {"kind", "text"}, ["at", "kind", "text", "iteration", "evidence"])
    return Entry(
        _text(d, p, "at"),
        _enum(d, p, "kind", EntryKind, None),
        _text(d, p, "text"),
        _text(d, p, "iteration"),
        _texts(d, p, "evidence"),
    )


def _lessons(d: Any, p: Path_) -> Lessons:
    _fields(d, p, set(), ["went_well", "went_wrong", "got_lucky"])
    return Lessons(_texts(d, p, "went_well"), _texts(d, p, "went_wrong"), _texts(d, p, "got_lucky"))


def _verification(d: Any, p: Path_) -> Verification:
    _fields(d, p, {"ok", "iteration"}, ["ok", "iteration", "figures", "at", "by"])
    if not isinstance(d["ok"], bool):
        raise BadField((*p, "ok"), f"expected true or false, not {d['ok']!r}")
    keys = ("iteration", "figures", "at", "by")
    return Verification(d["ok"], *(_text(d, p, k) for k in keys))


def _action(d: Any, p: Path_) -> ActionItem:
    known = ["id", "kind", "action", "owner", "due", "addresses", "verify_tests"]
    _fields(d, p, {"id", "kind", "action"}, [*known, "verify_probes", "source", "done", "verified"])
    due = d.get("due")
    if due is not None and not isinstance(due, date):
        raise BadField((*p, "due"), f"expected a date such as 2026-12-01, not {due!r}")
    return ActionItem(
        _text(d, p, "id"),
        _enum(d, p, "kind", ActionKind, None),
        _text(d, p, "action"),
        owner=_text(d, p, "owner"),
        due=due,
        addresses=_texts(d, p, "addresses"),
        verify_tests=_texts(d, p, "verify_tests"),
        verify_probes=_texts(d, p, "verify_probes"),
        source=_text(d, p, "source"),
        done=_bool(d, p, "done"),
        verified=None
        if d.get("verified") is None
        else _verification(d["verified"], (*p, "verified")),
    )


def read_postmortem(d: Any) -> Postmortem:
    """The postmortem in loaded YAML data ``d``; BadField naming the first wrong field."""
    p: Path_ = ()
    _fields(d, p, {"format", "id"}, TOP)
    if d["format"] != FORMAT:
        raise BadField(("format",), f"{d['format']!r} is not {FORMAT!r}")
    return Postmortem(
        _text(d, p, "id"),
        _text(d, p, "title"),
        status=_enum(d, p, "status", Status, Status.DRAFT),
        loop=_text(d, p, "loop"),
        iterations=_texts(d, p, "iterations"),
        clusters=_texts(d, p, "clusters"),
        analyses=_items(d, p, "analyses", _source),
        created=_text(d, p, "created"),
        summary=_text(d, p, "summary"),
        impact=_impact(d.get("impact") or {}, ("impact",)),
        trigger=None if d.get("trigger") is None else _cause(d["trigger"], ("trigger",)),
        root_causes=_items(d, p, "root_causes", _cause),
        contributing=_items(d, p, "contributing", _cause),
        detection=_detection(d.get("detection") or {}, ("detection",)),
        response=_texts(d, p, "response"),
        recovery=_texts(d, p, "recovery"),
        timeline=_items(d, p, "timeline", _entry),
        lessons=_lessons(d.get("lessons") or {}, ("lessons",)),
        action_items=_items(d, p, "action_items", _action),
        notes=_texts(d, p, "notes"),
    )
