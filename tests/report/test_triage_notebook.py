"""notebooks/triage.ipynb run by papermill on the bundled sample, stored as two iterations."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest

from whyloop.report import sections
from whyloop.sandbox import SAMPLE
from whyloop.store import Store

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "triage.ipynb"


def _sample_store(root: Path) -> Path:
    """The sample as iteration 1, and as iteration 2 with the WebSocket tests fixed."""
    store = Store(root)
    sections.load_iteration(
        store,
        "smp",
        results=str(SAMPLE / "tests"),
        logs=str(SAMPLE / "logs" / "*.jsonl"),
        categories=str(SAMPLE / "categories.yaml"),
    )
    second = store.read("smp", "1", "tests")
    ws = second["category"] == "WebSocket"
    second["outcome"] = second["outcome"].astype(str).mask(ws, "passed")
    store.write("smp", tests=second, logs=store.read("smp", "1", "logs"))
    return root


def test_triage_notebook_is_stored_without_outputs_with_short_cells() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert code[0].metadata.get("tags") == ["parameters"]
    assert all(len(c.source.splitlines()) <= 2 for c in code[1:])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
def test_triage_opens_a_failure_with_its_window_and_compares_iterations(tmp_path: Path) -> None:
    store = _sample_store(tmp_path / "store")
    out = tmp_path / "triage.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "store": str(store),
            "loop": "smp",
            "iteration": "2",
            "compare_with": "1",
            "category": "Messaging",
            "group_by": "category",
            "failure": "thread_creation",
        },
        cwd=str(ROOT / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    outputs = {
        c.source.splitlines()[0]: [o for o in c.outputs] for c in nb.cells if c.cell_type == "code"
    }
    assert not [o for os in outputs.values() for o in os if o.output_type == "error"]

    def text(first_line: str) -> str:
        found = outputs[next(k for k in outputs if k.startswith(first_line))]
        data = [(o.get("data", {}), o.get("text", "")) for o in found]
        kinds = ("text/markdown", "text/html", "text/plain")
        return "".join("".join(d.get(k, "") for k in kinds) + t for d, t in data)

    assert "iteration **2**; compared with: 1" in text("data = triage.load")
    failing = text("failing = ")
    assert "test_thread_creation" in failing and "test_websocket" not in failing  # filtered
    assert "Messaging & Threading" in text("grouped = ") and "4" in text("grouped = ")
    assert any(
        "image/png" in o.get("data", {}) for o in outputs["charts.groups_chart(grouped, group_by)"]
    )
    assert "test_messaging.py::test_thread_creation" in text("opened = ")
    window = text("charts.show(window)")
    assert "create thread failed" in window and "ERROR" in window
    assert "in_log" in text("charts.show(triage.templates")
    counts = text("changed = ")
    assert "fixed" in counts and "3" in counts and "still_failing" in counts
