"""notebooks/iteration_report.ipynb run by papermill against the sample, in a temporary store."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from whyloop.store import Store

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "iteration_report.ipynb"
SAMPLE = ROOT / "lib" / "whyloop" / "sandbox" / "sample"


def test_notebook_is_stored_without_outputs_and_each_section_has_a_heading() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert code[0].metadata.get("tags") == ["parameters"]
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    order = ["status", "Deployment", "by category", "cluster", "flakiness", "SLA", "Probe",
             "Log evidence", "Five whys", "impact", "Trend", "Next actions", "verdict", "metrics"]  # fmt: skip
    positions = [next(i for i, h in enumerate(headings) if word in h) for word in order]
    assert positions == sorted(positions)
    assert all(len(c.source.splitlines()) <= 2 for c in code[1:])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
def test_iteration_report_runs_on_the_sample_and_writes_metrics(tmp_path: Path) -> None:
    out = tmp_path / "report.ipynb"
    impact = tmp_path / "impact.yaml"
    impact.write_text("- {category: WebSocket, risk: high, affects: live chat}\n")
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "loop": "nb",
            "environment": "sample",
            "target": "pass_rate>=1.0 on category WebSocket; pass_rate>=0.95",
            "results": str(SAMPLE / "tests"),
            "logs": str(SAMPLE / "logs" / "*.jsonl"),
            "categories": str(SAMPLE / "categories.yaml"),
            "store": str(tmp_path / "store"),
            "impact": str(impact),
            "whys_dir": str(tmp_path / "whys"),
            "out_dir": str(tmp_path / "out"),
        },
        cwd=str(ROOT / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # results, stages, trend
    text = out.read_text()
    assert "CONTINUE" in text and "live chat" in text and "sandbox-backend-00035-abc" in text
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert m["totals"]["total"] == 25 and m["totals"]["passed"] == 15
    assert m["totals"]["pass_rate"] == 0.6 and m["status"] == "continue"
    assert m["by_category"]["WebSocket"]["passed"] == 2
    assert [c["met"] for c in m["criteria"]] == [False, False]
    assert Store(tmp_path / "store").iterations("nb") == ["1"]
