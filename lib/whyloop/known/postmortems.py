"""What a postmortem records about its failure, as one index entry.

Pure. A postmortem (:class:`whyloop.postmortem.model.Postmortem`) covers one
loop's failure over its iterations: its ``clusters`` (signature ids), the
tests of its impact, the stages its causes and detection cite
(``store:L/N/probes#stage=welcome``), the log records of its timeline, its
root causes (or trigger) and its action items with their verification. It
becomes one :class:`~whyloop.known.entries.Entry` of kind ``postmortem``, so
a new failure is matched to it exactly as to a five-whys chain. A postmortem
keeps no signature text; the representative message its title quotes
(``demo-1 (iterations 1-2): TimeoutError: ...``), masked as signatures are,
stands in for one, for the similar-signature comparison only.
"""

from __future__ import annotations

import re

from whyloop.analyze.signatures import mask
from whyloop.errors import WhysError
from whyloop.known.entries import Conclusion, Entry, Measure
from whyloop.known.keys import log_key, log_message
from whyloop.postmortem.model import EntryKind, Postmortem
from whyloop.whys.refs import StoreRef

__all__ = ["postmortem_entry"]

_TITLE = re.compile(r"^[^:]*\([^)]*\): (.+)$")
_LOG_TEXT = re.compile(r" of cluster [^:]+: (.+)$")


def _stages(refs: list[str]) -> list[str]:
    out = []
    for ref in refs:
        if not str(ref).startswith("store:"):
            continue
        try:
            parsed = StoreRef.parse(ref)
        except WhysError:  # a hand-written reference that does not parse names no stage
            continue
        if parsed.table == "probes" and parsed.where.get("stage"):
            out.append(parsed.where["stage"])
    return out


def postmortem_entry(pm: Postmortem, path: str = "") -> Entry:
    """The postmortem ``pm`` (its file at ``path``) as one index entry."""
    causes = [Conclusion(c.id, c.text, "root_cause") for c in pm.root_causes]
    if pm.trigger is not None:
        causes.append(Conclusion(pm.trigger.id, pm.trigger.text, "trigger"))
    refs = [r for c in [*pm.root_causes, *pm.contributing] for r in c.evidence]
    refs += pm.detection.evidence
    keys = []
    for item in pm.timeline:
        found = _LOG_TEXT.search(item.text) if item.kind is EntryKind.LOG else None
        if found:
            keys.append(log_key(log_message(found.group(1))))
    measures = [
        Measure(
            a.id,
            a.action,
            a.done,
            None if a.verified is None else a.verified.ok,
            "" if a.verified is None else a.verified.iteration,
            "" if a.verified is None else a.verified.figures,
        )
        for a in pm.action_items
    ]
    title = _TITLE.match(pm.title)
    return Entry(
        analysis=pm.id,
        path=path,
        why="postmortem",
        loop=pm.loop,
        iterations=list(pm.iterations),
        created=pm.created,
        question=pm.title,
        clusters=list(pm.clusters),
        signature=mask(title.group(1)) if title else "",
        tests=list(dict.fromkeys(t for it in pm.impact.iterations for t in it.tests)),
        stages=list(dict.fromkeys(_stages(refs))),
        log_keys=[k for k in dict.fromkeys(keys) if k],
        causes=causes,
        measures=measures,
        kind="postmortem",
    )
