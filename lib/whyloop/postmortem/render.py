"""The postmortem for people: Markdown for a wiki or a pull request, section by section, and a figure.

Pure (no pyplot: :func:`timeline_figure` builds a ``matplotlib.figure.Figure``).
:func:`to_markdown` is the whole document; :func:`section` one of its
:data:`SECTIONS`, which is what each cell of ``notebooks/postmortem.ipynb``
shows. Every text is redacted.
"""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure

from whyloop.errors import PostmortemError
from whyloop.postmortem.gather import when
from whyloop.postmortem.model import Cause, EntryKind, Postmortem
from whyloop.redact import redact_text
from whyloop.whys.check import Level, Problem

__all__ = ["SECTIONS", "check_markdown", "header", "section", "timeline_figure", "to_markdown"]


def _md(text: str) -> str:
    return redact_text(" ".join(str(text).split())).replace("|", "\\|")


def _refs(refs: list[str], limit: int = 4) -> str:
    shown = ", ".join(f"`{_md(r)}`" for r in refs[:limit])
    more = f" and {len(refs) - limit} more" if len(refs) > limit else ""
    return shown + more if refs else "none"


def header(pm: Postmortem) -> str:
    """The title, status, loop, iterations and the analyses it was built from."""
    lines = [f"# Postmortem: {_md(pm.title or pm.id)}", ""]
    lines.append(
        f"**Status: {pm.status.value}** · loop `{pm.loop}` · iterations "
        f"{', '.join(pm.iterations) or '-'} · id `{pm.id}`"
    )
    if pm.analyses:
        names = ", ".join(
            f"`{s.id}`" + (f" ({_md(s.path)})" if s.path else "") for s in pm.analyses
        )
        lines += ["", f"Built from the five-whys analyses {names}."]
    return "\n".join(lines)


def _summary(pm: Postmortem) -> list[str]:
    return [_md(pm.summary) or "Not written yet."]


def _impact(pm: Postmortem) -> list[str]:
    i = pm.impact
    lines = ["| iteration | tests run | failed | failing tests |", "|---|---:|---:|---|"]
    for r in i.iterations:
        shown = ", ".join(f"`{_md(t.split('::')[-1])}`" for t in r.tests[:5])
        more = f" and {len(r.tests) - 5} more" if len(r.tests) > 5 else ""
        lines.append(f"| {r.iteration} | {r.total} | {r.failed} | {shown + more or '-'} |")
    lines += ["", f"- **Categories:** {', '.join(map(_md, i.categories)) or 'none named'}"]
    lines.append(f"- **Users:** {_md(i.users) or 'unknown'}")
    lines.append(
        f"- **Started:** {_md(i.started) or 'unknown'}; **ended:** {_md(i.ended) or 'unknown'}"
    )
    lines.append(f"- **Duration:** {_md(i.duration) or 'unknown'}")
    return lines


def _cause(role: str, c: Cause) -> list[str]:
    where = f" (step {c.step} of `{c.analysis}`)" if c.step and c.analysis else ""
    lines = [f"- **{role} {c.id}**{where}: {_md(c.text)}"]
    if c.source:
        lines.append(f"  - {_md(c.source)}")
    lines.append(f"  - evidence: {_refs(c.evidence)}")
    return lines


def _causes(pm: Postmortem) -> list[str]:
    lines = ["### Trigger", ""]
    lines += _cause("trigger", pm.trigger) if pm.trigger else ["Not recorded."]
    lines += ["", "### Root causes", ""]
    lines += [x for c in pm.root_causes for x in _cause("root cause", c)] or ["None recorded yet."]
    lines += ["", "### Contributing factors", ""]
    lines += [x for c in pm.contributing for x in _cause("contributing", c)] or ["None recorded."]
    return lines


def _detection(pm: Postmortem) -> list[str]:
    d = pm.detection
    lines = [
        f"First seen in iteration {d.iteration or '?'}" + (f" at {d.at}" if d.at else "") + "."
    ]
    lines += ["", _md(d.how) or "Not recorded.", "", f"Evidence: {_refs(d.evidence)}"]
    return lines


def _response(pm: Postmortem) -> list[str]:
    lines = ["### Response", ""] + ([f"- {_md(x)}" for x in pm.response] or ["Not recorded."])
    lines += ["", "### Recovery", ""] + ([f"- {_md(x)}" for x in pm.recovery] or ["Not recorded."])
    return lines


def _timeline(pm: Postmortem) -> list[str]:
    if not pm.timeline:
        return ["No entries."]
    lines = [
        "| time (UTC) | iteration | kind | what happened | evidence |",
        "|---|---|---|---|---|",
    ]
    for e in pm.timeline:
        at = e.at.replace("T", " ").replace("+00:00", "") if e.at else "?"
        lines.append(
            f"| {at} | {e.iteration or '-'} | {e.kind.value} | {_md(e.text)} | {_refs(e.evidence, 2)} |"
        )
    return lines


def _lessons(pm: Postmortem) -> list[str]:
    out = []
    for title, items in (
        ("What went well", pm.lessons.went_well),
        ("What went wrong", pm.lessons.went_wrong),
        ("Where we got lucky", pm.lessons.got_lucky),
    ):
        out += (
            [f"### {title}", ""]
            + ([f"- {_md(x)}" for x in items] or ["Nothing recorded yet."])
            + [""]
        )
    return out[:-1]


def _actions(pm: Postmortem) -> list[str]:
    if not pm.action_items:
        return ["None recorded yet."]
    lines = [
        "| id | kind | action | against | owner | due | verified with | done | verified |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for a in pm.action_items:
        checks = ", ".join([*a.verify_tests, *(f"probe {p}" for p in a.verify_probes)]) or "-"
        verified = "-"
        if a.verified is not None:
            verdict = "yes" if a.verified.ok else "no"
            verified = f"{verdict}, iteration {a.verified.iteration}: {_md(a.verified.figures)}"
        lines.append(
            f"| {a.id} | {a.kind.value} | {_md(a.action)} | {', '.join(a.addresses) or '-'} | "
            f"{_md(a.owner) or '**none**'} | {a.due or '-'} | {_md(checks)} | "
            f"{'yes' if a.done else 'no'} | {verified} |"
        )
    return lines


def _notes(pm: Postmortem) -> list[str]:
    return [f"- {_md(n)}" for n in pm.notes] or ["None."]


#: the document's sections, in order: name -> (heading, renderer)
SECTIONS: dict[str, tuple[str, Callable[[Postmortem], list[str]]]] = {
    "summary": ("Summary", _summary),
    "impact": ("Impact", _impact),
    "causes": ("Trigger and causes", _causes),
    "detection": ("Detection", _detection),
    "response": ("Response and recovery", _response),
    "timeline": ("Timeline", _timeline),
    "lessons": ("Lessons", _lessons),
    "actions": ("Action items", _actions),
    "notes": ("Notes", _notes),
}


def section(pm: Postmortem, name: str, *, heading: bool = True) -> str:
    """One section of the document as Markdown (``heading=False``: without its ``##`` line)."""
    if name not in SECTIONS:
        raise PostmortemError(f"no section {name!r}: one of {', '.join(SECTIONS)}", param="name")
    title, render = SECTIONS[name]
    lines = ([f"## {title}", ""] if heading else []) + render(pm)
    return "\n".join(lines) + "\n"


def to_markdown(postmortem: Postmortem) -> str:
    """The whole postmortem as Markdown: header, then every section in order."""
    parts = [header(postmortem) + "\n"] + [section(postmortem, name) for name in SECTIONS]
    return "\n".join(parts)


def check_markdown(problems: list[Problem]) -> str:
    """The review check's outcome: passed, or one line per problem, errors first."""
    if not problems:
        return "**The review check passes**: every action item has an owner, every timeline entry cites evidence, and the trigger is kept apart from the root causes.\n"
    errors = sum(p.level is Level.ERROR for p in problems)
    head = (
        f"**The review check fails** ({errors} error(s))"
        if errors
        else "**The review check passes**, with warnings"
    )
    return "\n".join([head + ":", "", *(f"- {_md(str(p))}" for p in problems)]) + "\n"


_COLOURS = {
    EntryKind.DEPLOY: "#6a8fd0",
    EntryKind.ITERATION: "#999999",
    EntryKind.TEST: "#c8504b",
    EntryKind.PROBE: "#d69a2d",
    EntryKind.LOG: "#8a6bbd",
    EntryKind.ANALYSIS: "#4c9a5b",
    EntryKind.NOTE: "#444444",
}


def timeline_figure(pm: Postmortem) -> Figure:
    """The timeline drawn as points in time, one row per kind of entry, with axis labels."""
    fig = Figure(figsize=(10, 3.2), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(redact_text(f"Timeline of {pm.id}"))
    points = [(when(e.at), e.kind) for e in pm.timeline]
    points = [(t, k) for t, k in points if t is not None]
    if not points:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no timed entries", ha="center", va="center")
        return fig
    kinds = [k for k in EntryKind if any(k is p for _, p in points)]
    for row, kind in enumerate(kinds):
        times = [t.tz_convert(None).to_pydatetime() for t, k in points if k is kind]
        ax.scatter(times, [row] * len(times), color=_COLOURS[kind], s=36, zorder=3)
    ax.set_yticks(range(len(kinds)), [k.value for k in kinds])
    ax.set_ylim(-0.7, len(kinds) - 0.3)
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("entry kind")
    ax.grid(axis="x", alpha=0.3)
    fig.autofmt_xdate()
    return fig
