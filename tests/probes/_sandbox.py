"""Real servers for the probe tests: sandboxes, a plain HTTP server and nginx, all on 127.0.0.1.

Imported explicitly by the test modules (pytest only auto-loads conftest.py).
Every server here is started in a context manager that always stops it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from whyloop.sandbox import Sandbox, up

#: one constant scales every timeout in these tests
TIMEOUT_SCALE = float(os.environ.get("WHYLOOP_TEST_TIMEOUT_SCALE", "1"))
#: the per-stage timeout the probes get in tests (the no-welcome case waits this long)
STAGE_S = 1.5 * TIMEOUT_SCALE
#: the per-stage timeout of probes expected to pass (generous: a loaded CI machine is slow)
OK_S = 5.0 * TIMEOUT_SCALE
PASSWORD = "probe-password"


@contextlib.contextmanager
def sandbox(state_dir: Path, faults: tuple[str, ...] = (), **kwargs: object) -> Iterator[Sandbox]:
    """A sandbox with ``faults``; stopped however the test ends."""
    box = up(faults=faults, state_dir=state_dir, **kwargs)  # type: ignore[arg-type]
    try:
        yield box
    finally:
        box.down()


def login(box: Sandbox, username: str = "probe_user") -> str:
    """An access token from the sandbox's auth service."""
    answer = httpx.post(
        f"{box.auth_url}/auth/login",
        json={"username": username, "password": PASSWORD},
        timeout=10 * TIMEOUT_SCALE,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def free_port() -> int:
    """A port nothing listens on right now (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Plain(BaseHTTPRequestHandler):
    """Answers every GET with 200 and a small HTML page, Upgrade header or not."""

    def do_GET(self) -> None:
        body = b"<html><head><title>Welcome</title></head><body>plain HTTP</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def plain_http_server(version: str = "HTTP/1.1") -> Iterator[str]:
    """A stdlib HTTP server on 127.0.0.1 that ignores upgrades; yields its base URL (http://)."""
    handler = type("Plain", (_Plain,), {"protocol_version": version})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def nginx_binary() -> str:
    """The nginx executable, or skip the test saying how to get one."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if not found:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    return found


_CONF = """\
daemon off;
worker_processes 1;
{user}pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port}{tls};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_read_timeout 30s;
{upgrade}        }}
    }}
}}
"""
_UPGRADE = """\
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
"""


def self_signed(workdir: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for localhost and 127.0.0.1 (openssl CLI, or skip)."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("the openssl command is not installed")
    key, cert = workdir / "key.pem", workdir / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "30", "-subj", "/CN=localhost/O=whyloop test",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


@contextlib.contextmanager
def nginx(
    workdir: Path, upstream_port: int, *, forward_upgrade: bool, tls: bool = False
) -> Iterator[int]:
    """nginx reverse-proxying 127.0.0.1:<port> to ``upstream_port``; yields the port.

    ``forward_upgrade`` adds the three lines a WebSocket needs; without them
    nginx speaks HTTP/1.0 upstream and drops Upgrade/Connection. ``tls``
    serves a fresh self-signed certificate.
    """
    binary = nginx_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    tls_conf = ""
    if tls:
        cert, key = self_signed(workdir)
        tls_conf = f" ssl;\n        ssl_certificate {cert};\n        ssl_certificate_key {key}"
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(
        _CONF.format(
            dir=workdir,
            port=port,
            upstream=upstream_port,
            # as root, nginx would switch its worker to `nobody`, which cannot write tmp_path
            user="user root;\n" if os.geteuid() == 0 else "",
            upgrade=_UPGRADE if forward_upgrade else "",
            tls=tls_conf,
        )
    )
    proc = subprocess.Popen(
        [binary, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_listening(proc, port, workdir)
        yield port
    finally:
        _stop(proc)


def _wait_listening(proc: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
    deadline = time.monotonic() + 10 * TIMEOUT_SCALE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (workdir / "error.log").read_text(errors="replace")[-2000:]
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"nginx exited with {proc.returncode}: {err} {log}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port} within 10 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGQUIT (graceful), then SIGKILL to the process group after a bounded wait."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=5 * TIMEOUT_SCALE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    if proc.stderr:
        proc.stderr.close()
