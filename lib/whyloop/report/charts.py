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

__all__ = ["results_chart", "show", "stage_chart", "trend_chart"]

_PASS, _FAIL, _OTHER = "#4c9a5b", "#c8504b", "#b9b9b9"
_WRAP = 24


def _wrap(label: Any, width: int = _WRAP) -> str:
    return textwrap.fill(str(label), width, max_lines=3, placeholder="...")


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
    top.set_ylim(0, 105)
    top.set_title("Pass rate per iteration")
    top.set_ylabel("pass rate (%)")
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
    bottom.set_xticks(x, names, rotation=45 if len(x) > 12 else 0)
    bottom.legend(fontsize=8)
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
    ax.barh(range(len(frame)), frame["ms"].to_numpy(float), color=colours)
    ax.set_yticks(range(len(frame)), labels)
    ax.set_title(f"{title} (red: failed)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("stage")
    return fig


def show(item: Any) -> None:
    """Display a section in the notebook: a sentence as Markdown, a frame as a table, a figure."""
    from IPython.display import Markdown, display  # the notebook's own display, loaded on use

    if isinstance(item, str):
        display(Markdown(item))
    else:
        display(item)
