"""xUnit.net result files (v2 ``<assemblies>``, v1 ``<assembly>``) and Visual Studio TRX.

See :mod:`whyloop.ingest.tests.dotnet` for what the .NET parsers have in common.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element

from whyloop.ingest.tests.contract import Declared, ParsedTests
from whyloop.ingest.tests.dotnet import (
    categorised,
    make_row,
    renumbered,
    run_parser,
    split_name,
    text_of,
    to_int,
)
from whyloop.ingest.tests.values import parse_seconds, parse_timestamp
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_trx", "parse_xunit2"]

_P, _F, _E, _S = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.SKIPPED
_XUNIT = {"pass": _P, "fail": _F, "skip": _S}
# TRX outcomes (Microsoft.VisualStudio.TestTools.Common.TestOutcome). Judgements: Warning
# and PassedButRunAborted passed (the test itself passed); Timeout, Aborted, Disconnected,
# InProgress (no verdict: the run ended while it ran) and NotRunnable (the test could not be
# run as written) errors, as VSTest counts them apart from failures; NotExecuted, Inconclusive
# and Pending (never run, or no verdict given) skipped.
_TRX = {"passed": _P, "passedbutrunaborted": _P, "completed": _P, "warning": _P, "failed": _F}
_TRX |= {"error": _E, "timeout": _E, "aborted": _E, "disconnected": _E, "inprogress": _E}
_TRX |= {"notrunnable": _E, "notexecuted": _S, "inconclusive": _S, "pending": _S}
_TRX_PLAIN = frozenset({"passed", "failed", "error"})


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
                    tuple(to_int(a.get(k)) for k in ("total", "failed", "errors", "skipped"))
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
            row = make_row(
                assembly, kind, el.get("name") or kind, _E, None, None, **_xunit_failure(el)
            )
            row["properties"] = {"suite_level": True}
            parsed.rows.append(row)
        elif tag in ("collection", "class", "assembly"):
            el.clear()

    parsed = run_parser(stream, path, TestFormat.XUNIT2, ("assemblies", "assembly"), handle)
    sums = [[v for v in column if v is not None] for column in zip(*counts, strict=True)]
    parsed.declared = Declared(*(sum(values) if values else None for values in sums))
    return parsed


def _xunit_failure(el: Element) -> dict[str, Any]:
    failure = el.find("failure")
    return {
        "message": text_of(el.find("failure/message")),
        "failure_type": failure.get("exception-type", "") if failure is not None else "",
        "details": text_of(el.find("failure/stack-trace")),
    }


def _xunit_test(el: Element, group: str, start: datetime | None) -> dict[str, Any]:
    a = el.attrib
    classname, full = a.get("type", ""), a.get("name", "")
    name = full[len(classname) + 1 :] if classname and full.startswith(classname + ".") else full
    text = _xunit_failure(el)
    reason = el.find("reason")  # v2: the text itself; v1: <reason><message>
    text["message"] = text["message"] or text_of(el.find("reason/message")) or text_of(reason)
    pairs = [(t.get("name", ""), t.get("value", "")) for t in el.iterfind("traits/trait")]
    outcome = _XUNIT.get((a.get("result") or "").lower(), _S)
    duration = parse_seconds(a.get("time") or "")
    return make_row(
        group,
        classname,
        name,
        outcome,
        duration,
        start,
        stdout=text_of(el.find("output")),
        **text,
        **categorised(pairs),
    )


# -- TRX ---------------------------------------------------------------------------


def parse_trx(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a Visual Studio / ``dotnet test`` TRX file (2006 and 2010 schemas).

    Results come before their test definitions in the file, so ``classname``
    (from ``<TestMethod className>``) is joined on ``testId`` at the end.
    Data-driven results with ``<InnerResults>`` give one row per inner result.
    Run-level errors (``<RunInfo outcome="Error">``) become warnings. The
    outcomes map as the comment at ``_TRX`` says; TRX's own outcome is kept in
    ``properties["trx_outcome"]`` whenever it is not Passed, Failed or Error.
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
            parsed.declared = Declared(*(to_int(a.get(k)) for k in keys))
        elif tag == "RunInfo" and (el.get("outcome") or "").lower() in ("error", "failed"):
            text = " ".join(text_of(el.find("Text")).split())
            parsed.warnings.append(f"{path}: run-level {el.get('outcome')}: {text}")

    parsed = run_parser(stream, path, TestFormat.TRX, ("TestRun",), handle)
    for test_id, row in results:
        cls, row["markers"] = classes.get(test_id, ("", ()))
        row["classname"], row["name"] = split_name(row["name"], cls)
        row["suite"] = row["classname"]
        row["test_id"] = f"{row['classname']}::{row['name']}" if row["classname"] else row["name"]
    return renumbered(parsed)


def _trx_result(el: Element) -> dict[str, Any]:
    a = el.attrib
    outcome = _TRX.get((a.get("outcome") or "").lower(), _S)  # unknown ones did not run
    props = {"computerName": a["computerName"]} if "computerName" in a else {}
    if (a.get("outcome") or "").lower() not in _TRX_PLAIN:
        props["trx_outcome"] = a.get("outcome", "")
    return make_row(
        "",
        "",
        a.get("testName", ""),
        outcome,
        parse_seconds(a.get("duration") or ""),
        parse_timestamp(a.get("startTime")),
        parse_timestamp(a.get("endTime")),
        message=text_of(el.find("Output/ErrorInfo/Message")),
        details=text_of(el.find("Output/ErrorInfo/StackTrace")),
        stdout=text_of(el.find("Output/StdOut")),
        stderr=text_of(el.find("Output/StdErr")),
        properties=props,
    )
