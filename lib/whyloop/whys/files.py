"""Five-whys analyses as YAML files: one file per analysis, a fixed style, exact round trips.

Pure (files only). The default home is ``data/whys/<loop>/<id>.yaml``, beside
the iteration store (:func:`whys_dir` gives it for any store root). The
style is fixed so that diffs read well in review: keys in one order (the
model's), every text on one line (a changed field is a changed line), block
style for lists, texts with line breaks as literal blocks, dates as
``2026-12-01``. :func:`load` then :func:`save` writes back the same bytes;
a file a person edited in another style is written back as it was when
nothing changed, and in the fixed style once something did.

A file with an error raises one line naming the file, the line and the field::

    data/whys/demo/demo-3.yaml:23: whys[0].becauses[1].status: 'confimed' is not one of
    hypothesis, confirmed, refuted

Every text is redacted (:func:`whyloop.redact.redact_text`) as it is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from whyloop.errors import WhysError
from whyloop.store import DEFAULT_ROOT
from whyloop.whys.model import (
    Analysis,
    Because,
    Cause,
    Countermeasure,
    Evidence,
    StepStatus,
    Why,
)
from whyloop.whys.reader import FORMAT, read_analysis
from whyloop.whys.yamlfile import clean as _clean
from whyloop.whys.yamlfile import dump, parse, read_file, write_atomic

__all__ = [
    "DEFAULT_DIR",
    "FORMAT",
    "default_path",
    "dumps",
    "list_analyses",
    "load",
    "loads",
    "save",
    "whys_dir",
]

#: where analyses live by default: beside the iteration store
DEFAULT_DIR = DEFAULT_ROOT.parent / "whys"
_SOURCE = "_source"  # the text and data an analysis was loaded from, to write back unchanged


def whys_dir(store_root: str | Path = DEFAULT_ROOT) -> Path:
    """The analyses' folder beside a store root: ``data/iterations`` -> ``data/whys``."""
    return Path(store_root).parent / "whys"


def default_path(analysis: Analysis, root: str | Path = DEFAULT_DIR) -> Path:
    """``root/<loop>/<id>.yaml`` (``root/<id>.yaml`` for an analysis of no loop)."""
    folder = Path(root) / analysis.loop if analysis.loop else Path(root)
    return folder / f"{analysis.id}.yaml"


# -- writing --------------------------------------------------------------------------


def _evidence(e: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": e.kind.value, "ref": _clean(e.ref), "text": _clean(e.text)}
    if e.stage is not None:
        out["stage"] = e.stage
    if e.claim is not None:
        out["claim"] = e.claim.value
    return out


def _because(b: Because) -> dict[str, Any]:
    out: dict[str, Any] = {"text": _clean(b.text), "status": b.status.value}
    if b.stage is not None:
        out["stage"] = b.stage
    out["source"] = _clean(b.source)
    out["evidence"] = [_evidence(e) for e in b.evidence]
    out["history"] = [
        {"at": c.at, "by": _clean(c.by), "status": c.status.value, "note": _clean(c.note)}
        for c in b.history
    ]
    if b.why is not None:
        out["why"] = _why(b.why)
    return out


def _why(w: Why) -> dict[str, Any]:
    return {
        "question": _clean(w.question),
        "tests": list(w.tests),
        "clusters": list(w.clusters),
        "becauses": [_because(b) for b in w.becauses],
    }


def _cause(c: Cause | None) -> dict[str, Any] | None:
    return None if c is None else {"id": c.id, "text": _clean(c.text), "step": c.step}


def _countermeasure(c: Countermeasure) -> dict[str, Any]:
    v = c.verified
    return {
        "id": c.id,
        "action": _clean(c.action),
        "addresses": list(c.addresses),
        "owner": _clean(c.owner),
        "due": c.due,
        "verify_tests": list(c.verify_tests),
        "verify_probes": list(c.verify_probes),
        "done": c.done,
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


def to_data(a: Analysis) -> dict[str, Any]:
    """The analysis as plain data, in the file's key order, texts redacted."""
    return {
        "format": FORMAT,
        "id": a.id,
        "title": _clean(a.title),
        "problem": _clean(a.problem),
        "loop": a.loop,
        "iterations": list(a.iterations),
        "clusters": list(a.clusters),
        "created": a.created,
        "notes": [_clean(n) for n in a.notes],
        "whys": [_why(w) for w in a.whys],
        "trigger": _cause(a.trigger),
        "root_causes": [_cause(c) for c in a.root_causes],
        "contributing": [_cause(c) for c in a.contributing],
        "countermeasures": [_countermeasure(c) for c in a.countermeasures],
    }


def dumps(analysis: Analysis) -> str:
    """The file's text: the loaded text itself when nothing changed, else the fixed style."""
    data = to_data(analysis)
    source = getattr(analysis, _SOURCE, None)
    if source is not None and source[1] == data:
        return source[0]
    return dump(data)


def save(analysis: Analysis, path: str | Path | None = None, *, replace: bool = False) -> Path:
    """Write ``analysis`` to ``path`` (default: ``analysis.path``, else :func:`default_path`).

    The file it was loaded from is written over; any other existing file is
    refused (WhysError) unless ``replace=True``, so a fresh draft never
    overwrites an analysis someone worked on. The write is atomic.
    """
    target = Path(path) if path is not None else analysis.path or default_path(analysis)
    source = getattr(analysis, "_loaded_from", None)
    if target.exists() and not replace and source != target.resolve():
        raise WhysError(
            "an analysis is already there: load it (whys.load) or pass replace=True (--replace)",
            path=str(target),
        )
    text = dumps(analysis)
    write_atomic(target, text)
    analysis.path = target
    object.__setattr__(analysis, "_loaded_from", target.resolve())
    object.__setattr__(analysis, _SOURCE, (text, yaml.safe_load(text)))
    return target


# -- reading --------------------------------------------------------------------------


def loads(text: str, *, path: str | Path | None = None) -> Analysis:
    """An analysis from YAML text; WhysError naming ``path``, the line and the field."""
    analysis, data = parse(
        text, read_analysis, path=path, error=WhysError, what="a five-whys analysis"
    )
    object.__setattr__(analysis, _SOURCE, (text, data))
    return analysis


def load(path: str | Path) -> Analysis:
    """Read one analysis file; ``save()`` afterwards writes it back in place."""
    path = Path(path)
    text = read_file(path, error=WhysError, what="five-whys file")
    analysis = loads(text, path=path)
    analysis.path = path
    object.__setattr__(analysis, "_loaded_from", path.resolve())
    return analysis


def list_analyses(root: str | Path = DEFAULT_DIR, loop: str | None = None) -> pd.DataFrame:
    """One row per analysis file under ``root`` (of ``loop``): its steps and countermeasures.

    Columns: ``path, id, loop, iterations, whys, hypothesis, confirmed,
    refuted, root_causes, countermeasures, done, verified, error``; a file that
    does not load is listed with its one-line ``error``.
    """
    base = Path(root) / loop if loop else Path(root)
    rows = []
    for path in sorted(base.rglob("*.yaml")) if base.is_dir() else []:
        row: dict[str, Any] = {"path": str(path), "error": ""}
        try:
            a = load(path)
        except WhysError as exc:
            rows.append({**row, "error": str(exc)})
            continue
        statuses = [b.status for b in a.steps()]
        row.update(
            id=a.id,
            loop=a.loop,
            iterations=",".join(a.iterations),
            whys=len(a.whys),
            **{s.value: statuses.count(s) for s in StepStatus},
            root_causes=len(a.root_causes),
            countermeasures=len(a.countermeasures),
            done=sum(c.done for c in a.countermeasures),
            verified=sum(bool(c.verified and c.verified.ok) for c in a.countermeasures),
        )
        rows.append(row)
    columns = ["path", "id", "loop", "iterations", "whys", *(s.value for s in StepStatus)]
    columns += ["root_causes", "countermeasures", "done", "verified", "error"]
    return pd.DataFrame(rows, columns=columns)
