"""JUnit/xUnit XML parsing (``whyloop.ingest.tests.junit``) and the safe XML layer under it."""

import io
import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import FIXTURES
from whyloop.errors import IngestError, UnsupportedFormatError
from whyloop.ingest.tests.junit import parse_junit
from whyloop.ingest.tests.junit_cases import pytest_nodeid
from whyloop.ingest.tests.values import parse_seconds, parse_timestamp, strip_ansi
from whyloop.schema import Outcome, TestFormat

TESTS = FIXTURES / "tests"


def _parse(name):
    path = TESTS / name
    with open(path, "rb") as fh:
        return parse_junit(fh, str(path))


def _parse_bytes(data, path="inline.xml"):
    return parse_junit(io.BytesIO(data), path)


def _outcomes(parsed):
    return Counter(r["outcome"] for r in parsed.rows)


class _NoSeek(io.RawIOBase):
    """A pipe-like stream: readable, not seekable."""

    def __init__(self, data):
        self._buf = io.BytesIO(data)

    def readable(self):
        return True

    def read(self, n=-1):
        return self._buf.read(n)


def test_pytest_file_outcomes_node_ids_reruns_and_properties():
    parsed = _parse("junit-pytest.xml")
    assert parsed.format is TestFormat.JUNIT
    assert _outcomes(parsed) == {
        "passed": 2,
        "failed": 2,
        "error": 1,
        "skipped": 1,
        "xfailed": 1,
    }
    by_id = {(r["test_id"], r["rerun"]): r for r in parsed.rows}
    refund = by_id[("tests/api/test_orders.py::TestRefunds::test_refund[eur]", 0)]
    assert refund["suite"] == "tests/api/test_orders.py"
    assert refund["classname"] == "tests.api.test_orders.TestRefunds"
    assert refund["message"] == "AssertionError: assert 402 == 200"
    assert "tests/api/test_orders.py:44: AssertionError" in refund["details"]
    assert by_id[("tests/api/test_orders.py::test_create", 0)]["properties"]["ticket"] == "ORD-12"
    xfail = by_id[("tests/api/test_orders.py::TestRefunds::test_partial", 0)]
    assert (xfail["outcome"], xfail["message"]) == ("xfailed", "partial refunds not implemented")
    # no file attribute: the node id comes from the dotted classname alone
    error = by_id[("tests/test_db.py::test_connect", 0)]
    assert error["outcome"] == Outcome.ERROR
    assert error["message"].startswith("failed on setup with")
    # the same test twice in one suite: pytest-rerunfailures' reruns
    flaky = [r for r in parsed.rows if r["name"] == "test_flaky"]
    assert [(r["rerun"], r["outcome"]) for r in flaky] == [(0, "failed"), (1, "passed")]
    assert (parsed.declared.tests, parsed.declared.failures) == (7, 1)
    assert (parsed.declared.errors, parsed.declared.skipped) == (1, 2)


def test_ansi_colour_codes_are_stripped_and_the_forbidden_bytes_counted():
    parsed = _parse("junit-pytest.xml")
    refund = next(r for r in parsed.rows if r["name"] == "test_refund[eur]")
    assert refund["stdout"] == "INFO refund requested"
    assert any("2 character(s) XML does not allow" in w for w in parsed.warnings)


def test_surefire_character_reference_to_escape_is_read_leniently():
    data = (
        b'<testsuite name="S" tests="1"><testcase name="t" classname="S" time="1">'
        b'<failure message="&#27;[31mred&#27;[0m">boom</failure>'
        b"<system-out>&#x1b;[1mbold&#x1B;[0m done</system-out></testcase></testsuite>"
    )
    (row,) = _parse_bytes(data).rows
    assert (row["message"], row["stdout"]) == ("red", "bold done")


def test_implied_start_times_are_utc_and_laid_end_to_end():
    rows = _parse("junit-jest.xml").rows
    assert all(
        r["start"].tzinfo is not None and r["start"].utcoffset() == timedelta(0) for r in rows
    )
    first, second = rows[0], rows[1]
    assert first["start"] == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)  # naive suite stamp: UTC
    assert first["stop"] == first["start"] + timedelta(seconds=0.1)
    assert second["start"] == first["stop"]
    assert rows[3]["start"] == datetime(2026, 3, 1, 9, 30, 1, tzinfo=UTC)  # next suite's own


def test_testcase_timestamp_wins_and_offsets_are_converted_to_utc():
    rows = {r["name"]: r for r in _parse("junit-odd.xml").rows}
    assert rows[""]["start"] == datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # suite at +02:00
    assert rows["Stamped"]["start"] == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert rows["Stamped"]["stop"] == datetime(2026, 3, 2, 9, 0, 2, tzinfo=UTC)


def test_surefire_flaky_and_rerun_children_become_executions():
    parsed = _parse("junit-surefire-flaky.xml")
    runs = [(r["name"], r["rerun"], r["outcome"]) for r in parsed.rows]
    assert runs == [
        ("placesOrder", 0, "failed"),
        ("placesOrder", 1, "error"),
        ("placesOrder", 2, "passed"),
        ("cancelsOrder", 0, "failed"),
        ("cancelsOrder", 1, "failed"),
        ("cancelsOrder", 2, "failed"),
        ("listsOrders", 0, "passed"),
    ]
    flaky = parsed.rows[0]
    assert flaky["failure_type"] == "org.opentest4j.AssertionFailedError"
    assert flaky["message"] == "expected: <201> but was: <503>"
    assert "CheckoutIT.java:41" in flaky["details"]
    assert flaky["stdout"] == "POST /orders -> 503"
    assert parsed.rows[2]["stdout"] == "POST /orders -> 201"
    assert parsed.rows[2]["duration_s"] == 2.0 and math.isnan(flaky["duration_s"])
    first = sum(1 for r in parsed.rows if r["rerun"] == 0)
    assert first == parsed.declared.tests == 3


def test_nested_suites_keep_the_innermost_name_and_the_path():
    parsed = _parse("junit-phpunit-nested.xml")
    rows = {r["name"]: r for r in parsed.rows}
    assert rows["testAdd"]["suite"] == "App\\Tests\\CartTest"
    assert rows["testAdd"]["properties"]["suite_path"] == "Unit/App\\Tests\\CartTest"
    # PHPUnit's `class` attribute stands in for a missing classname, dotted like PHPUnit's own
    assert rows["testLegacy"]["test_id"] == "App.Tests.CartTest::testLegacy"
    assert rows["testLegacy"]["outcome"] == "skipped"
    assert rows["testRemove"]["message"] == "Failed asserting that 1 is identical to 0."
    assert rows["testRemove"]["properties"]["line"] == "20"
    # declared counts come from the outermost suite only, not the nested ones again
    assert (parsed.declared.tests, parsed.declared.failures, parsed.declared.skipped) == (4, 1, 1)
    assert len(parsed.rows) == parsed.declared.tests


def test_jest_junit_ids_and_declared_counts_from_the_root():
    parsed = _parse("junit-jest.xml")
    assert [r["test_id"] for r in parsed.rows] == [
        "cart › totals::sums line items",
        "cart › totals::applies discounts",
        "cart › totals::handles currency",
        "user::logs in",
    ]
    failed = parsed.rows[1]
    assert failed["message"] == "Error: expect(received).toBe(expected) // Object.is equality"
    assert (parsed.declared.tests, parsed.declared.failures) == (4, 1)


def test_odd_attributes_are_read_or_warned_about_with_file_and_line():
    parsed = _parse("junit-odd.xml")
    rows = {r["name"]: r for r in parsed.rows}
    path = str(TESTS / "junit-odd.xml")
    assert f"{path}:4: <testcase> has no name (kept with name '')" in parsed.warnings
    assert rows[""]["duration_s"] == 1234.5
    assert math.isnan(rows["BadTime"]["duration_s"]) and math.isnan(
        rows["NegativeTime"]["duration_s"]
    )
    (time_warning,) = [w for w in parsed.warnings if "time(s)" in w]
    assert time_warning.startswith(f"{path}:5: 2 testcase time(s) unreadable")
    assert rows["DISABLED_Later"]["outcome"] == rows["Suppressed"]["outcome"] == "skipped"
    two = rows["TwoErrors"]
    assert (two["outcome"], two["message"], two["failure_type"]) == (
        "error",
        "first",
        "TimeoutError",
    )
    assert "TimeoutError: first" in two["details"] and "TypeError: second" in two["details"]
    assert rows["Stamped"]["stderr"] == "boom"
    suite_error = rows["(suite)"]
    assert suite_error["outcome"] == "error" and suite_error["message"] == "BeforeAll failed"
    assert suite_error["properties"]["suite_level"] is True
    assert parsed.declared.skipped == 2  # disabled counts as skipped


def test_truncated_file_keeps_rows_before_the_break():
    parsed = _parse("junit-truncated.xml")
    assert [r["name"] for r in parsed.rows] == ["one", "two"]
    path = str(TESTS / "junit-truncated.xml")
    assert parsed.warnings == [
        f"{path}: truncated at line 7: no closing </testcase> (rows before it kept)"
    ]


def test_file_broken_before_any_row_raises_with_file_and_line():
    path = str(TESTS / "broken-first-line.xml")
    with pytest.raises(IngestError) as info:
        _parse("broken-first-line.xml")
    assert str(info.value).startswith(f"{path}:3: not well-formed XML")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "entities"),
    [
        ("junit-xxe.xml", "secret (external: file:///etc/passwd)"),
        ("junit-billion-laughs.xml", "lol (internal), lol2 (internal), lol3 (internal)"),
    ],
)
def test_entities_are_left_unexpanded_and_never_fetched(name, entities):
    parsed = _parse(name)
    [row] = parsed.rows
    assert row["outcome"] == "failed"
    assert row["message"] in ("&secret;", "&lol9;")  # the reference, as text
    assert "root:" not in row["details"]  # nothing from /etc/passwd
    [warning] = parsed.warnings
    assert warning.startswith(f"{TESTS / name}: the DOCTYPE declares XML entities, left unexpanded")
    assert entities in warning


def test_a_doctype_keeps_line_numbers_and_references_across_chunks():
    from whyloop.ingest.tests.xmlsafe import CHUNK

    pad = "x" * (CHUNK - 30)
    data = (
        '<!DOCTYPE s [\n<!ENTITY e "boom">\n]>\n<testsuite name="s">'
        f'<testcase name="t" classname="c"><failure message="{pad}&e;">&e;&amp;</failure>'
        '</testcase>\n<testcase name="u" classname="c" time="-1"/></testsuite>'
    ).encode()
    parsed = _parse_bytes(data)
    assert parsed.rows[0]["message"].endswith("&e;") and parsed.rows[0]["details"] == "&e;&"
    assert any(":5: 1 testcase time(s) unreadable" in w for w in parsed.warnings)


def test_external_dtd_is_not_fetched():
    data = (
        b'<?xml version="1.0"?><!DOCTYPE testsuite SYSTEM "http://127.0.0.1:9/evil.dtd">'
        b'<testsuite name="s"><testcase name="t" classname="c" time="1"/></testsuite>'
    )
    assert [r["name"] for r in _parse_bytes(data).rows] == ["t"]


def test_bytes_that_are_not_the_declared_encoding():
    kept = _parse("junit-not-utf8.xml")
    assert [r["name"] for r in kept.rows] == ["ascii"]
    assert "not valid UTF-8" in kept.warnings[-1] and "line 4" in kept.warnings[-1]
    with pytest.raises(IngestError) as info:
        _parse("junit-not-utf8-first.xml")
    assert info.value.line == 3 and "not valid UTF-8" in str(info.value)


def test_empty_file_and_non_junit_root():
    with pytest.raises(IngestError, match="empty file"):
        _parse("empty.xml")
    with pytest.raises(UnsupportedFormatError, match=r"root <test-run> is not JUnit"):
        _parse("nunit3.xml")


def test_namespaced_junit_and_root_level_testsuite_timestamp_inheritance():
    data = (
        b'<testsuites xmlns="urn:x" timestamp="2026-01-01T00:00:00Z">'
        b'<testsuite name="a"><testcase name="t1" classname="a" time="2"/></testsuite>'
        b'<testsuite name="b"><testcase name="t2" classname="b" time="1"/></testsuite>'
        b"</testsuites>"
    )
    rows = _parse_bytes(data).rows
    assert [r["test_id"] for r in rows] == ["a::t1", "b::t2"]
    assert rows[1]["start"] == datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)


def test_a_stream_that_cannot_seek_still_parses_and_warns_without_line():
    data = b'<testsuite name="s"><testcase classname="c" time="1"/></testsuite>'
    parsed = parse_junit(_NoSeek(data), "pipe")
    assert len(parsed.rows) == 1
    assert parsed.warnings == ["pipe: testcase #1: <testcase> has no name (kept with name '')"]


def test_many_testcases_stream_through_in_chunks():
    cases = "".join(
        f'<testcase name="t{i}" classname="k.C{i % 7}" time="0.001"/>' for i in range(20_000)
    )
    data = f'<testsuite name="big" timestamp="2026-01-01T00:00:00">{cases}</testsuite>'.encode()
    rows = _parse_bytes(data).rows
    assert len(rows) == 20_000 and rows[-1]["test_id"] == "k.C0::t19999"
    assert rows[-1]["stop"] == datetime(2026, 1, 1, 0, 0, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("classname", "name", "file", "expected"),
    [
        ("tests.test_x", "test_a", None, "tests/test_x.py::test_a"),
        ("tests.test_x.TestK", "test_a[1.5]", None, "tests/test_x.py::TestK::test_a[1.5]"),
        ("tests.test_x.TestK.TestInner", "t", None, "tests/test_x.py::TestK::TestInner::t"),
        ("Tests.test_x.TestK", "t", "Tests/test_x.py", "Tests/test_x.py::TestK::t"),
        ("test_x", "t", "test_x.py", "test_x.py::t"),
    ],
)
def test_pytest_node_id_from_classname(classname, name, file, expected):
    assert pytest_nodeid(classname, name, file) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.5", 1.5), ("1,234.5", 1234.5), ("0,25", 0.25), ("2s", 2.0), ("00:01:02.5", 62.5)],
)
def test_parse_seconds_reads_what_it_can(text, expected):
    assert parse_seconds(text) == expected


@pytest.mark.parametrize("text", ["abc", "-1", "nan", "", "<<computed>>"])
def test_parse_seconds_refuses_nonsense(text):
    assert parse_seconds(text) is None


def test_parse_timestamp_variants():
    assert parse_timestamp("2024-01-03T 12:40:13") == datetime(2024, 1, 3, 12, 40, 13, tzinfo=UTC)
    assert parse_timestamp("2024-01-03 12:27:54Z") == datetime(2024, 1, 3, 12, 27, 54, tzinfo=UTC)
    assert parse_timestamp("2024-01-03T12:27:11-01:00") == datetime(
        2024, 1, 3, 13, 27, 11, tzinfo=UTC
    )
    assert parse_timestamp("0001-01-01T00:00:00Z") is None  # Go's zero time
    assert parse_timestamp("yesterday") is None


def test_strip_ansi_handles_raw_and_escaped_escapes():
    assert strip_ansi("\x1b[31mred\x1b[0m #x1B[1mbold#x1B[0m") == "red bold"
    assert strip_ansi("no colour [0m here") == "no colour [0m here"
