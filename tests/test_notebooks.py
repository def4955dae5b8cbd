"""Real papermill runs of the notebooks, with parameters, on a real kernel."""

from pathlib import Path

import nbformat
import papermill as pm
import pytest

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


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
def test_probe_notebook_finds_the_missing_welcome(tmp_path, monkeypatch):
    import httpx

    from whyloop.sandbox import up

    with up(faults=["ws-no-welcome"], state_dir=tmp_path / "sb") as box:
        login = httpx.post(
            f"{box.auth_url}/auth/login", json={"username": "notebook", "password": "nb-password"}
        )
        token = login.json()["access_token"]
        monkeypatch.setenv("WHYLOOP_TOKEN", token)
        out = tmp_path / "probe.out.ipynb"
        pm.execute_notebook(
            str(ROOT / "notebooks" / "probe.ipynb"),
            str(out),
            parameters={
                "ws_url": box.ws_url,
                "http_url": f"{box.backend_url}/health",
                "suite": None,
                "timeout": 2.0,
            },
            cwd=str(ROOT / "notebooks"),
            kernel_name="python3",
            progress_bar=False,
        )
    text = out.read_text()
    assert "no first message arrived within 2 s" in text
    assert "welcome" in text and "header" in text
    assert token not in text  # the notebook shows the token cut to 4 characters, never whole
