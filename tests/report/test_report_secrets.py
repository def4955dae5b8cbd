"""A secret planted in a report's inputs is in none of its output files.

The secrets of ``tests/test_secrets_everywhere.py`` go into the test results
and logs the report ingests; more go into its parameters (the environment's
name) and into a five-whys file it shows (title, problem, question, because,
countermeasure, written past the files module's own redaction). Then
``run_report`` runs ``notebooks/iteration_report.ipynb`` for real, and every
file of the report folder is scanned: the executed notebook, the HTML page,
``summary.md``, ``metrics.json`` and ``kernel.log``.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from tests.test_secrets_everywhere import SECRETS, _plant, _rand, leaks
from whyloop import whys
from whyloop.redact import redact_value
from whyloop.report import run_report
from whyloop.report.export import redact_notebook

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "iteration_report.ipynb"
#: the secrets this test plants itself, each with its own random value
PLANTED = {
    "param_api_key": _rand(20),  # environment="staging api_key=..."
    "whys_title_password": _rand(14),  # the analysis's title
    "whys_problem_token": _rand(24),  # Bearer in its problem
    "whys_because_secret": _rand(16),  # secret= in a because
    "whys_question_key": _rand(20),  # api_key= in a why's question
    "whys_action_password": _rand(14),  # password= in a countermeasure
}


def _whys_file(folder: Path) -> Path:
    """A five-whys file naming iteration 1, its texts holding secrets as a person might type them."""
    a = whys.Analysis(id="W1", title="TITLE", problem="PROBLEM", loop="sec", iterations=["1"])
    a.add_why("QUESTION").because("BECAUSE")
    a.add_countermeasure("ACTION", owner="ann")
    path = a.save(folder / "sec" / "W1.yaml")
    p = PLANTED
    text = path.read_text()
    for mark, secret in {
        "TITLE": f"login refused password={p['whys_title_password']}",
        "PROBLEM": f"calls with Authorization: Bearer {p['whys_problem_token']} fail",
        "QUESTION": f"Why is api_key={p['whys_question_key']} refused?",
        "BECAUSE": f"the vault returned secret={p['whys_because_secret']}",
        "ACTION": f"rotate password={p['whys_action_password']}",
    }.items():
        assert mark in text
        text = text.replace(mark, json.dumps(secret), 1)  # a YAML double-quoted scalar
    path.write_text(text)
    assert whys.load(path).title.endswith(p["whys_title_password"])  # planted as read
    return folder


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every file of the report, by name, as text."""
    root = tmp_path_factory.mktemp("report-secrets")
    paths = _plant(root)
    result = run_report(
        NOTEBOOK,
        params={
            "results": str(paths["results"]),
            "logs": [str(paths["json_log"]), str(paths["text_log"])],
            "store": str(root / "store"),
            "whys_dir": str(_whys_file(root / "whys")),
            "environment": f"staging api_key={PLANTED['param_api_key']}",
            "target": "pass_rate 100%",
        },
        out_root=root / "reports",
        loop="sec",
        cell_timeout_s=120,
    )
    files = {
        p.name: p.read_text(encoding="utf-8", errors="replace") for p in result.out_dir.iterdir()
    }
    assert {"iteration_report.ipynb", "iteration_report.html", "summary.md", "metrics.json",
            "kernel.log"} <= set(files)  # fmt: skip
    assert not result.metrics["errors"], result.metrics["errors"]
    return files


def test_the_secrets_reached_the_report_masked(report: dict[str, str]) -> None:
    """Not vacuous: the planted values are in the report, cut to their masked prefix."""
    html = report["iteration_report.html"]
    assert redact_value(PLANTED["param_api_key"]) in html  # the environment, in the header
    assert redact_value(PLANTED["whys_because_secret"]) in html  # the because, in the whys
    assert "password=" in html and "database is locked" in html  # the failure, the logs
    assert "test_thread_creation" in report["summary.md"]


def test_no_secret_in_any_report_file(report: dict[str, str]) -> None:
    everything = {**SECRETS, **PLANTED}
    found = {
        name: sorted(k)
        for name, text in report.items()
        if name != NOTEBOOK.name and (k := leaks(text, everything))
    }
    assert not found, f"secrets leaked (file: kinds): {found}"


def test_redacting_the_executed_notebook_leaves_no_secret(report: dict[str, str]) -> None:
    """What :func:`redact_notebook` makes of the executed notebook holds no secret, and still
    shows the report (the parameters masked, the tables and figures kept)."""
    nb = redact_notebook(nbformat.reads(report[NOTEBOOK.name], as_version=4))
    text = nbformat.writes(nb)
    assert not leaks(text, {**SECRETS, **PLANTED})
    assert (
        redact_value(PLANTED["param_api_key"])
        in nb.metadata["papermill"]["parameters"]["environment"]
    )
    assert "image/png" in text and "test_thread_creation" in text


def test_no_secret_in_the_executed_notebook(report: dict[str, str]) -> None:
    assert not leaks(report[NOTEBOOK.name], {**SECRETS, **PLANTED})
