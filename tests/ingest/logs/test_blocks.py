"""Text logs are read in blocks: where the blocks end must not change what comes out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tests.support import FIXTURES
from whyloop.ingest.logs import lines as logs_lines
from whyloop.ingest.logs.frame import REPEAT_ROWS, constant, join_records, null_column, to_frame
from whyloop.ingest.logs.lines import line_blocks
from whyloop.ingest.logs.text import parse_text_logs

LOGS = FIXTURES / "logs"
LOGHUB = "<Date> <Time> <Level> <Component>: <Content>"


def _mixed_log() -> bytes:
    """Banners before the first record, tracebacks, blank lines, CRLF and times read in turn."""
    out = [b"banner without a time", b"", b"  indented banner"]
    for i in range(700):
        date, time = "2024-05-01", f"10:{i // 60 % 60:02d}:{i % 60:02d},{i % 1000:03d}"
        if i % 50 == 7:
            date = "not-a-date"  # unreadable: kept in timestamp_raw, with a warning
        if i % 50 == 9:
            time = "25:99:99"  # only the date alone can be read
        if i % 50 == 11:
            date = "2024/05/01"  # another way of writing it, but not with the ,fraction
        level = "WARN" if i % 3 else "INFO"
        out.append(f"{date} {time} {level} app.svc{i % 4}: message {i}".encode())
        if i % 9 == 0:
            out += [b"Traceback (most recent call last):", b'  File "x.py"', b"ValueError: caf\xe9"]
        if i % 13 == 0:
            out.append(b"")
    return b"\r\n".join(out[:60]) + b"\r\n" + b"\n".join(out[60:])


@pytest.mark.parametrize(
    ("data", "options", "block"),
    [
        (LOGS / "app.log", {"line_format": "python-logging"}, 64),
        (LOGS / "cri.log", {}, 80),  # cuts between a partial line and the line ending it
        (LOGS / "syslog.log", {}, 64),
        (LOGS / "rsyslog-pri.log", {}, 100),
        (_mixed_log(), {"line_format": LOGHUB}, 2048),  # the time sample spans blocks
        (_mixed_log(), {"regex": r"^(?P<Date>\S+) (?=\d)(?P<Time>\S+) (?P<Content>.*)$"}, 4096),
        (b"first\n\n  second\nthird", {}, 8),
    ],
    ids=["traceback", "cri", "syslog", "rsyslog", "mixed", "python-regex", "plain"],
)
def test_block_size_does_not_change_the_result(monkeypatch, data, options, block):
    whole = parse_text_logs(data, name="x.log", **options)
    monkeypatch.setattr(logs_lines, "BLOCK_BYTES", block)
    assert len(list(line_blocks(data))) > 1
    cut = parse_text_logs(data, name="x.log", **options)
    pd.testing.assert_frame_equal(to_frame(cut.table), to_frame(whole.table), check_exact=True)
    assert cut.warnings == whole.warnings
    assert cut.format is whole.format


def test_mixed_log_uses_every_time_candidate():
    result = parse_text_logs(_mixed_log(), name="x.log", line_format=LOGHUB)
    df = to_frame(result.table)
    assert df["timestamp"].notna().sum() == 700 - 28  # i % 50 in (7, 11) cannot be read
    assert df["timestamp_raw"].notna().sum() == 28
    assert df["timestamp"][2 + 9] == pd.Timestamp("2024-05-01T00:00Z")  # the date alone
    assert df["message"][2] == 'message 0\nTraceback (most recent call last):\n  File "x.py"\n' + (
        "ValueError: caf\ufffd"
    )
    assert result.warnings[0] == (
        "x.log:1: 2 lines before the first line matching the format kept as message-only records"
    )


def test_line_blocks_end_at_line_ends(tmp_path):
    data = b"a\n" + b"x" * 300 + b"\nb\r\nc"
    path = tmp_path / "x.log"
    path.write_bytes(data)
    for source in (data, path):
        blocks = list(line_blocks(source, size=16))
        lines = [x for _, block in blocks for x in block.to_pylist()]
        assert lines == ["a", "x" * 300, "b", "c"]
        assert [before for before, _ in blocks] == list(
            np.cumsum([0] + [len(b) for _, b in blocks])
        )[:-1]
    assert [len(b) for _, b in line_blocks(b"")] == [0]


def test_join_records_appends_continuations():
    table = pa.table(
        {
            "message": pa.array(["orphan", "head", None, "cont\r\n", "solo", "h2", "c2"]),
            "line": range(7),
        }
    )
    starts = np.array([False, True, False, False, True, True, False])
    out = join_records(table, starts)
    assert out.column("message").to_pylist() == ["orphan", "head\n\ncont", "solo", "h2\nc2"]
    assert out.column("line").to_pylist() == [0, 1, 4, 5]
    assert join_records(table, starts, sep="").column("message")[1].as_py() == "headcont\r\n"
    assert join_records(table, np.ones(7, dtype=bool)) is table


def test_a_repeated_value_costs_one_chunk():
    n = REPEAT_ROWS * 3 + 5
    source = constant(n, "logs/a-rather-long-file-name.log")
    assert len(source) == n
    assert source.unique().to_pylist() == ["logs/a-rather-long-file-name.log"]
    assert len({chunk.buffers()[2].address for chunk in source.chunks}) == 1
    nulls = null_column(n, pa.large_string())
    assert nulls.null_count == n
    assert len({chunk.buffers()[1].address for chunk in nulls.chunks}) == 1
