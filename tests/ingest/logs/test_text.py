"""Plain-text log parsing: line formats, multi-line records, built-ins, CRI."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from tests.support import FIXTURES
from whyloop.errors import IngestError
from whyloop.ingest.logs.formats import named_only
from whyloop.ingest.logs.frame import FRAME_COLUMNS, LogFormat, to_frame
from whyloop.ingest.logs.lines import LineMatcher
from whyloop.ingest.logs.read import read_logs
from whyloop.ingest.logs.text import (
    LINE_FORMATS,
    detect_line_format,
    line_format_regex,
    parse_text_logs,
    split_lines,
)

LOGS = FIXTURES / "logs"


def parse(data: Path | bytes, **kw) -> tuple[pd.DataFrame, list[str], LogFormat]:
    name = data.name if isinstance(data, Path) else "mem.log"
    result = parse_text_logs(data, name=name, **kw)
    return to_frame(result.table), result.warnings, result.format


def test_traceback_lines_join_the_record_before_them():
    df, warnings, fmt = parse(LOGS / "app.log", line_format="python-logging")
    assert fmt is LogFormat.TEXT
    assert tuple(df.columns[: len(FRAME_COLUMNS)]) == FRAME_COLUMNS
    assert list(df["line"]) == [1, 2, 3, 9]
    assert df["message"][2] == (
        "request failed\n"
        "Traceback (most recent call last):\n"
        '  File "handlers.py", line 12, in handle\n'
        '    raise ValueError("bad input")\n'
        "ValueError: bad input"
    )
    assert list(df["level"].fillna("-")) == ["-", "INFO", "ERROR", "WARNING"]  # none invented
    assert list(df["service"].fillna("-")) == ["-", "app.server", "app.handlers", "app.pool"]
    assert df["timestamp"][1] == pd.Timestamp("2026-11-24T10:00:00.123Z")
    # the line before any record is kept, alone, and counted once
    assert df["message"][0] == "starting app (no timestamp yet)"
    assert warnings == [
        "app.log:1: 1 lines before the first line matching the format kept as message-only records"
    ]


def test_format_is_detected_when_not_given():
    df, _, _ = parse(LOGS / "app.log")
    assert len(df) == 4
    assert detect_line_format((LOGS / "app.log").read_bytes()) == "python-logging"
    assert detect_line_format((LOGS / "syslog.log").read_bytes()) == "syslog"
    assert detect_line_format((LOGS / "access.log").read_bytes()) == "combined"
    assert detect_line_format((LOGS / "klog.log").read_bytes()) == "klog"
    assert detect_line_format((LOGS / "cri.log").read_bytes()) == "cri"
    assert detect_line_format(b"just some words\nmore words\n") is None


def test_loghub_format_string_becomes_named_groups():
    fmt = "<Date> <Time> <Level> \\[<Process>\\] <Component>: <Content>"
    assert line_format_regex(fmt) == (
        r"^(?P<Date>.*?)\s+(?P<Time>.*?)\s+(?P<Level>.*?)\s+\[(?P<Process>.*?)\]\s+"
        r"(?P<Component>.*?):\s+(?P<Content>.*?)$"
    )
    data = b"2015-10-18 18:01:47,978 INFO [main] org.apache.App: Created app attempt_1\n"
    df, _, _ = parse(data, line_format=fmt)
    assert df["message"][0] == "Created app attempt_1"
    assert df["service"][0] == "org.apache.App"
    assert df["Process"][0] == "main"  # other tokens are kept as columns
    assert df["timestamp"][0] == pd.Timestamp("2015-10-18T18:01:47.978Z")


def test_optional_unnamed_group_in_a_format_string():
    fmt = "<Component>(\\[<PID>\\])?: <Content>"
    df, _, _ = parse(b"crond[2915]: session closed\nkernel: oops\n", line_format=fmt)
    assert list(df["service"]) == ["crond", "kernel"]
    assert df["PID"].tolist()[0] == "2915" and pd.isna(df["PID"][1])
    assert list(df["message"]) == ["session closed", "oops"]


def test_user_regex_and_a_python_only_regex():
    data = b"12:00:01 [api] E boom\n12:00:02 [db] I fine\n"
    df, _, _ = parse(
        data, regex=r"^(?P<Time>\S+) \[(?P<Service>\w+)\] (?P<Level>\w) (?P<Content>.*)$"
    )
    assert list(df["service"]) == ["api", "db"]
    assert list(df["level"]) == ["ERROR", "INFO"]
    # a look-ahead is not RE2: Python's re reads it instead
    df2, _, _ = parse(
        data, regex=r"^(?P<Time>\S+) (?=\[)\[(?P<Service>\w+)\] (?P<Level>\w) (?P<Content>.*)$"
    )
    assert list(df2["message"]) == ["boom", "fine"]


def test_builtin_syslog_combined_and_klog():
    df, _, _ = parse(LOGS / "syslog.log", line_format="syslog")
    assert list(df["service"]) == ["sshd", "api", "kernel"]
    # <30> = daemon.info, <27> = daemon.err; a line without a PRI has no level
    assert list(df["level"].fillna("-")) == ["INFO", "ERROR", "-"]
    assert df["timestamp"][2].month == 11 and df["timestamp"][2].day == 4  # "Nov  4", no year
    df, _, _ = parse(LOGS / "access.log", line_format="combined")
    assert df["level"].isna().all()  # an HTTP status is not a level
    assert list(df["Status"]) == ["200", "503", "404"]
    assert df["message"][1] == "POST /pay HTTP/1.1"
    assert df["timestamp"][1] == pd.Timestamp("2026-11-24T09:00:01Z")  # +0100 -> UTC
    assert df["UserAgent"][0] == "curl/8.0"
    df, _, _ = parse(LOGS / "klog.log", line_format="klog")
    assert list(df["level"]) == ["INFO", "ERROR", "WARNING"]
    assert df["File"][1] == "reconcile.go:88"


def test_cri_partial_lines_are_joined_and_json_lifted():
    df, warnings, fmt = parse(LOGS / "cri.log")
    assert fmt is LogFormat.CRI
    assert warnings == []
    assert list(df["line"]) == [1, 2, 4, 5]
    assert df["message"][1] == "partial line one, partial line two"
    assert df["stream"][1] == "stderr"
    assert df["level"][2] == "WARNING"
    assert df["message"][2] == "slow request"
    assert df["path"][2] == "/items"
    assert df["timestamp"][0] == pd.Timestamp("2026-11-24T10:00:00.669794Z")


def test_plain_text_without_a_format_is_one_record_per_line():
    df, warnings, _fmt = parse(b"first\n\nsecond line\r\n  third\n")
    assert list(df["message"]) == ["first", "second line", "  third"]
    assert list(df["line"]) == [1, 3, 4]
    assert df["level"].isna().all()  # nothing says a level: none is invented
    assert df["timestamp"].isna().all()
    assert warnings == []


def test_a_format_that_matches_nothing_is_an_error():
    with pytest.raises(IngestError, match=r"^mem.log: no line matches the line format$"):
        parse(b"hello\nworld\n", line_format="<Date> <Time> <Level> <Content>")


def test_unknown_line_format_name_is_an_error():
    with pytest.raises(IngestError, match="unknown line format 'nginx-json'"):
        parse(b"x\n", line_format="nginx-json")


def test_unreadable_times_warn_and_are_kept():
    data = b"081109 203615 INFO a: one\nnot-a-date 203616 INFO a: two\n"
    df, warnings, _ = parse(data, line_format="<Date> <Time> <Level> <Component>: <Content>")
    assert df["timestamp"][0] == pd.Timestamp("2008-11-09T20:36:15Z")
    assert pd.isna(df["timestamp"][1])
    assert df["timestamp_raw"][1] == "not-a-date 203616"
    assert re.match(r"mem.log: 1 records have a time that could not be read", warnings[0])


def test_invalid_utf8_and_crlf_do_not_break_lines():
    lines = split_lines(b"caf\xe9 ok\r\nsecond\r\nthird")
    assert lines.to_pylist() == ["caf\ufffd ok", "second", "third"]


def test_read_logs_text_with_bracketed_dates_is_not_json():
    data = b"[2026-11-24 10:00:00] ERROR something\n[2026-11-24 10:00:01] INFO fine\n"
    df = read_logs(data, regex=r"^\[(?P<Datetime>[^\]]+)\] (?P<Level>\w+) (?P<Content>.*)$")
    assert df.attrs["format"] == "text"
    assert list(df["level"]) == ["ERROR", "INFO"]
    plain = read_logs(data)  # auto: starts with "[" but is not a JSON array
    assert plain.attrs["format"] == "text"
    assert len(plain) == 2


def test_builtin_formats_compile_in_python_too():
    for pattern in LINE_FORMATS.values():
        assert re.compile(pattern).groupindex


def test_builtin_formats_run_in_duckdb_not_the_python_fallback():
    lines = pa.array(["x"], pa.large_string())
    for name, pattern in LINE_FORMATS.items():
        with LineMatcher(*named_only(pattern)) as matcher:
            matcher.match(lines)
            assert matcher._con is not None, name  # RE2 compiled it: vectorised


@pytest.mark.parametrize(
    ("fmt", "template"),
    [
        ("%(asctime)s [%(levelname)s] %(name)s: %(message)s", "<Date> <Time> [<Level>] <Component>: <Content>"),
        ("%(asctime)s|%(levelname)s|%(name)s|%(message)s", "<Date> <Time>|<Level>|<Component>|<Content>"),
        ("%(asctime)s (%(process)d) %(levelname)s %(name)s %(message)s", "<Date> <Time> (<Pid>) <Level> <Component> <Content>"),
        ("%(asctime)s.%(levelname)s.%(name)s: %(message)s", "<Date> <Time>.<Level>.<Component>: <Content>"),
    ],
    ids=["brackets", "pipes", "parentheses", "dots"],
)  # fmt: skip
def test_template_characters_are_literal(write_log, fmt, template):
    df = read_logs(write_log(logging.Formatter(fmt)), line_format=template)
    assert df.attrs["line_format"] == "line-format"
    assert list(df["level"]) == ["INFO", "WARNING", "ERROR", "DEBUG"]
    assert set(df["service"]) == {"app.db"}
    assert df["message"][3] == "retrying [attempt 2]"
    assert df["message"][2].rstrip().endswith("ValueError: bad input")  # the traceback joined
    assert df["timestamp"].notna().all()
    assert df.attrs["warnings"] == []


def test_template_escapes_regex_characters_but_loghub_templates_stay_regex():
    assert line_format_regex("[<Level>] a.b|(c)") == (r"^\[(?P<Level>.*?)\]\s+a\.b\|\(c\)$")
    # loghub's formats.json escapes its brackets and uses groups: read as loghub reads it
    assert line_format_regex(r"<Component>(\[<PID>\])?: <Content>") == (
        r"^(?P<Component>.*?)(\[(?P<PID>.*?)\])?:\s+(?P<Content>.*?)$"
    )
    # a dot in a plain template does not match any character
    with pytest.raises(IngestError, match="no line matches the line format"):
        parse(b"2026-12-01 10:00:00xINFO boom\n", line_format="<Date> <Time>.<Level> <Content>")
