""".NET test results: NUnit 3, NUnit 2, xUnit.net (v2 and v1) and Visual Studio TRX.

Each parser streams its file through :func:`whyloop.ingest.xmlsafe.iter_batches`
(entities refused, a truncated file keeps the rows before the break) and
returns :class:`~whyloop.ingest._parsed.ParsedTests` with one row per test
execution. Common choices:

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
from whyloop.ingest._parsed import Declared, ParsedTests
from whyloop.ingest.xmlsafe import (
    iter_batches,
    parse_seconds,
    parse_timestamp,
    retry_lenient,
    strip_ansi,
    truncation_warning,
)
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_nunit2", "parse_nunit3", "parse_trx", "parse_xunit2"]

_NAN = float("nan")
_P, _F, _E, _S = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.SKIPPED
_EXC_TYPE = re.compile(r"^\s*([A-Za-z_][\w.`+]*(?:Exception|Error))\s*:")
_NUNIT3 = {"passed": _P, "failed": _F, "skipped": _S, "inconclusive": _S, "warning": _P}
_NUNIT3_ERROR_LABELS = frozenset({"error", "cancelled", "invalid"})
_NUNIT2 = {"success": _P, "failure": _F, "error": _E, "notrunnable": _E, "cancelled": _E}
_NUNIT2 |= {"ignored": _S, "skipped": _S, "inconclusive": _S}
_XUNIT = {"pass": _P, "fail": _F, "skip": _S}
_TRX = {"passed": _P, "passedbutrunaborted": _P, "completed": _P, "warning": _P, "failed": _F}
_TRX |= {"error": _E, "timeout": _E, "aborted": _E}  # anything else did not run: skipped
_TEXT_FIELDS: dict[str, Any] = {
    "message": "",
    "failure_type": "",
    "details": "",
    "stdout": "",
    "stderr": "",
    "markers": (),
    "properties": None,
}


def _text(el: Element | None) -> str:
    text = "".join(el.itertext()) if el is not None else ""
    return strip_ansi(text.strip()) if text else ""


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _split_name(full: str, classname: str = "") -> tuple[str, str]:
    """``Ns.Class.Method(1.5, "a.b")`` -> ``("Ns.Class", "Method(1.5, "a.b")")``."""
    if classname and full.startswith(classname + "."):
        return classname, full[len(classname) + 1 :]
    head = full.split("(", 1)[0]
    if "." not in head:
        return classname, full
    cls = head.rsplit(".", 1)[0]
    return cls, full[len(cls) + 1 :]


def _row(
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


def _run(
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
            return _run(stream, path, fmt, roots, handle, lenient=True)
        if not parsed.rows or err.line is None:
            raise err.at(path) from None
        parsed.warnings.append(truncation_warning(err, open_tags[-1] if open_tags else None))
    return _renumbered(parsed)


def _categorised(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """NUnit properties / xUnit traits: ``Category`` ones are markers, the rest properties."""
    markers = tuple(value for key, value in pairs if key.lower() == "category")
    props = {key: value for key, value in pairs if key.lower() != "category"}
    return {"markers": markers, "properties": props}


# -- NUnit 3 -------------------------------------------------------------------


def parse_nunit3(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse an NUnit 3 ``<test-run>`` result file.

    ``suite`` is the innermost fixture; ``result="Failed"`` with label Error,
    Cancelled or Invalid is an ``error``; Inconclusive counts as skipped.
    """
    suites: list[tuple[str, str]] = []  # (type, name) of open test-suites

    def handle(event: str, el: Element, parsed: ParsedTests) -> None:
        tag = el.tag
        if tag == "test-suite":
            if event == "start":
                suites.append((el.get("type", ""), el.get("name", "")))
            else:
                suites.pop()
                el.clear()
        elif tag == "test-run" and event == "start":
            a = el.attrib
            counts = (_int(a.get("total")), _int(a.get("failed")), None, _int(a.get("skipped")))
            parsed.declared = Declared(*counts)
        elif tag == "test-case" and event == "end":
            fixture = next((n for t, n in reversed(suites) if "Fixture" in t), None)
            parsed.rows.append(_nunit3_case(el, fixture or (suites[-1][1] if suites else "")))
            el.clear()

    return _run(stream, path, TestFormat.NUNIT3, ("test-run", "test-suite"), handle)


def _nunit3_case(el: Element, suite: str) -> dict[str, Any]:
    a = el.attrib
    classname, name = _split_name(a.get("fullname") or a.get("name", ""), a.get("classname", ""))
    result, label = (a.get("result") or "").lower(), (a.get("label") or "").lower()
    outcome = _NUNIT3.get(result, _S)
    if outcome is _F and label in _NUNIT3_ERROR_LABELS:
        outcome = _E
    pairs = [(p.get("name", ""), p.get("value", "")) for p in el.iterfind("properties/property")]
    text = _categorised(pairs)
    if label or result == "warning":
        text["properties"]["result"] = "/".join(filter(None, (a.get("result"), a.get("label"))))
    duration = parse_seconds(a.get("duration") or "")
    start, stop = parse_timestamp(a.get("start-time")), parse_timestamp(a.get("end-time"))
    return _row(
        suite,
        classname,
        name,
        outcome,
        duration,
        start,
        stop,
        message=_text(el.find("failure/message")) or _text(el.find("reason/message")),
        details=_text(el.find("failure/stack-trace")),
        stdout=_text(el.find("output")),
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

    parsed = _run(stream, path, TestFormat.NUNIT2, ("test-results",), handle)
    total, not_run = _int(counts.get("total")), _int(counts.get("not-run"))
    if total is not None and not_run and re.match(r"[012]\.", version):
        total += not_run
    failures, errors = _int(counts.get("failures")), _int(counts.get("errors"))
    parsed.declared = Declared(total, failures, errors, not_run)
    return parsed


def _nunit2_case(el: Element, suite: str, start: datetime | None) -> dict[str, Any]:
    a = el.attrib
    classname, name = _split_name(a.get("name", ""))
    result = (a.get("result") or "").lower()
    if a.get("executed", "True").lower() == "false":
        outcome = _E if result == "notrunnable" else _S
    elif result in _NUNIT2:
        outcome = _NUNIT2[result]
    else:
        outcome = _P if a.get("success", "True").lower() == "true" else _F
    pairs = [(p.get("name", ""), p.get("value", "")) for p in el.iterfind("properties/property")]
    pairs += [("Category", c.get("name", "")) for c in el.iterfind("categories/category")]
    return _row(
        suite,
        classname or suite,
        name,
        outcome,
        parse_seconds(a.get("time") or ""),
        start,
        message=_text(el.find("failure/message")) or _text(el.find("reason/message")),
        details=_text(el.find("failure/stack-trace")),
        **_categorised(pairs),
    )


# -- xUnit.net ---------------------------------------------------------------------


def parse_xunit2(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse an xUnit.net v2 ``<assemblies>`` file (or a v1 ``<assembly>`` one).

    Assembly-level ``<errors>`` (fixture cleanup failures and the like) become
    ``error`` rows with ``properties["suite_level"]``; they are not in the
    assembly's ``total``.
    """
    assembly = group = ""
    clock: datetime | None = None
    counts: list[tuple[int | None, ...]] = []  # (total, failed, errors, skipped) per assembly

    def handle(event: str, el: Element, parsed: ParsedTests) -> None:
        nonlocal assembly, group, clock
        tag = el.tag
        if event == "start":
            if tag == "assembly":
                a = el.attrib
                assembly = a.get("name", "")
                run = f"{a.get('run-date')}T{a.get('run-time')}" if a.get("run-date") else None
                clock = parse_timestamp(run)
                counts.append(
                    tuple(_int(a.get(k)) for k in ("total", "failed", "errors", "skipped"))
                )
            elif tag in ("collection", "class"):
                group = el.get("name", "")
        elif tag == "test":
            row = _xunit_test(el, group, clock)
            clock = row["stop"] or clock
            parsed.rows.append(row)
            el.clear()
        elif tag == "error" and el.find("failure") is not None:
            kind = el.get("type", "error")
            row = _row(assembly, kind, el.get("name") or kind, _E, None, None, **_xunit_failure(el))
            row["properties"] = {"suite_level": True}
            parsed.rows.append(row)
        elif tag in ("collection", "class", "assembly"):
            el.clear()

    parsed = _run(stream, path, TestFormat.XUNIT2, ("assemblies", "assembly"), handle)
    sums = [[v for v in column if v is not None] for column in zip(*counts, strict=True)]
    parsed.declared = Declared(*(sum(values) if values else None for values in sums))
    return parsed


def _xunit_failure(el: Element) -> dict[str, Any]:
    failure = el.find("failure")
    return {
        "message": _text(el.find("failure/message")),
        "failure_type": failure.get("exception-type", "") if failure is not None else "",
        "details": _text(el.find("failure/stack-trace")),
    }


def _xunit_test(el: Element, group: str, start: datetime | None) -> dict[str, Any]:
    a = el.attrib
    classname, full = a.get("type", ""), a.get("name", "")
    name = full[len(classname) + 1 :] if classname and full.startswith(classname + ".") else full
    text = _xunit_failure(el)
    reason = el.find("reason")  # v2: the text itself; v1: <reason><message>
    text["message"] = text["message"] or _text(el.find("reason/message")) or _text(reason)
    pairs = [(t.get("name", ""), t.get("value", "")) for t in el.iterfind("traits/trait")]
    outcome = _XUNIT.get((a.get("result") or "").lower(), _S)
    duration = parse_seconds(a.get("time") or "")
    return _row(
        group,
        classname,
        name,
        outcome,
        duration,
        start,
        stdout=_text(el.find("output")),
        **text,
        **_categorised(pairs),
    )


# -- TRX ---------------------------------------------------------------------------


def parse_trx(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a Visual Studio / ``dotnet test`` TRX file (2006 and 2010 schemas).

    Results come before their test definitions in the file, so ``classname``
    (from ``<TestMethod className>``) is joined on ``testId`` at the end.
    Data-driven results with ``<InnerResults>`` give one row per inner result.
    Run-level errors (``<RunInfo outcome="Error">``) become warnings.
    """
    results: list[tuple[str, dict[str, Any]]] = []  # (testId, row)
    classes: dict[str, tuple[str, tuple[str, ...]]] = {}  # testId -> (className, categories)

    def handle(event: str, el: Element, parsed: ParsedTests) -> None:
        tag = el.tag
        if event != "end":
            return
        if tag == "UnitTestResult":
            if el.find("InnerResults") is None:
                results.append((el.get("testId", ""), _trx_result(el)))
                parsed.rows.append(results[-1][1])
            el.clear()
        elif tag == "UnitTest":
            method = el.find("TestMethod")
            cls = method.get("className", "") if method is not None else ""
            cats = tuple(c.get("TestCategory", "") for c in el.iter("TestCategoryItem"))
            classes[el.get("id", "")] = (cls.split(",", 1)[0].strip(), cats)
            el.clear()
        elif tag == "Counters":
            a = el.attrib
            keys = ("total", "failed", "error", "notExecuted")
            parsed.declared = Declared(*(_int(a.get(k)) for k in keys))
        elif tag == "RunInfo" and (el.get("outcome") or "").lower() in ("error", "failed"):
            text = " ".join(_text(el.find("Text")).split())
            parsed.warnings.append(f"{path}: run-level {el.get('outcome')}: {text}")

    parsed = _run(stream, path, TestFormat.TRX, ("TestRun",), handle)
    for test_id, row in results:
        cls, row["markers"] = classes.get(test_id, ("", ()))
        row["classname"], row["name"] = _split_name(row["name"], cls)
        row["suite"] = row["classname"]
        row["test_id"] = f"{row['classname']}::{row['name']}" if row["classname"] else row["name"]
    return _renumbered(parsed)


def _renumbered(parsed: ParsedTests) -> ParsedTests:
    seen: dict[str, int] = {}
    for row in parsed.rows:
        row["rerun"] = seen.get(row["test_id"], 0)
        seen[row["test_id"]] = row["rerun"] + 1
    return parsed


def _trx_result(el: Element) -> dict[str, Any]:
    a = el.attrib
    outcome = _TRX.get((a.get("outcome") or "").lower(), _S)
    props = {"computerName": a["computerName"]} if "computerName" in a else {}
    if outcome is _S:
        props["trx_outcome"] = a.get("outcome", "")
    return _row(
        "",
        "",
        a.get("testName", ""),
        outcome,
        parse_seconds(a.get("duration") or ""),
        parse_timestamp(a.get("startTime")),
        parse_timestamp(a.get("endTime")),
        message=_text(el.find("Output/ErrorInfo/Message")),
        details=_text(el.find("Output/ErrorInfo/StackTrace")),
        stdout=_text(el.find("Output/StdOut")),
        stderr=_text(el.find("Output/StdErr")),
        properties=props,
    )
