"""C++ test frameworks' own XML: Boost.Test logs, CppUnit (and AUnit), QTestLib.

Each is streamed through :func:`whyloop.ingest.tests.dotnet.run_parser`
(entities never expanded, a truncated file keeps the rows before the break,
repeated test ids numbered ``rerun`` 0, 1, ...).

**Boost.Test log** (``--log_format=XML --log_level=all``, root ``<TestLog>``):
one row per ``<TestCase>``. ``<Exception>`` (an uncaught exception or a
signal: Boost reports the test as aborted) is an ``error``; ``<Error>`` and
``<FatalError>`` (failed checks) make it failed; ``skipped="yes"`` skipped;
else passed. ``<TestingTime>`` is microseconds. ``suite`` is the innermost
``<TestSuite>``, ``classname`` the suite path below the master suite, as
Boost names tests (``suite/sub``). The log has no clock times and no counts.

**CppUnit** (``XmlOutputter``, root ``<TestRun>``; AUnit writes the same):
``<FailedTests>`` and ``<SuccessfulTests>``; a failure whose
``<FailureType>`` is ``Error`` (an exception) is an ``error``, an
``Assertion`` failed. Rows are put in run order by their ``id`` when every
test has one. ``Class::method`` names split into classname and name.
Declared: ``<Statistics>`` ``Tests``, ``Failures``, ``Errors``.

**QTestLib** (``-o file.xml,xml``, root ``<TestCase>``): one row per
``<TestFunction>``, or per data row (``name(tag)``) for data-driven tests.
From the function's incidents, as QTestLib defines them: ``fail`` failed;
``xpass`` (passed though expected to fail, which QTestLib counts as a
failure) failed; ``skip`` (or a Qt 4 ``<Message type="skip">``) skipped;
``xfail`` (an expected failure) xfailed; ``pass`` passed. Blacklisted
results (``bpass``, ``bfail``, ``bxpass``, ``bxfail``), whose outcome QTestLib
ignores, are skipped. The incident type is kept in
``properties["qtest_incident"]`` when it is not plain pass/fail.
``<Duration msecs>`` gives a function's time (shared by its data rows, so
those get none). No clock times, no counts.
"""

from __future__ import annotations

from typing import Any, BinaryIO
from xml.etree.ElementTree import Element

from whyloop.ingest.tests.contract import Declared, ParsedTests
from whyloop.ingest.tests.dotnet import make_row, run_parser, text_of, to_int
from whyloop.ingest.tests.values import parse_seconds
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_boost_test", "parse_cppunit", "parse_qtestlib"]

_P, _F, _E, _S, _XF = (
    Outcome.PASSED,
    Outcome.FAILED,
    Outcome.ERROR,
    Outcome.SKIPPED,
    Outcome.XFAILED,
)


# -- Boost.Test ----------------------------------------------------------------------


def parse_boost_test(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a Boost.Test XML log (root ``<TestLog>``) into one row per test case."""
    suites: list[str] = []

    def handle(event: str, el: Element, parsed: ParsedTests) -> None:
        if el.tag == "TestSuite":
            if event == "start":
                suites.append(el.get("name", ""))
            else:
                suites.pop()
                el.clear()
        elif el.tag == "TestCase" and event == "end":
            parsed.rows.append(_boost_case(el, suites))
            el.clear()

    return run_parser(stream, path, TestFormat.BOOST_TEST, ("TestLog",), handle)


def _where(el: Element) -> str:
    file, line = el.get("file"), el.get("line")
    return f"{file}:{line}: " if file and file != "unknown location" else ""


def _boost_case(el: Element, suites: list[str]) -> dict[str, Any]:
    problems = [c for c in el if c.tag in ("Error", "FatalError", "Exception")]
    outcome = _P
    if any(c.tag == "Exception" for c in problems):
        outcome = _E
    elif problems:
        outcome = _F
    elif el.get("skipped", "").lower() in ("yes", "true"):
        outcome = _S
    details = "\n".join(f"{_where(c)}{text_of(c)}" for c in problems)
    output = [(el.text or "").strip()]
    output += [f"{_where(c)}{text_of(c)}" for c in el if c.tag in ("Message", "Warning")]
    micros = parse_seconds(text_of(el.find("TestingTime")))
    props = {"boost_result": ",".join(sorted({c.tag for c in problems}))} if problems else {}
    if el.get("reason"):
        props["reason"] = el.get("reason")
    classname = "/".join(suites[1:]) or (suites[0] if suites else "")
    message = text_of(problems[0]) if problems else el.get("reason", "")
    return make_row(
        suites[-1] if suites else "",
        classname,
        el.get("name", ""),
        outcome,
        None if micros is None else micros / 1e6,
        None,
        message=message.splitlines()[0] if message else "",
        details=details,
        stdout="\n".join(filter(None, output)),
        properties=props,
    )


# -- CppUnit / AUnit -----------------------------------------------------------------


def parse_cppunit(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a CppUnit (or AUnit) XML report, root ``<TestRun>`` without the TRX namespace."""
    group = ""
    ids: list[int | None] = []

    def handle(event: str, el: Element, parsed: ParsedTests) -> None:
        nonlocal group
        tag = el.tag
        if event == "start":
            if tag in ("FailedTests", "SuccessfulTests"):
                group = tag
            return
        if tag in ("FailedTest", "Test") and group and el.find("Name") is not None:
            ids.append(to_int(el.get("id")))
            parsed.rows.append(_cppunit_test(el, group == "FailedTests"))
            el.clear()
        elif tag in ("FailedTests", "SuccessfulTests"):
            group = ""
            el.clear()
        elif tag == "Statistics":
            counts = [to_int(text_of(el.find(k))) for k in ("Tests", "Failures", "Errors")]
            parsed.declared = Declared(*counts)
        elif tag == "TimedTestTree":
            el.clear()

    parsed = run_parser(stream, path, TestFormat.CPPUNIT, ("TestRun",), handle)
    if parsed.rows and all(i is not None for i in ids) and len(ids) == len(parsed.rows):
        order = sorted(range(len(ids)), key=lambda k: ids[k])  # type: ignore[arg-type,return-value]
        parsed.rows[:] = [parsed.rows[k] for k in order]
    return parsed


def _cppunit_test(el: Element, failed: bool) -> dict[str, Any]:
    full = text_of(el.find("Name"))
    classname, _, name = full.rpartition("::")
    kind = text_of(el.find("FailureType"))
    outcome = (_E if kind.lower() == "error" else _F) if failed else _P
    file, line = text_of(el.find("Location/File")), text_of(el.find("Location/Line"))
    message = text_of(el.find("Message"))
    extra = [text_of(el.find(p)) for p in ("Exception/Information", "Exception/Traceback")]
    props: dict[str, Any] = {"id": el.get("id")} if el.get("id") else {}
    if file:
        props["location"] = f"{file}:{line}" if line else file
    if kind:
        props["failure_kind"] = kind
    return make_row(
        classname,
        classname,
        name,
        outcome,
        parse_seconds(text_of(el.find("Time"))),
        None,
        message=message.splitlines()[0].strip() if message else "",
        details="\n".join(filter(None, [message, *extra])),
        properties=props,
    )


# -- QTestLib ------------------------------------------------------------------------

_QT = {
    "pass": _P,
    "fail": _F,
    "xpass": _F,
    "xfail": _XF,
    "skip": _S,
    "bpass": _S,
    "bfail": _S,
    "bxpass": _S,
    "bxfail": _S,
}
#: which incident decides a data row's outcome when there are several
_QT_RANK = ("fail", "xpass", "skip", "xfail", "bfail", "bxpass", "bxfail", "bpass", "pass")


def parse_qtestlib(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a QTestLib XML log (root ``<TestCase>``) into one row per function or data row."""
    case = ""

    def handle(event: str, el: Element, parsed: ParsedTests) -> None:
        nonlocal case
        if el.tag == "TestCase" and event == "start":
            case = el.get("name", "")
        elif el.tag == "TestFunction" and event == "end":
            parsed.rows.extend(_qt_function(el, case))
            el.clear()

    return run_parser(stream, path, TestFormat.QTESTLIB, ("TestCase",), handle)


def _qt_function(el: Element, case: str) -> list[dict[str, Any]]:
    function = el.get("name", "")
    by_tag: dict[str, list[Element]] = {}
    output: list[str] = []
    for child in el:
        tag = text_of(child.find("DataTag"))
        if child.tag == "Incident":
            by_tag.setdefault(tag, []).append(child)
        elif child.tag == "Message":
            if child.get("type") == "skip":  # Qt 4 writes a skip as a message
                by_tag.setdefault(tag, []).append(child)
            else:
                output.append(
                    f"{child.get('type', '').upper()}: {text_of(child.find('Description'))}"
                )
    duration = el.find("Duration")
    msecs = parse_seconds(duration.get("msecs", "")) if duration is not None else None
    rows = []
    for tag, incidents in by_tag.items():
        kinds = [i.get("type", "") for i in incidents]
        kind = min(kinds, key=lambda k: _QT_RANK.index(k) if k in _QT_RANK else len(_QT_RANK))
        deciding = incidents[kinds.index(kind)]
        props = {"qtest_incident": kind} if kind not in ("pass", "fail") else {}
        if deciding.get("file"):
            props["location"] = f"{deciding.get('file')}:{deciding.get('line')}"
        description = text_of(deciding.find("Description"))
        rows.append(
            make_row(
                case,
                case,
                f"{function}({tag})" if tag else function,
                _QT.get(kind, _S),
                msecs / 1000 if msecs is not None and len(by_tag) == 1 else None,
                None,
                message=description.splitlines()[0] if description else "",
                details=description,
                stdout="\n".join(output),
                properties=props,
            )
        )
    return rows
