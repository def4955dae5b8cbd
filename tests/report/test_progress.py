"""Progress: bars on a terminal, a few plain lines elsewhere, a summary line with the report's path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from whyloop.report import run_report
from whyloop.report.progress import LineProgress, TerminalProgress, for_stream

RENDERS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks" / "renders_metrics.ipynb"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _feed(progress: LineProgress | TerminalProgress, clock: Clock | None = None) -> None:
    """A batch of two reports, the first with 100 cells over 50 s, the second failing to start."""
    progress.batch_started(2, "a local pool of 2 processes")
    progress.report_started("shop/iteration-001", 100)
    for done in range(1, 101):
        if clock is not None:
            clock.now += 0.5
        progress.cell_done("shop/iteration-001", done, 100, "Failures by cluster")
        progress.tick()
    progress.report_done(
        "shop/iteration-001", "shop iteration 1: pass rate 90.0%", "/r/shop/it.html", True
    )
    progress.report_done("auth/next", "no report: the kernel could not start", None, False)
    progress.batch_done("batch: 2 reports in 50.0 s: 1 passed, 1 made no report")
    progress.close()


def test_for_stream_draws_bars_on_a_terminal_and_lines_elsewhere() -> None:
    assert isinstance(for_stream(Terminal()), TerminalProgress)
    assert isinstance(for_stream(io.StringIO()), LineProgress)


def test_a_terminal_gets_bars_of_cells_and_reports_then_each_summary_with_its_path() -> None:
    out = Terminal()
    _feed(TerminalProgress(out))
    text = out.getvalue()
    assert "\r" in text  # bars redraw in place
    assert "shop/iteration-001" in text and "100/100" in text and "Failures by cluster" in text
    assert "batch" in text and "1/2" in text and "2/2" in text
    lines = [line.split("\r")[-1] for line in text.splitlines()]
    assert "shop/iteration-001: done: shop iteration 1: pass rate 90.0% -> /r/shop/it.html" in lines
    assert "auth/next: FAILED: no report: the kernel could not start" in lines
    assert "batch: 2 reports in 50.0 s: 1 passed, 1 made no report" in lines


def test_elsewhere_plain_lines_come_every_few_seconds_not_every_cell() -> None:
    out, clock = io.StringIO(), Clock()
    _feed(LineProgress(out, interval_s=10, clock=clock), clock)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "batch: 2 reports on a local pool of 2 processes"
    assert lines[1] == "shop/iteration-001: started, 100 code cells"
    cells = [line for line in lines if " cells (section " in line]
    assert len(cells) == 5  # 50 s at one line per 10 s, not 100 lines
    assert cells[0] == "shop/iteration-001: 20/100 cells (section 'Failures by cluster'), 10 s"
    assert lines[-3:] == [
        "[1/2] shop/iteration-001: done in 50.0 s: shop iteration 1: pass rate 90.0% "
        "-> /r/shop/it.html",
        "[2/2] auth/next: FAILED: no report: the kernel could not start",
        "batch: 2 reports in 50.0 s: 1 passed, 1 made no report",
    ]


def test_a_quiet_batch_wait_still_says_how_far_it_is() -> None:
    out, clock = io.StringIO(), Clock()
    progress = LineProgress(out, interval_s=10, clock=clock)
    progress.batch_started(3, "the Dask scheduler at tcp://127.0.0.1:8786")
    for _ in range(25):  # 25 s without a word from the workers
        clock.now += 1
        progress.tick()
    assert out.getvalue().splitlines()[1:] == [
        "batch: 0/3 reports done, 10 s",
        "batch: 0/3 reports done, 20 s",
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
@pytest.mark.timeout(60)
def test_a_real_run_counts_every_cell_and_ends_with_the_page_path(tmp_path: Path) -> None:
    out = io.StringIO()
    result = run_report(
        RENDERS,
        out_root=tmp_path,
        loop="shop",
        fail_under=80,
        progress=LineProgress(out, interval_s=0),
    )
    lines = out.getvalue().splitlines()
    # 4 code cells with source, plus the parameters papermill injects
    assert lines[0] == "shop/iteration-001: started, 5 code cells"
    assert [line.split(" cells")[0] for line in lines[1:-1]] == [
        f"shop/iteration-001: {n}/5" for n in range(1, 6)
    ]
    assert "(section 'Metrics')" in lines[-2]
    assert lines[-1].startswith("shop/iteration-001: done in ")
    assert lines[-1].endswith(
        f"shop iteration 1: pass rate 90.0%, 0 failed section(s) -> {result.html}"
    )
