"""Text logs without a given format: each common format is recognised on lines its real program wrote.

Python logging, uvicorn, tornado/Jupyter, absl (glog), logfmter and structlog
write in the test; nginx runs for real; syslog lines come from util-linux
``logger`` over UDP and from rsyslog (fixtures, see tests/fixtures/logs/README.md).
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import urllib.error
import urllib.request

import pandas as pd
import pytest
import tornado.log

from tests.ingest.logs.conftest import RECORDS, WriteLog
from tests.support import FIXTURES, TIMEOUT_SCALE, free_port
from whyloop.ingest.logs.read import read_logs

LOGS = FIXTURES / "logs"
LEVELS = ["INFO", "WARNING", "ERROR", "DEBUG"]  # RECORDS' levels, as whyloop names them
MESSAGES = [m for _, m in RECORDS]


def _assert_records(df: pd.DataFrame, *, service: str | None = "app.db") -> None:
    """RECORDS came out: one record each, the traceback joined to the ERROR one."""
    assert list(df["level"]) == LEVELS
    assert df["message"][0] == MESSAGES[0]
    error = df["message"][2]
    assert error.startswith("request failed\n") and "Traceback (most recent call last):" in error
    assert error.rstrip().endswith("ValueError: bad input")
    assert df["timestamp"].notna().all()
    if service is not None:
        assert set(df["service"]) == {service}


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("%(asctime)s %(levelname)s %(name)s: %(message)s", "python-logging"),
        ("%(asctime)s %(levelname)-8s %(name)s: %(message)s", "python-logging"),
        ("%(asctime)s - %(name)s - %(levelname)s - %(message)s", "python-logging-dash"),
    ],
)
def test_python_logging_asctime_formats(write_log: WriteLog, fmt: str, name: str):
    path = write_log(logging.Formatter(fmt))
    df = read_logs(path)
    assert df.attrs["line_format"] == name
    assert df.attrs["sources"][0]["line_format"] == name
    _assert_records(df)
    assert df.attrs["warnings"] == []


def test_python_logging_default_basic_format_has_no_time(write_log: WriteLog):
    df = read_logs(write_log(logging.Formatter(logging.BASIC_FORMAT)))
    assert df.attrs["line_format"] == "python-logging-basic"
    assert list(df["level"]) == LEVELS
    assert list(df["service"]) == ["app.db"] * 4
    assert df["message"][1] == MESSAGES[1]  # "pool nearly full: 9/10": a colon in the message
    assert df["timestamp"].isna().all()  # the format has no time: none is made up


def test_uvicorn_level_prefix_with_and_without_colours(write_log: WriteLog):
    uvicorn_logging = pytest.importorskip("uvicorn.logging")
    for colours in (False, True):
        formatter = uvicorn_logging.DefaultFormatter(
            "%(levelprefix)s %(message)s", use_colors=colours
        )
        df = read_logs(write_log(formatter, name="uvicorn.error"))
        assert df.attrs["line_format"] == "python-logging-basic"
        assert list(df["level"]) == LEVELS, colours
        assert df["message"][0] == MESSAGES[0]
        assert df["service"].isna().all()  # uvicorn's prefix does not name the logger


def test_tornado_default_format(write_log: WriteLog):
    df = read_logs(write_log(tornado.log.LogFormatter()))
    assert df.attrs["line_format"] == "tornado"
    _assert_records(df, service=None)
    assert df["service"].isna().all()  # "[I 261201 13:26:21 web:2345]": a module, not a logger
    assert set(df["Module"]) == {"conftest"}
    assert df["Lineno"].notna().all()


def test_jupyter_server_format(write_log: WriteLog):
    # jupyter_server's ServerApp defaults (log_format, log_datefmt), through tornado's formatter
    formatter = tornado.log.LogFormatter(
        fmt="%(color)s[%(levelname)1.1s %(asctime)s.%(msecs).03d %(name)s]%(end_color)s "
        "%(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    df = read_logs(write_log(formatter, name="ServerApp"))
    assert df.attrs["line_format"] == "tornado"
    _assert_records(df, service="ServerApp")
    assert (df["timestamp"].dt.microsecond % 1000 == 0).all()  # milliseconds were read


def test_absl_writes_glog_lines(write_log: WriteLog):
    absl_logging = pytest.importorskip("absl.logging")
    df = read_logs(write_log(absl_logging.PythonFormatter()))
    assert df.attrs["line_format"] == "klog"
    assert list(df["level"]) == ["INFO", "WARNING", "ERROR", "INFO"]  # glog has no DEBUG: "I"
    assert df["message"][2].rstrip().endswith("ValueError: bad input")
    assert df["timestamp"].notna().all()
    assert df["File"].str.startswith("conftest.py:").all()  # "conftest.py:51]": where it logged


def test_logfmt_from_logfmter(write_log: WriteLog):
    logfmter = pytest.importorskip("logfmter")
    formatter = logfmter.Logfmter(
        keys=["at", "time", "logger"],
        mapping={"at": "levelname", "time": "asctime", "logger": "name"},
    )
    df = read_logs(write_log(formatter))
    assert df.attrs["line_format"] == "logfmt"
    assert list(df["level"]) == LEVELS  # logfmter's "at=WARNING"
    assert list(df["message"]) == [*MESSAGES[:2], "request failed", MESSAGES[3]]
    assert df["exc_info"][2].endswith("ValueError: bad input")  # the traceback is a field
    assert set(df["service"]) == {"app.db"}
    assert df["timestamp"].notna().all()


def test_logfmt_from_structlog(tmp_path):
    structlog = pytest.importorskip("structlog")
    path = tmp_path / "app.log"
    with path.open("w") as out:
        logger = structlog.wrap_logger(
            structlog.PrintLogger(out),
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.processors.LogfmtRenderer(),
            ],
        )
        logger.warning("disk almost full", free_mb=12, path="/var/lib/app data")
        logger.info("job done", job=42)
    df = read_logs(path)
    assert df.attrs["line_format"] == "logfmt"
    assert list(df["level"]) == ["WARNING", "INFO"]
    assert list(df["message"]) == ["disk almost full", "job done"]  # structlog's "event"
    assert df["path"][0] == "/var/lib/app data"  # a quoted value, unquoted
    assert df["free_mb"][0] == "12"  # logfmt has no types: text, as written
    assert df["timestamp"].notna().all()


def test_rsyslog_files_with_and_without_pri():
    pri = read_logs(LOGS / "rsyslog-pri.log")
    assert pri.attrs["line_format"] == "syslog"
    # <38> auth.info, <27> daemon.err, <28> daemon.warning, <13> user.notice, <10> kern.crit,
    # <79> cron.debug
    assert list(pri["level"]) == ["INFO", "ERROR", "WARNING", "NOTICE", "CRITICAL", "DEBUG"]
    assert list(pri["service"]) == ["sshd", "api", "api", "worker", "kernel", "cron"]
    assert pri["message"][3] == "job 42 done"  # "worker[1229] job 42 done": no ":" after the tag
    for name in ("rsyslog-traditional.log", "rsyslog-rfc3339.log"):
        df = read_logs(LOGS / name)
        assert df.attrs["line_format"] == "syslog"
        assert len(df) == 6
        assert df["level"].isna().all(), name  # without a PRI a syslog line says no severity
        assert list(df["message"]) == list(pri["message"])
        assert df["timestamp"].notna().all()
        assert (df["timestamp"].dt.month == 12).all() and (df["timestamp"].dt.day == 1).all()


def _logger_lines(flag: str) -> list[bytes]:
    """Datagrams util-linux ``logger`` sends to a UDP socket of ours, one per line."""
    binary = shutil.which("logger")
    if binary is None:
        pytest.skip("util-linux logger is not installed")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5 * TIMEOUT_SCALE)
        port = str(sock.getsockname()[1])
        lines = []
        for prio, message in (("daemon.err", "db down"), ("user.warning", "disk 91% full")):
            subprocess.run(
                [binary, "-n", "127.0.0.1", "-P", port, "-d", flag, "-t", "api", "-i",
                 "-p", prio, message],
                check=True, timeout=10 * TIMEOUT_SCALE,
            )  # fmt: skip
            lines.append(sock.recv(65536))
    return lines


@pytest.mark.parametrize(("flag", "name"), [("--rfc3164", "syslog"), ("--rfc5424", "syslog-5424")])
def test_syslog_wire_lines_from_logger(flag: str, name: str):
    df = read_logs(b"\n".join(_logger_lines(flag)) + b"\n")
    assert df.attrs["line_format"] == name
    assert list(df["level"]) == ["ERROR", "WARNING"]  # <27> daemon.err, <12> user.warning
    assert list(df["message"]) == ["db down", "disk 91% full"]
    assert list(df["service"]) == ["api", "api"]
    assert df["timestamp"].notna().all()


def test_nginx_error_and_access_logs_from_a_real_nginx(tmp_path):
    from tests.support.servers import nginx

    work = tmp_path / "nginx"
    with nginx(work, free_port(), forward_upgrade=False) as port:  # nothing upstream: 502
        for path in ("/", "/items?id=7"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)
            assert err.value.code == 502
    errors = read_logs(work / "error.log")
    assert errors.attrs["line_format"] == "nginx-error"
    assert set(errors["level"]) == {"NOTICE", "ERROR"}
    assert set(errors["level_raw"]) == {"notice", "error"}
    refused = errors[errors["level"] == "ERROR"]
    assert len(refused) == 2
    assert refused["message"].str.startswith("connect() failed (111: Connection refused)").all()
    assert refused["Connection"].notna().all()  # nginx's "*2" connection number
    assert errors["timestamp"].notna().all()
    access = read_logs(work / "access.log")
    assert access.attrs["line_format"] == "combined"
    assert list(access["Status"]) == ["502", "502"]
    assert access["level"].isna().all()  # an HTTP status is not a level
    assert list(access["message"]) == ["GET / HTTP/1.1", "GET /items?id=7 HTTP/1.1"]
    assert access["timestamp"].notna().all()


def test_unrecognised_text_is_a_record_per_line_without_level_or_time():
    df = read_logs(b"starting\nworker ready\nshutting down\n")
    assert df.attrs["format"] == "text"
    assert df.attrs["line_format"] is None
    assert df["level"].isna().all() and df["timestamp"].isna().all()
    assert list(df["message"]) == ["starting", "worker ready", "shutting down"]


def test_logfmt_bare_keys_and_lines_that_continue_a_record():
    data = b'banner\nlevel=info msg="a b" ok\npanic: x\n  goroutine 1\nlevel=error msg=boom\n'
    df = read_logs(data)
    assert df.attrs["line_format"] == "logfmt"
    assert list(df["line"]) == [1, 2, 5]
    assert list(df["level"].fillna("-")) == ["-", "INFO", "ERROR"]
    assert df["message"][1] == "a b\npanic: x\n  goroutine 1"  # the panic joins its record
    assert df["ok"][1] == ""  # a bare key: present, without a value
    assert df.attrs["warnings"] == [
        "<bytes>:1: 1 lines before the first logfmt line kept as message-only records"
    ]
