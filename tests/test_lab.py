"""The workbench in a real JupyterLab, driven by a real headless Chromium as a person would.

One JupyterLab (:func:`whyloop.report.lab.running_lab`) for the module, on a
free port, serving a temporary copy of ``notebooks/`` beside a store holding
the bundled sample as iteration 1 of loop ``demo`` (the notebooks' defaults
read ``../data/iterations``), so the repository is never written. Jupyter's
settings, workspaces and runtime files go to the same temporary folder.
Each notebook opens in a workspace of its own and runs from the Run menu.
``WHYLOOP_SCREENSHOTS=docs/images`` refreshes the README's picture of the widget.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import whyloop
from tests.support import ROOT, TIMEOUT_SCALE
from tests.support.browser import chromium, new_page
from whyloop.report.lab import KERNEL_DISPLAY_NAME, KERNEL_NAME, Lab, install_kernel, running_lab
from whyloop.sandbox import SAMPLE
from whyloop.store import Store
from whyloop.whys import StepStatus, load

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow

#: every code cell of the notebook on show has run: its prompt holds a number, not [*] or [ ]
ALL_RAN = """() => {
  const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')];
  return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""
#: the kernel of the notebook on show is up and idle (the status bar: "Python 3 (ipykernel) | Idle")
IDLE = "() => (document.querySelector('#jp-main-statusbar')?.innerText || '').includes('| Idle')"
#: the page's error outputs (tracebacks; stderr), and its outputs' images
OUTPUTS = """() => ({
  errors: [...document.querySelectorAll(
    '.jp-NotebookPanel [data-mime-type="application/vnd.jupyter.stderr"]')].map(e => e.innerText.slice(0, 400)),
  images: [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output img')].map(i => i.naturalWidth),
  headings: [...document.querySelectorAll('.jp-NotebookPanel h1, .jp-NotebookPanel h2, .jp-NotebookPanel h3')]
    .map(h => h.textContent.replace('¶', '').trim()),
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module (skips when there is none)."""
    with chromium() as found:
        yield found


@pytest.fixture(scope="module")
def lab(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab on a copy of the notebooks, the sample stored as loop demo, iteration 1."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", home / "notebooks", ignore=shutil.ignore_patterns(".*"))
    tests = whyloop.read_tests(SAMPLE / "tests", categories=SAMPLE / "categories.yaml")
    logs = whyloop.read_logs(str(SAMPLE / "logs" / "*.jsonl"))
    Store(home / "data" / "iterations").write("demo", tests=tests, logs=logs)
    # no question about Jupyter news on the page (it would cover the widget's buttons)
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    install_kernel()  # what `whyloop lab` does first
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTERLAB_SETTINGS_DIR", str(home / "settings"))
        env.setenv("JUPYTERLAB_WORKSPACES_DIR", str(home / "workspaces"))
        env.setenv("JUPYTER_RUNTIME_DIR", str(home / "runtime"))
        env.setenv("WHYLOOP_USER", "lab-tester")
        with running_lab(
            home / "notebooks",
            log_path=home / "jupyter.log",
            start_timeout_s=90 * TIMEOUT_SCALE,
        ) as running:
            yield running


def run_notebook(browser: Browser, lab: Lab, name: str, *, height: int = 900) -> Page:
    """Open ``name`` in a page (a workspace of its own), run all its cells from the Run menu, wait."""
    page = new_page(browser, height=height)
    workspace = name.removesuffix(".ipynb").replace("_", "-")
    page.goto(f"{lab.base_url}/lab/workspaces/{workspace}/tree/{name}?token={lab.token}")
    page.wait_for_function(IDLE, timeout=120_000 * TIMEOUT_SCALE)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_function(ALL_RAN, timeout=180_000 * TIMEOUT_SCALE)
    page.wait_for_function(IDLE)
    return page


def wait_for_text(page: Page, element: object, text: str) -> None:
    """Wait until ``element`` (a locator's handle) shows ``text``: the kernel answered a click."""
    page.wait_for_function("([e, t]) => e.innerText.includes(t)", arg=[element, text])


def test_the_lab_offers_the_whyloop_kernel_of_this_environment(lab: Lab) -> None:
    specs = lab.api("kernelspecs")
    assert isinstance(specs, dict) and specs["default"] == KERNEL_NAME
    spec = specs["kernelspecs"][KERNEL_NAME]["spec"]
    assert spec["display_name"] == KERNEL_DISPLAY_NAME
    assert spec["argv"][0] == sys.executable


def test_the_five_whys_widget_changes_a_status_and_saves_the_yaml(
    browser: Browser, lab: Lab
) -> None:
    saved = lab.root_dir.parent / "data" / "whys" / "demo" / "demo-1.yaml"
    page = run_notebook(browser, lab, "five_whys.ipynb", height=1500)
    try:
        assert page.evaluate(OUTPUTS)["errors"] == []
        widget = page.locator(".widget-vbox").filter(has=page.locator(".widget-select")).first
        tree = widget.locator(".widget-select select")
        options = tree.evaluate("s => [...s.options].map(o => o.value)")
        assert any(o.startswith("Why 1: ") for o in options), options  # the drafted tree
        for label in ("Add because", "Ask why", "Attach evidence", "Set status", "Save"):
            assert widget.get_by_role("button", name=label).is_visible()
        assert not saved.exists()  # the notebook only drafts (save=False)

        first_because = next(o for o in options if re.match(r"\s*1\.1 \[hypothesis\]", o))
        tree.select_option(value=first_because)
        handle = widget.element_handle()
        wait_for_text(page, handle, "1.1 [hypothesis]")  # the kernel selected it and redrew
        widget.locator(".widget-dropdown select").select_option("refuted")
        widget.get_by_placeholder("note (why the status changed)").fill("a symptom, not a cause")
        widget.get_by_role("button", name="Set status").click()
        wait_for_text(page, handle, "1.1 is now refuted")
        widget.get_by_role("button", name="Save").click()
        wait_for_text(page, handle, "saved ")

        deadline = time.monotonic() + 10 * TIMEOUT_SCALE
        while not saved.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        analysis = load(saved)
        step = analysis.step("1.1")
        assert step.status is StepStatus.REFUTED
        assert step.history[-1].by == "lab-tester"
        assert step.history[-1].note == "a symptom, not a cause"
        assert all(b.status is StepStatus.HYPOTHESIS for b in analysis.steps() if b is not step)
        shots = os.environ.get("WHYLOOP_SCREENSHOTS")
        if shots:
            widget.screenshot(path=str(Path(shots) / "five-whys-widget.png"))
    finally:
        page.close()


def test_the_iteration_report_runs_in_the_lab_without_errors(browser: Browser, lab: Lab) -> None:
    page = run_notebook(browser, lab, "iteration_report.ipynb")
    try:
        shown = page.evaluate(OUTPUTS)
    finally:
        page.close()
    assert shown["errors"] == []
    assert {"Results overall and by category", "Trend across iterations", "Loop verdict"} <= set(
        shown["headings"]
    )
    assert "demo: iteration 1" in shown["headings"]
    assert len(shown["images"]) >= 3 and all(w > 0 for w in shown["images"])
    metrics = json.loads((lab.root_dir / "report-out" / "metrics.json").read_text())
    assert metrics["totals"]["total"] == 25 and metrics["totals"]["passed"] == 15
    assert metrics["status"] == "continue"
