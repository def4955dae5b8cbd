import io

import pytest

from tests.support import FIXTURES, corpus_or_skip
from whyloop.errors import IngestError
from whyloop.ingest.tests.pytest_json import parse_json_report, parse_reportlog
from whyloop.schema import TestFormat

REPORTLOG = FIXTURES / "tests" / "reportlog.jsonl"
JSONREPORT = FIXTURES / "tests" / "json-report.json"


def _read(parse, path):
    with open(path, "rb") as fh:
        return parse(fh, str(path))


def _by_id(rows):
    return {(r["test_id"], r["rerun"]): r for r in rows}


def test_reportlog_folds_phases_into_one_row_per_execution():
    parsed = _read(parse_reportlog, REPORTLOG)
    assert parsed.format is TestFormat.PYTEST_REPORTLOG
    assert parsed.warnings == []
    rows = _by_id(parsed.rows)
    outcomes = {k[0].split("::")[-1]: r["outcome"] for k, r in rows.items() if k[1] == 0}
    assert outcomes == {
        "test_pass": "passed",
        "test_fail": "failed",
        "test_xfail": "xfailed",
        "test_xpass": "xpassed",
        "test_skip": "skipped",
        "test_err": "error",
        "test_flaky": "failed",
        "test_m": "passed",
    }
    # the rerun plugin's failed attempt, then the passing rerun
    assert rows[("test_demo.py::test_flaky", 1)]["outcome"] == "passed"
    assert len(parsed.rows) == 9


def test_reportlog_carries_times_messages_and_markers():
    rows = _by_id(_read(parse_reportlog, REPORTLOG).rows)
    fail = rows[("test_demo.py::test_fail", 0)]
    assert fail["message"] == "AssertionError: expected 1"
    assert fail["failure_type"] == "AssertionError"
    assert "assert 1 == 2" in fail["details"]
    assert fail["start"].tzinfo is not None and fail["stop"] >= fail["start"]
    assert rows[("test_demo.py::test_pass", 0)]["markers"] == ["websocket"]
    assert rows[("test_demo.py::test_pass", 0)]["stdout"] == "hi\n"
    assert rows[("test_demo.py::test_skip", 0)]["message"] == "later"
    klass = rows[("test_demo.py::TestK::test_m", 0)]
    assert klass["classname"] == "test_demo.TestK" and klass["name"] == "test_m"
    assert klass["stderr"] == "e\n"


def test_reportlog_truncated_keeps_what_was_written(tmp_path):
    lines = REPORTLOG.read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(lines[:12]) + lines[12][:40])
    parsed = _read(parse_reportlog, cut)
    assert parsed.rows, "rows before the cut must be kept"
    assert any("cut.jsonl:13: invalid JSON" in w for w in parsed.warnings)
    assert any("did not finish" in w for w in parsed.warnings)


def test_reportlog_garbage_raises_one_line_error():
    with pytest.raises(IngestError) as err:
        parse_reportlog(io.BytesIO(b"\x00\x01garbage\n"), "bad.jsonl")
    assert str(err.value).startswith("bad.jsonl: ") and "\n" not in str(err.value)


def test_json_report_outcomes_and_implied_times():
    parsed = _read(parse_json_report, JSONREPORT)
    assert parsed.format is TestFormat.PYTEST_JSON
    rows = {r["test_id"].split("::")[-1]: r for r in parsed.rows}
    assert rows["test_skip"]["message"] == "later"
    assert rows["test_err"]["outcome"] == "error"
    assert rows["test_xpass"]["outcome"] == "xpassed"
    assert rows["test_flaky"]["properties"] == {"reran": True}
    starts = [r["start"] for r in parsed.rows]
    assert starts == sorted(starts) and starts[0].tzinfo is not None
    assert parsed.declared.tests == len(parsed.rows)


def test_json_report_invalid_json_names_line():
    with pytest.raises(IngestError, match=r"r\.json:2: invalid JSON"):
        parse_json_report(io.BytesIO(b'{"tests": [\n,,]}'), "r.json")


def test_json_report_corpus_sample_counts_match_summary():
    path = corpus_or_skip("pytest") / "pytest-json-report__sample_report.json"
    parsed = _read(parse_json_report, path)
    outcomes = [r["outcome"] for r in parsed.rows]
    assert len(outcomes) == parsed.declared.tests == 10
    assert outcomes.count("failed") == parsed.declared.failures
    assert outcomes.count("error") == parsed.declared.errors
    assert outcomes.count("xfailed") == 1 and outcomes.count("xpassed") == 1
