"""Postmortems as YAML files: one file per postmortem, a fixed style, exact round trips.

Pure (files only), in the way of :mod:`whyloop.whys.files`. The default home
is ``data/postmortems/<loop>/<id>.yaml``, beside the iteration store
(:func:`postmortems_dir` gives it for any store root). The style is fixed so
that diffs read well in review: keys in one order (the model's), every text on
one line (a changed field is a changed line), block style for lists, dates as
``2026-12-01``. :func:`load` then :func:`save` writes back the same bytes; a
file a person edited in another style is written back as it was when nothing
changed, and in the fixed style once something did.

A file with an error raises one line naming the file, the line and the field::

    data/postmortems/demo-1/demo-1-1-to-2.yaml:88: action_items[0].kind: 'fix' is not one of
    prevent, mitigate, detect, process

Every text is redacted (:func:`whyloop.redact.redact_text`) as it is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from whyloop.errors import PostmortemError
from whyloop.postmortem.model import (
    ActionItem,
    Cause,
    Entry,
    Impact,
    Postmortem,
)
from whyloop.postmortem.reader import FORMAT, read_postmortem
from whyloop.store import DEFAULT_ROOT
from whyloop.whys.yamlfile import clean as _clean
from whyloop.whys.yamlfile import dump, parse, read_file, write_atomic

__all__ = [
    "DEFAULT_DIR",
    "FORMAT",
    "default_path",
    "dumps",
    "list_postmortems",
    "load",
    "loads",
    "postmortems_dir",
    "save",
    "to_data",
]

#: where postmortems live by default: beside the iteration store
DEFAULT_DIR = DEFAULT_ROOT.parent / "postmortems"
_SOURCE = "_source"  # the text and data a postmortem was loaded from, to write back unchanged


def postmortems_dir(store_root: str | Path = DEFAULT_ROOT) -> Path:
    """The postmortems' folder beside a store root: ``data/iterations`` -> ``data/postmortems``."""
    return Path(store_root).parent / "postmortems"


def default_path(postmortem: Postmortem, root: str | Path = DEFAULT_DIR) -> Path:
    """``root/<loop>/<id>.yaml`` (``root/<id>.yaml`` for a postmortem of no loop)."""
    folder = Path(root) / postmortem.loop if postmortem.loop else Path(root)
    return folder / f"{postmortem.id}.yaml"


# -- writing --------------------------------------------------------------------------


def _cleans(values: list[str]) -> list[str]:
    return [_clean(v) for v in values]


def _cause(c: Cause) -> dict[str, Any]:
    return {
        "id": c.id,
        "text": _clean(c.text),
        "analysis": c.analysis,
        "step": c.step,
        "source": _clean(c.source),
        "evidence": _cleans(c.evidence),
    }


def _impact(i: Impact) -> dict[str, Any]:
    return {
        "iterations": [
            {"iteration": r.iteration, "total": r.total, "failed": r.failed, "tests": list(r.tests)}
            for r in i.iterations
        ],
        "categories": list(i.categories),
        "users": _clean(i.users),
        "started": i.started,
        "ended": _clean(i.ended),
        "duration_s": i.duration_s,
        "duration": _clean(i.duration),
    }


def _entry(e: Entry) -> dict[str, Any]:
    return {
        "at": e.at,
        "kind": e.kind.value,
        "text": _clean(e.text),
        "iteration": e.iteration,
        "evidence": _cleans(e.evidence),
    }


def _action(a: ActionItem) -> dict[str, Any]:
    v = a.verified
    return {
        "id": a.id,
        "kind": a.kind.value,
        "action": _clean(a.action),
        "owner": _clean(a.owner),
        "due": a.due,
        "addresses": list(a.addresses),
        "verify_tests": list(a.verify_tests),
        "verify_probes": list(a.verify_probes),
        "source": _clean(a.source),
        "done": a.done,
        "verified": None
        if v is None
        else {
            "ok": v.ok,
            "iteration": v.iteration,
            "figures": _clean(v.figures),
            "at": v.at,
            "by": _clean(v.by),
        },
    }


def to_data(pm: Postmortem) -> dict[str, Any]:
    """The postmortem as plain data, in the file's key order, texts redacted."""
    d = pm.detection
    return {
        "format": FORMAT,
        "id": pm.id,
        "title": _clean(pm.title),
        "status": pm.status.value,
        "loop": pm.loop,
        "iterations": list(pm.iterations),
        "clusters": list(pm.clusters),
        "analyses": [{"id": s.id, "path": s.path} for s in pm.analyses],
        "created": pm.created,
        "summary": _clean(pm.summary),
        "impact": _impact(pm.impact),
        "trigger": None if pm.trigger is None else _cause(pm.trigger),
        "root_causes": [_cause(c) for c in pm.root_causes],
        "contributing": [_cause(c) for c in pm.contributing],
        "detection": {
            "iteration": d.iteration,
            "at": d.at,
            "how": _clean(d.how),
            "evidence": _cleans(d.evidence),
        },
        "response": _cleans(pm.response),
        "recovery": _cleans(pm.recovery),
        "timeline": [_entry(e) for e in pm.timeline],
        "lessons": {
            "went_well": _cleans(pm.lessons.went_well),
            "went_wrong": _cleans(pm.lessons.went_wrong),
            "got_lucky": _cleans(pm.lessons.got_lucky),
        },
        "action_items": [_action(a) for a in pm.action_items],
        "notes": _cleans(pm.notes),
    }


def dumps(postmortem: Postmortem) -> str:
    """The file's text: the loaded text itself when nothing changed, else the fixed style."""
    data = to_data(postmortem)
    source = getattr(postmortem, _SOURCE, None)
    if source is not None and source[1] == data:
        return source[0]
    return dump(data)


def save(postmortem: Postmortem, path: str | Path | None = None, *, replace: bool = False) -> Path:
    """Write ``postmortem`` to ``path`` (default: ``postmortem.path``, else :func:`default_path`).

    The file it was loaded from is written over; any other existing file is
    refused (PostmortemError) unless ``replace=True``, so a new build never
    overwrites a postmortem a team worked on. The write is atomic.
    """
    target = Path(path) if path is not None else postmortem.path or default_path(postmortem)
    source = getattr(postmortem, "_loaded_from", None)
    if target.exists() and not replace and source != target.resolve():
        raise PostmortemError(
            "a postmortem is already there: load it (postmortem.load) or pass replace=True "
            "(--replace)",
            path=str(target),
        )
    text = dumps(postmortem)
    write_atomic(target, text)
    postmortem.path = target
    object.__setattr__(postmortem, "_loaded_from", target.resolve())
    object.__setattr__(postmortem, _SOURCE, (text, to_data(postmortem)))
    return target


# -- reading --------------------------------------------------------------------------


def loads(text: str, *, path: str | Path | None = None) -> Postmortem:
    """A postmortem from YAML text; PostmortemError naming ``path``, the line and the field."""
    postmortem, _ = parse(
        text, read_postmortem, path=path, error=PostmortemError, what="a postmortem"
    )
    # what the model was when loaded: a file with fields left out is kept as it is too
    object.__setattr__(postmortem, _SOURCE, (text, to_data(postmortem)))
    return postmortem


def load(path: str | Path) -> Postmortem:
    """Read one postmortem file; ``save()`` afterwards writes it back in place."""
    path = Path(path)
    text = read_file(path, error=PostmortemError, what="postmortem file")
    postmortem = loads(text, path=path)
    postmortem.path = path
    object.__setattr__(postmortem, "_loaded_from", path.resolve())
    return postmortem


def list_postmortems(root: str | Path = DEFAULT_DIR, loop: str | None = None) -> pd.DataFrame:
    """One row per postmortem file under ``root`` (of ``loop``): its status, scope and figures.

    Columns: ``path, id, loop, iterations, clusters, status, trigger,
    root_causes, action_items, verified, error``; ``iterations`` and
    ``clusters`` are comma-joined; a file that does not load is listed with
    its one-line ``error``.
    """
    base = Path(root) / loop if loop else Path(root)
    rows = []
    for path in sorted(base.rglob("*.yaml")) if base.is_dir() else []:
        row: dict[str, Any] = {"path": str(path), "error": ""}
        try:
            pm = load(path)
        except PostmortemError as exc:
            rows.append({**row, "error": str(exc)})
            continue
        row.update(
            id=pm.id,
            loop=pm.loop,
            iterations=",".join(pm.iterations),
            clusters=",".join(pm.clusters),
            status=pm.status.value,
            trigger=pm.trigger.text if pm.trigger else "",
            root_causes=len(pm.root_causes),
            action_items=len(pm.action_items),
            verified=sum(bool(a.verified and a.verified.ok) for a in pm.action_items),
        )
        rows.append(row)
    columns = ["path", "id", "loop", "iterations", "clusters", "status", "trigger"]
    columns += ["root_causes", "action_items", "verified", "error"]
    return pd.DataFrame(rows, columns=columns)
