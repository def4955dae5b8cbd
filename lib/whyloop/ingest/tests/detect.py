"""Which test-result format a file holds, from its content, and reading it.

:func:`sniff` looks at the first bytes (never the file name): the root element
of XML, the keys of JSON. Formats whyloop does not read are named in the
:class:`~whyloop.errors.UnsupportedFormatError` so the user knows what they
have (``looks like Boost.Test log XML``), not just that it failed.
:func:`read_test_file` opens a file (gzip too), sniffs it and calls the parser.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable
from typing import BinaryIO

from whyloop.errors import IngestError, UnsupportedFormatError
from whyloop.ingest.tests.contract import ParsedTests
from whyloop.ingest.tests.xmlsafe import ENTITY_REFUSAL
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
}
_TRX_NAMESPACE = "microsoft.com/schemas/VisualStudio/TeamTest/"
#: roots of XML test formats whyloop does not read, and what they are
_KNOWN_XML = {
    "TestLog": "Boost.Test log XML",
    "TestResult": "Boost.Test report XML",
    "ResultsSession": "Parasoft C++test XML",
    "Site": "CTest dashboard XML (Testing/*/Test.xml; run ctest --output-junit for JUnit)",
    "TestCase": "QTestLib XML (run the test with -junitxml for JUnit)",
    "CUNIT_TEST_RUN_REPORT": "CUnit XML",
    "valgrindoutput": "valgrind XML (a memory-check log, not test results)",
    "unittest-results": "UnitTest++ XML",
    "gtester": "GLib gtester XML",
    "TestResults": "FPCUnit XML",
    "tusar": "TUSAR XML",
    "report-result": "MbUnit/Gallio XML",
    "result": "Jenkins junitResult.xml (the JUnit plugin's own store)",
    "TestRun": "CppUnit or AUnit XML (root <TestRun> without the TRX namespace)",
    "checkstyle": "Checkstyle XML (lint findings, not test results)",
    "coverage": "Cobertura coverage XML (not test results)",
    "html": "HTML (a rendered report, not result data)",
    "testExecutions": "SonarQube generic test execution XML",
}
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.S)
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


def _sniff_xml(text: str, path: str) -> TestFormat:
    pos = 0
    while match := _PROLOG.match(text, pos):
        if "<!ENTITY" in match.group(0):
            raise IngestError(ENTITY_REFUSAL, path=path)
        pos = match.end()
    rest = text[pos:].lstrip()
    if rest.startswith("<!ENTITY"):
        raise IngestError(ENTITY_REFUSAL, path=path)
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


def _sniff_json(text: str, path: str) -> TestFormat:
    first = text.split("\n", 1)[0]
    try:
        doc = json.loads(text)
    except ValueError:  # cut off at HEAD_BYTES, or JSON lines: look at the keys
        doc = None
    keys = set(doc) if isinstance(doc, dict) else set(_KEY.findall(text))
    first_keys = set(_KEY.findall(first))

    def unsupported(what: str) -> UnsupportedFormatError:
        return UnsupportedFormatError(f"unsupported format: looks like {what}", path=path)

    if "$report_type" in first_keys:
        return TestFormat.PYTEST_REPORTLOG
    if {"tests", "summary"} <= keys and keys & {"created", "environment"}:
        return TestFormat.PYTEST_JSON
    if {"created", "exitcode", "root"} <= keys and doc is None:  # big json-report, cut off
        return TestFormat.PYTEST_JSON
    if {"Action", "Package"} <= first_keys or {"Action", "Time"} <= first_keys:
        raise unsupported("Go test2json output (go test -json); use go-junit-report or gotestsum")
    if "protocolVersion" in first_keys or ("type" in first_keys and "time" in first_keys):
        raise unsupported("Dart test JSON (dart test --reporter json)")
    if keys & {"numTotalTests", "testResults"}:
        raise unsupported("Jest JSON (jest --json); use jest-junit")
    if {"config", "suites"} <= keys:
        raise unsupported("Playwright JSON reporter output; use its junit reporter")
    if {"stats", "results"} <= keys:
        raise unsupported("Mochawesome (Cypress) JSON; use a junit reporter")
    if "stats" in keys and keys & {"passes", "failures", "pending", "tests"}:
        raise unsupported("Mocha JSON reporter output (stats/tests/passes keys)")
    if "examples" in keys and ("summary_line" in keys or "version" in keys):
        raise unsupported("RSpec JSON (rspec --format json)")
    shown = ", ".join(sorted(keys)[:6]) or "no keys"
    raise UnsupportedFormatError(
        f"unsupported format: JSON that is not a pytest report (keys: {shown})", path=path
    )


def sniff(head: bytes, path: str) -> TestFormat:
    """Detect the format of a test result file from its first bytes (``HEAD_BYTES``).

    Raises :class:`UnsupportedFormatError` naming what the content looks like
    when it is not a format whyloop reads, and :class:`IngestError` for an
    empty file or XML that declares entities.
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


def _parser(fmt: TestFormat) -> Callable[[BinaryIO, str], ParsedTests]:
    if fmt is TestFormat.JUNIT:
        from whyloop.ingest.tests.junit import parse_junit

        return parse_junit
    if fmt in (TestFormat.PYTEST_REPORTLOG, TestFormat.PYTEST_JSON):
        from whyloop.ingest.tests import pytest_json

        if fmt is TestFormat.PYTEST_REPORTLOG:
            return pytest_json.parse_reportlog
        return pytest_json.parse_json_report
    from whyloop.ingest.tests import nunit, xunit_trx

    return {
        TestFormat.NUNIT3: nunit.parse_nunit3,
        TestFormat.NUNIT2: nunit.parse_nunit2,
        TestFormat.XUNIT2: xunit_trx.parse_xunit2,
        TestFormat.TRX: xunit_trx.parse_trx,
    }[fmt]


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
        if raw.read(2) == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        raw.seek(0)
        try:
            head = stream.read(HEAD_BYTES)
            stream.seek(0)
            fmt = sniff(head, name)
            return _parser(fmt)(stream, name)
        except (OSError, EOFError) as exc:  # gzip: corrupt or cut short
            raise IngestError(f"cannot read: {exc}", path=name) from None
