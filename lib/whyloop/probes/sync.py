"""Run a probe's coroutine from blocking code: a script, or a notebook cell with a loop running.

Every blocking probe call (``probe_ws``, ``probe_http``, ``run_suite``)
goes through :func:`run_sync`, so they behave alike everywhere.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, also inside Jupyter (a loop already running).

    With no running loop this is ``asyncio.run``; inside one (a notebook cell)
    the coroutine runs on a fresh loop in a helper thread, and this call waits for it.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed back to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, name="whyloop-probe", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
