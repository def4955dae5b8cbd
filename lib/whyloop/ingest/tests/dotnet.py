""".NET test results: NUnit 3, NUnit 2, xUnit.net (v2 and v1) and Visual Studio TRX.

Each parser streams its file through :func:`whyloop.ingest.tests.xmlsafe.iter_batches`
(entities refused, a truncated file keeps the rows before the break) and
returns :class:`~whyloop.ingest.tests.contract.ParsedTests` with one row per test
execution. This module holds what they share (the driver and the row
builder); the parsers are in :mod:`whyloop.ingest.tests.nunit` (NUnit 3 and 2) and
:mod:`whyloop.ingest.tests.xunit_trx` (xUnit.net and TRX). Common choices:

* ``classname`` is the test's class and ``name`` the method (with any
  parameters), so ``test_id`` is ``Namespace.Class::Method(args)`` whichever of
  these formats the same tests were reported in.
* ``failure_type`` is the exception type when the format or the message gives
  one (``System.DivideByZeroException : ...``).
* NUnit categories and xUnit ``Category`` traits become ``markers``; other
  properties and traits go into ``properties``.
* Start times: NUnit 3 and TRX give each test's own; NUnit 2 and xUnit give the
  run's (``date``/``time``, ``run-date``/``run-time``, naive means UTC) and the
  tests' starts are implied by laying their durations end to end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element

from whyloop.errors import IngestError
from whyloop.ingest.tests.contract import ParsedTests
from whyloop.ingest.tests.values import strip_ansi
from whyloop.ingest.tests.xmlsafe import iter_batches, retry_lenient, truncation_warning
from whyloop.schema import Outcome, TestFormat

__all__ = ["categorised", "make_row", "renumbered", "run_parser", "split_name", "text_of", "to_int"]

_NAN = float("nan")
_EXC_TYPE = re.compile(r"^\s*([A-Za-z_][\w.`+]*(?:Exception|Error))\s*:")
_TEXT_FIELDS: dict[str, Any] = {
    "message": "",
    "failure_type": "",
    "details": "",
    "stdout": "",
    "stderr": "",
    "markers": (),
    "properties": None,
}


def text_of(el: Element | None) -> str:
    """All the text in ``el`` (``""`` for ``None``), stripped, ANSI codes removed."""
    text = "".join(el.itertext()) if el is not None else ""
    return strip_ansi(text.strip()) if text else ""


def to_int(value: str | None) -> int | None:
    """A count attribute as an int; ``None`` when missing or unreadable."""
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


def split_name(full: str, classname: str = "") -> tuple[str, str]:
    """``Ns.Class.Method(1.5, "a.b")`` -> ``("Ns.Class", "Method(1.5, "a.b")")``."""
    if classname and full.startswith(classname + "."):
        return classname, full[len(classname) + 1 :]
    head = full.split("(", 1)[0]
    if "." not in head:
        return classname, full
    cls = head.rsplit(".", 1)[0]
    return cls, full[len(cls) + 1 :]


def make_row(
    suite: str,
    classname: str,
    name: str,
    outcome: Outcome,
    duration: float | None,
    start: datetime | None,
    stop: datetime | None = None,
    **text: Any,
) -> dict[str, Any]:
    """A row; ``text`` holds any of message, failure_type, details, stdout, stderr,
    markers and properties. ``stop`` defaults to start + duration."""
    if stop is None and start is not None and duration is not None:
        stop = start + timedelta(seconds=duration)
    row = {
        "suite": suite,
        "classname": classname,
        "name": name,
        "test_id": f"{classname}::{name}" if classname else name,
        "outcome": outcome.value,
        "rerun": 0,
        "duration_s": _NAN if duration is None else duration,
        "start": start,
        "stop": stop,
        **_TEXT_FIELDS,
        **text,
    }
    if not row["failure_type"]:
        match = _EXC_TYPE.match(row["message"])
        row["failure_type"] = match.group(1) if match else ""
    row["properties"] = row["properties"] or None
    return row


def run_parser(
    stream: BinaryIO,
    path: str,
    fmt: TestFormat,
    roots: tuple[str, ...],
    handle: Callable[[str, Element, ParsedTests], None],
    lenient: bool = False,
) -> ParsedTests:
    """Drive one parser: check the root, feed events to ``handle``, keep rows before a break.

    Repeated executions of one test_id are numbered ``rerun`` 0, 1, 2...
    """
    parsed = ParsedTests(format=fmt)
    open_tags: list[str] = []
    try:
        for batch in iter_batches(stream, path, lenient=lenient, warnings=parsed.warnings):
            for event, el in batch:
                if event == "start":
                    if not open_tags and el.tag not in roots:
                        raise IngestError(f"XML with root <{el.tag}> is not {fmt.value} XML")
                    open_tags.append(el.tag)
                else:
                    open_tags.pop()
                handle(event, el, parsed)
    except IngestError as err:
        if retry_lenient(err, stream, lenient):
            return run_parser(stream, path, fmt, roots, handle, lenient=True)
        if not parsed.rows or err.line is None:
            raise err.at(path) from None
        parsed.warnings.append(truncation_warning(err, open_tags[-1] if open_tags else None))
    return renumbered(parsed)


def categorised(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """NUnit properties / xUnit traits: ``Category`` ones are markers, the rest properties."""
    markers = tuple(value for key, value in pairs if key.lower() == "category")
    props = {key: value for key, value in pairs if key.lower() != "category"}
    return {"markers": markers, "properties": props}


def renumbered(parsed: ParsedTests) -> ParsedTests:
    """Number repeated executions of each test_id ``rerun`` 0, 1, 2... in file order."""
    seen: dict[str, int] = {}
    for row in parsed.rows:
        row["rerun"] = seen.get(row["test_id"], 0)
        seen[row["test_id"]] = row["rerun"] + 1
    return parsed
