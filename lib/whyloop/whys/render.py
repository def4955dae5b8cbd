"""The why tree for people: Markdown for reports, a matplotlib figure for notebooks.

Pure (no pyplot: :func:`figure` builds a ``matplotlib.figure.Figure`` that a
notebook displays as it is and a report saves with ``fig.savefig``). Every
text is redacted.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from matplotlib.figure import Figure

from whyloop.redact import redact_text
from whyloop.whys.model import Analysis, Because, StepStatus, Why

__all__ = ["STATUS_COLOURS", "figure", "to_markdown"]

#: box colours by status: undecided pale yellow, confirmed green, refuted grey-red
STATUS_COLOURS = {
    StepStatus.HYPOTHESIS: "#fff4c2",
    StepStatus.CONFIRMED: "#c8ecc8",
    StepStatus.REFUTED: "#f1d0d0",
}
_WHY_COLOUR = "#dde8f6"
_MAX_EVIDENCE = 6


def _md(text: str) -> str:
    return redact_text(" ".join(str(text).split())).replace("|", "\\|")


def _because_md(b: Because, depth: int) -> Iterator[str]:
    pad = "  " * depth
    stage = f" (stage {b.stage})" if b.stage else ""
    yield f"{pad}- **{b.address}** [{b.status.value}] {_md(b.text)}{stage}"
    if b.source:
        yield f"{pad}  - from {_md(b.source)}"
    for e in b.evidence[:_MAX_EVIDENCE]:
        ref = f" `{_md(e.ref)}`" if e.ref else ""
        yield f"{pad}  - {e.kind.value}{ref}: {_md(e.text)[:200]}"
    if len(b.evidence) > _MAX_EVIDENCE:
        yield f"{pad}  - and {len(b.evidence) - _MAX_EVIDENCE} more evidence"
    if b.history:
        last = b.history[-1]
        yield f"{pad}  - {last.status.value} by {_md(last.by)} at {last.at}"
    if b.why is not None:
        yield from _why_md(b.why, depth + 1)


def _why_md(w: Why, depth: int) -> Iterator[str]:
    pad = "  " * depth
    yield f"{pad}- **Why {w.address}.** {_md(w.question)}"
    if not w.becauses:
        yield f"{pad}  - (no answer yet)"
    for b in w.becauses:
        yield from _because_md(b, depth + 1)


def to_markdown(analysis: Analysis) -> str:
    """The analysis as Markdown: problem, the why tree, causes, countermeasures, notes."""
    a = analysis
    lines = [f"# {_md(a.title or a.id)}", "", f"**Problem.** {_md(a.problem)}", ""]
    scope = f"Loop `{a.loop}`, iteration {', '.join(a.iterations) or '-'}"
    if a.clusters:
        scope += f"; clusters {', '.join(f'`{c}`' for c in a.clusters)}"
    lines += [scope + ".", "", "## Why chain", ""]
    for w in a.whys:
        lines += list(_why_md(w, 0))
    lines += ["", "## Causes", ""]
    causes = list(a.causes())
    if not causes:
        lines.append("None recorded yet.")
    for role, c in causes:
        step = f" (step {c.step})" if c.step else ""
        lines.append(f"- **{role.value.replace('_', ' ')} {c.id}**{step}: {_md(c.text)}")
    lines += ["", "## Countermeasures", ""]
    if not a.countermeasures:
        lines.append("None recorded yet.")
    else:
        lines += [
            "| id | action | against | owner | due | verified with | done | verified |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in a.countermeasures:
            checks = ", ".join([*c.verify_tests, *(f"probe {p}" for p in c.verify_probes)]) or "-"
            verified = "-"
            if c.verified is not None:
                verdict = "yes" if c.verified.ok else "no"
                verified = f"{verdict}, iteration {c.verified.iteration}: {_md(c.verified.figures)}"
            lines.append(
                f"| {c.id} | {_md(c.action)} | {', '.join(c.addresses) or '-'} | "
                f"{_md(c.owner) or '-'} | {c.due or '-'} | {_md(checks)} | "
                f"{'yes' if c.done else 'no'} | {verified} |"
            )
    if a.notes:
        lines += ["", "## Notes", "", *(f"- {_md(n)}" for n in a.notes)]
    return "\n".join(lines) + "\n"


# -- the figure -----------------------------------------------------------------------


def _nodes(analysis: Analysis) -> list[tuple[int, int, str, str]]:
    """(depth, index of the parent box or -1, label, colour) of each box, depth first."""
    out: list[tuple[int, int, str, str]] = []

    def why(w: Why, depth: int, parent: int) -> None:
        out.append((depth, parent, f"Why {w.address}: {w.question}", _WHY_COLOUR))
        me = len(out) - 1
        for b in w.becauses:
            text = f"{b.address} [{b.status.value}] {b.text}"
            out.append((depth + 1, me, text, STATUS_COLOURS[b.status]))
            if b.why is not None:
                why(b.why, depth + 2, len(out) - 1)

    for w in analysis.whys:
        why(w, 0, -1)
    return out


def figure(analysis: Analysis, *, width: float = 14.0, wrap: int = 38) -> Figure:
    """The why tree drawn left to right: whys in blue, becauses coloured by status."""
    nodes = _nodes(analysis)
    fig = Figure(figsize=(width, max(2.0, 0.9 * max(len(nodes), 1))))
    ax = fig.add_subplot()
    ax.set_axis_off()
    if not nodes:
        ax.text(0.5, 0.5, "no whys yet", ha="center", va="center")
        return fig
    depth = max(n[0] for n in nodes) + 1
    places: list[tuple[float, float]] = []
    for row, (level, parent, label, colour) in enumerate(nodes):
        x, y = level / depth, 1 - (row + 0.5) / len(nodes)
        places.append((x, y))
        text = textwrap.fill(redact_text(" ".join(label.split())), wrap, max_lines=3)
        ax.text(
            x,
            y,
            text,
            ha="left",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "#888888"},
        )
        if parent >= 0:
            px, py = places[parent]
            ax.plot([px, px, x], [py, y, y], color="#999999", linewidth=0.8, zorder=0)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    fig.suptitle(redact_text(analysis.title or analysis.id), fontsize=11)
    return fig
