"""Run each real test tool that is installed here and check whyloop's counts against its own.

Each test runs one tool over its small suite in tests/fixtures/tests/tools/
(the same runs ``make_samples.py`` makes for the committed samples), reads
what it wrote and checks the rows against the tool's own summary. A tool
that is not installed skips its test, saying how to install it: Go and RSpec
come from apt (golang-go, ruby-rspec), the C++ ones too (g++,
libboost-test-dev, libcppunit-dev, qtbase5-dev), the npm and pip tools from
``python tests/fixtures/tests/make_samples.py --install``.
"""

import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from tests.ingest.tests import sample_tools
from tests.ingest.tests.tool_counts import check, tally
from whyloop.ingest.tests.detect import read_test_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Run a tool once per module (several tests read its outputs); skip when it is absent."""
    done: dict[str, object] = {}

    def run_tool(name):
        if name not in done:
            out = tmp_path_factory.mktemp(name)
            try:
                done[name] = (out, sample_tools.RUNNERS[name](out))
            except sample_tools.ToolMissing as missing:
                done[name] = missing
        if isinstance(done[name], sample_tools.ToolMissing):
            pytest.skip(f"{name} not installed here: {done[name]}")
        return done[name]

    return run_tool


@pytest.mark.parametrize(
    ("tool", "outputs"),
    [
        ("jest", [("jest.json", "jest")]),
        ("mocha", [("mocha.json", "mocha"), ("mochawesome.json", "mochawesome")]),
        ("playwright", [("playwright.json", "playwright")]),
        ("go", [("go-test.jsonl", "go")]),
        ("rspec", [("rspec.json", "rspec"), ("rspec-load-error.json", "rspec")]),
        ("cppunit", [("cppunit.xml", "cppunit")]),
    ],
)
def test_counts_equal_the_tools_own_summary(tool, outputs, run):
    out, _ = run(tool)
    for name, counting in outputs:
        parsed = read_test_file(out / name)
        assert parsed.rows, name
        check(parsed, counting)


@pytest.mark.parametrize("tool", ["jest", "mocha", "playwright", "allure"])
def test_ctrf_reporters_give_the_same_number_of_tests(tool, run):
    _, written = run(tool)
    [ctrf] = [p for p in written if p.name.endswith("ctrf.json")]
    parsed = read_test_file(ctrf)
    assert tally(parsed)["tests"] == parsed.declared.tests


def test_allure_results_hold_one_row_per_execution_pytest_ran(run):
    _, (results, _) = run("allure")
    rows = [r for p in results.iterdir() for r in read_test_file(p).rows]
    # the suite: 7 tests (one parametrized twice), one rerun: 9 executions
    assert len(rows) == 9
    assert Counter(r["outcome"] for r in rows)["error"] == 1


def test_boost_test_counts_equal_its_report(run):
    _, (log, report) = run("boost")
    t = tally(read_test_file(log))
    counts = ET.parse(report).getroot().find("TestSuite").attrib
    assert t["passed"] == int(counts["test_cases_passed"])
    assert t["failed"] + t["error"] == int(counts["test_cases_failed"])
    assert t["skipped"] == int(counts["test_cases_skipped"])


def test_qtestlib_counts_equal_its_totals_line(run):
    _, (xml, txt) = run("qtest")
    totals = re.search(r"Totals: (\d+) passed, (\d+) failed, (\d+) skipped", txt.read_text())
    outcomes = Counter(r["outcome"] for r in read_test_file(xml).rows)
    passed, failed, skipped = (int(n) for n in totals.groups())
    assert (outcomes["passed"] + outcomes["xfailed"], outcomes["failed"]) == (passed, failed)
    assert outcomes["skipped"] == skipped
