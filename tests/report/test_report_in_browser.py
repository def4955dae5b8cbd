"""A real iteration report on the bundled sample, opened in headless Chromium and read as a person sees it."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from tests.support import ROOT
from tests.support.browser import chromium_page
from whyloop.report import ReportResult, run_report
from whyloop.sandbox import SAMPLE

NOTEBOOK = ROOT / "notebooks" / "iteration_report.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # jupyter_client/zmq internals
]

#: what the rendered page holds, gathered in one round trip
_PAGE = """() => ({
  headings: [...document.querySelectorAll('h1, h2, h3')].map(h => h.textContent.replace('¶', '').trim()),
  images: [...document.images].map(i => ({complete: i.complete, width: i.naturalWidth, src: i.src.slice(0, 22)})),
  code: document.querySelectorAll(
    '.jp-InputPrompt, .jp-OutputPrompt, .jp-CodeMirrorEditor, .jp-CodeCell .jp-InputArea, .highlight, .input_prompt'
  ).length,
  text: document.body.innerText,
})"""
#: the bottom of the first chart: the README's image is the report's top down to it
_FIRST_CHART_END = "() => document.images[0].getBoundingClientRect().bottom + window.scrollY + 16"


def _notebook_parts() -> tuple[list[str], list[str]]:
    """The notebook's section headings, and the code lines a reader must never see."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    headings = [
        line.lstrip("#").strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("#")
    ]
    code = [
        line.strip()
        for c in nb.cells
        if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])
        for line in c.source.splitlines()
        if len(line.strip()) > 12 and not line.strip().startswith("#")
    ]
    return headings, code


def _sample_report(tmp_path: Path) -> ReportResult:
    """The iteration report of the bundled sample, run by whyloop's own runner (papermill)."""
    impact = tmp_path / "impact.yaml"
    impact.write_text("- {category: WebSocket, risk: high, affects: live chat}\n")
    return run_report(
        NOTEBOOK,
        params={
            "environment": "sample",
            "target": "pass_rate>=1.0 on category WebSocket; pass_rate>=0.95",
            "results": str(SAMPLE / "tests"),
            "logs": str(SAMPLE / "logs" / "*.jsonl"),
            "categories": str(SAMPLE / "categories.yaml"),
            "store": str(tmp_path / "store"),
            "impact": str(impact),
            "whys_dir": str(tmp_path / "whys"),
        },
        out_root=tmp_path / "reports",
        loop="staging",
        iteration=1,
    )


def test_the_report_page_shows_every_section_its_charts_and_no_code(tmp_path: Path) -> None:
    with chromium_page(width=1100, height=800) as page:  # first: skip before the report runs
        result = _sample_report(tmp_path)
        page.goto(result.html.as_uri())
        page.wait_for_load_state("load")
        seen = page.evaluate(_PAGE)
        shots = os.environ.get("WHYLOOP_SCREENSHOTS")  # a folder: refresh the README's images
        if shots:
            top = {"x": 0, "y": 0, "width": 1100, "height": page.evaluate(_FIRST_CHART_END)}
            page.screenshot(path=str(Path(shots) / "report.png"), clip=top, full_page=True)

    assert result.metrics["errors"] == []
    headings, code = _notebook_parts()
    assert len(headings) >= 14 and len(code) >= 20
    missing = [h for h in headings if h not in seen["headings"]]
    assert not missing, f"section headings not on the page: {missing}"
    assert "staging: iteration 1" in seen["headings"]  # the header the report itself wrote
    # results by category, stage timings, trend: drawn as images that the browser decoded
    charts = seen["images"]
    assert len(charts) >= 3
    assert all(i["complete"] and i["width"] > 0 for i in charts), charts
    assert all(i["src"].startswith("data:image/png") for i in charts)  # inline: one file
    assert seen["code"] == 0
    shown = [line for line in code if line in seen["text"]]
    assert not shown, f"code on the page: {shown}"
    assert "CONTINUE" in seen["text"] and "live chat" in seen["text"]
