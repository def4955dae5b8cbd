"""Real papermill runs of small notebooks named for their behaviour: a report survives its failures."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import re
import threading
from pathlib import Path

import pytest

from whyloop.cli import main
from whyloop.report import run_report

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # jupyter_client/zmq internals
    pytest.mark.timeout(60),  # a dead kernel or a hang must never hang the suite
]


def test_a_report_has_its_four_outputs_with_no_code_in_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_report(
        NOTEBOOKS / "renders_metrics.ipynb",
        params={"repeat": 3},
        out_root=tmp_path,
        loop="staging",
        iteration=7,
        fail_under=80,
    )
    assert result.out_dir == tmp_path / "staging" / "iteration-007"
    assert result.status == 0, result.reasons
    page = result.html.read_text(encoding="utf-8")
    assert "rows x x x" in page  # the output is there...
    assert "print(" not in page and "write_metrics" not in page  # ...the code is not
    assert "import matplotlib" not in page and '<div class="highlight' not in page
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    metrics = json.loads(result.metrics_path.read_text(encoding="utf-8"))
    assert metrics["totals"]["pass_rate"] == 0.9 and metrics["errors"] == []
    assert metrics["iteration"] == "7"  # the runner passed the iteration, as given, to the notebook
    summary = result.markdown.read_text(encoding="utf-8")
    assert summary.startswith("# staging — iteration 7: CONTINUE")
    assert "**Pass rate 90.0%**" in summary
    assert capsys.readouterr() == ("", "")  # the library is silent unless given a progress


def test_a_failing_section_still_yields_the_report_saying_what_failed(tmp_path: Path) -> None:
    result = run_report(NOTEBOOKS / "broken_section.ipynb", out_root=tmp_path, loop="l")
    assert result.status == 1
    [error] = result.metrics["errors"]
    assert error["section"] == "Clusters" and error["kind"] == "error"
    assert error["message"] == "ValueError: no clusters table in the store"
    page = result.html.read_text(encoding="utf-8")
    assert "totals still here" in page  # the section after it ran
    assert (
        "Report: section &#39;Clusters&#39; failed (error)" in page
        or "section 'Clusters' failed" in page
    )
    assert "Clusters" in result.markdown.read_text(encoding="utf-8")


def test_a_hung_cell_is_ended_by_the_cell_timeout(tmp_path: Path) -> None:
    result = run_report(NOTEBOOKS / "hangs.ipynb", out_root=tmp_path, loop="l", cell_timeout_s=3)
    [error] = result.metrics["errors"]
    assert (error["section"], error["kind"]) == ("Slow probe", "timeout")
    assert "after the hang" in result.html.read_text(encoding="utf-8")


def test_a_dying_kernel_is_reported_with_what_it_printed(tmp_path: Path) -> None:
    result = run_report(NOTEBOOKS / "dies.ipynb", out_root=tmp_path, loop="l")
    [error] = result.metrics["errors"]
    assert (error["section"], error["kind"]) == ("Memory hog", "kernel_died")
    # the cell's output or the kernel process's own, whichever reached us before it died
    assert "about to die" in error["message"] or "fatal: out of memory" in error["message"]
    assert "never runs" not in result.html.read_text(encoding="utf-8").replace("print(", "")
    assert result.status == 1


@pytest.mark.filterwarnings(
    # jupyter_core's run_sync leaves each thread's event loop (and its zmq sockets) to the gc
    "ignore::pytest.PytestUnraisableExceptionWarning",
    "ignore::ResourceWarning",
)
def test_two_reports_at_once_complete_in_their_own_directories(tmp_path: Path) -> None:
    results: dict[int, object] = {}

    def one(i: int) -> None:
        try:
            results[i] = run_report(
                NOTEBOOKS / "renders_metrics.ipynb",
                params={"repeat": i},
                out_root=tmp_path,
                loop="l",
            )
        finally:
            with contextlib.suppress(RuntimeError):
                asyncio.get_event_loop().close()  # the loop jupyter_core made for this thread

    threads = [threading.Thread(target=one, args=(i,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gc.collect()  # collect the threads' zmq sockets here, under this test's warning filters
    dirs = {results[i].out_dir.name for i in (1, 2)}
    assert dirs == {"iteration-001", "iteration-002"}
    for i in (1, 2):
        assert results[i].metrics["errors"] == []
        assert f"rows {' '.join(['x'] * i)}\n" in results[i].notebook.read_text(
            encoding="utf-8"
        ).replace("\\n", "\n")


def test_the_cli_exit_status_gates_on_fail_under(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "report",
        str(NOTEBOOKS / "renders_metrics.ipynb"),
        "--out",
        str(tmp_path),
        "--loop",
        "ci",
    ]
    assert main([*argv, "--fail-under", "95", "-p", "pass_rate", "0.93"]) == 1
    out = capsys.readouterr().out
    assert "pass rate 93.0% is under 95%" in out and "summary.md" in out
    assert main([*argv, "--fail-under", "90", "-p", "pass_rate", "0.93"]) == 0
