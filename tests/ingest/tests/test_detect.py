"""Format detection from content (``sniff``) and ``read_test_file`` dispatch."""

import gzip
import json

import pytest

from tests.support import FIXTURES
from whyloop.errors import IngestError, UnsupportedFormatError
from whyloop.ingest.tests.detect import read_test_file, sniff
from whyloop.schema import TestFormat

TESTS = FIXTURES / "tests"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("junit-pytest.xml", TestFormat.JUNIT),
        ("junit-surefire-flaky.xml", TestFormat.JUNIT),
        ("junit-truncated.xml", TestFormat.JUNIT),
        ("nunit3.xml", TestFormat.NUNIT3),
        ("nunit2.xml", TestFormat.NUNIT2),  # after a comment
        ("xunit2.xml", TestFormat.XUNIT2),
        ("results.trx", TestFormat.TRX),
        ("reportlog.jsonl", TestFormat.PYTEST_REPORTLOG),
        ("json-report.json", TestFormat.PYTEST_JSON),
    ],
)
def test_fixture_formats_are_recognised_by_content(name, fmt):
    assert sniff((TESTS / name).read_bytes()[:65536], name) is fmt


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\xef\xbb\xbf<?xml version='1.0'?>\n<testsuites/>", TestFormat.JUNIT),
        (b"<!-- generated --><!DOCTYPE testsuite SYSTEM 'x.dtd'>\n<testsuite/>", TestFormat.JUNIT),
        ("<?xml version='1.0' encoding='utf-16'?><test-run/>".encode("utf-16"), TestFormat.NUNIT3),
        (b"<assembly name='a'><class/></assembly>", TestFormat.XUNIT2),
        (
            b'<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2006">',
            TestFormat.TRX,
        ),
        (
            b'{"pytest_version": "8.3.2", "$report_type": "SessionStart"}\n',
            TestFormat.PYTEST_REPORTLOG,
        ),
        (
            json.dumps({"created": 1.0, "duration": 1, "tests": [], "summary": {}}).encode(),
            TestFormat.PYTEST_JSON,
        ),
        # a big json-report cut off at the head size still shows its first keys
        (
            b'{"created": 1.5, "duration": 2.0, "exitcode": 1, "root": "/x", "environment": {"a',
            TestFormat.PYTEST_JSON,
        ),
        (b"<TestRun><FailedTests/></TestRun>", TestFormat.CPPUNIT),
        (b"<?xml version='1.0'?><TestLog><TestSuite/></TestLog>", TestFormat.BOOST_TEST),
        (b'<TestCase name="tst_x"><Environment/>', TestFormat.QTESTLIB),
        (b'<test-suite type="Assembly" name="a" executed="True">', TestFormat.NUNIT2),
        (
            b'<test-suite type="Assembly" id="1" runstate="Runnable" testcasecount="2">',
            TestFormat.NUNIT3,
        ),
        (b'{"stats": {"suites": 1, "tests": 2, "passes": 1}, "tests": []}', TestFormat.MOCHA_JSON),
        (
            b'{"stats": {"tests": 2, "passPercent": 50}, "results": [{"suites": [',
            TestFormat.MOCHAWESOME,
        ),
        (
            b'{"protocolVersion":"0.1.1","runnerVersion":"1.25","type":"start","time":0}\n',
            TestFormat.DART_JSON,
        ),
        (
            b'{"version": "3.13.0", "examples": [], "summary": {}, "summary_line": "x"}',
            TestFormat.RSPEC_JSON,
        ),
        (
            b'{"Time":"2025-04-22T08:59:55Z","Action":"start","Package":"x"}\n',
            TestFormat.GO_TEST_JSON,
        ),
        (b'{"ImportPath":"x","Action":"build-output","Output":"# x"}\n', TestFormat.GO_TEST_JSON),
        (b'{"numTotalTests": 3, "testResults": []}', TestFormat.JEST_JSON),
        (b'{"config": {}, "suites": [{"tests": []}], "stats": {}}', TestFormat.PLAYWRIGHT_JSON),
        # CTRF carries tests/summary/environment like pytest-json-report: its marker decides
        (
            b'{"reportFormat": "CTRF", "results": {"tool": {}, "summary": {}, "tests": [], "environment": {',
            TestFormat.CTRF,
        ),
        (b'{"uuid": "u", "historyId": "h", "status": "passed", "name": "t"}', TestFormat.ALLURE),
        (b'{"uuid": "u", "befores": [], "afters": [], "start": 1}', TestFormat.ALLURE),
        # a DOCTYPE is skipped, entities and all (the parser leaves them unexpanded)
        (
            b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite>&x;</testsuite>',
            TestFormat.JUNIT,
        ),
        (b'<!DOCTYPE r [<!ENTITY x "a]>b">]>\n<testsuites/>', TestFormat.JUNIT),
    ],
)
def test_sniff_sees_past_boms_prologs_and_cut_off_heads(head, fmt):
    assert sniff(head, "f") is fmt


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"<valgrindoutput><protocolversion>4", "valgrind XML"),
        (b'<testsuites xmlns="http://check.sourceforge.net/ns"><suite/>', "Check (C unit test"),
        (b"<testResults><sample/></testResults>", "XML with root <testResults> (unknown dialect)"),
        (b'{"hello": "world"}', "JSON that is not a test report whyloop reads (keys: hello)"),
        (b'[{"a": 1}]', "a JSON array that is not a test report whyloop reads (keys: a)"),
        (b"<TestResult><TestSuite/></TestResult>", "Boost.Test report XML"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not XML or JSON (binary data)"),
        (b"TAP version 13\n1..2\nok 1\n", "looks like TAP output"),
        (b"=== RUN   TestX\n--- PASS: TestX", "go test text output"),
        (b"\x1f\x8b\x08\x00", "gzip-compressed"),
        (b"hello there\n", "not XML or JSON (text starting 'hello there')"),
    ],
)
def test_unsupported_content_is_named(head, expected):
    with pytest.raises(UnsupportedFormatError) as info:
        sniff(head, "results.bin")
    message = str(info.value)
    assert message.startswith("results.bin: unsupported format: ")
    assert expected in message and "\n" not in message


def test_a_bare_dtd_fragment_is_not_a_result_file():
    with pytest.raises(IngestError) as info:
        sniff(b"<!ENTITY % param1 \"<!ENTITY oob SYSTEM 'http://x/'>\">", "evil.xml")
    assert str(info.value) == (
        "evil.xml: not a result file: XML DTD declarations with no document "
        "(nothing read or fetched)"
    )


@pytest.mark.parametrize("head", [b"", b"  \n\t "])
def test_empty_is_its_own_error(head):
    with pytest.raises(IngestError, match=r"^f: empty file$"):
        sniff(head, "f")


@pytest.mark.parametrize(
    ("name", "fmt", "rows"),
    [
        ("junit-pytest.xml", TestFormat.JUNIT, 7),
        ("nunit3.xml", TestFormat.NUNIT3, 5),
        ("nunit2.xml", TestFormat.NUNIT2, 4),
        ("xunit2.xml", TestFormat.XUNIT2, 5),
        ("results.trx", TestFormat.TRX, 4),
    ],
)
def test_read_test_file_dispatches_on_content(tmp_path, name, fmt, rows):
    renamed = tmp_path / "results.txt"  # the name says nothing
    renamed.write_bytes((TESTS / name).read_bytes())
    parsed = read_test_file(renamed)
    assert (parsed.format, len(parsed.rows)) == (fmt, rows)


def test_read_test_file_pytest_formats():
    assert read_test_file(TESTS / "reportlog.jsonl").format is TestFormat.PYTEST_REPORTLOG
    assert read_test_file(TESTS / "json-report.json").format is TestFormat.PYTEST_JSON


def test_read_test_file_gzip_detected_by_magic_bytes(tmp_path):
    path = tmp_path / "junit.xml.bin"
    path.write_bytes(gzip.compress((TESTS / "junit-odd.xml").read_bytes()))
    parsed = read_test_file(path)
    assert parsed.format is TestFormat.JUNIT and len(parsed.rows) == 8
    # line numbers still found after a rewind of the gzip stream
    assert f"{path}:4: <testcase> has no name (kept with name '')" in parsed.warnings


def test_read_test_file_errors_name_the_file(tmp_path):
    with pytest.raises(IngestError, match=r"nope\.xml: cannot open"):
        read_test_file(tmp_path / "nope.xml")
    broken = tmp_path / "broken.xml.gz"
    broken.write_bytes(gzip.compress(b"<testsuite>" * 100)[:30])
    with pytest.raises(IngestError) as info:
        read_test_file(broken)
    assert str(info.value).startswith(str(broken))
    with pytest.raises(UnsupportedFormatError, match="binary data"):
        read_test_file(TESTS / "garbage.bin")
    with pytest.raises(IngestError, match="empty file"):
        read_test_file(TESTS / "empty.xml")
