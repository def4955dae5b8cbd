""".NET result parsers (``whyloop.ingest.tests.nunit``, ``whyloop.ingest.tests.xunit_trx``)."""

import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import FIXTURES
from whyloop.errors import IngestError
from whyloop.ingest.tests.nunit import parse_nunit2, parse_nunit3
from whyloop.ingest.tests.xunit_trx import parse_trx, parse_xunit2
from whyloop.schema import TestFormat

TESTS = FIXTURES / "tests"


def _parse(parse, name):
    path = TESTS / name
    with open(path, "rb") as fh:
        return parse(fh, str(path))


def _by_name(parsed):
    return {r["name"]: r for r in parsed.rows}


def _utc(rows):
    return all(r["start"] is None or r["start"].utcoffset() == timedelta(0) for r in rows)


def test_nunit3_outcomes_labels_markers_and_times():
    parsed = _parse(parse_nunit3, "nunit3.xml")
    assert parsed.format is TestFormat.NUNIT3
    rows = _by_name(parsed)
    assert {n: r["outcome"] for n, r in rows.items()} == {
        "Creates": "passed",
        "Rounds(2.5)": "failed",
        "Divides": "error",  # label="Error"
        "Cancels": "error",  # label="Cancelled"
        "Archives": "skipped",
    }
    assert rows["Rounds(2.5)"]["test_id"] == "Shop.Tests.OrderTests::Rounds(2.5)"
    assert rows["Rounds(2.5)"]["suite"] == "OrderTests"
    assert rows["Rounds(2.5)"]["message"] == "Expected: 3\n  But was:  2"
    assert "OrderTests.cs:line 31" in rows["Rounds(2.5)"]["details"]
    assert rows["Rounds(2.5)"]["stdout"] == "rounding 2.5"
    assert rows["Divides"]["failure_type"] == "System.DivideByZeroException"
    assert rows["Archives"]["message"] == "archive service is gone"
    assert rows["Creates"]["markers"] == ("smoke",)
    assert rows["Creates"]["properties"] == {"Owner": "team-a"}
    assert rows["Creates"]["start"] == datetime(2026, 3, 3, 7, 0, 0, 100000, tzinfo=UTC)
    assert rows["Creates"]["duration_s"] == 0.25
    assert _utc(parsed.rows)
    assert (parsed.declared.tests, parsed.declared.failures, parsed.declared.skipped) == (5, 3, 1)


def test_nunit2_outcomes_and_implied_starts_from_the_run_date():
    parsed = _parse(parse_nunit2, "nunit2.xml")
    assert parsed.format is TestFormat.NUNIT2
    rows = _by_name(parsed)
    assert Counter(r["outcome"] for r in parsed.rows) == {
        "passed": 1,
        "failed": 1,
        "error": 1,
        "skipped": 1,
    }
    assert rows["Rounds"]["test_id"] == "Shop.Tests.OrderTests::Rounds"
    assert rows["Rounds"]["suite"] == "OrderTests"
    assert rows["Creates"]["markers"] == ("smoke",)
    assert rows["Divides"]["failure_type"] == "System.DivideByZeroException"
    assert rows["Archives"]["message"] == "archive service is gone"
    assert rows["Creates"]["start"] == datetime(2026, 3, 4, 6, 30, tzinfo=UTC)
    assert rows["Rounds"]["start"] == rows["Creates"]["stop"]  # implied, end to end
    assert _utc(parsed.rows)
    # NUnit 2.6 leaves not-run tests out of total: declared tests add them back
    assert (parsed.declared.tests, parsed.declared.skipped) == (4, 1) == (len(parsed.rows), 1)


def test_xunit2_tests_traits_failures_and_assembly_errors():
    parsed = _parse(parse_xunit2, "xunit2.xml")
    assert parsed.format is TestFormat.XUNIT2
    rows = _by_name(parsed)
    assert rows["Rounds(x: 2.5)"]["test_id"] == "Shop.Tests.OrderTests::Rounds(x: 2.5)"
    assert rows["Rounds(x: 2.5)"]["outcome"] == "failed"
    assert rows["Rounds(x: 2.5)"]["failure_type"] == "Xunit.Sdk.EqualException"
    assert rows["Rounds(x: 2.5)"]["stdout"] == "rounding 2.5"
    assert rows["Archives"]["outcome"] == "skipped"
    assert rows["Archives"]["message"] == "archive service is gone"
    assert rows["Creates"]["markers"] == ("smoke",)
    assert rows["Creates"]["properties"] == {"Owner": "team-a"}
    assert rows["Creates"]["start"] == datetime(2026, 3, 5, 5, 0, tzinfo=UTC)
    cleanup = rows["Shop.Tests.DbFixture"]
    assert cleanup["outcome"] == "error" and cleanup["properties"] == {"suite_level": True}
    assert cleanup["failure_type"] == "System.InvalidOperationException"
    tests = [r for r in parsed.rows if not (r["properties"] or {}).get("suite_level")]
    assert len(tests) == parsed.declared.tests == 4
    assert (parsed.declared.failures, parsed.declared.errors) == (2, 1)


def test_trx_joins_classnames_and_maps_outcomes():
    parsed = _parse(parse_trx, "results.trx")
    assert parsed.format is TestFormat.TRX
    rows = _by_name(parsed)
    assert {n: r["outcome"] for n, r in rows.items()} == {
        "Creates": "passed",
        "Rounds": "failed",
        "Archives": "skipped",  # NotExecuted
        "Times out": "error",  # Timeout
    }
    # className "Shop.Tests.OrderTests, Shop.Tests, Version=..." loses the assembly part
    assert rows["Creates"]["test_id"] == "Shop.Tests.OrderTests::Creates"
    assert rows["Times out"]["test_id"] == "Shop.Tests.SlowTests::Times out"
    assert rows["Creates"]["markers"] == ("smoke",)
    assert rows["Creates"]["stdout"] == "created order 42"
    assert rows["Rounds"]["message"] == "Assert.AreEqual failed. Expected:<3>. Actual:<2>."
    assert rows["Rounds"]["duration_s"] == 1.25
    assert rows["Rounds"]["start"] == datetime(2026, 3, 6, 4, 0, 0, 500000, tzinfo=UTC)  # +02:00
    assert _utc(parsed.rows)
    assert (parsed.declared.tests, parsed.declared.failures, parsed.declared.skipped) == (4, 1, 1)


def test_trx_full_test_names_and_run_level_errors():
    data = b"""<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <Results><UnitTestResult testId="a" testName="Ns.Cls.Method(1)" outcome="Passed" duration="00:00:02"/></Results>
  <TestDefinitions><UnitTest id="a"><TestMethod className="Ns.Cls" name="Method"/></UnitTest></TestDefinitions>
  <ResultSummary><RunInfos><RunInfo outcome="Error"><Text>Testhost process crashed</Text></RunInfo></RunInfos></ResultSummary>
</TestRun>"""
    parsed = parse_trx(io.BytesIO(data), "run.trx")
    (row,) = parsed.rows
    assert (row["classname"], row["name"], row["duration_s"]) == ("Ns.Cls", "Method(1)", 2.0)
    assert parsed.warnings == ["run.trx: run-level Error: Testhost process crashed"]


def test_truncated_nunit3_keeps_the_cases_read():
    data = b"""<test-run total="3"><test-suite type="TestFixture" name="F">
<test-case name="A" fullname="N.F.A" classname="N.F" result="Passed" duration="0.1"/>
<test-case name="B" fullname="N.F.B" classname="N.F" result="Passed" duration="0.1"/>
<test-case name="C" fullname="N.F.C" classname="N.F" result="Fail"""
    parsed = parse_nunit3(io.BytesIO(data), "cut.xml")
    assert [r["name"] for r in parsed.rows] == ["A", "B"]
    assert (
        parsed.warnings[0].startswith("cut.xml: ") and "(rows before it kept)" in parsed.warnings[0]
    )


@pytest.mark.parametrize(
    ("parse", "name"),
    [(parse_nunit3, "xunit2.xml"), (parse_nunit2, "nunit3.xml"), (parse_trx, "junit-jest.xml")],
)
def test_the_wrong_format_is_refused_by_root(parse, name):
    with pytest.raises(IngestError, match=r"XML with root <\w[\w-]*> is not"):
        _parse(parse, name)


def test_dotnet_parsers_leave_entities_unexpanded_too():
    data = b"""<!DOCTYPE TestRun [<!ENTITY x "y">]>
<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results>
<UnitTestResult testId="1" testName="T &x;" outcome="Passed"/></Results></TestRun>"""
    parsed = parse_trx(io.BytesIO(data), "x.trx")
    assert [r["name"] for r in parsed.rows] == ["T &x;"]
    assert parsed.warnings == [
        "x.trx: the DOCTYPE declares XML entities, left unexpanded and never fetched "
        "(references read as literal '&name;' text): x (internal)"
    ]


def test_repeated_executions_get_rerun_indices():
    data = b"""<assemblies><assembly name="a" total="2"><collection name="c">
<test name="N.C.T" type="N.C" method="T" time="1" result="Fail"><failure><message>flaky</message></failure></test>
<test name="N.C.T" type="N.C" method="T" time="1" result="Pass"/>
</collection></assembly></assemblies>"""
    parsed = parse_xunit2(io.BytesIO(data), "x.xml")
    assert [(r["rerun"], r["outcome"]) for r in parsed.rows] == [(0, "failed"), (1, "passed")]
