"""Five whys: why -> because trees with evidence, kept as YAML, drafted, checked and verified.

- :mod:`.model`: the analysis, its whys and becauses, causes and countermeasures (pure)
- :mod:`.refs`: evidence references into the iteration store and what they point at now
- :mod:`.files`: one readable YAML file per analysis, exact round trips
- :mod:`.draft`: the first whys and hypotheses of a stored iteration, from its findings
- :mod:`.check`: what fails a review, what deserves a second look
- :mod:`.verify`: did the countermeasures' tests and probes pass in a later iteration
- :mod:`.render`: Markdown and a matplotlib figure; :mod:`.view` and :mod:`.widget` the notebook view

In a notebook::

    from whyloop import whys
    a = whys.draft("data/iterations", "staging")        # hypotheses only
    a.save()                                             # data/whys/staging/staging-3.yaml
    a = whys.load("data/whys/staging/staging-3.yaml")
    a.why(1).because(1).confirm(evidence="probe:welcome")   # by $WHYLOOP_USER or the login name
    a.save()
    whys.check(a, whyloop.Store("data/iterations"))
    whys.show(a)                                         # the ipywidgets view

``figure``, ``show`` and ``WhysWidget`` load matplotlib and ipywidgets on first use.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from whyloop.whys.check import Level, Problem, blames_a_person, check
from whyloop.whys.draft import draft, draft_from_tables
from whyloop.whys.files import (
    DEFAULT_DIR,
    default_path,
    dumps,
    list_analyses,
    load,
    loads,
    save,
    whys_dir,
)
from whyloop.whys.model import (
    Analysis,
    Because,
    CausalRole,
    Cause,
    Change,
    Claim,
    Countermeasure,
    Evidence,
    EvidenceKind,
    StepStatus,
    Verification,
    Why,
    current_user,
)
from whyloop.whys.refs import RefState, Resolution, StoreRef, resolve
from whyloop.whys.verify import VerifyResult, verify
from whyloop.whys.view import WhysViewModel

__all__ = [
    "DEFAULT_DIR",
    "Analysis",
    "Because",
    "CausalRole",
    "Cause",
    "Change",
    "Claim",
    "Countermeasure",
    "Evidence",
    "EvidenceKind",
    "Level",
    "Problem",
    "RefState",
    "Resolution",
    "StepStatus",
    "StoreRef",
    "Verification",
    "VerifyResult",
    "Why",
    "WhysViewModel",
    "WhysWidget",
    "blames_a_person",
    "check",
    "current_user",
    "default_path",
    "draft",
    "draft_from_tables",
    "dumps",
    "figure",
    "list_analyses",
    "load",
    "loads",
    "resolve",
    "save",
    "show",
    "to_markdown",
    "verify",
    "whys_dir",
]

_LAZY = {
    "figure": "whyloop.whys.render",
    "to_markdown": "whyloop.whys.render",
    "show": "whyloop.whys.widget",
    "WhysWidget": "whyloop.whys.widget",
}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'whyloop.whys' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
