"""Postmortems: built from a loop's iterations and their five whys, kept as a file a team reviews.

- :mod:`.model`: the postmortem, its impact, causes, detection, timeline, lessons, action items (pure)
- :mod:`.gather`: the stored iterations and analyses a postmortem is built from
- :mod:`.causes`, :mod:`.timeline`, :mod:`.story`: its parts, from the records
- :mod:`.build`: the draft postmortem of a loop's iterations
- :mod:`.files`: one readable YAML file per postmortem, exact round trips; :func:`list_postmortems`
- :mod:`.check`: what fails a review (no owner, no evidence, the trigger as root cause)
- :mod:`.render`: Markdown for a wiki or pull request, and a timeline figure

In a notebook::

    from whyloop import postmortem
    pm = postmortem.build("data/iterations", "demo-1", ["1", "2"])
    pm.save()                      # data/postmortems/demo-1/demo-1-1-to-2.yaml
    pm = postmortem.load("data/postmortems/demo-1/demo-1-1-to-2.yaml")
    pm.action("A1").due = datetime.date(2026, 12, 15)
    pm.save()
    postmortem.check(pm)           # [] when it passes
    print(postmortem.to_markdown(pm))

``whyloop.report.postmortem.render`` runs ``notebooks/postmortem.ipynb`` into
HTML without code and Markdown. ``to_markdown``, ``section``, ``header``,
``check_markdown`` and ``timeline_figure`` load matplotlib on first use.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from whyloop.postmortem.build import build, default_id
from whyloop.postmortem.check import Level, Problem, check, resolve_ref
from whyloop.postmortem.files import (
    DEFAULT_DIR,
    FORMAT,
    default_path,
    dumps,
    list_postmortems,
    load,
    loads,
    postmortems_dir,
    save,
)
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
)

__all__ = [
    "DEFAULT_DIR",
    "FORMAT",
    "ActionItem",
    "ActionKind",
    "Cause",
    "Detection",
    "Entry",
    "EntryKind",
    "Impact",
    "IterationImpact",
    "Lessons",
    "Level",
    "Postmortem",
    "Problem",
    "Source",
    "Status",
    "build",
    "check",
    "check_markdown",
    "default_id",
    "default_path",
    "dumps",
    "header",
    "list_postmortems",
    "load",
    "loads",
    "postmortems_dir",
    "resolve_ref",
    "save",
    "section",
    "timeline_figure",
    "to_markdown",
]

_LAZY = {
    "check_markdown": "whyloop.postmortem.render",
    "header": "whyloop.postmortem.render",
    "section": "whyloop.postmortem.render",
    "timeline_figure": "whyloop.postmortem.render",
    "to_markdown": "whyloop.postmortem.render",
}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'whyloop.postmortem' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
