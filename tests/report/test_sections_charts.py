"""The report's charts: a title and axis labels on every plot, and no label drawn over another."""

from __future__ import annotations

import itertools

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from whyloop.report import charts


def _labelled(fig: Figure) -> None:
    axes = [ax for ax in fig.axes if ax.axison]
    assert axes
    for ax in axes:
        assert ax.get_title() or fig.get_suptitle(), "no title"
        assert ax.get_ylabel(), "no y label"


def _no_overlap(fig: Figure) -> None:
    canvas = FigureCanvasAgg(fig)  # as savefig draws it, constrained layout applied
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels() if t.get_text()]
        for a, b in itertools.pairwise(boxes):
            assert not a.overlaps(b), "y tick labels overlap"


def test_results_chart_has_a_bar_per_category_and_wraps_long_names() -> None:
    frame = pd.DataFrame(
        {
            "category": ["A very long category name that needs wrapping twice over", "B"],
            "passed": [3, 1],
            "failed": [1, 0],
            "errors": [0, 1],
            "skipped": [0, 0],
            "total": [4, 2],
            "pass_rate": [0.75, 0.5],
        }
    )
    fig = charts.results_chart(frame)
    _labelled(fig)
    _no_overlap(fig)
    ax = fig.axes[0]
    assert ax.get_title() == "Results by category"
    assert any("\n" in t.get_text() for t in ax.get_yticklabels())


def test_trend_chart_draws_pass_rate_and_new_fixed() -> None:
    trend = pd.DataFrame(
        {
            "iteration": ["1", "2", "3"],
            "pass_rate": [0.6, 0.72, 1.0],
            "new_failures": pd.array([None, 0, 1], dtype="Int64"),
            "fixed": pd.array([None, 3, 7], dtype="Int64"),
        }
    )
    fig = charts.trend_chart(trend)
    top, bottom = fig.axes
    assert top.get_ylabel() == "pass rate (%)" and bottom.get_xlabel() == "iteration"
    assert list(top.lines[0].get_ydata()) == [60.0, 72.0, 100.0]
    assert [p.get_height() for p in bottom.patches] == [0, 0, 1, 0, 3, 7]
    _labelled(fig)


def test_stage_chart_colours_failed_stages() -> None:
    timings = pd.DataFrame({"stage": ["dns", "welcome"], "ms": [1.0, 2000.0], "ok": [True, False]})
    fig = charts.stage_chart(timings)
    _labelled(fig)
    _no_overlap(fig)
    assert fig.axes[0].get_xlabel() == "time (ms)"


def test_a_missing_section_draws_its_sentence() -> None:
    fig = charts.stage_chart("no probe was run in this iteration")
    assert fig.axes[0].get_title() == "Probe stage timings"
    assert "no probe was run" in fig.axes[0].texts[0].get_text()
