"""Levels are read, never invented; JSON loggers' names become the service; the summary counts records without a level."""

from __future__ import annotations

import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from tests.ingest.logs.conftest import RECORDS, WriteLog
from tests.support import FIXTURES
from whyloop.analyze.summary import summarize_logs
from whyloop.cli import main
from whyloop.ingest.logs.read import read_logs

LOGS = FIXTURES / "logs"


def test_python_json_logger_fields(write_log: WriteLog):
    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    df = read_logs(write_log(formatter))
    assert df.attrs["format"] == "json"
    assert list(df["level"]) == ["INFO", "WARNING", "ERROR", "DEBUG"]
    assert set(df["service"]) == {"app.db"}  # python-json-logger's "name"
    assert list(df["message"]) == [m for _, m in RECORDS]
    assert df["exc_info"][2].endswith("ValueError: bad input")
    assert df["timestamp"].notna().all()  # "asctime"


def test_python_json_logger_without_a_level_field_has_no_level(write_log: WriteLog):
    df = read_logs(write_log(JsonFormatter()))  # its default: the message only
    assert df["level"].isna().all()
    assert df["level_raw"].isna().all()
    assert summarize_logs(df)["no_level"] == 4


def test_structlog_json_fields(tmp_path):
    structlog = pytest.importorskip("structlog")
    path = tmp_path / "app.jsonl"
    handler = logging.FileHandler(path)
    stdlib = logging.Logger("payments.api", logging.DEBUG)
    stdlib.addHandler(handler)
    logger = structlog.wrap_logger(
        stdlib,
        wrapper_class=structlog.stdlib.BoundLogger,
        processors=[
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
    )
    try:
        logger.warning("charge declined", order=17)
        logger.error("card service down")
    finally:
        handler.close()
    df = read_logs(path)
    assert list(df["message"]) == ["charge declined", "card service down"]  # "event"
    assert list(df["service"]) == ["payments.api"] * 2  # "logger"
    assert list(df["logger"]) == ["payments.api"] * 2  # and kept as it was
    assert list(df["level"]) == ["WARNING", "ERROR"]
    assert df["order"][0] == 17
    assert df["timestamp"].notna().all()


def test_a_service_field_wins_over_the_logger_name():
    df = read_logs(b'{"msg": "x", "service": "api", "logger": "api.db", "level": "info"}\n')
    assert df["service"][0] == "api"
    assert df["logger"][0] == "api.db"  # kept as a column of its own


def test_cloud_logging_default_severity_is_no_level():
    df = read_logs(LOGS / "cloudrun.jsonl")
    default = df[df["level_raw"] == "DEFAULT"]
    assert len(default) == 1 and default["level"].isna().all()


def test_summary_counts_records_without_a_level(write_log: WriteLog):
    text = write_log(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    plain = write_log(logging.Formatter("%(message)s"))  # no level in the line
    df = read_logs([str(text), str(plain)])
    summary = summarize_logs(df)
    lines = len(plain.read_text().splitlines())  # a record per line, the traceback's too
    assert summary["by_level"] == {"INFO": 1, "WARNING": 1, "ERROR": 1, "DEBUG": 1}
    assert summary["no_level"] == lines
    assert sum(summary["by_level"].values()) + summary["no_level"] == summary["rows"]
    assert summary["line_format"] == "mixed"


def test_cli_shows_records_without_a_level(write_log: WriteLog, capsys):
    path = write_log(logging.Formatter("%(message)s"))
    assert main(["ingest", "logs", str(path)]) == 0
    out = capsys.readouterr().out
    assert "format text (no line format recognised: a record per line)" in out
    assert f"by level: no level {len(path.read_text().splitlines())}" in out
    assert main(["ingest", "logs", str(LOGS / "rsyslog-pri.log"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["line_format"] == "syslog" and summary["no_level"] == 0
    assert main(["ingest", "logs", str(LOGS / "rsyslog-traditional.log")]) == 0
    out = capsys.readouterr().out
    assert "format text (syslog)" in out and "by level: no level 6" in out
