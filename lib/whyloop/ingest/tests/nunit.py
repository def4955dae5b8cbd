"""NUnit result files: NUnit 3 ``<test-run>`` and NUnit 2 ``<test-results>``, and fragments.

See :mod:`whyloop.ingest.tests.dotnet` for what the .NET parsers have in common.
A file whose root is a ``<test-suite>`` (a fragment some tools write) is read
as NUnit 3 when the suite carries NUnit 3's ``runstate``/``testcasecount``,
else as NUnit 2; a fragment's declared counts are its own attributes, where
it has them.

Outcomes, as NUnit documents its results (the judgements are marked *):

* NUnit 3 ``result``: Passed; Failed (label Error, Cancelled or Invalid: an
  ``error``, since the test threw, was cancelled or could not run as
  written); Skipped (labels Ignored, Explicit: skipped); Inconclusive
  skipped*; Warning passed* (the test passed with ``Assert.Warn``).
* NUnit 2 ``result``: Success; Failure; Error, NotRunnable* and Cancelled are
  errors; Ignored, Skipped and Inconclusive* skipped.

NUnit's own result (and label) is kept in ``properties["result"]`` whenever
it is not a plain Passed/Failed (NUnit 3) or Success/Failure (NUnit 2).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element

from whyloop.ingest.tests.contract import Declared, ParsedTests
from whyloop.ingest.tests.dotnet import (
    categorised,
    make_row,
    run_parser,
    split_name,
    text_of,
    to_int,
)
from whyloop.ingest.tests.values import parse_seconds, parse_timestamp
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_nunit2", "parse_nunit3"]

_P, _F, _E, _S = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.SKIPPED
_NUNIT3 = {"passed": _P, "failed": _F, "skipped": _S, "inconclusive": _S, "warning": _P}
_NUNIT3_ERROR_LABELS = frozenset({"error", "cancelled", "invalid"})
_NUNIT2 = {"success": _P, "failure": _F, "error": _E, "notrunnable": _E, "cancelled": _E}
_NUNIT2 |= {"ignored": _S, "skipped": _S, "inconclusive": _S}


# -- NUnit 3 -------------------------------------------------------------------


def parse_nunit3(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse an NUnit 3 ``<test-run>`` result file.

    ``suite`` is the innermost fixture; ``result="Failed"`` with label Error,
    Cancelled or Invalid is an ``error``; Inconclusive counts as skipped.
    """
    suites: list[tuple[str, str]] = []  # (type, name) of open test-suites
    fragment: list[dict[str, str]] = []  # the root <test-suite>'s attributes, in a fragment
    in_run: list[bool] = []  # set once a <test-run> root opened

    def handle(event: str, el: Element, parsed: ParsedTests) -> None:
        tag = el.tag
        if tag == "test-suite":
            if event == "start":
                if not suites and not in_run:
                    fragment[:] = [dict(el.attrib)]
                suites.append((el.get("type", ""), el.get("name", "")))
            else:
                suites.pop()
                el.clear()
        elif tag == "test-run" and event == "start":
            in_run.append(True)
            a = el.attrib
            counts = (
                to_int(a.get("total")),
                to_int(a.get("failed")),
                None,
                to_int(a.get("skipped")),
            )
            parsed.declared = Declared(*counts)
        elif tag == "test-case" and event == "end":
            fixture = next((n for t, n in reversed(suites) if "Fixture" in t), None)
            parsed.rows.append(_nunit3_case(el, fixture or (suites[-1][1] if suites else "")))
            el.clear()

    parsed = run_parser(stream, path, TestFormat.NUNIT3, ("test-run", "test-suite"), handle)
    if fragment:
        a = fragment[0]
        counts = (to_int(a.get("total")), to_int(a.get("failed")), None, to_int(a.get("skipped")))
        parsed.declared = Declared(*counts)
    return parsed


def _nunit3_case(el: Element, suite: str) -> dict[str, Any]:
    a = el.attrib
    classname, name = split_name(a.get("fullname") or a.get("name", ""), a.get("classname", ""))
    result, label = (a.get("result") or "").lower(), (a.get("label") or "").lower()
    outcome = _NUNIT3.get(result, _S)
    if outcome is _F and label in _NUNIT3_ERROR_LABELS:
        outcome = _E
    pairs = [(p.get("name", ""), p.get("value", "")) for p in el.iterfind("properties/property")]
    text = categorised(pairs)
    if label or result not in ("passed", "failed"):
        text["properties"]["result"] = "/".join(filter(None, (a.get("result"), a.get("label"))))
    duration = parse_seconds(a.get("duration") or "")
    start, stop = parse_timestamp(a.get("start-time")), parse_timestamp(a.get("end-time"))
    return make_row(
        suite,
        classname,
        name,
        outcome,
        duration,
        start,
        stop,
        message=text_of(el.find("failure/message")) or text_of(el.find("reason/message")),
        details=text_of(el.find("failure/stack-trace")),
        stdout=text_of(el.find("output")),
        **text,
    )


# -- NUnit 2 -------------------------------------------------------------------


def _nunit2_start(a: dict[str, str]) -> datetime | None:
    date, time = a.get("date"), a.get("time")
    stamp = parse_timestamp(f"{date}T{time}" if time else date)
    for fmt in ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S"):
        if stamp is None and date and time:  # older NUnit wrote the machine's locale
            try:
                stamp = parse_timestamp(datetime.strptime(f"{date} {time}", fmt).isoformat())
            except ValueError:
                continue
    return stamp


def parse_nunit2(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse an NUnit 2 ``<test-results>`` file (2.2 to 2.6, or NUnit 3 in v2 format).

    NUnit 2 itself leaves tests that did not run out of ``total`` (they are in
    ``not-run``); NUnit 3 and xUnit.net writing this format count them in it.
    ``declared.tests`` follows the writer named in ``<environment nunit-version>``.
    """
    suites: list[str] = []
    clock: datetime | None = None
    counts: dict[str, str] = {}
    version = ""

    def handle(event: str, el: Element, parsed: ParsedTests) -> None:
        nonlocal clock, counts, version
        tag = el.tag
        if tag == "test-suite":
            if event == "start":
                suites.append(el.get("name", ""))
            else:
                suites.pop()
                el.clear()
        elif tag == "test-results" and event == "start":
            counts = dict(el.attrib)
            clock = _nunit2_start(counts)
        elif tag == "environment" and event == "start":
            version = el.get("nunit-version", "")
        elif tag == "test-case" and event == "end":
            row = _nunit2_case(el, suites[-1] if suites else "", clock)
            clock = row["stop"] or clock
            parsed.rows.append(row)
            el.clear()

    parsed = run_parser(stream, path, TestFormat.NUNIT2, ("test-results", "test-suite"), handle)
    total, not_run = to_int(counts.get("total")), to_int(counts.get("not-run"))
    if total is not None and not_run and re.match(r"[012]\.", version):
        total += not_run
    failures, errors = to_int(counts.get("failures")), to_int(counts.get("errors"))
    parsed.declared = Declared(total, failures, errors, not_run)
    return parsed


def _nunit2_case(el: Element, suite: str, start: datetime | None) -> dict[str, Any]:
    a = el.attrib
    classname, name = split_name(a.get("name", ""))
    result = (a.get("result") or "").lower()
    if a.get("executed", "True").lower() == "false":
        outcome = _E if result == "notrunnable" else _S
    elif result in _NUNIT2:
        outcome = _NUNIT2[result]
    else:
        outcome = _P if a.get("success", "True").lower() == "true" else _F
    pairs = [(p.get("name", ""), p.get("value", "")) for p in el.iterfind("properties/property")]
    pairs += [("Category", c.get("name", "")) for c in el.iterfind("categories/category")]
    text = categorised(pairs)
    if result and result not in ("success", "failure"):
        text["properties"]["result"] = a.get("result", "")
    return make_row(
        suite,
        classname or suite,
        name,
        outcome,
        parse_seconds(a.get("time") or ""),
        start,
        message=text_of(el.find("failure/message")) or text_of(el.find("reason/message")),
        details=text_of(el.find("failure/stack-trace")),
        **text,
    )
