"""Rendering: Markdown for reports, a matplotlib figure for notebooks, both redacted."""

from __future__ import annotations

from matplotlib.figure import Figure

from tests.support import JWT_RE
from whyloop.whys import Analysis, draft, figure, to_markdown

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc"


def test_markdown_shows_the_tree_causes_and_countermeasures(store) -> None:
    a = draft(store, "demo")
    step = a.step("2.1").confirm(evidence="probe:welcome", by="ann")
    root = step.mark("root_cause")
    a.add_countermeasure("send the welcome first", addresses=[root.id], owner="ann", due="2026-12-01", tests=["t.py::a"])  # fmt: skip
    md = to_markdown(a)
    assert md.startswith("# demo iteration 1: 10 failed tests\n")
    assert "- **Why 2.** Why did 3 tests fail with 'TimeoutError" in md
    assert "  - **2.1** [confirmed] The server accepts the connection" in md
    assert "confirmed by ann at " in md
    assert "- **root cause R1** (step 2.1): The server accepts" in md
    assert "| C1 | send the welcome first | R1 | ann | 2026-12-01 | t.py::a | no | - |" in md


def test_markdown_and_figure_never_show_a_secret() -> None:
    a = Analysis("s-1", f"token {TOKEN}", "p", loop="demo", iterations=["1"])
    a.add_why(f"Why was Authorization: Bearer {TOKEN} refused?").because(f"token={TOKEN}")
    assert not JWT_RE.search(to_markdown(a))
    fig = figure(a)
    shown = " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + fig._suptitle.get_text()
    assert not JWT_RE.search(shown) and "Why 1" in shown


def test_the_figure_draws_a_box_per_step(store) -> None:
    a = draft(store, "demo")
    fig = figure(a)
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == len(a.whys) + len(list(a.steps()))
    assert any(t.startswith("2.1 [hypothesis]") for t in texts)


def test_an_empty_analysis_draws_a_note() -> None:
    fig = figure(Analysis("e", "t", "p"))
    assert [t.get_text() for t in fig.axes[0].texts] == ["no whys yet"]
