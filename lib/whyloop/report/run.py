"""Execute a report notebook with papermill, keeping the report when a section fails.

The edge of :mod:`whyloop.report`: one kernel per run, started with its own
ports (jupyter_client binds free ones) and its own working directory passed
to the kernel process (papermill's ``cwd=`` would ``os.chdir`` the whole
process, which is not thread-safe, so it is never used), shut down
immediately (a graceful shutdown stalls about 3 s in one call of eight).
A kernel that cannot bind a port it was given (another process took it
between jupyter_client's pick and the kernel's bind, papermill's "address
already in use") is started again with new ports, up to ``PORT_ATTEMPTS`` times.

Failures never lose the report:

- a cell that raises: nbclient's ``allow_errors`` keeps running the cells
  after it; papermill's final ``PapermillExecutionError`` is caught;
- a cell that runs past ``cell_timeout_s``: the kernel is interrupted and
  the run goes on (``interrupt_on_timeout``);
- a kernel that dies: nbclient's ``DeadKernelError`` is caught; the cells
  after it are not run, and what the kernel process printed is kept.

Each failure becomes a :class:`Failure` and a note in the notebook just after
the failed cell, saying what failed and why.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import nbformat
import papermill as pm
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from papermill.exceptions import PapermillExecutionError
from papermill.execute import ERROR_MARKER_TAG

from whyloop.errors import ReportError
from whyloop.redact import redact_text
from whyloop.report.outputs import FailureKind
from whyloop.report.progress import Progress

__all__ = ["ExecutedReport", "Failure", "execute"]

#: how much of the kernel process's own output a kernel_died failure quotes
KERNEL_LOG_TAIL = 2000
NOTE_TAG = "whyloop-failure-note"
#: kernel starts tried when the ports jupyter_client picked were taken before the kernel bound
#: them: it picks free ports in this process, but another process may take one in between
PORT_ATTEMPTS = 3


@dataclass(frozen=True)
class Failure:
    """A section that failed: the cell's index in the executed notebook, the section's heading, how, and why."""

    cell: int
    section: str
    kind: FailureKind
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": self.cell,
            "section": self.section,
            "kind": str(self.kind),
            "message": self.message,
        }


@dataclass
class ExecutedReport:
    """An executed notebook (``nb``, also written at ``path``) and the failures met on the way."""

    path: Path
    nb: Any
    failures: list[Failure] = field(default_factory=list)


class _Tracker:
    """nbclient hooks for one run: the cell running now, the errors and timeouts seen, and progress.

    nbclient's ``on_cell_complete`` fires when a cell is *sent* to the kernel, so
    a cell counts as done in ``on_cell_executed``, after its reply.
    """

    def __init__(self, progress: Progress | None = None, key: str = "", total: int = 0) -> None:
        self.current = -1
        self.failed: dict[int, tuple[FailureKind, str]] = {}
        self.progress, self.key, self.total = progress, key, total
        self.done = 0
        self.section = ""

    def on_cell_start(self, cell: Any, cell_index: int) -> None:
        self.current = cell_index
        if cell.cell_type == "markdown":
            headings = [ln for ln in cell.source.splitlines() if ln.startswith("#")]
            if headings:
                self.section = headings[-1].lstrip("#").strip()

    def on_cell_executed(self, cell: Any, cell_index: int, execute_reply: Any) -> None:
        self.done += 1
        if self.progress is not None:
            self.total = max(self.total, self.done)
            self.progress.cell_done(self.key, self.done, self.total, self.section)

    def on_cell_error(self, cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        content = execute_reply.get("content", {})
        if content.get("ename") == "CellTimeoutError":
            self.failed[cell_index] = (FailureKind.TIMEOUT, content.get("evalue", ""))
        else:
            reason = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}".rstrip(": ")
            self.failed.setdefault(cell_index, (FailureKind.ERROR, reason))


def _kernel_manager_class(log: IO[bytes]) -> type[AsyncKernelManager]:
    """A kernel manager whose kernel process writes its own stdout and stderr to ``log``."""

    class CapturedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", subprocess.STDOUT)
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return CapturedKernelManager


def execute(
    notebook: str | Path,
    params: dict[str, Any],
    *,
    out_dir: str | Path,
    cell_timeout_s: float = 600,
    kernel_name: str = "python3",
    cwd: str | Path | None = None,
    start_timeout_s: float = 60,
    progress: Progress | None = None,
    key: str = "",
) -> ExecutedReport:
    """Run ``notebook`` with ``params`` into ``out_dir/<name>.ipynb`` and return it with its failures.

    ``cwd`` is the kernel's working directory (default: the notebook's own
    directory). ``progress`` hears of the start (with the count of code cells)
    and of each finished cell, under ``key``. Raises :class:`ReportError` only
    when no report can be made (an unreadable notebook, a kernel that does not start).
    """
    notebook = Path(notebook).resolve()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / notebook.name
    log_path = out_dir / "kernel.log"
    tracker = _Tracker(progress, key)
    if progress is not None:
        tracker.total = _code_cells(notebook) + (1 if params else 0)  # + papermill's injected cell
        progress.report_started(key, tracker.total)
    timeout = max(1, round(cell_timeout_s))
    options = {
        "parameters": params,
        "kernel_name": kernel_name,
        "progress_bar": False,
        "log_output": False,
        "start_timeout": start_timeout_s,
        "execution_timeout": timeout,
        # nbclient options, passed through papermill's engine
        "allow_errors": True,
        "interrupt_on_timeout": True,
        "error_on_timeout": {
            "ename": "CellTimeoutError",
            "evalue": f"the cell ran longer than {timeout} s and was interrupted",
            "traceback": [],
        },
        "shutdown_kernel": "immediate",
        "resources": {"metadata": {"path": str(Path(cwd or notebook.parent).resolve())}},
        "on_cell_start": tracker.on_cell_start,
        "on_cell_error": tracker.on_cell_error,
        "on_cell_executed": tracker.on_cell_executed,
    }
    for attempt in range(1, PORT_ATTEMPTS + 1):
        with log_path.open("wb") as log:
            try:
                pm.execute_notebook(
                    str(notebook),
                    str(output),
                    kernel_manager_class=_kernel_manager_class(log),
                    **options,
                )
                died = False
            except PapermillExecutionError:
                died = False  # errors were allowed: every cell ran; the failures are in the tracker
            except DeadKernelError:
                died = True
            except RuntimeError as exc:  # a kernel that does not start
                if attempt < PORT_ATTEMPTS and _port_taken(log_path):
                    continue
                raise ReportError(
                    f"the kernel could not run the notebook: {exc}"
                    + (f"; it printed: {p}" if (p := _kernel_printed(log_path)) else ""),
                    path=str(notebook),
                ) from exc
        break
    if not output.exists():
        raise ReportError("papermill wrote no notebook", path=str(notebook))
    nb = nbformat.read(output, as_version=4)
    nb.cells = [c for c in nb.cells if ERROR_MARKER_TAG not in c.metadata.get("tags", [])]
    if died:
        printed = _kernel_printed(log_path)
        tracker.failed[tracker.current] = (
            FailureKind.KERNEL_DIED,
            "the kernel died while running this cell (out of memory, killed or exited); "
            "the cells after it were not run"
            + (f"; it printed: {printed}" if printed else "")
            + _cell_streams(nb, tracker.current),
        )
    failures = _failures(nb, tracker.failed)
    _add_notes(nb, failures)
    # papermill keeps the parameters as given, a secret among them perhaps
    from whyloop.report.export import redact_notebook

    nbformat.write(redact_notebook(nb), output)
    return ExecutedReport(path=output, nb=nb, failures=failures)


def _port_taken(log_path: Path) -> bool:
    """Whether the kernel could not bind a port it was given (taken meanwhile by another process)."""
    return "Address already in use" in log_path.read_text(encoding="utf-8", errors="replace")


def _code_cells(notebook: Path) -> int:
    """How many code cells nbclient will run: those with source (empty ones are skipped)."""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read the notebook: {exc}", path=str(notebook)) from exc
    return sum(1 for c in nb.cells if c.cell_type == "code" and c.source.strip())


def _kernel_printed(log_path: Path) -> str:
    """The tail of what the kernel process printed, less ipykernel's own start-up notice."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    kept = [line for line in lines if "running over TCP without encryption" not in line]
    return "\n".join(kept)[-KERNEL_LOG_TAIL:].strip()


def _cell_streams(nb: Any, index: int) -> str:
    if not 0 <= index < len(nb.cells):
        return ""
    text = "".join(
        o.get("text", "") for o in nb.cells[index].get("outputs", []) if o.output_type == "stream"
    ).strip()
    return f"; the cell printed: {text[-KERNEL_LOG_TAIL:]}" if text else ""


def _sections(nb: Any) -> list[str]:
    """Each cell's section: the last Markdown heading above it ("" before the first)."""
    current, out = "", []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    current = line.lstrip("#").strip()
        out.append(current)
    return out


def _failures(nb: Any, failed: dict[int, tuple[FailureKind, str]]) -> list[Failure]:
    sections = _sections(nb)
    return [
        Failure(
            cell=i,
            section=sections[i] if 0 <= i < len(sections) else "",
            kind=kind,
            message=redact_text(msg),  # an error's text may quote what a cell read
        )
        for i, (kind, msg) in sorted(failed.items())
    ]


def _add_notes(nb: Any, failures: list[Failure]) -> None:
    """Put a note saying what failed and why just after each failed cell (in the HTML page too)."""
    for f in sorted(failures, key=lambda f: f.cell, reverse=True):
        title = f"section '{f.section}'" if f.section else "this section"
        note = nbformat.v4.new_markdown_cell(
            f"> **Report: {title} failed ({f.kind})**: {f.message}"
        )
        note.metadata["tags"] = [NOTE_TAG]
        nb.cells.insert(min(f.cell + 1, len(nb.cells)), note)
