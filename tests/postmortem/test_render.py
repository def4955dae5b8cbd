"""Rendering: Markdown for a wiki or pull request, and the notebook run by papermill into HTML without code."""

from __future__ import annotations

import re

import pytest

from whyloop import postmortem
from whyloop.cli import main
from whyloop.postmortem.render import SECTIONS

from .conftest import LOOP, NEW


def test_markdown_has_every_section_in_order_with_the_figures(history):
    pm = postmortem.build(history.store, LOOP)
    text = postmortem.to_markdown(pm)
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == [title for title, _ in SECTIONS.values()]
    assert text.startswith(f"# Postmortem: {pm.title}")
    assert "| 2 | 25 | 10 |" in text  # iteration 2: 25 tests run, 10 failed
    assert NEW in text and "**root cause R1** (step" in text
    assert "| A1 | prevent |" in text and "| ws-team | 2026-12-15 |" in text
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert len(rows) == len(pm.timeline)  # one table row per timeline entry, with its evidence
    assert all("`store:" in row or "`file:" in row for row in rows)


def test_the_timeline_figure_has_labelled_axes_and_a_row_per_kind(history):
    pm = postmortem.build(history.store, LOOP)
    fig = postmortem.timeline_figure(pm)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (UTC)" and ax.get_ylabel() == "entry kind"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert set(labels) == {e.kind.value for e in pm.timeline}


def test_check_markdown_says_pass_or_lists_each_problem(history):
    pm = postmortem.build(history.store, LOOP)
    assert postmortem.check_markdown([]).startswith("**The review check passes**")
    pm.action("A1").owner = ""
    text = postmortem.check_markdown(postmortem.check(pm))
    assert text.startswith("**The review check fails** (1 error(s))")
    assert "- error: action item A1: has no owner" in text


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
def test_new_then_render_through_the_cli_gives_html_without_code_and_markdown(
    history, tmp_path, capsys
):
    store = str(history.store.root)
    assert (
        main(["postmortem", "new", "--loop", LOOP, "--iterations", "2", "3", "--store", store]) == 0
    )
    path = capsys.readouterr().out.strip()
    assert path.endswith(f"postmortems/{LOOP}/{LOOP}-2-to-3.yaml")
    out = tmp_path / "reports"
    status = main(["postmortem", "render", path, "--out", str(out), "--store", store])
    printed = capsys.readouterr().out
    assert status == 0, printed
    folder = out / LOOP / f"postmortem-{LOOP}-2-to-3"
    html = (folder / f"{LOOP}-2-to-3.html").read_text(encoding="utf-8")
    markdown = (folder / f"{LOOP}-2-to-3.md").read_text(encoding="utf-8")
    assert f"html: {folder / (LOOP + '-2-to-3.html')}" in printed
    for title, _ in SECTIONS.values():
        assert f">{title}<" in html or f">{title}</h2>" in html or f"{title}<a" in html, title
    assert "The review check passes" in html and NEW in html
    assert html.count("data:image/png;base64") >= 1  # the timeline figure, inline
    # no code: neither the notebook's calls nor its imports are on the page
    assert "postmortem.section(" not in html and "import whyloop" not in html
    assert "postmortem_file =" not in html
    assert markdown == postmortem.to_markdown(postmortem.load(path))
