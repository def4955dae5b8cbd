"""Many reports at once: a batch file run on a local process pool, or on a Dask cluster.

A batch file (YAML) lists the reports; ``defaults`` holds what they share::

    defaults:                    # optional; any key a report takes
      notebook: ../notebooks/iteration_report.ipynb
      out: ../reports
      params: {store: ../data/iterations, environment: staging}
      cell_timeout: 600
      fail_under: 95
    reports:                     # required: a list of reports
      - {loop: checkout, iteration: 3, params: {results: ../ci/checkout}}
      - {loop: auth, params: {results: ../ci/auth}}

The keys of a report (:data:`KEYS`): ``notebook``, ``loop`` (default
``adhoc``), ``iteration`` (default: the next free number), ``params``,
``out`` (the reports root, default ``reports``), ``cell_timeout`` (seconds,
default 600) and ``fail_under`` (percent). A report's ``params`` are merged
over the defaults' key by key; its other keys replace the defaults'.
``notebook`` and ``out`` are relative to the batch file's folder; paths in
``params`` are read by the notebook, relative to the notebook's folder.
Every report is checked (keys, types, its notebook's parameters, distinct
folders) before any runs; a problem is one :class:`ReportError` naming the
file, the line and the report's field: ``batch.yaml:7: reports[1].colour: unknown key``.

:func:`run_batch` runs them on ``workers`` local processes, each running one
report at a time with its own kernel (own ports, own folder, the working
directory passed to the kernel, never ``os.chdir``), or, with ``scheduler``,
as tasks on a Dask distributed cluster (``pip install 'whyloop[dask]'``;
the notebooks, inputs and reports root must then be paths every Dask worker
sees). A report that fails, or whose worker process dies, is recorded as
such; the others still run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from whyloop.errors import ReportError, WhyloopError
from whyloop.redact import redact_text
from whyloop.report import ReportResult, folder_name, run_report
from whyloop.report.params import check_params, notebook_params
from whyloop.report.pool import run_on_pool
from whyloop.report.progress import Progress

__all__ = ["KEYS", "BatchItem", "BatchResult", "ReportJob", "load_batch", "run_batch", "run_job"]

#: the keys a report (and ``defaults``) takes, and what each must be
KEYS = {
    "notebook": "a path to a notebook",
    "loop": "a loop name",
    "iteration": "an iteration name or number",
    "params": "a mapping of parameter names to values",
    "out": "a path to the reports root",
    "cell_timeout": "a positive number of seconds",
    "fail_under": "a percentage from 0 to 100",
}
INSTALL_DASK = "pip install 'whyloop[dask]'"


@dataclass(frozen=True)
class ReportJob:
    """One report of a batch, checked and with absolute paths: what a worker needs to run it."""

    index: int
    notebook: Path
    loop: str
    iteration: str | None
    params: dict[str, Any]
    out: Path
    cell_timeout_s: float = 600.0
    fail_under: float | None = None

    @property
    def label(self) -> str:
        """``loop/iteration-NNN``, or ``loop/next`` while its number is not claimed yet."""
        return folder_name(self.loop, self.iteration) or f"{self.loop}/next"


@dataclass(frozen=True)
class BatchItem:
    """One report's outcome: its result, or ``error`` (one line) when no report was made."""

    job: ReportJob
    result: ReportResult | None
    error: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> int:
        """0 when the report was made and passes its gate, else 1."""
        return 1 if self.result is None else self.result.status

    @property
    def key(self) -> str:
        """The report's folder under its root, once made; its label otherwise."""
        if self.result is None:
            return self.job.label
        return f"{self.job.loop}/{self.result.out_dir.name}"

    def line(self) -> str:
        """One line: the report's summary and its page, or why there is none."""
        if self.result is None:
            return f"reports[{self.job.index}] {self.job.label}: no report: {self.error}"
        return f"{self.result.summary_line()} -> {self.result.html}"


@dataclass(frozen=True)
class BatchResult:
    """Every report of a batch, in the file's order; ``status`` 1 when any failed or was gated."""

    items: list[BatchItem]
    where: str
    seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> int:
        return 1 if any(item.status for item in self.items) else 0

    def summary_line(self) -> str:
        """``batch: 8 reports on a local pool of 2 processes in 41.2 s: 7 passed, 1 failed``."""
        failed = sum(1 for i in self.items if i.result is None)
        gated = sum(1 for i in self.items if i.result is not None and i.result.status)
        passed = len(self.items) - failed - gated
        parts = [f"{passed} passed"]
        if gated:
            parts.append(f"{gated} gated (failed sections or pass rate under the bar)")
        if failed:
            parts.append(f"{failed} made no report")
        return (
            f"batch: {len(self.items)} reports on {self.where} in {self.seconds:.1f} s: "
            + ", ".join(parts)
        )


def load_batch(
    spec: str | Path | Mapping[str, Any],
    *,
    overrides: Mapping[str, Any] | None = None,
    base: str | Path | None = None,
) -> list[ReportJob]:
    """The reports of batch ``spec`` (a YAML file, or its content as a mapping), each checked.

    ``overrides`` replace keys of the file's ``defaults`` (a report's own keys
    still win). Relative paths are from the file's folder (``base`` for a
    mapping, default the working directory). Raises :class:`ReportError`
    naming the file, line and field of the first problem.
    """
    path: str | None = None
    lines = _Lines(None)
    if isinstance(spec, Mapping):
        data: Any = dict(spec)
        root = Path(base) if base is not None else Path.cwd()
    else:
        path = str(spec)
        root = Path(spec).resolve().parent
        try:
            text = Path(spec).read_text(encoding="utf-8")
            data = yaml.safe_load(text)
            lines = _Lines(yaml.compose(text))
        except OSError as exc:
            raise ReportError(f"cannot read the batch file: {exc.strerror}", path=path) from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ReportError(
                f"not valid YAML: {problem}", path=path, line=mark.line + 1 if mark else None
            ) from exc
    try:
        return _jobs(data, root, lines, overrides or {})
    except ReportError as exc:
        raise exc.at(path) from None


def _jobs(data: Any, root: Path, lines: _Lines, overrides: Mapping[str, Any]) -> list[ReportJob]:
    if not isinstance(data, dict):
        raise ReportError("a batch file is a mapping with 'reports:' (and 'defaults:')")
    for key in data:
        if key not in ("defaults", "reports"):
            raise ReportError(
                f"{key}: unknown key (a batch file takes: defaults, reports)",
                line=lines.at((key,)),
            )
    defaults = data.get("defaults") or {}
    reports = data.get("reports")
    if not isinstance(defaults, dict):
        raise ReportError("defaults: must be a mapping", line=lines.at(("defaults",)))
    _check_keys(defaults, "defaults", ("defaults",), lines)
    defaults = {**defaults, **{k: v for k, v in overrides.items() if v is not None}}
    if not isinstance(reports, list) or not reports:
        raise ReportError(
            "reports: must be a non-empty list of reports", line=lines.at(("reports",))
        )
    jobs, folders = [], {}
    for i, entry in enumerate(reports):
        where = ("reports", i)
        if not isinstance(entry, dict):
            raise ReportError(
                f"reports[{i}]: must be a mapping ({', '.join(KEYS)})", line=lines.at(where)
            )
        _check_keys(entry, f"reports[{i}]", where, lines)
        job = _job(i, {**defaults, **entry}, defaults, entry, root, lines)
        folder = (job.out, folder_name(job.loop, job.iteration))
        if folder[1] is not None and folder in folders:
            raise ReportError(
                f"reports[{i}]: the same report folder as reports[{folders[folder]}] "
                f"({folder[1]} under {job.out})",
                line=lines.at(where),
            )
        folders[folder] = i
        jobs.append(job)
    return jobs


def _check_keys(entry: dict[str, Any], name: str, where: tuple[Any, ...], lines: _Lines) -> None:
    for key in entry:
        if key not in KEYS:
            raise ReportError(
                f"{name}.{key}: unknown key (a report takes: {', '.join(KEYS)})",
                line=lines.at((*where, key)),
            )


def _job(
    i: int,
    merged: dict[str, Any],
    defaults: dict[str, Any],
    entry: dict[str, Any],
    root: Path,
    lines: _Lines,
) -> ReportJob:
    def bad(key: str, reason: str | None = None) -> ReportError:
        owner = ("reports", i) if key in entry or key not in defaults else ("defaults",)
        name = f"reports[{i}]" if owner[0] == "reports" else "defaults"
        return ReportError(
            f"{name}.{key}: {reason or 'must be ' + KEYS[key]}",
            line=lines.at((*owner, key)) or lines.at(owner),
        )

    notebook = merged.get("notebook")
    if notebook is None:
        raise ReportError(
            f"reports[{i}]: no notebook (give one here or in defaults)",
            line=lines.at(("reports", i)),
        )
    if not isinstance(notebook, str):
        raise bad("notebook")
    notebook_path = (root / notebook).resolve()
    if not notebook_path.is_file():
        raise bad("notebook", f"no such notebook: {notebook_path}")
    loop = merged.get("loop", "adhoc")
    iteration = merged.get("iteration")
    if not isinstance(loop, str):
        raise bad("loop")
    if iteration is not None and (
        isinstance(iteration, bool) or not isinstance(iteration, str | int)
    ):
        raise bad("iteration")
    try:
        folder_name(loop, iteration)
    except ReportError as exc:
        raise bad(exc.param or "loop", exc.reason) from None
    params: dict[str, Any] = {}
    for owner in (defaults, entry):
        value = owner.get("params") or {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise bad("params")
        params.update(value)
    try:
        params = check_params(params, notebook_params(notebook_path))
    except WhyloopError as exc:
        raise bad("params", exc.reason) from None
    out = merged.get("out", "reports")
    if not isinstance(out, str | Path):
        raise bad("out")
    timeout = merged.get("cell_timeout", 600)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise bad("cell_timeout")
    fail_under = merged.get("fail_under")
    if fail_under is not None and (
        isinstance(fail_under, bool)
        or not isinstance(fail_under, int | float)
        or not 0 <= fail_under <= 100
    ):
        raise bad("fail_under")
    return ReportJob(
        index=i,
        notebook=notebook_path,
        loop=loop,
        iteration=None if iteration is None else str(iteration),
        params=params,
        out=(root / out).resolve(),
        cell_timeout_s=float(timeout),
        fail_under=None if fail_under is None else float(fail_under),
    )


class _Lines:
    """Line numbers (1-based) of the nodes of a composed YAML document, by path of keys and indexes."""

    def __init__(self, node: Any) -> None:
        self.node = node

    def at(self, where: tuple[Any, ...]) -> int | None:
        node, line = self.node, None
        for step in where:
            if isinstance(node, yaml.MappingNode):
                pair = next((p for p in node.value if p[0].value == step), None)
                if pair is None:
                    return line
                line, node = pair[0].start_mark.line + 1, pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                if step >= len(node.value):
                    return line
                node = node.value[step]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def run_job(job: ReportJob, progress: Progress | None = None) -> BatchItem:
    """Run one report of a batch where this is called (a pool's process, a Dask worker).

    Never raises for the report's own failures: they are the item's ``error``.
    """
    start = time.monotonic()
    try:
        result = run_report(
            job.notebook,
            params=job.params,
            out_root=job.out,
            loop=job.loop,
            iteration=job.iteration,
            cell_timeout_s=job.cell_timeout_s,
            fail_under=job.fail_under,
            progress=progress,
        )
    except Exception as exc:  # one report's failure must never lose the batch
        reason = str(exc) if isinstance(exc, WhyloopError) else f"{type(exc).__name__}: {exc}"
        return BatchItem(job, None, " ".join(redact_text(reason).split()), time.monotonic() - start)
    return BatchItem(job, result, None, time.monotonic() - start)


def run_batch(
    spec: str | Path | Mapping[str, Any] | list[ReportJob],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> BatchResult:
    """Run every report of ``spec`` (a batch file, its mapping, or :func:`load_batch`'s jobs).

    Locally on ``workers`` processes (default: the number of CPUs, never more
    than the reports), or on the Dask scheduler at ``scheduler``
    (``tcp://host:8786``). ``progress`` hears of each report's start, cells
    (local pool) and end. Raises :class:`ReportError` only for a bad batch or
    a cluster that cannot be reached; a failing report is an item with an ``error``.
    """
    jobs = spec if isinstance(spec, list) else load_batch(spec, overrides=overrides)
    if workers is not None and scheduler is not None:
        raise ReportError(
            "workers size the local pool; a Dask cluster has its own workers", param="workers"
        )
    if workers is not None and workers < 1:
        raise ReportError(f"workers must be at least 1, not {workers}", param="workers")
    progress = progress or Progress()
    start = time.monotonic()
    if scheduler is not None:
        client_factory = _dask_client_factory()
        where = f"the Dask scheduler at {scheduler}"
        progress.batch_started(len(jobs), where)
        items = _run_on_dask(jobs, scheduler, client_factory, progress)
    else:
        n = min(workers or os.cpu_count() or 1, len(jobs))
        where = f"a local pool of {n} process{'es' if n > 1 else ''}"
        progress.batch_started(len(jobs), where)
        items = run_on_pool(jobs, n, progress, _finished(progress))
    result = BatchResult(sorted(items, key=lambda i: i.job.index), where, time.monotonic() - start)
    progress.batch_done(result.summary_line())
    return result


def _finished(progress: Progress) -> Any:
    def done(item: BatchItem, key: str | None = None) -> None:
        if item.result is not None:
            summary, path = item.result.summary_line(), str(item.result.html)
        else:
            summary, path = f"no report: {item.error}", None
        progress.report_done(key or item.key, summary, path, item.status == 0)

    return done


def _dask_client_factory() -> Any:
    """Dask's ``Client``, imported only now: distributed is an optional extra."""
    try:
        from distributed import Client
    except ImportError:
        raise ReportError(
            "running on a Dask scheduler needs Dask's distributed package, which is not "
            f"installed: {INSTALL_DASK}"
        ) from None
    return Client


def _run_on_dask(
    jobs: list[ReportJob], scheduler: str, client_factory: Any, progress: Progress
) -> list[BatchItem]:
    """Each job as a Dask task; a task that raises or whose worker is lost is that report's error."""
    done = _finished(progress)
    try:
        client = client_factory(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ReportError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    items: list[BatchItem] = []
    tag = uuid.uuid4().hex[:8]
    try:
        waiting = {
            client.submit(run_job, job, key=f"whyloop-report-{tag}-{job.index}", pure=False): job
            for job in jobs
        }
        while waiting:
            for future in [f for f in waiting if f.done()]:
                job = waiting.pop(future)
                try:
                    item = future.result()
                except Exception as exc:  # a lost worker (KilledWorker), a task that raised
                    reason = f"the Dask task failed: {type(exc).__name__}: {exc}"
                    item = BatchItem(job, None, " ".join(redact_text(reason).split()))
                items.append(item)
                done(item)
            progress.tick()
            if waiting:
                time.sleep(0.2)
    finally:
        client.close()
    return items
