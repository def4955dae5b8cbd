"""The five-whys notebook, run by papermill on a real kernel against the sample iteration."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest

from tests.support import ROOT
from whyloop.store import Store
from whyloop.whys import StepStatus, load


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
def test_the_notebook_drafts_shows_checks_and_saves(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "five_whys.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "five_whys.ipynb"),
        str(out),
        parameters={"store_root": str(store.root), "loop": "demo", "save": True},
        cwd=str(ROOT / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert {"image/png", "text/markdown", "application/vnd.jupyter.widget-view+json"} <= kinds
    saved = store.root.parent / "whys" / "demo" / "demo-1.yaml"
    a = load(saved)
    assert {b.stage for b in a.steps()} >= {"welcome"}
    assert all(b.status is StepStatus.HYPOTHESIS for b in a.steps())
