"""Log lines written by the real programs: a logger that writes through a given formatter."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

#: What :func:`write_log` logs, in order: (level, message); ERROR comes with a traceback.
RECORDS: list[tuple[int, str]] = [
    (logging.INFO, "listening on 8080"),
    (logging.WARNING, "pool nearly full: 9/10"),
    (logging.ERROR, "request failed"),
    (logging.DEBUG, "retrying [attempt 2]"),
]
WriteLog = Callable[..., Path]


@pytest.fixture
def write_log(tmp_path: Path) -> WriteLog:
    """``write_log(formatter, name="app.db", encoding="utf-8")``: a file the logging module wrote.

    The records of :data:`RECORDS` go through a ``logging.FileHandler`` with
    ``formatter``; the ERROR one is logged with ``logger.exception`` inside an
    ``except``, so a real traceback follows it.
    """
    count = 0

    def write(
        formatter: logging.Formatter, name: str = "app.db", encoding: str = "utf-8", extra: str = ""
    ) -> Path:
        nonlocal count
        count += 1
        path = tmp_path / f"log{count}.log"
        logger = logging.Logger(name, logging.DEBUG)  # not registered: nothing else sees it
        handler = logging.FileHandler(path, encoding=encoding)
        handler.setFormatter(formatter)
        logger.addHandler(handler)
        try:
            for level, message in RECORDS:
                if level == logging.ERROR:
                    try:
                        raise ValueError("bad input" + extra)
                    except ValueError:
                        logger.exception(message)
                else:
                    logger.log(level, message + extra)
        finally:
            logger.removeHandler(handler)
            handler.close()
        return path

    return write
