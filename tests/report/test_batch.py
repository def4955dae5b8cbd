"""Report batches: a bad batch file is one line naming where; real batches on a process pool and Dask."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

from whyloop.cli import main
from whyloop.errors import ReportError
from whyloop.report import load_batch, run_batch

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"
RENDERS = NOTEBOOKS / "renders_metrics.ipynb"

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # jupyter_client/zmq internals
    pytest.mark.timeout(180),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "batch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reports: [\n  {loop: a\n", ":3: not valid YAML"),
        ("reports: []\n", ":1: reports: must be a non-empty list"),
        (
            "report:\n  - {loop: a}\n",
            ":1: report: unknown key (a batch file takes: defaults, reports)",
        ),
        (
            "defaults: {notebook: NB}\nreports:\n  - loop: a\n  - loop: b\n    colour: red\n",
            ":5: reports[1].colour: unknown key (a report takes: notebook, loop,",
        ),
        (
            "defaults: {notebook: NB}\nreports:\n  - loop: a\n    params: {colour: red}\n",
            ":4: reports[0].params: unknown parameter 'colour' (the notebook takes: loop,",
        ),
        (
            "defaults: {notebook: NB, cell_timeout: 0}\nreports:\n  - {loop: a}\n",
            ":1: defaults.cell_timeout: must be a positive number of seconds",
        ),
        ("reports:\n  - {loop: a}\n", ":2: reports[0]: no notebook (give one here or in defaults)"),
        (
            "reports:\n  - {loop: a, notebook: nope.ipynb}\n",
            ":2: reports[0].notebook: no such notebook",
        ),
        (
            "defaults: {notebook: NB}\nreports:\n  - {loop: a, iteration: 3}\n  - {loop: a, iteration: '003'}\n",
            ":4: reports[1]: the same report folder as reports[0] (a/iteration-003",
        ),
        (
            "defaults: {notebook: NB}\nreports:\n  - {loop: ../up}\n",
            ":3: reports[0].loop: '../up' is not a loop name",
        ),
    ],
    ids=[
        "yaml",
        "empty",
        "top-key",
        "key",
        "param",
        "timeout",
        "no-notebook",
        "missing",
        "same-folder",
        "loop-name",
    ],
)
def test_a_bad_batch_file_is_one_error_naming_file_line_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, text.replace("NB", str(RENDERS)))
    with pytest.raises(ReportError) as caught:
        load_batch(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path) + ":")
    assert expected in message


def test_paths_are_read_from_the_batch_files_folder_and_params_merge_over_defaults(
    tmp_path: Path,
) -> None:
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "r.ipynb").write_bytes(RENDERS.read_bytes())
    path = _write(
        tmp_path,
        "defaults: {notebook: nb/r.ipynb, out: out, params: {repeat: 3, pass_rate: 0.5}}\n"
        "reports:\n  - {loop: a, iteration: 2, params: {repeat: 1}, fail_under: 90}\n"
        "  - {loop: b, out: other}\n",
    )
    a, b = load_batch(path, overrides={"cell_timeout": 30})
    assert a.notebook == tmp_path / "nb" / "r.ipynb" and a.out == tmp_path / "out"
    assert a.params == {"repeat": 1, "pass_rate": 0.5} and a.iteration == "2"
    assert (a.fail_under, a.cell_timeout_s) == (90.0, 30.0)
    assert b.out == tmp_path / "other" and b.iteration is None and b.label == "b/next"


def test_without_distributed_a_scheduler_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    spec = {"defaults": {"notebook": str(RENDERS), "out": str(tmp_path)}, "reports": [{}]}
    with pytest.raises(ReportError, match=r"pip install 'whyloop\[dask\]'"):
        run_batch(spec, scheduler="tcp://127.0.0.1:8786")
    assert not any(tmp_path.iterdir())  # refused before anything ran


def _outputs(root: Path) -> dict[str, object]:
    """Each output file under ``root`` by relative path: metrics.json's figures, others' presence."""
    found: dict[str, object] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = str(path.relative_to(root))
        found[rel] = json.loads(path.read_text()) if path.name == "metrics.json" else True
    return found


@pytest.mark.slow
@pytest.mark.filterwarnings(
    # distributed's own shutdown chatter in the test process
    "ignore::ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)
def test_a_dask_cluster_makes_the_same_reports_as_the_local_pool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    distributed = pytest.importorskip("distributed")
    path = _write(
        tmp_path,
        f"defaults: {{notebook: {RENDERS}, out: pool, fail_under: 80}}\n"
        "reports:\n"
        "  - {loop: checkout, iteration: 1, params: {pass_rate: 0.95}}\n"
        "  - {loop: checkout, iteration: 2, params: {pass_rate: 0.7, repeat: 4}}\n"
        "  - {loop: auth}\n",
    )
    assert main(["report", "--batch", str(path), "--workers", "2"]) == 1  # one is under 80%
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[-1].startswith("batch: 3 reports on a local pool of 2 processes in ")
    assert lines[-1].endswith("2 passed, 1 gated (failed sections or pass rate under the bar)")
    assert "checkout iteration 2: pass rate 70.0%" in lines[1] and "is under 80%" in lines[1]
    assert str(tmp_path / "pool" / "auth" / "iteration-001" / "renders_metrics.html") in lines[2]
    # progress came back from the pool's processes to stderr, as plain lines (not a terminal)
    assert "checkout/iteration-002: started, 5 code cells" in captured.err
    assert "\r" not in captured.err and "[3/3] " in captured.err

    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        result = run_batch(path, scheduler=cluster.scheduler_address, overrides={"out": "dask"})
    assert result.where == f"the Dask scheduler at {cluster.scheduler_address}"
    assert [i.status for i in result.items] == [0, 1, 0]
    pool, dask = _outputs(tmp_path / "pool"), _outputs(tmp_path / "dask")
    assert pool == dask
    assert {p.rsplit("/", 1)[1] for p in pool} == {
        "renders_metrics.ipynb", "renders_metrics.html", "summary.md", "metrics.json", "kernel.log"
    }  # fmt: skip
    assert len(pool) == 3 * 5
    assert dask["checkout/iteration-002/metrics.json"]["totals"]["pass_rate"] == 0.7


def _killer(path: Path) -> Path:
    """A notebook whose cell kills the process running the report (the kernel's parent)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"),
    ]
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_a_report_whose_process_dies_loses_only_itself(tmp_path: Path) -> None:
    spec = {
        "defaults": {"notebook": str(RENDERS), "out": str(tmp_path), "fail_under": 80},
        "reports": [
            {"loop": "killed", "notebook": str(_killer(tmp_path / "kills.ipynb"))},
            {"loop": "broken", "notebook": str(NOTEBOOKS / "broken_section.ipynb")},
            {"loop": "fine"},
        ],
    }
    result = run_batch(spec, workers=2)
    killed, broken, fine = result.items
    assert killed.result is None
    assert killed.error == (
        "the process running it was killed by SIGKILL (out of memory, or killed)"
    )
    assert broken.result is not None and broken.result.metrics["errors"][0]["section"] == "Clusters"
    assert fine.status == 0 and fine.result.out_dir == tmp_path / "fine" / "iteration-001"
    assert result.status == 1
    assert result.summary_line().endswith(
        ": 1 passed, 1 gated (failed sections or pass rate under the bar), 1 made no report"
    )
