"""Loop iteration reports: a parameterized notebook run into ``reports/<loop>/iteration-NNN/``.

:func:`run_report` is the pipeline, step by step: parameterize (check the
given parameters against the notebook's ``parameters`` cell), execute
(papermill, :mod:`.run`), export (a self-contained HTML page without code,
:mod:`.export`), summarize (``metrics.json`` completed with the run's
failures, and a Markdown summary). The directory then holds::

    <notebook>.ipynb   the executed notebook
    <notebook>.html    one page, no code cells, images and styles inline
    summary.md         the loop iteration report for chat and pull requests
    metrics.json       for machines (keys documented in :mod:`.outputs`)
    kernel.log         what the kernel process itself printed

A notebook's content writes its metrics with :func:`write_metrics` into its
``report_dir`` parameter, which the runner sets when the notebook declares it.
:func:`run_batch` runs the reports a batch file lists (:mod:`.batch`) on a
local process pool or a Dask cluster; ``progress=`` (:mod:`.progress`) draws
bars or writes periodic lines, and the library prints nothing without it.
Importing this package loads no kernel code: papermill loads in :func:`run_report`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whyloop.errors import ReportError
from whyloop.report.outputs import METRICS_FILE, FailureKind, read_metrics, write_metrics
from whyloop.report.params import check_params, notebook_params
from whyloop.report.progress import Progress

__all__ = [
    "METRICS_FILE",
    "BatchResult",
    "FailureKind",
    "ReportResult",
    "folder_name",
    "load_batch",
    "read_metrics",
    "report_dir",
    "run_batch",
    "run_report",
    "write_metrics",
]


@dataclass(frozen=True)
class ReportResult:
    """Where a report was written, what it says, and the exit status a CI pipeline gates on.

    ``status`` is 0, or 1 when a section failed or the pass rate is below the bar
    (``fail_under``, else the metrics' ``target``); ``reasons`` says why it is 1.
    """

    out_dir: Path
    notebook: Path
    html: Path
    markdown: Path
    metrics_path: Path
    metrics: dict[str, Any]
    status: int
    reasons: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        """One line: loop, iteration, pass rate and failed sections."""
        totals = self.metrics.get("totals") or {}
        rate = totals.get("pass_rate")
        rate_text = (
            f"pass rate {100 * rate:.1f}%" if isinstance(rate, int | float) else "no pass rate"
        )
        errors = len(self.metrics.get("errors") or [])
        return (
            f"{self.metrics.get('loop')} iteration {self.metrics.get('iteration')}: {rate_text}, "
            f"{errors} failed section(s)"
            + (f" ({'; '.join(self.reasons)})" if self.reasons else "")
        )


def folder_name(loop: str, iteration: str | int | None) -> str | None:
    """``<loop>/iteration-NNN``, the report folder's path under the reports root (None: not yet numbered).

    Raises :class:`ReportError` for a loop or iteration name that cannot be a folder.
    """
    if not isinstance(loop, str) or not loop or "/" in loop or loop.startswith("."):
        raise ReportError(f"{loop!r} is not a loop name", param="loop")
    if iteration is None:
        return None
    text = str(iteration)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", text) or text.startswith("."):
        raise ReportError(f"{text!r} is not an iteration name", param="iteration")
    return f"{loop}/iteration-{int(text):03d}" if text.isdigit() else f"{loop}/iteration-{text}"


def report_dir(out_root: str | Path, loop: str, iteration: str | int | None) -> Path:
    """``out_root/<loop>/iteration-NNN``, created; NNN zero-padded when numeric.

    With no iteration, the next free number is claimed with an atomic ``mkdir``,
    so reports started at the same time never share a directory.
    """
    name = folder_name(loop, iteration)
    root = Path(out_root) / loop
    root.mkdir(parents=True, exist_ok=True)
    if name is not None:
        path = Path(out_root) / name
        path.mkdir(exist_ok=True)
        return path
    taken = [int(m[1]) for p in root.iterdir() if (m := re.fullmatch(r"iteration-(\d+)", p.name))]
    n = max(taken, default=0) + 1
    while True:
        try:
            path = root / f"iteration-{n:03d}"
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def run_report(
    notebook: str | Path,
    *,
    params: dict[str, Any] | None = None,
    out_root: str | Path = "reports",
    loop: str = "adhoc",
    iteration: str | int | None = None,
    cell_timeout_s: float = 600,
    fail_under: float | None = None,
    kernel_name: str = "python3",
    progress: Progress | None = None,
) -> ReportResult:
    """Run the report ``notebook`` for ``loop``/``iteration`` and write its four outputs.

    ``params`` are checked against the notebook's parameters cell (an unknown
    name raises :class:`ReportError` with ``param="params"``); ``loop``,
    ``report_dir`` and (when given) ``iteration``, as given, are passed too when
    the notebook declares them and ``params`` does not set them. ``fail_under``
    is a percentage; without it the metrics' ``target`` (0..1) is the bar.
    ``progress`` (e.g. :func:`whyloop.report.progress.for_stream`) hears of each
    cell and of the end; without it the run prints nothing.
    """
    from whyloop.report.export import html_page, markdown_summary
    from whyloop.report.run import execute

    if not cell_timeout_s > 0:
        raise ReportError(
            f"cell_timeout_s must be positive, not {cell_timeout_s}", param="cell_timeout_s"
        )
    notebook = Path(notebook)
    declared = notebook_params(notebook)
    given = check_params(params or {}, declared)  # parameterize
    out_dir = report_dir(out_root, loop, iteration).resolve()
    names = {p.name for p in declared}
    # the iteration goes to the notebook only as given: a numbered report folder is not
    # the name of a stored iteration
    implied = {"loop": loop, "report_dir": str(out_dir)}
    if iteration is not None:
        implied["iteration"] = str(iteration)
    given = {**{k: v for k, v in implied.items() if k in names}, **given}

    key = f"{loop}/{out_dir.name}"
    ran = execute(
        notebook,
        given,
        out_dir=out_dir,
        cell_timeout_s=cell_timeout_s,
        kernel_name=kernel_name,
        progress=progress,
        key=key,
    )

    html = ran.path.with_suffix(".html")  # export
    html.write_text(html_page(ran.nb), encoding="utf-8")

    metrics = read_metrics(out_dir) or {}  # summarize
    metrics.setdefault("loop", loop)
    metrics.setdefault("iteration", out_dir.name.removeprefix("iteration-"))
    metrics["errors"] = [f.to_dict() for f in ran.failures]
    metrics_path = write_metrics(metrics, out_dir)
    markdown = out_dir / "summary.md"
    markdown.write_text(markdown_summary(metrics), encoding="utf-8")

    reasons = _gate(metrics, fail_under)
    result = ReportResult(
        out_dir=out_dir,
        notebook=ran.path,
        html=html,
        markdown=markdown,
        metrics_path=metrics_path,
        metrics=metrics,
        status=1 if reasons else 0,
        reasons=reasons,
    )
    if progress is not None:
        progress.report_done(key, result.summary_line(), str(html), result.status == 0)
    return result


def _gate(metrics: dict[str, Any], fail_under: float | None) -> list[str]:
    """Why the report fails a CI gate: failed sections, a pass rate under the bar."""
    reasons = []
    if metrics.get("errors"):
        reasons.append(f"{len(metrics['errors'])} section(s) failed")
    bar = fail_under / 100 if fail_under is not None else metrics.get("target")
    rate = (metrics.get("totals") or {}).get("pass_rate")
    if isinstance(bar, int | float) and isinstance(rate, int | float) and rate < bar:
        reasons.append(f"pass rate {100 * rate:.1f}% is under {100 * bar:g}%")
    elif isinstance(bar, int | float) and fail_under is not None and rate is None:
        reasons.append("the report has no pass rate to check against --fail-under")
    return reasons


# at the end: batch.py uses run_report and ReportResult from this module
from whyloop.report.batch import BatchResult, load_batch, run_batch  # noqa: E402
