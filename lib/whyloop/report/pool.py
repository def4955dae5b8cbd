"""A local process pool for report batches that knows which report each process runs.

``concurrent.futures.ProcessPoolExecutor`` ends every process and fails every
pending task when one process dies, and cannot say which task killed it; a
batch must lose only the report whose process died. So this pool hands one
job at a time to each of its processes over that process's own queue, hears
the results and progress events on one shared queue, and when a process
dies fails only the job it held, then starts a new process for the rest.

Processes are *spawned* (never forked: the parent may hold zmq sockets and
threads), and each report they run starts its own kernel with its own ports.
Spawning imports the caller's ``__main__`` module again in each process, so a
script that runs a batch must do so under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from whyloop.report.progress import Progress, QueueProgress, relay

if TYPE_CHECKING:
    from whyloop.report.batch import BatchItem, ReportJob

__all__ = ["run_on_pool"]

#: how long the parent waits for an event before checking that its processes are alive
POLL_S = 0.25
#: how long a process may take to leave after it is told to
STOP_S = 10.0


def _serve(tasks: Any, events: Any) -> None:
    """A pool process: run each job it is handed until it is handed None."""
    from whyloop.report.batch import run_job

    while (job := tasks.get()) is not None:
        events.put(("begin", job.index))
        item = run_job(job, QueueProgress(events, job.index))
        events.put(("result", job.index, item))


class _Worker:
    def __init__(self, ctx: Any, events: Any) -> None:
        self.tasks = ctx.SimpleQueue()
        self.process = ctx.Process(target=_serve, args=(self.tasks, events), daemon=True)
        self.process.start()
        self.job: ReportJob | None = None
        self.since = 0.0

    def give(self, job: ReportJob) -> None:
        self.job, self.since = job, time.monotonic()
        self.tasks.put(job)


def run_on_pool(
    jobs: list[ReportJob],
    n: int,
    progress: Progress,
    finished: Callable[[BatchItem, str | None], None],
) -> list[BatchItem]:
    """Run ``jobs`` on ``n`` spawned processes; call ``finished`` with each item as it comes.

    ``finished`` gets the item and the key its progress events used (None before it started).

    A process that dies fails only its own job ("its process died") and is replaced.
    """
    from whyloop.report.batch import BatchItem

    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    todo = list(reversed(jobs))
    workers: list[_Worker] = []
    items: dict[int, BatchItem] = {}
    keys: dict[int, str] = {}
    try:
        workers = [_Worker(ctx, events) for _ in range(n)]
        for w in workers:
            if todo:
                w.give(todo.pop())
        while len(items) < len(jobs):
            try:
                event = events.get(timeout=POLL_S)
            except queue_mod.Empty:
                event = None
            if event is not None:
                _handle(event, workers, items, keys, progress, finished, todo)
                continue
            for i, w in enumerate(workers):
                if w.job is not None and not w.process.is_alive():
                    _drain(events, workers, items, keys, progress, finished, todo)
                    if w.job is None:  # its result was still on the queue
                        continue
                    job, code = w.job, w.process.exitcode
                    item = BatchItem(
                        job,
                        None,
                        _died(code),
                        time.monotonic() - w.since,
                    )
                    items[job.index] = item
                    finished(item, keys.get(job.index))
                    workers[i] = _Worker(ctx, events)
                    if todo:
                        workers[i].give(todo.pop())
            progress.tick()
    finally:
        _stop(workers)
        events.close()
        events.join_thread()
    return list(items.values())


def _died(code: int | None) -> str:
    """Why a pool process is gone, as its exit code tells (a signal: killed, out of memory)."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the process running it was killed by {name} (out of memory, or killed)"
    return f"the process running it exited with status {code} before the report was made"


def _drain(events: Any, *state: Any) -> None:
    while True:
        try:
            event = events.get(timeout=0.05)
        except queue_mod.Empty:
            return
        _handle(event, *state)


def _handle(
    event: tuple[Any, ...],
    workers: list[_Worker],
    items: dict[int, BatchItem],
    keys: dict[int, str],
    progress: Progress,
    finished: Callable[[BatchItem, str | None], None],
    todo: list[ReportJob],
) -> None:
    kind, index = event[0], event[1]
    if kind == "result":
        item = event[2]
        items[index] = item
        finished(item, keys.get(index))
        for w in workers:
            if w.job is not None and w.job.index == index:
                w.job = None
                if todo:
                    w.give(todo.pop())
    elif kind != "begin":
        relay(event, progress, keys)


def _stop(workers: list[_Worker]) -> None:
    """Tell each process to leave; end any that does not within ``STOP_S`` (an interrupted batch)."""
    for w in workers:
        if w.process.is_alive() and w.job is None:
            w.tasks.put(None)
    deadline = time.monotonic() + STOP_S
    for w in workers:
        if w.job is not None:  # still running a report: the batch was interrupted
            w.process.terminate()
        w.process.join(max(0.1, deadline - time.monotonic()))
        if w.process.is_alive():
            w.process.terminate()
            w.process.join(STOP_S)
        w.process.close()
