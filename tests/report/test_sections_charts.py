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


def _boxes(fig: Figure, texts: list) -> list:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]


def test_many_long_category_names_stay_apart_and_told_apart() -> None:
    names = [f"Category number {i} with a rather long descriptive name about feature {i}"
             for i in range(14)]  # fmt: skip
    frame = pd.DataFrame({"category": names, "passed": 3, "failed": 1, "errors": 0, "skipped": 0})
    frame = frame.assign(total=4, pass_rate=0.75)
    fig = charts.results_chart(frame)
    _labelled(fig)
    _no_overlap(fig)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(set(labels)) == 14  # cut in the middle: "... feature 10" keeps its end
    assert all(
        label.endswith(f"feature {i}") for i, label in zip(range(13, -1, -1), labels, strict=True)
    )


def test_trend_of_one_iteration_says_there_is_nothing_to_compare_and_shows_its_figure() -> None:
    one = pd.DataFrame(
        {
            "iteration": ["1"],
            "pass_rate": [0.6],
            "new_failures": pd.array([None], dtype="Int64"),
            "fixed": pd.array([None], dtype="Int64"),
        }
    )
    fig = charts.trend_chart(one)
    top, bottom = fig.axes
    assert [t.get_text() for t in top.texts] == ["60%"]
    assert "no earlier iteration" in bottom.texts[0].get_text()
    assert [t.get_text() for t in bottom.get_xticklabels()] == ["1"]


def test_trend_of_many_iterations_keeps_its_labels_and_legend_apart() -> None:
    n = 60
    many = pd.DataFrame(
        {
            "iteration": [f"nightly-{i:03d}" for i in range(1, n + 1)],
            "pass_rate": [0.5 + i / (2 * n) for i in range(n)],
            "new_failures": pd.array([None] + [i % 4 for i in range(n - 1)], dtype="Int64"),
            "fixed": pd.array([None] + [i % 3 for i in range(n - 1)], dtype="Int64"),
        }
    )
    fig = charts.trend_chart(many)
    top, bottom = fig.axes
    assert not top.texts  # 60 figures would crowd the line: the axis tells them
    ticks = bottom.get_xticklabels()
    assert 10 <= len([t for t in ticks if t.get_text()]) <= 30
    boxes = _boxes(fig, ticks)
    assert not any(a.overlaps(b) for a, b in itertools.pairwise(boxes)), "x labels overlap"
    legend = fig.legends[0].get_window_extent(FigureCanvasAgg(fig).get_renderer())
    assert not legend.overlaps(bottom.get_window_extent()), "the legend covers the bars"


def test_stage_chart_writes_each_figure_beside_its_bar() -> None:
    timings = pd.DataFrame({"stage": ["dns", "tcp", "welcome"], "ms": [0.1, 2.0, 3000.0],
                            "ok": [True, True, False]})  # fmt: skip
    ax = charts.stage_chart(timings).axes[0]
    assert [t.get_text().strip() for t in ax.texts] == ["3.0 s", "2 ms", "0.1 ms"]


def test_groups_and_compare_charts_are_labelled_and_do_not_overlap() -> None:
    grouped = pd.DataFrame(
        {"category": ["WebSocket", "A category with a name long enough to wrap"], "failing": [3, 1]}
    )
    fig = charts.groups_chart(grouped, "category")
    _labelled(fig)
    _no_overlap(fig)
    assert fig.axes[0].get_title() == "Failing tests by category"
    assert (
        "no test failed"
        in charts.groups_chart("no test failed", "cluster").axes[0].texts[0].get_text()
    )
    timings = pd.DataFrame(
        {
            "run": ["auth=header"] * 3 + ["auth=subprotocol"] * 3,
            "stage": ["tcp", "upgrade", "welcome"] * 2,
            "ms": [1.0, 3.0, 1500.0, 1.2, 2.9, 1500.0],
            "ok": [True, True, False] * 2,
        }
    )
    fig = charts.stage_compare_chart(timings, title="WebSocket stages by auth mode")
    _labelled(fig)
    _no_overlap(fig)
    ax = fig.axes[0]
    assert len(ax.patches) == 6 and ax.get_xlabel() == "time (ms)"
    assert sorted(t.get_text() for t in fig.legends[0].get_texts()) == [
        "auth=header", "auth=subprotocol"
    ]  # fmt: skip
