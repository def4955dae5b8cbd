"""Real papermill runs of the notebooks, with parameters, on a real kernel."""

from pathlib import Path

import nbformat
import papermill as pm
import pytest

from whyloop.store import Store

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
def test_ingest_notebook_runs_with_parameters_and_saves(tmp_path):
    out = tmp_path / "ingest.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "ingest.ipynb"),
        str(out),
        parameters={
            "tests_path": str(SAMPLE / "tests"),
            "logs_path": str(SAMPLE / "logs" / "*.jsonl"),
            "categories": str(SAMPLE / "categories.yaml"),
            "loop": "nbtest",
            "store_root": str(tmp_path / "store"),
            "save": True,
        },
        cwd=str(ROOT / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    text = "".join(
        o.get("data", {}).get("text/plain", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "'total': 25" in text and "WebSocket" in text
    store = Store(tmp_path / "store")
    assert store.iterations("nbtest") == ["1"]
    assert len(store.read("nbtest", "1", "tests")) == 25
