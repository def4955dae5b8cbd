"""What the bytes are: binary files refused, UTF-16/32 decoded, invalid UTF-8 replaced and counted."""

from __future__ import annotations

import gzip
import logging
import sqlite3
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pythonjsonlogger.json import JsonFormatter

from tests.ingest.logs.conftest import WriteLog
from whyloop.cli import main
from whyloop.errors import IngestError
from whyloop.ingest.logs import lines as logs_lines
from whyloop.ingest.logs.encoding import check_text
from whyloop.ingest.logs.read import read_logs

PY_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _binaries(tmp_path: Path) -> dict[str, Path]:
    """Files real tools wrote that are not logs: a database, Parquet, gzip of it, an executable."""
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        con.executemany("INSERT INTO t (name) VALUES (?)", [(f"row {i}",) for i in range(200)])
    con.close()
    parquet = tmp_path / "logs.parquet"
    pq.write_table(pa.table({"message": [f"line {i}" for i in range(200)]}), parquet)
    gz = tmp_path / "app.db.gz"
    gz.write_bytes(gzip.compress(db.read_bytes()))
    archive = tmp_path / "logs.zip"  # compressed text: bytes that look random
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "app.log",
            "".join(f"2026-12-01 10:00:{i % 60:02d} INFO line {i * 7919}\n" for i in range(20000)),
        )
    return {
        "sqlite": db,
        "parquet": parquet,
        "gzip": gz,
        "zip": archive,
        "python": Path(sys.executable).resolve(),
    }


def test_binary_files_are_refused_in_one_line(tmp_path):
    for kind, path in _binaries(tmp_path).items():
        with pytest.raises(IngestError) as err:
            read_logs(path)
        assert str(err.value) == f"{path}: looks binary, not a log", kind


def test_the_cli_refuses_a_binary_file_with_exit_1(tmp_path, capsys):
    db = _binaries(tmp_path)["sqlite"]
    assert main(["ingest", "logs", str(db)]) == 1
    err = capsys.readouterr().err
    assert err == f"whyloop: {db}: looks binary, not a log\n"


def test_a_binary_file_among_logs_is_skipped_with_a_warning(tmp_path, write_log: WriteLog):
    log = write_log(logging.Formatter(PY_FORMAT))
    db = _binaries(tmp_path)["sqlite"]
    df = read_logs([str(log), str(db)])
    assert len(df) == 4
    assert f"{db}: looks binary, not a log; source skipped" in df.attrs["warnings"]


def test_text_in_another_encoding_is_text_with_its_bytes_counted(write_log: WriteLog):
    # a handler writing GB18030: most bytes of the messages are not UTF-8, but it is text
    path = write_log(
        logging.Formatter(PY_FORMAT), encoding="gb18030", extra=" 数据库连接被拒绝" * 4
    )
    check_text(path.read_bytes(), path.name)
    df = read_logs(path)
    assert df.attrs["line_format"] == "python-logging"
    assert list(df["level"]) == ["INFO", "WARNING", "ERROR", "DEBUG"]
    assert df.attrs["warnings"][0].endswith("invalid UTF-8 bytes replaced")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_bom_are_decoded(write_log: WriteLog, encoding: str):
    # "utf-16" writes the machine's byte order with a BOM; -be with none, so add one
    utf8 = write_log(logging.Formatter(PY_FORMAT), extra=" café ✓")
    text_path = write_log(logging.Formatter(PY_FORMAT), encoding=encoding, extra=" café ✓")
    if encoding == "utf-16-be":
        text_path.write_bytes(b"\xfe\xff" + text_path.read_bytes())
    want, got = read_logs(utf8), read_logs(text_path)
    assert got.attrs["line_format"] == "python-logging"
    assert got.attrs["warnings"] == []
    assert list(got["message"]) == list(want["message"])
    assert got["message"][0] == "listening on 8080 café ✓"
    assert list(got["level"]) == list(want["level"])


def test_utf16_is_decoded_block_by_block(monkeypatch, write_log: WriteLog):
    path = write_log(logging.Formatter(PY_FORMAT), encoding="utf-16", extra=" é" * 40)
    whole = read_logs(path)
    monkeypatch.setattr(logs_lines, "BLOCK_BYTES", 64)
    assert len(list(logs_lines.line_blocks(path))) > 4
    pd.testing.assert_frame_equal(read_logs(path), whole)


def test_utf16_json_lines_are_decoded(write_log: WriteLog):
    formatter = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s", json_ensure_ascii=False
    )
    df = read_logs(write_log(formatter, encoding="utf-16", extra=" café"))
    assert df.attrs["format"] == "json"
    assert list(df["level"]) == ["INFO", "WARNING", "ERROR", "DEBUG"]
    assert df["message"][0] == "listening on 8080 café"


def test_utf16_without_a_bom_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes("2026-12-01 10:00:00,000 INFO app: hello\n".encode("utf-16-le") * 20)
    with pytest.raises(
        IngestError, match=r"app.log: looks like UTF-16LE text without a byte-order"
    ):
        read_logs(path)


def test_invalid_utf8_bytes_are_replaced_and_counted(write_log: WriteLog):
    # a handler writing Latin-1: "é" is one byte, 0xE9, which is not UTF-8
    path = write_log(logging.Formatter(PY_FORMAT), encoding="latin-1", extra=" café")
    df = read_logs(path)
    assert df["message"][0] == "listening on 8080 caf\ufffd"
    assert df.attrs["warnings"] == [f"{path}: 4 invalid UTF-8 bytes replaced"]
    plain = read_logs(b"caf\xe9 \xff\xfe ok\nfine\n")  # no line format: still counted
    assert plain["message"][0] == "caf\ufffd \ufffd\ufffd ok"
    assert plain.attrs["warnings"] == ["<bytes>: 3 invalid UTF-8 bytes replaced"]


def test_invalid_utf8_in_json_lines_is_replaced_not_skipped(write_log: WriteLog):
    formatter = JsonFormatter("%(levelname)s %(name)s %(message)s", json_ensure_ascii=False)
    path = write_log(formatter, encoding="latin-1", extra=" café")
    df = read_logs(path)
    assert len(df) == 4
    assert df["message"][1] == "pool nearly full: 9/10 caf\ufffd"
    assert df.attrs["warnings"] == [f"{path}: 4 invalid UTF-8 bytes replaced"]
