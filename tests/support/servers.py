"""Real servers for the tests, all on 127.0.0.1, each in a context manager that always stops it.

:func:`serve_app` runs a Starlette app under uvicorn in a thread (optionally
with TLS); :func:`local_app` has the behaviours the HTTP probe must tell
apart (redirects, a slow handler, a non-JSON body, CORS for one origin);
:func:`plain_http_server` ignores upgrades; :func:`nginx` is a real reverse
proxy in front of an upstream; :func:`self_signed` makes a certificate.
"""

from __future__ import annotations

import asyncio
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

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support import TIMEOUT_SCALE, free_port

ALLOWED_ORIGIN = "http://app.example"
#: a token-looking secret the tests hand to probes and then look for in every output
SECRET_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3aHlsb29wLXRlc3QifQ.c2VjcmV0LXNpZ25hdHVyZQ"


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


def local_app() -> Starlette:
    """Endpoints for the probe tests; CORS allows :data:`ALLOWED_ORIGIN` only."""

    async def ok(_r: Request) -> Response:
        return JSONResponse({"status": "ok", "nested": {"items": [1, {"name": "x"}]}})

    async def redirect(_r: Request) -> Response:
        return RedirectResponse("/hop", status_code=301)

    async def hop(_r: Request) -> Response:
        return RedirectResponse("/ok", status_code=302)

    async def away(_r: Request) -> Response:
        return RedirectResponse("http://elsewhere.example/steal", status_code=302)

    async def slow(_r: Request) -> Response:
        await asyncio.sleep(3 * TIMEOUT_SCALE)
        return PlainTextResponse("late")

    async def text(_r: Request) -> Response:
        return PlainTextResponse("not json at all")

    async def echo(r: Request) -> Response:
        # a careless debug endpoint: sends the request's headers (credentials too) back
        return JSONResponse({"headers": dict(r.headers), "query": str(r.query_params)})

    return Starlette(
        routes=[
            Route("/ok", ok),
            Route("/redirect", redirect),
            Route("/hop", hop),
            Route("/away", away),
            Route("/slow", slow),
            Route("/text", text),
            Route("/echo", echo),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=[ALLOWED_ORIGIN],
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
                allow_credentials=True,
            )
        ],
    )


@contextlib.contextmanager
def serve_app(app: Starlette, *, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free port; yield its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ws="none",
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10 * TIMEOUT_SCALE
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
