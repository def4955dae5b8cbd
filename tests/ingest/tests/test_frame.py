"""Columnar results (``ResultColumns``) become the same frame as row dicts (``whyloop.ingest.tests.frame``)."""

import io

import pandas as pd
import pytest

from tests.support import FIXTURES
from whyloop.ingest.tests.contract import ParsedTests, ResultColumns
from whyloop.ingest.tests.frame import empty_frame, to_frame
from whyloop.ingest.tests.junit import parse_junit

UNREADABLE = {"junit-xxe.xml", "junit-billion-laughs.xml", "junit-not-utf8-first.xml"}
JUNIT = sorted(
    p.name
    for p in (FIXTURES / "tests").glob("*.xml")
    if p.name.startswith(("junit-", "pytest-")) and p.name not in UNREADABLE
)


def _both(data: bytes, path: str = "results.xml") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame from parse_junit's columns, and from the same results as row dicts."""
    parsed = parse_junit(io.BytesIO(data), path)
    as_rows = ParsedTests(parsed.format, rows=parsed.rows, declared=parsed.declared)
    return to_frame(parsed, path), to_frame(as_rows, path)


@pytest.mark.parametrize("name", JUNIT)
def test_columns_and_rows_give_the_same_frame(name):
    columnar, rows = _both((FIXTURES / "tests" / name).read_bytes(), name)
    pd.testing.assert_frame_equal(columnar, rows, check_exact=True)
    assert list(columnar.dtypes) == list(rows.dtypes)


def test_a_large_file_across_chunks_nested_suites_and_failures():
    cases = "".join(
        f'<testcase name="t{i}" classname="k.C{i % 7}" time="0.001"/>'
        if i % 97
        else f'<testcase name="t{i}" classname="k.C{i % 7}" time="x">'
        f'<failure message="boom {i}" type="E">trace ü {i}</failure></testcase>'
        for i in range(20_000)
    )
    data = (
        '<testsuites><testsuite name="outer" timestamp="2026-01-01T00:00:00">'
        f'<testsuite name="inner">{cases}</testsuite>{cases}</testsuite></testsuites>'
    ).encode()
    columnar, rows = _both(data, "a/much/longer/path/to/results.xml")
    pd.testing.assert_frame_equal(columnar, rows, check_exact=True)
    assert len(columnar) == 40_000
    assert (columnar["file"] == "a/much/longer/path/to/results.xml").all()
    assert columnar.loc[0, "properties"] == '{"suite_path": "outer/inner"}'


def test_rows_are_gone_once_the_columns_are_handed_over():
    parsed = parse_junit(io.BytesIO(b'<testsuite name="s"><testcase name="t"/></testsuite>'), "x")
    assert parsed.n_rows == 1 and parsed.rows[0]["test_id"] == "s::t"
    to_frame(parsed, "x")
    assert parsed.n_rows == 1
    with pytest.raises(RuntimeError):
        parsed.rows  # noqa: B018


def test_empty_columns_give_the_empty_frame():
    empty = ParsedTests(
        parse_junit(io.BytesIO(b"<testsuite/>"), "x").format, columns=ResultColumns()
    )
    frame = to_frame(empty, "x")
    assert frame.empty
    assert list(frame.dtypes) == list(empty_frame().dtypes)
