"""The XML variants of issue 8: C++ frameworks' own XML, NUnit fragments and outcomes,
TRX outcomes, JUnit's ``disabled``, summary-only suites and DOCTYPEs with entities.

boost-test.xml, cppunit.xml and qtestlib.xml were written by the tools
themselves (tools/cxx, ``make_samples.py``), beside each tool's own count:
Boost's XML report, CppUnit's ``<Statistics>``, QTestLib's ``Totals:`` line.
"""

import io
import re
import socket
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from tests.ingest.tests.tool_counts import check, tally
from tests.support import FIXTURES
from whyloop.ingest.tests.detect import read_test_file, sniff
from whyloop.ingest.tests.junit import parse_junit
from whyloop.ingest.tests.nunit import parse_nunit2, parse_nunit3
from whyloop.ingest.tests.xunit_trx import parse_trx
from whyloop.schema import TestFormat

TESTS = FIXTURES / "tests"


def _by_name(parsed):
    return {r["name"]: r for r in parsed.rows}


def test_boost_test_log_adds_up_to_boosts_own_report():
    parsed = read_test_file(TESTS / "boost-test.xml")
    assert parsed.format is TestFormat.BOOST_TEST
    report = ET.parse(TESTS / "boost-test-report.xml").getroot().find("TestSuite").attrib
    t = tally(parsed)
    assert t["passed"] == int(report["test_cases_passed"])
    assert t["skipped"] == int(report["test_cases_skipped"])
    # Boost counts an exception and a failed REQUIRE both as aborted, and both as failed
    assert t["failed"] + t["error"] == int(report["test_cases_failed"])
    rows = _by_name(parsed)
    assert rows["welcome_arrives"]["outcome"] == "error"  # an uncaught exception
    assert rows["welcome_arrives"]["message"].startswith("std::runtime_error: connection closed")
    assert rows["echo_answers"]["outcome"] == "failed"  # a failed BOOST_REQUIRE
    assert rows["logout_clears_the_session"]["outcome"] == "skipped"
    assert rows["logout_clears_the_session"]["properties"] == {"reason": "disabled"}
    refresh = rows["refresh_rejects_an_expired_token"]
    assert refresh["test_id"] == "auth::refresh_rejects_an_expired_token"
    assert refresh["message"] == "check 401 == 200 has failed [401 != 200]"
    assert re.match(r"boost_e2e.cpp:\d+: check 401 == 200", refresh["details"])
    assert "2026-11-24T10:00:00.123Z" in refresh["stdout"]
    assert 0 < refresh["duration_s"] < 1 and refresh["start"] is None  # microseconds, no clock


def test_cppunit_report_in_run_order_with_its_statistics():
    parsed = read_test_file(TESTS / "cppunit.xml")
    assert parsed.format is TestFormat.CPPUNIT
    check(parsed, "cppunit")
    assert [r["name"] for r in parsed.rows] == [
        "testLoginReturnsToken",
        "testRefreshRejectsExpiredToken",
        "testWelcomeArrives",
        "testEchoAnswers",
    ]  # by id, though the file lists failures first
    rows = _by_name(parsed)
    assert rows["testWelcomeArrives"]["outcome"] == "error"
    assert rows["testRefreshRejectsExpiredToken"]["message"] == "equality assertion failed"
    assert rows["testRefreshRejectsExpiredToken"]["test_id"] == (
        "AuthTest::testRefreshRejectsExpiredToken"
    )


def test_qtestlib_log_adds_up_to_its_totals_line():
    parsed = read_test_file(TESTS / "qtestlib.xml")
    assert parsed.format is TestFormat.QTESTLIB
    totals = re.search(
        r"Totals: (\d+) passed, (\d+) failed, (\d+) skipped", (TESTS / "qtestlib.txt").read_text()
    )
    passed, failed, skipped = (int(n) for n in totals.groups())
    outcomes = Counter(r["outcome"] for r in parsed.rows)
    assert outcomes["passed"] + outcomes["xfailed"] == passed  # QTestLib counts an XFAIL a pass
    assert (outcomes["failed"], outcomes["skipped"]) == (failed, skipped)
    rows = _by_name(parsed)
    assert rows["closeCodeIs1000"]["outcome"] == "xfailed"
    assert rows["echo(large)"]["outcome"] == "failed" and rows["echo(small)"]["outcome"] == "passed"
    assert rows["echo(large)"]["duration_s"] != rows["echo(large)"]["duration_s"]  # shared: NaN
    assert rows["logoutClearsSession"]["message"] == "logout endpoint not deployed on staging"
    assert rows["refreshRejectsExpiredToken"]["test_id"] == "tst_E2e::refreshRejectsExpiredToken"


def test_nunit_fragments_rooted_at_test_suite():
    nunit2 = b"""<test-suite type="TestFixture" name="OrderTests" executed="True" result="Failure">
<results><test-case name="Shop.OrderTests.Creates" executed="True" result="Success" time="0.1"/>
<test-case name="Shop.OrderTests.Rounds" executed="True" result="Inconclusive"/>
<test-case name="Shop.OrderTests.Broken" executed="False" result="NotRunnable"/>
</results></test-suite>"""
    parsed = parse_nunit2(io.BytesIO(nunit2), "fragment.xml")
    rows = _by_name(parsed)
    assert {n: r["outcome"] for n, r in rows.items()} == {
        "Creates": "passed",
        "Rounds": "skipped",
        "Broken": "error",
    }
    assert rows["Rounds"]["properties"] == {"result": "Inconclusive"}
    nunit3 = b"""<test-suite type="TestFixture" id="1" name="OrderTests" runstate="Runnable"
 testcasecount="3" total="3" passed="1" failed="1" skipped="1">
<test-case id="2" name="Creates" fullname="Shop.OrderTests.Creates" result="Passed"/>
<test-case id="3" name="Warns" fullname="Shop.OrderTests.Warns" result="Warning"/>
<test-case id="4" name="Later" fullname="Shop.OrderTests.Later" result="Skipped" label="Explicit"/>
</test-suite>"""
    assert sniff(nunit3, "fragment.xml") is TestFormat.NUNIT3
    assert sniff(nunit2, "fragment.xml") is TestFormat.NUNIT2
    parsed = parse_nunit3(io.BytesIO(nunit3), "fragment.xml")
    rows = _by_name(parsed)
    assert [r["outcome"] for r in rows.values()] == ["passed", "passed", "skipped"]
    assert rows["Warns"]["properties"] == {"result": "Warning"}
    assert rows["Later"]["properties"] == {"result": "Skipped/Explicit"}
    assert (parsed.declared.tests, parsed.declared.failures, parsed.declared.skipped) == (3, 1, 1)


def test_trx_outcomes_as_documented_with_the_tools_own_outcome_kept():
    results = "".join(
        f'<UnitTestResult testId="{i}" testName="T{outcome}" outcome="{outcome}"/>'
        for i, outcome in enumerate(
            [
                "Passed",
                "Warning",
                "Timeout",
                "Aborted",
                "NotRunnable",
                "InProgress",
                "NotExecuted",
                "Inconclusive",
                "Pending",
            ]
        )
    )
    data = (
        '<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results>'
        f"{results}</Results></TestRun>"
    ).encode()
    parsed = parse_trx(io.BytesIO(data), "x.trx")
    got = {
        r["name"]: (r["outcome"], (r["properties"] or {}).get("trx_outcome")) for r in parsed.rows
    }
    assert got == {
        "TPassed": ("passed", None),
        "TWarning": ("passed", "Warning"),
        "TTimeout": ("error", "Timeout"),
        "TAborted": ("error", "Aborted"),
        "TNotRunnable": ("error", "NotRunnable"),
        "TInProgress": ("error", "InProgress"),
        "TNotExecuted": ("skipped", "NotExecuted"),
        "TInconclusive": ("skipped", "Inconclusive"),
        "TPending": ("skipped", "Pending"),
    }


def test_junit_disabled_testcase_and_a_suite_with_counts_but_no_testcase():
    data = b"""<testsuites><testsuite name="a" tests="2" disabled="1">
<testcase name="on" classname="c" time="0.1"/>
<testcase name="off" classname="c" time="0" disabled="true"/></testsuite>
<testsuite name="Summary" tests="5" failures="1" errors="0" skipped="0"/></testsuites>"""
    parsed = parse_junit(io.BytesIO(data), "x.xml")
    assert [(r["name"], r["outcome"]) for r in parsed.rows] == [
        ("on", "passed"),
        ("off", "skipped"),
    ]
    assert parsed.declared.tests == 7 and parsed.declared.failures == 1
    assert parsed.warnings == [
        "x.xml: suite 'Summary' declares tests=5 but holds no <testcase>: "
        "its declared counts are kept, with no rows"
    ]


def test_a_doctype_with_external_parameter_entities_fetches_nothing(monkeypatch):
    attempts = []
    monkeypatch.setattr(socket.socket, "connect", lambda *a: attempts.append(a))
    data = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite [
  <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">
  %remote;
  <!ENTITY ci PUBLIC "-//CI//x" "http://127.0.0.1:9/ci.ent">
]>
<testsuite name="s" tests="1"><testcase name="t" classname="c" time="1">
<system-out>&ci;</system-out></testcase></testsuite>"""
    parsed = parse_junit(io.BytesIO(data), "ci.xml")
    assert parsed.rows[0]["stdout"] == "&ci;" and attempts == []
    [warning] = parsed.warnings
    assert warning.endswith(
        "%remote (external: http://127.0.0.1:9/evil.dtd), "
        "ci (external: http://127.0.0.1:9/ci.ent), %remote; (reference)"
    )


@pytest.mark.parametrize("depth", [9, 30])
def test_an_expansion_bomb_stays_a_few_bytes(depth):
    decls = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, depth + 1)
    )
    data = (
        f"<!DOCTYPE s [{decls}]><testsuite><testcase name='t' classname='c'>"
        f"<failure message='&a{depth};'/></testcase></testsuite>"
    ).encode()
    [row] = parse_junit(io.BytesIO(data), "bomb.xml").rows
    assert row["message"] == f"&a{depth};"
