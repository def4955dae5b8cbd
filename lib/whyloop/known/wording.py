"""Matches in words: one line each, a table for a notebook, Markdown for a report.

Pure. Each match reads::

    seen in loop demo-1, iteration 1: root cause R1 'The server ...'; countermeasure C1
    'Send the welcome ...' (verified in iteration 2); analysis file data/whys/demo-1/demo-1-1.yaml
    REGRESSION: came back after being fixed in loop demo-1, iteration 2
    similar: same signature 85ff952b7f1a; same failing stage: welcome; same tests: 3 of 3 (...)

What a past analysis did not record is said as such (``root cause: none
recorded yet``, ``countermeasure: none recorded``, ``not verified: its tests
and probes were not run again``), never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from whyloop.known.entries import Conclusion, Entry, Measure
from whyloop.known.match import Match
from whyloop.redact import redact_text

__all__ = [
    "MATCH_COLUMNS",
    "describe",
    "hypothesis_text",
    "matches_frame",
    "to_markdown",
    "to_text",
]

#: columns of :func:`matches_frame`, in order
MATCH_COLUMNS: tuple[str, ...] = (
    "failure",
    "signature",
    "rank",
    "confidence",
    "score",
    "regression",
    "seen_loop",
    "seen_iteration",
    "analysis",
    "why",
    "root_cause",
    "countermeasure",
    "verified",
    "similarity",
    "file",
    "summary",
)
_CUT = 160


def _cut(text: str, n: int = _CUT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _cause(c: Conclusion) -> str:
    if c.role in ("root_cause", "trigger", "contributing"):
        role = {
            "root_cause": "root cause",
            "trigger": "trigger",
            "contributing": "contributing factor",
        }
        return f"{role[c.role]} {c.id} '{_cut(c.text)}'"
    return f"no root cause recorded; {c.role} because {c.id} '{_cut(c.text)}'"


def causes_text(entry: Entry) -> str:
    """What the past chain concluded, or that it concluded nothing yet."""
    roots = [c for c in entry.causes if c.role == "root_cause"] or entry.causes
    return "; ".join(_cause(c) for c in roots) or "root cause: none recorded yet"


def verified_text(m: Measure) -> str:
    """``verified in iteration 2``, ``NOT verified in iteration 3 (...)``, or never checked."""
    if m.verified is True:
        return f"verified in iteration {m.verified_iteration or 'unknown'}"
    if m.verified is False:
        return f"not verified: its checks failed in iteration {m.verified_iteration or 'unknown'} ({m.figures})"
    done = "done, " if m.done else ""
    return f"{done}not verified: its tests and probes were not run again"


def measures_text(entry: Entry) -> str:
    """The chain's countermeasures with their verification, or that there are none."""
    if not entry.measures:
        return "countermeasure: none recorded"
    return "; ".join(
        f"countermeasure {m.id} '{_cut(m.action)}' ({verified_text(m)})" for m in entry.measures
    )


def seen_text(entry: Entry) -> str:
    """``seen in loop L, iteration N`` (the analysis's first iteration)."""
    first = entry.iterations[0] if entry.iterations else "unknown"
    return f"seen in loop {entry.loop or 'unknown'}, iteration {first}"


def similarity_text(match: Match) -> str:
    """The reasons, most telling first, joined."""
    return "; ".join(r.text for r in match.reasons)


def describe(match: Match) -> str:
    """The match in a few lines: where it was seen, what it concluded, a regression, why alike."""
    e = match.entry
    kind = "postmortem" if e.kind == "postmortem" else "analysis"
    lines = [
        f"{seen_text(e)}: {causes_text(e)}; {measures_text(e)}; {kind} file {e.path or e.analysis}",
    ]
    if match.regression_of:
        lines.append(
            f"REGRESSION: came back after being fixed in {match.fixed_in} ({match.regression_of})"
        )
    lines.append(
        f"similar ({match.confidence.value} confidence, score {match.score:.2f}): {similarity_text(match)}"
    )
    return redact_text("\n".join(lines))


def hypothesis_text(match: Match) -> str:
    """The because a new draft starts from: the past conclusion, said as a precedent to check."""
    e = match.entry
    back = f" It came back after being fixed in {match.fixed_in}." if match.regression_of else ""
    return redact_text(
        f"The same cause as before ({seen_text(e)}, analysis {e.analysis}): {causes_text(e)}; "
        f"{measures_text(e)}.{back}"
    )


def matches_frame(matches: Sequence[Match]) -> pd.DataFrame:
    """One row per match (columns :data:`MATCH_COLUMNS`), for a notebook or a report."""
    rows = []
    for m in matches:
        e = m.entry
        rows.append(
            {
                "failure": m.failure.label,
                "signature": _cut(m.failure.signature, 120),
                "rank": m.rank,
                "confidence": m.confidence.value,
                "score": m.score,
                "regression": f"came back after being fixed in {m.fixed_in}"
                if m.regression_of
                else "",
                "seen_loop": e.loop,
                "seen_iteration": e.iterations[0] if e.iterations else "",
                "analysis": e.analysis,
                "why": e.why,
                "root_cause": causes_text(e),
                "countermeasure": measures_text(e),
                "verified": any(x.verified is True for x in e.measures),
                "similarity": similarity_text(m),
                "file": e.path,
                "summary": describe(m).split("\n", 1)[0],
            }
        )
    frame = pd.DataFrame(rows, columns=list(MATCH_COLUMNS))
    for column in ("root_cause", "countermeasure", "similarity", "summary", "signature"):
        frame[column] = frame[column].map(redact_text) if len(frame) else frame[column]
    return frame


def to_text(matches: Sequence[Match], failures: int | None = None) -> str:
    """Every match, grouped by failure, ranked: what ``whyloop known`` prints."""
    if not matches:
        if failures == 0:
            return "nothing failed: no failure cluster to look up\n"
        looked = f" for {failures} failure cluster(s)" if failures is not None else ""
        return (
            f"no known cause{looked}: no past analysis shares a signature, "
            "or a log template with the stage or tests\n"
        )
    out: list[str] = []
    label = None
    for m in matches:
        if m.failure.label != label:
            label = m.failure.label
            sig = f": {_cut(m.failure.signature, 120)}" if m.failure.signature else ""
            out.append(f"{'' if not out else chr(10)}failure {label}{sig}")
        body = describe(m).replace("\n", "\n     ")
        out.append(f"  {m.rank}. {body}")
    return redact_text("\n".join(out) + "\n")


def to_markdown(matches: Sequence[Match] | pd.DataFrame, failures: int | None = None) -> str:
    """A Markdown list of the matches (from :func:`~whyloop.known.lookup` or :func:`matches_frame`).

    ``failures``: how many failure clusters were looked up, so that none is
    told apart from none matched.
    """
    frame = matches if isinstance(matches, pd.DataFrame) else matches_frame(matches)
    if frame.empty:
        if failures == 0:
            return "Nothing failed: no failure cluster to look up.\n"
        looked = f" of the {failures} failure cluster(s)" if failures is not None else ""
        return f"No known cause: no past analysis resembles any{looked}.\n"
    lines = []
    for r in frame.to_dict("records"):
        regression = f" **Regression: {r['regression']}.**" if r["regression"] else ""
        lines.append(
            f"- **{r['failure']}** ({r['confidence']} confidence, score {r['score']:.2f}): "
            f"seen in loop {r['seen_loop'] or 'unknown'}, "
            f"iteration {r['seen_iteration'] or 'unknown'}: "
            f"{r['root_cause']}; {r['countermeasure']}.{regression} "
            f"Similar: {r['similarity']}. Analysis file `{r['file'] or r['analysis']}`."
        )
    return redact_text("\n".join(lines) + "\n")
