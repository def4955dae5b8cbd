"""Real papermill runs of the notebooks, with parameters, on a real kernel."""

import base64
import io
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from PIL import Image

from whyloop.store import Store

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "lib" / "whyloop" / "sandbox" / "sample"


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


SUITE = """
name: small
targets:
  backend: ${WHYLOOP_BACKEND_URL}
probes:
  - {name: backend-health, kind: http, target: backend, path: /health, auth: false,
     expect_status: 200, expect_json: {status: ok}}
  - {name: health-load, kind: load, target: backend, path: /health, users: 5,
     requests_per_user: 4, max_seconds: 10, sla: {p95_ms: 500, success_rate: 0.99}}
"""


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
def test_probes_notebook_compares_auth_modes_and_runs_and_draws_the_stages(tmp_path, monkeypatch):
    from tests.support.sandbox import STAGE_S, login, sandbox

    suite = tmp_path / "small.yaml"
    suite.write_text(SUITE)
    out = tmp_path / "probes.out.ipynb"
    with sandbox(tmp_path / "sb", faults=("ws-no-welcome",)) as box:
        token = login(box, "notebook", "nb-password")
        monkeypatch.setenv("WHYLOOP_TOKEN", token)
        pm.execute_notebook(
            str(ROOT / "notebooks" / "probes.ipynb"),
            str(out),
            parameters={
                "ws_url": box.ws_url,
                "auth_modes": ["header", "subprotocol", "query"],
                "http_urls": [f"{box.backend_url}/health", f"{box.auth_url}/health"],
                "suite": str(suite),
                "suite_variables": {"WHYLOOP_BACKEND_URL": box.backend_url},
                "timeout": STAGE_S,
            },
            cwd=str(ROOT / "notebooks"),
            kernel_name="python3",
            progress_bar=False,
        )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    pngs = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 4  # auth modes, two runs compared, HTTP targets, the suite
    for png in pngs:
        with Image.open(io.BytesIO(base64.b64decode(png))) as image:
            assert image.width >= 600 and image.height >= 200
    text = out.read_text()
    assert f"no first message arrived within {STAGE_S:g} s" in text
    assert "auth=header" in text and "auth=subprotocol" in text and "auth=query" in text
    assert "sandbox-backend-00035-abc" in text  # the health answer, as the HTTP probe read it
    assert "p95_ms" in text and "backend-health" in text
    assert token not in text  # the notebook shows the token cut to 4 characters, never whole
