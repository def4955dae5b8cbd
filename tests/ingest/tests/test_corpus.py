"""Every real-world result file in ../shared/corpus either reads or fails with a clear error.

The corpus lives beside the project (see ../shared/corpus/README.md), so this
module is skipped in a clone without it.
"""

import contextlib
import socket
import time
import urllib.request

import pytest

from tests.support import CORPUS
from whyloop.errors import IngestError, UnsupportedFormatError
from whyloop.ingest.tests.detect import read_test_file

if not CORPUS.exists():
    pytest.skip(f"corpus not present at {CORPUS}", allow_module_level=True)

pytestmark = pytest.mark.corpus

FILES = sorted((CORPUS / "junit").iterdir()) + sorted((CORPUS / "pytest").iterdir())

#: Files that must fail, and a fragment of the one-line error each must give.
#: Formats whyloop does not read are named for what they are; keyed by the
#: xunit-plugin type folder or the file name.
UNSUPPORTED_TYPES = {
    "check": "Check (C unit test framework) XML",
    "cpptest": "Parasoft C++test XML",
    "ctest": "CTest dashboard XML",
    "cunit": "CUnit XML",
    "fpcunit": "FPCUnit XML",
    "gtester": "GLib gtester XML",
    "mbunit": "MbUnit/Gallio XML",
    "tusar": "TUSAR XML",
    "unittest++": "UnitTest++ XML",
    "valgrind": "valgrind XML",
}
#: How many corpus files were refused as unsupported before issue 8 and after it.
REFUSED_BEFORE, REFUSED_AFTER = 67, 34
FAILING_FILES = {
    "junit-plugin__junitResult.xml": "Jenkins junitResult.xml",
    # XXE attempts that are not result files: the DOCTYPE is skipped unread,
    # leaving a root <r> and a bare DTD fragment; nothing is expanded or fetched
    "junit-plugin__testXxe-xxe.xml": "XML with root <r> (unknown dialect)",
    "junit-plugin__testXxe-oob.xml": "XML DTD declarations with no document",
    # broken on purpose: a truncated Surefire report, and templates with
    # time="<<computed>>" (a "<" inside an attribute)
    "action-junit-report__corrupt-junit__e2e-tests__corrupt__target__sf-reports__"
    "TEST-test.CorruptTest.xml": ":18: not well-formed XML: unclosed CDATA section",
    "action-junit-report__junit-web-test__expected.xml": ":9: not well-formed XML",
    "action-junit-report__junit-web-test__expectedRetries.xml": ":9: not well-formed XML",
}
#: The formats the non-JUnit files are read as, by a fragment of their name.
FORMATS = {
    "__boosttest__": "boost-test",
    "__cppunit__": "cppunit",
    "__aunit__": "cppunit",  # AUnit writes CppUnit's layout
    "__qtestlib__": "qtestlib",
    "dart-json": "dart-json",
    "flutter__provider-test-results": "dart-json",
    "mocha-json": "mocha-json",
    "mocha__mocha-test-results": "mocha-json",
    "rspec-json": "rspec-json",
    "golang-json": "go-test-json",
}

#: Files whose own counts disagree with the test cases they hold; each reason
#: was checked by reading the file. Rows are compared with ``declared.tests``
#: counting either every execution or first executions only (Surefire counts a
#: flaky test once; pytest-rerunfailures writes each rerun as a testcase).
COUNT_MISMATCH_OK = {
    # fixtures cut down by their projects: the root still counts the full run
    "action-junit-report__container-structure__test.xml": "root tests=8, 3 testcases kept",
    "action-junit-report__mocha__mocha.xml": "root tests=15515, 1 testcase kept",
    "action-junit-report__multiple__test_11.xml": "root tests=8, 3 testcases kept",
    "action-junit-report__multiple__test_12.xml": "root tests=8, 3 testcases kept",
    "action-junit-report__nested__multi-level.xml": "root tests=57, 3 testcases kept",
    "junit-plugin__junit-report-1233.xml": "root tests=456, 5 testcases kept",
    "junit-plugin__junit-report-nested-testsuites.xml": "root tests=186, 3 testcases kept",
    "xunit-plugin__types__junit__testcase1__input.xml": "suite tests=12, 2 testcases kept",
    "xunit-plugin__types__nunit__testcase11__input.xml": "total=75 (+3 not run), 34 kept",
    "xunit-plugin__types__nunit__testcase12__input.xml": "total=75 (+3 not run), 2 kept",
    "xunit-plugin__types__nunit__testcase1__input.xml": "total=4, 2 test-cases kept",
    "xunit-plugin__types__nunit__testcase2__input.xml": "total=4, 3 test-cases kept",
    "xunit-plugin__types__nunit__testcase4__input.xml": "total=4 + not-run=2, 3 kept",
    # hand-edited fixtures whose attributes were not updated
    "action-junit-report__nested__junit.xml": "outer suite says 4; its nested suites hold 5",
    "action-junit-report__python__report_flaky.xml": "tests=3; a 4th testcase was added",
    "junit-plugin__junit-report-errror-details.xml": "tests=2, one testcase",
    "junit-plugin__junit-report-1472.xml": "suite Test_Summary_Report says 1, holds none",
    "junit-plugin__junit-report-testsuite-various-timestamps.xml": "root tests=8, 12 testcases",
    "junit-plugin__junit-report-time-aggregation.xml": "root tests=2, 3 testcases",
    "junit-plugin__junit-report-time-aggregation2.xml": "root tests=2, 3 testcases",
    "junit-plugin__old-reports__junit-report-1.xml": "root tests=2, 3 testcases",
    "junit-plugin__old-reports__junit-report-2.xml": "root tests=2, 3 testcases",
    "xunit-plugin__types__googletest__testcase3__input.xml": "nosetests suite tests=3, 4 cases",
    "xunit-plugin__types__phpunit__testcase11__input.xml": "2 PHPUnit cases appended, tests=22",
    "test-reporter__python-xunit-pytest.xml": "tests=15 counts subtests; 10 testcases",
    # the tools' own conventions
    "gotestsum__junitxml-report.golden.xml": "gotestsum adds a TestMain case to a package "
    "that exited without test events, in a suite that says tests=0",
    "gotestsum__junitxml-report-skip-empty.golden.xml": "same synthetic TestMain case",
    "gotestsum__junitxml-report-hide-skipped-tests.golden.xml": "same synthetic TestMain case",
    "test-reporter__test-errors__jest__jest-test-results.xml": "jest-junit writes suites that "
    "failed to run as testcases but counts them only in errors (tests=0 errors=2)",
}


def _counted(rows: list[dict]) -> list[dict]:
    """Rows a tool counts as tests: not suite-level errors, package failures or failed hooks."""
    return [
        r
        for r in rows
        if not (r["properties"] or {}).get("suite_level")
        and not (r["properties"] or {}).get("hook")
    ]


def _expected_error(name: str) -> str | None:
    if name in FAILING_FILES:
        return FAILING_FILES[name]
    if name.startswith("xunit-plugin__types__"):
        return UNSUPPORTED_TYPES.get(name.split("__")[2])
    return None


@pytest.fixture
def no_network(monkeypatch):
    """Record (and block) any attempt to open a connection while parsing."""
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return attempts


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file_reads_or_fails_clearly(path, no_network):
    expected_error = _expected_error(path.name)
    try:
        parsed = read_test_file(path)
    except IngestError as err:
        message = str(err)
        assert "\n" not in message and message.startswith(str(path))
        assert expected_error is not None, f"should have parsed: {message}"
        assert expected_error in message
        if isinstance(err, UnsupportedFormatError):
            assert "unsupported format: " in message
        return
    finally:
        assert no_network == []  # no entity, DTD or anything else was fetched
    assert expected_error is None, f"should have failed with {expected_error!r}"
    expected_format = next((f for frag, f in FORMATS.items() if frag in path.name), None)
    if expected_format is not None:
        assert parsed.format.value == expected_format
    for row in parsed.rows:
        assert row["outcome"] in {"passed", "failed", "error", "skipped", "xfailed", "xpassed"}
        assert row["start"] is None or row["start"].utcoffset().total_seconds() == 0
    declared = parsed.declared.tests
    if declared is not None and path.name not in COUNT_MISMATCH_OK:
        rows, tests = parsed.rows, _counted(parsed.rows)
        counts = {len(rows), len(tests)} | {sum(r["rerun"] == 0 for r in x) for x in (rows, tests)}
        assert declared in counts, (declared, counts)


def test_count_allow_list_has_no_stale_entries():
    for name in COUNT_MISMATCH_OK:
        parsed = read_test_file(CORPUS / "junit" / name)
        first = sum(1 for r in parsed.rows if r["rerun"] == 0)
        assert parsed.declared.tests not in (len(parsed.rows), first), name


def test_fewer_corpus_files_are_refused_as_unsupported():
    refused = []
    for path in FILES:
        try:
            read_test_file(path)
        except UnsupportedFormatError:
            refused.append(path.name)
        except IngestError:
            pass
    assert len(refused) == REFUSED_AFTER < REFUSED_BEFORE, refused


@pytest.mark.parametrize("path", [p for p in FILES if "xxe" in p.name.lower()], ids=str)
def test_xxe_files_never_resolve_entities(path, no_network):
    with pytest.raises(IngestError) as info:
        read_test_file(path)
    assert no_network == []
    assert "root:" not in str(info.value) and "$OOB_LINK$" not in str(info.value)
    from whyloop.ingest.tests.junit import parse_junit  # and the parser alone refuses as well

    with open(path, "rb") as fh, pytest.raises(IngestError) as direct:
        parse_junit(fh, path.name)
    assert no_network == []
    assert "root:" not in str(direct.value) and "$OOB_LINK$" not in str(direct.value)


def test_whole_corpus_reads_quickly():
    started = time.perf_counter()
    for path in FILES:
        with contextlib.suppress(IngestError):
            read_test_file(path)
    assert time.perf_counter() - started < 10
