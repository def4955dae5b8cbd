"""Building a postmortem from a loop's stored iterations and the five-whys analyses that cover them.

Pure (reads the store and the analyses' files; nothing is written):
:func:`build` gathers the iterations (:mod:`.gather`), takes the causes and
countermeasures from the analyses (:mod:`.causes`), assembles the timeline
from the records (:mod:`.timeline`) and writes the figures and sentences
(:mod:`.story`). The result is a draft: a team reviews and edits the file,
and moves its status to *in review* and *final*::

    pm = postmortem.build(whyloop.Store("data/iterations"), "staging", ["3", "4"])
    pm.save()                     # data/postmortems/staging/staging-3-to-4.yaml
    postmortem.check(pm)          # [] when it passes
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from whyloop.postmortem.causes import action_items, recorded_causes, trigger
from whyloop.postmortem.files import default_path, postmortems_dir
from whyloop.postmortem.gather import LoopData, gather
from whyloop.postmortem.model import Postmortem, Source, Status
from whyloop.postmortem.story import (
    cluster_rows,
    detection,
    impact,
    lessons,
    recovery,
    response,
    summary,
)
from whyloop.postmortem.timeline import timeline
from whyloop.redact import redact_text
from whyloop.store import Store
from whyloop.whys.model import Analysis, now

__all__ = ["build", "default_id"]


def default_id(loop: str, iterations: Sequence[str]) -> str:
    """``LOOP-FIRST-to-LAST`` (``LOOP-N`` for one iteration)."""
    first, last = iterations[0], iterations[-1]
    return f"{loop}-{first}" if first == last else f"{loop}-{first}-to-{last}"


def _clusters(data: LoopData) -> tuple[list[str], list[str]]:
    """The clusters the postmortem is about: those the analyses name, else every failing one."""
    failing: list[str] = []
    for it in data.iterations:
        failed = data.failed(it)
        if not failed.empty and "signature" in failed:
            failing += [str(s) for s in failed["signature"].dropna()]
    failing = list(dict.fromkeys(failing))
    named = [c for a in data.analyses for c in a.clusters]
    chosen = [c for c in dict.fromkeys(named) if c in failing]
    notes = []
    if not failing:
        notes.append(
            "no test fails in the chosen iterations: the postmortem has no failure to cover"
        )
    elif named and not chosen:
        notes.append(
            "the analyses' clusters fail in none of the chosen iterations: "
            "every failing cluster is covered instead"
        )
    elif not named and failing:
        notes.append("no analysis names a cluster: every failing cluster is covered")
    return chosen or failing, notes


def _path(a: Analysis) -> str:
    """The analysis file as the postmortem cites it: relative to the working directory when under it."""
    if a.path is None:
        return ""
    path = Path(a.path)
    if not path.is_absolute():
        return os.path.normpath(path)
    if path.resolve().is_relative_to(Path.cwd().resolve()):
        return os.path.relpath(path.resolve())
    return str(path)


def _title(data: LoopData, clusters: list[str]) -> str:
    rows = cluster_rows(data, clusters)
    span = (
        data.iterations[0]
        if len(data.iterations) == 1
        else f"{data.iterations[0]}-{data.iterations[-1]}"
    )
    for frame in rows.values():
        message = next((str(m) for m in frame.get("message", []) if isinstance(m, str) and m), "")
        if message:
            first = message.splitlines()[0][:100]
            return redact_text(f"{data.loop} (iterations {span}): {first}")
    return f"{data.loop} (iterations {span})"


def build(
    store: Store | str | Path,
    loop: str,
    iterations: Sequence[str | int] | None = None,
    *,
    analyses: Sequence[Analysis | str | Path] | None = None,
    whys_root: str | Path | None = None,
    postmortem_id: str | None = None,
    title: str | None = None,
) -> Postmortem:
    """A draft postmortem of ``loop`` over ``iterations`` (default: all) and its analyses.

    ``analyses`` (objects or paths) default to every analysis under
    ``whys_root/<loop>/`` (default: ``whys/`` beside the store) that names one
    of the iterations. Nothing is written: call ``save()`` on the result.
    PostmortemError when the loop or an iteration is not in the store.
    """
    store = store if isinstance(store, Store) else Store(Path(store))
    data = gather(store, loop, iterations, analyses=analyses, whys_root=whys_root)
    clusters, notes = _clusters(data)
    if not data.analyses:
        notes.append(
            "no five-whys analysis covers these iterations: no root cause or action item yet"
        )
    paths = {a.id: _path(a) for a in data.analyses}
    roots, factors, ids = recorded_causes(data.analyses)
    rows = cluster_rows(data, clusters)
    first_failing = next(iter(rows), None)
    trig = trigger(data, first_failing)
    detected = detection(data, clusters)
    hurt = impact(data, clusters)
    recovered = recovery(data, clusters)
    made = Postmortem(
        postmortem_id or default_id(loop, data.iterations),
        title or _title(data, clusters),
        status=Status.DRAFT,
        loop=loop,
        iterations=list(data.iterations),
        clusters=clusters,
        analyses=[Source(a.id, paths[a.id]) for a in data.analyses],
        created=now(),
        summary=summary(data, hurt, trig, roots, recovered),
        impact=hurt,
        trigger=trig,
        root_causes=roots,
        contributing=factors,
        detection=detected,
        response=response(data, clusters),
        recovery=recovered,
        timeline=timeline(data, clusters, paths),
        lessons=lessons(data, clusters, trig, detected),
        action_items=action_items(data.analyses, ids),
        notes=notes,
    )
    # saved beside the store, as the analyses are, wherever the process runs
    made.path = default_path(made, postmortems_dir(store.root))
    return made
