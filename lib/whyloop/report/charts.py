"""The iteration report's charts: matplotlib figures with titles and axis labels, no pyplot state.

Each function takes what a :mod:`whyloop.report.sections` function returns
and builds a ``matplotlib.figure.Figure`` (never ``pyplot``, so nothing is
drawn twice and nothing leaks between cells); long labels are wrapped and
the layout is constrained so that no text overlaps. When the section
returned a sentence (its data is missing), the figure shows that sentence.
:func:`show` is what the notebook calls to display a section or a figure.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "count_chart",
    "groups_chart",
    "results_chart",
    "show",
    "stage_chart",
    "stage_compare_chart",
    "trend_chart",
]

_PASS, _FAIL, _OTHER = "#4c9a5b", "#c8504b", "#b9b9b9"
_WRAP = 24


def _wrap(label: Any, width: int = _WRAP, lines: int = 3) -> str:
    """``label`` on at most ``lines`` lines of ``width``; a longer one keeps its start and end
    (names that differ only at the end, "... feature 10", stay told apart)."""
    text = " ".join(str(label).split())
    room = width * lines - 4
    if len(text) > room:
        text = f"{text[: room // 2].rstrip()}... {text[-(room - room // 2 - 4) :].lstrip()}"
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)[:lines]) or text


def _ms(value: float) -> str:
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.3g} ms"


def _x_ticks(ax: Any, names: list[str]) -> None:
    """One tick per iteration, thinned to at most 30 labels; upright when they fit side by side,
    else turned a quarter (turned labels' boxes never reach their neighbours')."""
    step = max(1, -(-len(names) // 30))
    shown = list(range(0, len(names), step))
    longest = max((len(n) for n in names), default=1)
    turn = len(shown) * (longest + 2) > 70  # ~70 characters of 10 pt text span an 8 in axis
    ax.set_xticks(shown, [names[i] for i in shown], rotation=90 if turn else 0)


def _missing(title: str, sentence: str) -> Figure:
    fig = Figure(figsize=(7, 1.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, _wrap(sentence, 70), ha="center", va="center")
    return fig


def results_chart(by_category: pd.DataFrame | str) -> Figure:
    """Horizontal bars per category: passed, failed (with errors), other (skipped), stacked."""
    title = "Results by category"
    if not isinstance(by_category, pd.DataFrame):
        return _missing(title, by_category)
    frame = by_category.iloc[::-1]  # first category on top
    labels = [_wrap(c) for c in frame["category"]]
    passed = frame["passed"].to_numpy(float)
    failed = (frame["failed"] + frame["errors"]).to_numpy(float)
    other = frame["total"].to_numpy(float) - passed - failed
    lines = sum(label.count("\n") + 1 for label in labels)
    fig = Figure(figsize=(8, max(2.5, 0.45 * lines + 1.2)), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(labels, passed, color=_PASS, label="passed")
    ax.barh(labels, failed, left=passed, color=_FAIL, label="failed or error")
    ax.barh(labels, other, left=passed + failed, color=_OTHER, label="skipped or xfailed")
    for y, (p, t) in enumerate(zip(passed, frame["total"], strict=True)):
        ax.text(t, y, f" {int(p)}/{int(t)}", va="center", fontsize=9)
    ax.set_xlim(0, max(frame["total"].max(), 1) * 1.15)
    ax.set_title(title)
    ax.set_xlabel("tests")
    ax.set_ylabel("category")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8)  # beside the bars, never on them
    return fig


def trend_chart(trend: pd.DataFrame | str) -> Figure:
    """Pass rate per iteration (line, left) above new and fixed failures per iteration (bars)."""
    title = "Trend across iterations"
    if not isinstance(trend, pd.DataFrame):
        return _missing(title, trend)
    fig = Figure(figsize=(8, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = list(range(len(trend)))
    names = [str(n) for n in trend["iteration"]]
    rate = pd.to_numeric(trend["pass_rate"], errors="coerce") * 100
    top.plot(x, rate, marker="o", color=_PASS)
    top.set_ylim(0, 115)
    if len(x) <= 12:  # few points: the figure itself, above each
        for i, r in zip(x, rate, strict=True):
            if pd.notna(r):
                top.annotate(f"{r:.0f}%", (i, r), textcoords="offset points", xytext=(0, 6),
                             ha="center", fontsize=9)  # fmt: skip
    top.set_xlim(-0.6, len(x) - 0.4)
    top.set_title("Pass rate per iteration")
    top.set_ylabel("pass rate (%)")
    top.set_yticks([0, 20, 40, 60, 80, 100])
    new = trend["new_failures"].astype("Float64").fillna(0).to_numpy(float)
    fixed = trend["fixed"].astype("Float64").fillna(0).to_numpy(float)
    bottom.bar([i - 0.2 for i in x], new, width=0.4, color=_FAIL, label="new failures")
    bottom.bar([i + 0.2 for i in x], fixed, width=0.4, color=_PASS, label="fixed")
    bottom.set_ylim(0, max(1.0, new.max(), fixed.max()) * 1.15)
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(x) == 1:  # the first iteration has nothing to be new or fixed against
        bottom.text(0, 0.5, "no earlier iteration to compare with", ha="center", va="center")
    bottom.set_title("New and fixed failures per iteration")
    bottom.set_ylabel("tests")
    bottom.set_xlabel("iteration")
    _x_ticks(bottom, names)
    fig.legend(*bottom.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(title)
    return fig


def stage_chart(timings: pd.DataFrame | str) -> Figure:
    """Time per probe stage (or suite check), failed ones in red."""
    title = "Probe stage timings"
    if not isinstance(timings, pd.DataFrame):
        return _missing(title, timings)
    frame = timings.iloc[::-1]
    labels = [_wrap(s, 30) for s in frame["stage"]]
    lines = sum(label.count("\n") + 1 for label in labels)
    fig = Figure(figsize=(8, max(2.5, 0.4 * lines + 1.2)), layout="constrained")
    ax = fig.add_subplot()
    colours = [_PASS if ok else _FAIL for ok in frame["ok"]]
    ms = frame["ms"].to_numpy(float)
    ax.barh(range(len(frame)), ms, color=colours)
    for y, value in enumerate(ms):  # a stage of 0.1 ms beside one of 3 s still shows its figure
        ax.text(value, y, f" {_ms(value)}", va="center", fontsize=8)
    ax.set_xlim(0, max(ms.max(), 1.0) * 1.18)
    ax.set_yticks(range(len(frame)), labels)
    ax.set_title(f"{title} (red: failed)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("stage")
    return fig


def count_chart(
    frame: pd.DataFrame | str, label: str, value: str, *, title: str, xlabel: str, ylabel: str
) -> Figure:
    """Horizontal bars of ``frame[value]`` per ``frame[label]``, largest on top, figures beside."""
    if not isinstance(frame, pd.DataFrame):
        return _missing(title, frame)
    if frame.empty:
        return _missing(title, "nothing to count")
    frame = frame.iloc[::-1]
    labels = [_wrap(v, 40, 2) for v in frame[label]]
    lines = sum(text.count("\n") + 1 for text in labels)
    fig = Figure(figsize=(8, max(2.5, 0.4 * lines + 1.2)), layout="constrained")
    ax = fig.add_subplot()
    counts = frame[value].to_numpy(float)
    ax.barh(range(len(frame)), counts, color=_FAIL)
    for y, n in enumerate(counts):
        ax.text(n, y, f" {n:g}", va="center", fontsize=9)
    ax.set_yticks(range(len(frame)), labels)
    ax.set_xlim(0, max(counts.max(), 1.0) * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def groups_chart(grouped: pd.DataFrame | str, by: str) -> Figure:
    """Failing tests per group of :func:`whyloop.report.triage.groups` (its first column)."""
    title = f"Failing tests by {by}"
    if not isinstance(grouped, pd.DataFrame):
        return _missing(title, grouped)
    return count_chart(
        grouped, str(grouped.columns[0]), "failing", title=title, xlabel="failing tests", ylabel=by
    )


def stage_compare_chart(
    timings: pd.DataFrame | str, *, title: str = "Stage timings compared"
) -> Figure:
    """Grouped bars: time per stage (rows) for each run (``run`` column), failed stages hatched.

    ``timings`` has ``run, stage, ms, ok`` (:func:`whyloop.report.probes.stage_table`).
    """
    if not isinstance(timings, pd.DataFrame):
        return _missing(title, timings)
    runs = list(dict.fromkeys(timings["run"].astype(str)))
    stages = list(dict.fromkeys(timings["stage"].astype(str)))[::-1]
    fig = Figure(figsize=(8, max(3.0, 0.3 * len(stages) * len(runs) + 1.8)), layout="constrained")
    ax = fig.add_subplot()
    height = 0.8 / max(len(runs), 1)
    palette = ["#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3"]
    top = max(float(pd.to_numeric(timings["ms"], errors="coerce").max() or 0), 1.0)
    for k, run in enumerate(runs):
        rows = timings[timings["run"].astype(str) == run].drop_duplicates("stage", keep="last")
        by = rows.set_index(rows["stage"].astype(str))
        for y, stage in enumerate(stages):
            if stage not in by.index or pd.isna(by.at[stage, "ms"]):
                continue
            ms, ok = float(by.at[stage, "ms"]), bool(by.at[stage, "ok"])
            pos = y + 0.4 - height * (k + 0.5)  # the first run on top of its group
            ax.barh(pos, ms, height=height * 0.9, color=palette[k % len(palette)],
                    hatch=None if ok else "//", edgecolor="black" if not ok else None,
                    label=_wrap(run, 40, 1))  # fmt: skip
            ax.text(ms, pos, f" {_ms(ms)}" + ("" if ok else " (failed)"), va="center", fontsize=7)
    ax.set_yticks(range(len(stages)), [_wrap(s, 30, 2) for s in stages])
    ax.set_xlim(0, top * 1.3)
    ax.set_title(f"{title} (hatched: failed)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("stage")
    handles, names = ax.get_legend_handles_labels()
    seen = dict(zip(names, handles, strict=True))
    fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncols=min(len(seen), 3),
               fontsize=8)  # fmt: skip
    return fig


def show(item: Any) -> None:
    """Display a section in the notebook: a sentence as Markdown, a frame as a table, a figure."""
    from IPython.display import Markdown, display  # the notebook's own display, loaded on use

    if isinstance(item, str):
        display(Markdown(item))
    else:
        display(item)
