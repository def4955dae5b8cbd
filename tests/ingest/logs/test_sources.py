"""Log sources: files, globs, gzip, commands, a real HTTP server; windows and caps."""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from typing import ClassVar

import pandas as pd
import pytest

from tests.support import FIXTURES
from whyloop.errors import IngestError
from whyloop.ingest.logs.read import read_logs
from whyloop.ingest.logs.sources import open_sources

LOGS = FIXTURES / "logs"
# One constant scales every timeout in this file (slow CI machines: raise it).
TIMEOUT = 10.0 * float(os.environ.get("WHYLOOP_TEST_TIMEOUT_SCALE", "1"))

CLOUDRUN = (LOGS / "cloudrun.jsonl").read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes]]] = {
        "/logs.jsonl": (200, CLOUDRUN),
        "/logs.gz": (200, gzip.compress(CLOUDRUN)),
        "/app.log": (200, (LOGS / "app.log").read_bytes()),
    }

    def do_GET(self) -> None:
        status, body = self.routes.get(self.path.split("?")[0], (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 with a free port, always shut down."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(TIMEOUT)


def test_a_file_is_parsed_in_place(tmp_path):
    (src,) = open_sources(LOGS / "cloudrun.jsonl")
    assert src.path == LOGS / "cloudrun.jsonl" and src.data is None


def test_glob_stacks_files_and_source_tells_them_apart(tmp_path):
    shutil.copy(LOGS / "cloudrun.jsonl", tmp_path / "a.jsonl")
    shutil.copy(LOGS / "journald.jsonl", tmp_path / "b.jsonl")
    df = read_logs(str(tmp_path / "*.jsonl"))
    assert df.attrs["format"] == "mixed"
    assert [s["format"] for s in df.attrs["sources"]] == ["cloud-logging", "journald"]
    assert df.groupby("source").size().to_dict() == {
        str(tmp_path / "a.jsonl"): 6,
        str(tmp_path / "b.jsonl"): 4,
    }
    assert {"httpRequest.status", "_HOSTNAME"} <= set(df.columns)  # fields of both kept
    assert isinstance(df["timestamp"].dtype, pd.DatetimeTZDtype)


def test_glob_matching_nothing_is_an_error(tmp_path):
    with pytest.raises(IngestError, match="no files match"):
        read_logs(str(tmp_path / "*.log"))


def test_gzip_is_told_by_its_magic_bytes(tmp_path):
    path = tmp_path / "app.log.1"  # no .gz suffix
    path.write_bytes(gzip.compress((LOGS / "app.log").read_bytes()))
    df = read_logs(path)
    assert df.attrs["format"] == "text"
    assert len(df) == 4
    assert df["message"][2].endswith("ValueError: bad input")
    js = tmp_path / "run.jsonl.gz"
    js.write_bytes(gzip.compress(CLOUDRUN))
    assert len(read_logs(js)) == 6


def test_max_bytes_cuts_at_a_line_end_and_warns(tmp_path):
    df = read_logs(LOGS / "cloudrun.jsonl", max_bytes=800)
    assert 1 <= len(df) < 6
    assert df.attrs["warnings"][0].startswith(f"{LOGS / 'cloudrun.jsonl'}: truncated at ")
    assert df.attrs["warnings"][0].endswith("bytes (max_bytes=800)")


def test_command_stdout_is_the_log():
    code = "import sys; sys.stdout.write(open(sys.argv[1]).read())"
    df = read_logs(
        command=[sys.executable, "-c", code, str(LOGS / "cloudrun.jsonl")], timeout=TIMEOUT
    )
    assert len(df) == 6
    assert df.attrs["format"] == "cloud-logging"
    assert df["source"][0].startswith("command: ")
    printed = read_logs(
        command=[sys.executable, "-c", "print('2026-11-24 10:00:00,000 ERROR a.b: boom')"]
    )
    assert printed["level"].tolist() == ["ERROR"]


def test_command_failure_gives_the_first_stderr_line():
    code = "import sys; sys.stderr.write('\\nError from server (NotFound): pods \"api\" not found\\nmore\\n'); sys.exit(1)"
    with pytest.raises(IngestError) as err:
        read_logs(command=[sys.executable, "-c", code], timeout=TIMEOUT)
    message = str(err.value)
    assert message.startswith("command: ")
    assert message.endswith(
        'exited with status 1: Error from server (NotFound): pods "api" not found'
    )


def test_command_timeout_and_missing_program():
    with pytest.raises(IngestError, match=r"timed out after 0.5s$"):
        read_logs(command=[sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    with pytest.raises(IngestError, match="cannot run"):
        read_logs(command=["whyloop-no-such-program-x"])


def test_command_as_a_string_and_capped_output():
    cmd = f"{sys.executable} -c \"print('x' * 50); print('y' * 50); print('z' * 5000)\""
    df = read_logs(command=cmd, max_bytes=120, timeout=TIMEOUT)
    assert list(df["message"]) == ["x" * 50, "y" * 50]
    assert "truncated at 102 bytes (max_bytes=120)" in df.attrs["warnings"][0]


def test_http_source_from_a_real_server(server):
    df = read_logs(url=f"{server}/logs.jsonl?token=abcdefghijklmnop", timeout=TIMEOUT)
    assert len(df) == 6
    assert df["source"][0] == f"{server}/logs.jsonl?token=abcd..."  # secrets redacted
    gz = read_logs(f"{server}/logs.gz", timeout=TIMEOUT)
    assert len(gz) == 6
    text = read_logs(url=f"{server}/app.log", timeout=TIMEOUT, max_bytes=100)
    assert "truncated at" in text.attrs["warnings"][0]


def test_http_error_status_is_an_ingest_error(server):
    with pytest.raises(IngestError, match=r"/missing: HTTP 404 Not Found$"):
        read_logs(url=f"{server}/missing", timeout=TIMEOUT)


def test_unreachable_url_is_an_ingest_error(server):
    port = int(server.rsplit(":", 1)[1])
    with pytest.raises(IngestError, match="ConnectError"):
        read_logs(url=f"http://127.0.0.1:{port + 1 if port < 65535 else 1}/x", timeout=TIMEOUT)


def test_since_until_window():
    df = read_logs(
        LOGS / "cloudrun.jsonl", since="2026-11-24T10:00:02Z", until="2026-11-24 10:00:05"
    )
    assert list(df["line"]) == [3, 4, 5]
    recent = read_logs(LOGS / "cloudrun.jsonl", since=dt.timedelta(days=3650))
    assert len(recent) == 6
    now = dt.datetime.now(dt.UTC)
    data = "".join(
        f'{{"time": "{(now - ago).isoformat()}", "msg": "{ago}"}}\n'
        for ago in (dt.timedelta(hours=2), dt.timedelta(minutes=10))
    ).encode()
    assert read_logs(data, since="1h")["message"].tolist() == ["0:10:00"]
    assert read_logs(data, until="90m")["message"].tolist() == ["2:00:00"]
    text = read_logs(LOGS / "app.log", since=dt.datetime(2026, 11, 24, 10, 0, 1))
    assert list(text["line"]) == [3, 9]
    assert text.attrs["warnings"][-1] == "1 records without a timestamp dropped by since/until"


def test_service_fills_only_records_without_one():
    df = read_logs(LOGS / "docker.log", service="checkout")
    assert set(df["service"]) == {"checkout"}
    cloud = read_logs(LOGS / "cloudrun.jsonl", service="checkout")
    assert set(cloud["service"]) == {"api", "worker"}


def test_one_bad_source_among_several_becomes_a_warning(tmp_path):
    (tmp_path / "empty.log").write_text("")
    df = read_logs([LOGS / "klog.log", tmp_path / "empty.log"])
    assert len(df) == 3
    assert df.attrs["warnings"] == [
        f"{tmp_path / 'empty.log'}: empty: no log records; source skipped"
    ]
    with pytest.raises(IngestError, match="empty: no log records"):
        read_logs(tmp_path / "empty.log")


def test_bad_arguments():
    with pytest.raises(IngestError, match="no log source"):
        read_logs()
    with pytest.raises(IngestError, match="unknown log format 'xml'"):
        read_logs(LOGS / "app.log", format="xml")
    with pytest.raises(IngestError, match="no such file"):
        read_logs(LOGS / "nope.log")
    with pytest.raises(IngestError, match="cannot read 'someday'"):
        read_logs(LOGS / "app.log", since="someday")


def test_forced_formats():
    assert read_logs(LOGS / "cri.log", format="cri").attrs["format"] == "cri"
    assert read_logs(LOGS / "journald.jsonl", format="journald")["level"][1] == "ERROR"
    assert read_logs(LOGS / "klog.log", format="text", line_format="klog")["level"][1] == "ERROR"
