"""From loaded YAML data to a :class:`~whyloop.postmortem.model.Postmortem`, naming any bad field.

Pure. :func:`read_postmortem` raises :class:`~whyloop.whys.reader.BadField`
with the field's path in the data (``("action_items", 0, "kind")``), which
:func:`whyloop.postmortem.files.loads` turns into ``file:LINE: field: reason``
with the line from :func:`~whyloop.whys.reader.field_lines`, as the five-whys
files do.
"""

from __future__ import annotations

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
from whyloop.whys.reader import BadField, field_enum, field_items, field_map, field_text, kind_of

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


def _optional(d: dict, p: Path_, key: str) -> str | None:
    return None if d.get(key) is None else field_text(d, p, key)


def _texts(d: dict, p: Path_, key: str) -> list[str]:
    value = d.get(key) or []
    if not isinstance(value, list):
        raise BadField((*p, key), f"expected a list, not {kind_of(value)}")
    for n, v in enumerate(value):
        if isinstance(v, (dict, list)):
            raise BadField((*p, key, n), f"expected a text, not {kind_of(v)}")
    return [str(v) for v in value]


def _enum(d: dict, p: Path_, key: str, kind: type, default: Any) -> Any:
    if d.get(key) is None and default is None:
        raise BadField((*p, key), f"missing: one of {', '.join(m.value for m in kind)}")
    return field_enum(d, p, key, kind, default)


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


def _source(d: Any, p: Path_) -> Source:
    field_map(d, p, {"id"}, ["id", "path"])
    return Source(field_text(d, p, "id"), field_text(d, p, "path"))


def _iteration_impact(d: Any, p: Path_) -> IterationImpact:
    field_map(d, p, {"iteration", "total", "failed"}, ["iteration", "total", "failed", "tests"])
    return IterationImpact(
        field_text(d, p, "iteration"),
        _int(d, p, "total"),
        _int(d, p, "failed"),
        _texts(d, p, "tests"),
    )


def _impact(d: Any, p: Path_) -> Impact:
    known = ["iterations", "categories", "users", "started", "ended", "duration_s", "duration"]
    field_map(d, p, set(), known)
    seconds = d.get("duration_s")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float)):
        raise BadField((*p, "duration_s"), f"expected a number of seconds, not {seconds!r}")
    return Impact(
        field_items(d, p, "iterations", _iteration_impact),
        _texts(d, p, "categories"),
        field_text(d, p, "users"),
        field_text(d, p, "started"),
        field_text(d, p, "ended"),
        None if seconds is None else float(seconds),
        field_text(d, p, "duration"),
    )


def _cause(d: Any, p: Path_) -> Cause:
    field_map(d, p, {"id", "text"}, ["id", "text", "analysis", "step", "source", "evidence"])
    return Cause(
        field_text(d, p, "id"),
        field_text(d, p, "text"),
        field_text(d, p, "analysis"),
        _optional(d, p, "step"),
        field_text(d, p, "source"),
        _texts(d, p, "evidence"),
    )


def _detection(d: Any, p: Path_) -> Detection:
    field_map(d, p, set(), ["iteration", "at", "how", "evidence"])
    return Detection(
        field_text(d, p, "iteration"),
        field_text(d, p, "at"),
        field_text(d, p, "how"),
        _texts(d, p, "evidence"),
    )


def _entry(d: Any, p: Path_) -> Entry:
    field_map(d, p, {"kind", "text"}, ["at", "kind", "text", "iteration", "evidence"])
    return Entry(
        field_text(d, p, "at"),
        _enum(d, p, "kind", EntryKind, None),
        field_text(d, p, "text"),
        field_text(d, p, "iteration"),
        _texts(d, p, "evidence"),
    )


def _lessons(d: Any, p: Path_) -> Lessons:
    field_map(d, p, set(), ["went_well", "went_wrong", "got_lucky"])
    return Lessons(_texts(d, p, "went_well"), _texts(d, p, "went_wrong"), _texts(d, p, "got_lucky"))


def _verification(d: Any, p: Path_) -> Verification:
    field_map(d, p, {"ok", "iteration"}, ["ok", "iteration", "figures", "at", "by"])
    if not isinstance(d["ok"], bool):
        raise BadField((*p, "ok"), f"expected true or false, not {d['ok']!r}")
    keys = ("iteration", "figures", "at", "by")
    return Verification(d["ok"], *(field_text(d, p, k) for k in keys))


def _action(d: Any, p: Path_) -> ActionItem:
    known = ["id", "kind", "action", "owner", "due", "addresses", "verify_tests"]
    field_map(
        d, p, {"id", "kind", "action"}, [*known, "verify_probes", "source", "done", "verified"]
    )
    due = d.get("due")
    if due is not None and not isinstance(due, date):
        raise BadField((*p, "due"), f"expected a date such as 2026-12-01, not {due!r}")
    return ActionItem(
        field_text(d, p, "id"),
        _enum(d, p, "kind", ActionKind, None),
        field_text(d, p, "action"),
        owner=field_text(d, p, "owner"),
        due=due,
        addresses=_texts(d, p, "addresses"),
        verify_tests=_texts(d, p, "verify_tests"),
        verify_probes=_texts(d, p, "verify_probes"),
        source=field_text(d, p, "source"),
        done=_bool(d, p, "done"),
        verified=None
        if d.get("verified") is None
        else _verification(d["verified"], (*p, "verified")),
    )


def read_postmortem(d: Any) -> Postmortem:
    """The postmortem in loaded YAML data ``d``; BadField naming the first wrong field."""
    p: Path_ = ()
    field_map(d, p, {"format", "id"}, TOP)
    if d["format"] != FORMAT:
        raise BadField(("format",), f"{d['format']!r} is not {FORMAT!r}")
    return Postmortem(
        field_text(d, p, "id"),
        field_text(d, p, "title"),
        status=_enum(d, p, "status", Status, Status.DRAFT),
        loop=field_text(d, p, "loop"),
        iterations=_texts(d, p, "iterations"),
        clusters=_texts(d, p, "clusters"),
        analyses=field_items(d, p, "analyses", _source),
        created=field_text(d, p, "created"),
        summary=field_text(d, p, "summary"),
        impact=_impact(d.get("impact") or {}, ("impact",)),
        trigger=None if d.get("trigger") is None else _cause(d["trigger"], ("trigger",)),
        root_causes=field_items(d, p, "root_causes", _cause),
        contributing=field_items(d, p, "contributing", _cause),
        detection=_detection(d.get("detection") or {}, ("detection",)),
        response=_texts(d, p, "response"),
        recovery=_texts(d, p, "recovery"),
        timeline=field_items(d, p, "timeline", _entry),
        lessons=_lessons(d.get("lessons") or {}, ("lessons",)),
        action_items=field_items(d, p, "action_items", _action),
        notes=_texts(d, p, "notes"),
    )
