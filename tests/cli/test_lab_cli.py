"""``whyloop lab``: the kernelspec it installs, its one-line refusals, and a real lab stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import ROOT, TIMEOUT_SCALE
from whyloop.cli import main
from whyloop.errors import ReportError
from whyloop.report.lab import (
    KERNEL_DISPLAY_NAME,
    KERNEL_NAME,
    checkout_notebooks,
    kernel_dir,
    start_lab,
)

URL = re.compile(r"(http://127\.0\.0\.1:\d+)/lab\?token=([0-9a-f]+)")
#: the lab is on loopback: never through a proxy the environment names
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def test_install_kernel_writes_a_kernelspec_running_this_python(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["lab", "--install-kernel"]) == 0
    where = kernel_dir()
    assert str(where) in capsys.readouterr().out
    assert where == Path(sys.prefix) / "share" / "jupyter" / "kernels" / "whyloop"
    spec = json.loads((where / "kernel.json").read_text())
    assert spec["display_name"] == KERNEL_DISPLAY_NAME == "Python (whyloop)"
    assert spec["argv"][0] == sys.executable and "ipykernel_launcher" in spec["argv"]


def test_the_default_folder_is_the_checkouts_notebooks() -> None:
    assert checkout_notebooks() == ROOT / "notebooks"


def test_a_busy_port_is_refused_in_one_line_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(["lab", "--dir", str(tmp_path), "--port", str(port), "--no-browser"])
    err = capsys.readouterr().err
    assert status == 2
    assert err == f"whyloop: --port {port} on 127.0.0.1 is not free (Address already in use)\n"


def test_a_missing_folder_is_refused_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lab", "--dir", str(tmp_path / "nowhere"), "--no-browser"]) == 2
    assert capsys.readouterr().err == f"whyloop: --dir {tmp_path / 'nowhere'} is not a folder\n"


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc to see it")
def test_a_lab_that_does_not_answer_in_time_is_stopped_and_says_so(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"JupyterLab did not answer within 0\.2 s"):
        start_lab(tmp_path, start_timeout_s=0.2, log_path=tmp_path / "jupyter.log")
    assert not _pids_with("-m\0jupyterlab", str(tmp_path))


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def _next_match(lines: queue.Queue[str], pattern: re.Pattern[str], timeout_s: float) -> re.Match:
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if found := pattern.search(line):
            return found
    raise AssertionError(f"no {pattern.pattern!r} within {timeout_s:g} s in {seen}")


def _pids_with(*words: str) -> dict[int, bytes]:
    """The processes with all of ``words`` on their command lines, and those command lines."""
    found = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if all(w.encode() in cmdline for w in words):
                found[int(proc.name)] = cmdline
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc to see kernels")
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_lab_prints_its_url_and_a_signal_stops_it_and_its_kernels(
    tmp_path: Path, stop: signal.Signals
) -> None:
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    command = [sys.executable, "-m", "whyloop", "lab", "--dir", str(tmp_path), "--no-browser"]
    lab = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(lab.stdout, lines), daemon=True)
    reader.start()
    try:
        base, token = _next_match(lines, URL, 90 * TIMEOUT_SCALE).groups()
        auth = {"Authorization": f"token {token}"}
        with DIRECT.open(urllib.request.Request(f"{base}/api/status", headers=auth)) as r:
            assert r.status == 200
        start = urllib.request.Request(f"{base}/api/kernels", data=b"{}", headers=auth)
        with DIRECT.open(start, timeout=60 * TIMEOUT_SCALE) as r:
            kernel = json.load(r)
        assert kernel["name"] == KERNEL_NAME  # the lab's default kernel
        [(pid, cmdline)] = _pids_with(f"kernel-{kernel['id']}.json").items()
        assert cmdline.split(b"\0")[0].decode() == sys.executable  # this environment's python
        [server] = _pids_with("-m\0jupyterlab", str(tmp_path)).values()
        assert token.encode() not in server  # the token is not on a command line `ps` shows

        lab.send_signal(stop)  # SIGINT: what Ctrl-C in its terminal does
        assert lab.wait(timeout=30 * TIMEOUT_SCALE) == 0
    finally:
        if lab.poll() is None:
            lab.kill()
            lab.wait(timeout=10)
        for orphan in _pids_with("-m\0jupyterlab", str(tmp_path)):  # only if the test failed
            os.kill(orphan, signal.SIGKILL)
        reader.join(timeout=10)
        if not reader.is_alive():  # closing a pipe another thread reads would block
            lab.stdout.close()  # type: ignore[union-attr]
    _next_match(lines, re.compile("JupyterLab stopped"), 5 * TIMEOUT_SCALE)
    with pytest.raises(OSError):
        DIRECT.open(f"{base}/api/status", timeout=2)
    deadline = time.monotonic() + 10 * TIMEOUT_SCALE
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists(), "the kernel outlived the lab"
