"""``metrics.json``: what a report says, for machines. Written by the notebook, completed by the runner.

The notebook's content calls :func:`write_metrics` with its ``report_dir``
parameter (the runner sets it to the report's directory); the runner then
adds the run's ``errors`` (a section that failed, timed out or whose kernel
died) and fills in ``loop`` and ``iteration`` when missing. A notebook that
writes none still gets a minimal file with the run's errors.

The keys (every one optional except ``errors``, which the runner always sets):

- ``loop`` (str), ``iteration`` (str): which loop iteration this reports on.
- ``status`` (str): the loop's verdict, ``continue`` or ``done``
  (:class:`whyloop.schema.LoopStatus`).
- ``target`` (float): the pass rate the loop aims for, 0..1; the exit status
  gates on it when ``--fail-under`` is not given.
- ``totals``: ``{total, passed, failed, errors, skipped, pass_rate}``, the
  counts of test executions and passed / (passed + failed + errors), 0..1.
- ``by_category``: ``{category: {total, passed, failed, errors, skipped, pass_rate}}``.
- ``clusters``: ``[{cluster_id, size, tests, representative}]``, failures grouped by signature.
- ``sla``: ``[{probe, check, ok, metric, value, sla}]``, e.g. ``p95_ms`` against ``<= 500``.
- ``criteria``: ``[{criterion, target, figure, met, detail}]``, the loop's exit criteria.
- ``new_failures``, ``fixed``, ``flaky`` (lists of test ids), ``whys`` (``[{id, title, open}]``),
  ``environment``, ``target_text``, ``generated_at``: written by the iteration report.
- ``errors``: ``[{cell, section, kind, message}]``; ``kind`` is ``error``,
  ``timeout`` or ``kernel_died`` (:class:`FailureKind`); ``cell`` is the
  index of the code cell in the notebook, ``section`` its heading.
"""

from __future__ import annotations

import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = ["METRICS_FILE", "FailureKind", "read_metrics", "write_metrics"]

METRICS_FILE = "metrics.json"


class FailureKind(StrEnum):
    """How a section of a report failed."""

    ERROR = "error"  # a cell raised
    TIMEOUT = "timeout"  # a cell ran past the per-cell timeout and was interrupted
    KERNEL_DIED = "kernel_died"  # the kernel process died (out of memory, killed, os._exit)


def write_metrics(metrics: dict[str, Any], out_dir: str | Path) -> Path:
    """Write ``metrics`` as ``out_dir/metrics.json`` (sorted keys, atomically) and return its path.

    Values that JSON cannot hold (numpy numbers, timestamps) are written with ``str``
    unless they have ``item()`` (numpy scalars), which is used instead.
    """
    path = Path(out_dir) / METRICS_FILE
    text = json.dumps(metrics, sort_keys=True, indent=2, default=_plain) + "\n"
    _atomic_write(path, text)
    return path


def read_metrics(out_dir: str | Path) -> dict[str, Any] | None:
    """The ``metrics.json`` in ``out_dir``, or None when there is none (or it is not a JSON object)."""
    path = Path(out_dir) / METRICS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
