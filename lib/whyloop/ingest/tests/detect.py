"""Which test-result format a file holds, from its content, and reading it.

:func:`sniff` looks at the first bytes (never the file name): the root element
of XML, the keys of JSON. Formats whyloop does not read are named in the
:class:`~whyloop.errors.UnsupportedFormatError` so the user knows what they
have (``looks like Boost.Test log XML``), not just that it failed.
:func:`read_test_file` opens a file (gzip too), sniffs it and calls the parser.
"""

from __future__ import annotations

import functools
import gzip
import importlib
import io
import json
import os
import re
from collections.abc import Callable
from typing import BinaryIO

from whyloop.errors import IngestError, UnsupportedFormatError
from whyloop.ingest.tests.contract import ParsedTests
from whyloop.ingest.tests.dtd import doctype_span
from whyloop.schema import TestFormat

__all__ = ["HEAD_BYTES", "read_test_file", "sniff"]

#: How much of a file :func:`sniff` needs.
HEAD_BYTES = 64 * 1024

_XML_ROOTS = {
    "testsuites": TestFormat.JUNIT,
    "testsuite": TestFormat.JUNIT,
    "test-run": TestFormat.NUNIT3,
    "test-results": TestFormat.NUNIT2,
    "assemblies": TestFormat.XUNIT2,
    "assembly": TestFormat.XUNIT2,
    "TestLog": TestFormat.BOOST_TEST,
    "TestRun": TestFormat.CPPUNIT,  # without the TRX namespace (checked first)
    "TestCase": TestFormat.QTESTLIB,
}
_TRX_NAMESPACE = "microsoft.com/schemas/VisualStudio/TeamTest/"
#: roots of XML test formats whyloop does not read, and what they are
_KNOWN_XML = {
    "TestResult": "Boost.Test report XML (write the log with --log_format=XML for per-test rows)",
    "ResultsSession": "Parasoft C++test XML",
    "Site": "CTest dashboard XML (Testing/*/Test.xml; run ctest --output-junit for JUnit)",
    "CUNIT_TEST_RUN_REPORT": "CUnit XML",
    "valgrindoutput": "valgrind XML (a memory-check log, not test results)",
    "unittest-results": "UnitTest++ XML",
    "gtester": "GLib gtester XML",
    "TestResults": "FPCUnit XML",
    "tusar": "TUSAR XML",
    "report-result": "MbUnit/Gallio XML",
    "result": "Jenkins junitResult.xml (the JUnit plugin's own store)",
    "checkstyle": "Checkstyle XML (lint findings, not test results)",
    "coverage": "Cobertura coverage XML (not test results)",
    "html": "HTML (a rendered report, not result data)",
    "testExecutions": "SonarQube generic test execution XML",
}
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)
_ROOT = re.compile(r"<([A-Za-z_][\w:.-]*)([^>]*)>?")
_XMLNS = re.compile(r"""\bxmlns(?::\w+)?\s*=\s*["']([^"']*)["']""")
_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _decode(head: bytes, path: str) -> str:
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="replace")
    if head[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return head.decode("utf-16-le" if head[0] == 0x3C else "utf-16-be", errors="replace")
    if b"\x00" in head[:1024]:
        raise UnsupportedFormatError("unsupported format: not XML or JSON (binary data)", path=path)
    return head.decode("utf-8", errors="replace")


def _skip_prolog(text: str, path: str) -> str:
    """The text from the root element on: declaration, comments, PIs and the DOCTYPE skipped."""
    pos = 0
    while True:
        while match := _PROLOG.match(text, pos):
            pos = match.end()
        rest = text[pos:].lstrip()
        pos = len(text) - len(rest)
        if not rest.startswith("<!DOCTYPE"):
            break
        end = doctype_span(text, pos)
        if end is None:
            raise UnsupportedFormatError(
                f"unsupported format: XML whose DOCTYPE runs past the first {HEAD_BYTES} bytes",
                path=path,
            )
        pos = end
    if rest.startswith(("<!ENTITY", "<!ELEMENT", "<!ATTLIST")):
        raise IngestError(
            "not a result file: XML DTD declarations with no document (nothing read or fetched)",
            path=path,
        )
    return rest


def _sniff_xml(text: str, path: str) -> TestFormat:
    rest = _skip_prolog(text, path)
    root = _ROOT.match(rest)
    if root is None:
        raise UnsupportedFormatError(
            "unsupported format: XML without a readable root element", path=path
        )
    name = root.group(1).rpartition(":")[2]
    namespaces = _XMLNS.findall(root.group(2))
    if name == "TestRun" and any(_TRX_NAMESPACE in ns for ns in namespaces):
        return TestFormat.TRX
    if name == "testsuites" and any("check.sourceforge.net" in ns for ns in namespaces):
        raise UnsupportedFormatError(
            "unsupported format: looks like Check (C unit test framework) XML, not JUnit",
            path=path,
        )
    if name == "test-suite":  # a fragment: NUnit 3 suites carry runstate/testcasecount
        attrs = root.group(2)
        return (
            TestFormat.NUNIT3
            if re.search(r"\b(?:runstate|testcasecount)=", attrs)
            else (TestFormat.NUNIT2)
        )
    if name in _XML_ROOTS:
        return _XML_ROOTS[name]
    what = _KNOWN_XML.get(name)
    if what is None:
        raise UnsupportedFormatError(
            f"unsupported format: XML with root <{name}> (unknown dialect)", path=path
        )
    raise UnsupportedFormatError(
        f"unsupported format: XML with root <{name}>: looks like {what}", path=path
    )


_CTRF = re.compile(r'"reportFormat"\s*:\s*"CTRF"')


def _sniff_json(text: str, path: str) -> TestFormat:
    """Tell the JSON formats apart by their keys (the top level's when the head parses)."""
    first = text.split("\n", 1)[0]
    try:
        doc = json.loads(text)
    except ValueError:  # cut off at HEAD_BYTES, or JSON lines: look at the keys
        doc = None
    keys = set(doc) if isinstance(doc, dict) else set(_KEY.findall(text))
    first_keys = set(_KEY.findall(first))
    fmt = _json_lines_format(first_keys) or _json_document_format(doc, keys, text)
    if fmt is not None:
        return fmt
    if "examples" in keys and "summary" in keys:
        raise UnsupportedFormatError(
            "unsupported format: looks like RSpec JSON without its summary_line/version",
            path=path,
        )
    shown = ", ".join(sorted(keys)[:6]) or "no keys"
    what = "a JSON array" if isinstance(doc, list) else "JSON"
    raise UnsupportedFormatError(
        f"unsupported format: {what} that is not a test report whyloop reads (keys: {shown})",
        path=path,
    )


def _json_lines_format(first_keys: set[str]) -> TestFormat | None:
    """The JSON-lines formats, from the keys of the first line."""
    if "$report_type" in first_keys:
        return TestFormat.PYTEST_REPORTLOG
    if "Action" in first_keys and first_keys & {"Package", "ImportPath", "Time"}:
        return TestFormat.GO_TEST_JSON
    if "protocolVersion" in first_keys or {"type", "time"} <= first_keys:
        return TestFormat.DART_JSON
    return None


def _json_document_format(doc: object, keys: set[str], text: str) -> TestFormat | None:
    """The one-document formats, from their keys; order matters where key sets overlap."""
    if _CTRF.search(text) or ({"results", "tool", "summary"} <= keys and "reportFormat" in keys):
        return TestFormat.CTRF
    if {"tests", "summary"} <= keys and keys & {"created", "environment"}:
        return TestFormat.PYTEST_JSON
    if {"created", "exitcode", "root"} <= keys and doc is None:  # big json-report, cut off
        return TestFormat.PYTEST_JSON
    if "numTotalTests" in keys or {"testResults", "numFailedTests"} <= keys:
        return TestFormat.JEST_JSON
    if {"config", "suites"} <= keys:
        return TestFormat.PLAYWRIGHT_JSON
    if {"stats", "results"} <= keys:
        return TestFormat.MOCHAWESOME
    if "stats" in keys and keys & {"passes", "failures", "pending", "tests"}:
        return TestFormat.MOCHA_JSON
    if "examples" in keys and ("summary_line" in keys or "version" in keys):
        return TestFormat.RSPEC_JSON
    if "uuid" in keys and (
        ("status" in keys and keys & {"historyId", "fullName", "testCaseId"})
        or ("status" not in keys and keys & {"children", "befores", "afters"})
    ):
        return TestFormat.ALLURE
    return None


def sniff(head: bytes, path: str) -> TestFormat:
    """Detect the format of a test result file from its first bytes (``HEAD_BYTES``).

    Raises :class:`UnsupportedFormatError` naming what the content looks like
    when it is not a format whyloop reads, and :class:`IngestError` for an
    empty file or a bare DTD (declarations with no document). A DOCTYPE is
    skipped, entities and all: the parsers read such a file with its entities
    left unexpanded (see :mod:`whyloop.ingest.tests.dtd`).
    """
    if not head.strip():
        raise IngestError("empty file", path=path)
    if head[:2] == b"\x1f\x8b":
        raise UnsupportedFormatError(
            "unsupported format: gzip-compressed (read it with read_test_file)", path=path
        )
    text = _decode(head, path).lstrip()
    if text.startswith("<"):
        return _sniff_xml(text, path)
    if text.startswith(("{", "[")):
        return _sniff_json(text, path)
    if text.startswith(("TAP version", "1..", "ok ", "not ok ")):
        raise UnsupportedFormatError("unsupported format: looks like TAP output", path=path)
    if text.startswith(("=== RUN", "--- FAIL", "--- PASS", "PASS\n", "FAIL\t")):
        raise UnsupportedFormatError(
            "unsupported format: looks like go test text output; use go-junit-report", path=path
        )
    if sum(ch.isprintable() or ch in "\r\n\t" for ch in text[:512]) < 0.9 * len(text[:512]):
        raise UnsupportedFormatError("unsupported format: not XML or JSON (binary data)", path=path)
    sample = " ".join(text[:40].split())
    raise UnsupportedFormatError(
        f"unsupported format: not XML or JSON (text starting {sample!r})", path=path
    )


#: format -> (module, function) of its parser; modules are imported on first use
_PARSERS: dict[TestFormat, tuple[str, str]] = {
    TestFormat.JUNIT: ("junit", "parse_junit"),
    TestFormat.PYTEST_REPORTLOG: ("pytest_json", "parse_reportlog"),
    TestFormat.PYTEST_JSON: ("pytest_json", "parse_json_report"),
    TestFormat.NUNIT3: ("nunit", "parse_nunit3"),
    TestFormat.NUNIT2: ("nunit", "parse_nunit2"),
    TestFormat.XUNIT2: ("xunit_trx", "parse_xunit2"),
    TestFormat.TRX: ("xunit_trx", "parse_trx"),
    TestFormat.GO_TEST_JSON: ("gotest", "parse_go_test_json"),
    TestFormat.JEST_JSON: ("jest", "parse_jest_json"),
    TestFormat.PLAYWRIGHT_JSON: ("playwright", "parse_playwright_json"),
    TestFormat.MOCHA_JSON: ("mocha", "parse_mocha_json"),
    TestFormat.MOCHAWESOME: ("mocha", "parse_mochawesome"),
    TestFormat.DART_JSON: ("rspec_dart", "parse_dart_json"),
    TestFormat.RSPEC_JSON: ("rspec_dart", "parse_rspec_json"),
    TestFormat.CTRF: ("ctrf", "parse_ctrf"),
    TestFormat.ALLURE: ("allure", "parse_allure"),
    TestFormat.BOOST_TEST: ("cxx_xml", "parse_boost_test"),
    TestFormat.CPPUNIT: ("cxx_xml", "parse_cppunit"),
    TestFormat.QTESTLIB: ("cxx_xml", "parse_qtestlib"),
}


@functools.cache
def _parser(fmt: TestFormat) -> Callable[[BinaryIO, str], ParsedTests]:
    module, function = _PARSERS[fmt]
    loaded = importlib.import_module(f"whyloop.ingest.tests.{module}")
    return getattr(loaded, function)  # type: ignore[no-any-return]


def read_test_file(path: str | os.PathLike[str]) -> ParsedTests:
    """Read one test result file in any supported format (gzip-compressed too).

    The format comes from the content (:func:`sniff`), not the name. Raises
    :class:`IngestError` (or :class:`UnsupportedFormatError`) naming the file.
    """
    name = os.fspath(path)
    try:
        raw = open(name, "rb")  # noqa: SIM115 - closed below, possibly via gzip
    except OSError as exc:
        raise IngestError(f"cannot open: {exc.strerror or exc}", path=name) from None
    with raw:
        stream: BinaryIO = raw
        first = raw.read(HEAD_BYTES)
        if first[:2] == b"\x1f\x8b":
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        elif len(first) < HEAD_BYTES:  # the whole file: parse it from memory
            stream = io.BytesIO(first)
        else:
            raw.seek(0)
        try:
            head = first
            if not isinstance(stream, io.BytesIO):
                head = stream.read(HEAD_BYTES)
                stream.seek(0)
            fmt = sniff(head, name)
            return _parser(fmt)(stream, name)
        except (OSError, EOFError) as exc:  # gzip: corrupt or cut short
            raise IngestError(f"cannot read: {exc}", path=name) from None
