"""Real servers for the tests, all on 127.0.0.1, each in a context manager that always stops it.

:func:`serve_app` runs a Starlette app under uvicorn in a thread (optionally
with TLS); :func:`local_app` has the behaviours the HTTP probe must tell
apart (redirects, loops, a slow handler, a non-JSON body, CORS for one origin,
503 with Retry-After, its own 502); :func:`plain_http_server` ignores upgrades;
:func:`nginx` is a real reverse proxy in front of an upstream, :func:`silent_upstream`
one that never answers; :func:`self_signed` makes a certificate, :func:`certificate`
one with any names and dates, self-signed or signed by a :func:`throwaway_ca`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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
            proxy_read_timeout {read_timeout};
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


_CA_CONF = """\
[ ca ]
default_ca = whyloop
[ whyloop ]
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[ anything ]
commonName = supplied
organizationName = optional
"""


def _openssl() -> str:
    found = shutil.which("openssl")
    if not found:
        pytest.skip("the openssl command is not installed")
    return found


def throwaway_ca(workdir: Path, name: str = "whyloop throwaway CA") -> tuple[Path, Path]:
    """A CA certificate and key no client trusts (openssl CLI): certificates it signs have an
    unknown issuer."""
    workdir.mkdir(parents=True, exist_ok=True)
    key, cert = workdir / "ca-key.pem", workdir / "ca.pem"
    subprocess.run(
        [_openssl(), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "30", "-subj", f"/CN={name}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


def certificate(
    workdir: Path,
    *,
    names: tuple[str, ...] = ("DNS:localhost", "IP:127.0.0.1"),
    common_name: str = "localhost",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    ca: tuple[Path, Path] | None = None,
) -> tuple[Path, Path]:
    """A server certificate and key with any names and validity dates; yields (cert, key).

    Self-signed unless ``ca`` (from :func:`throwaway_ca`) signs it. Dates
    default to a day ago until 30 days on; ``openssl ca`` is used because it is
    the openssl command that takes explicit start and end dates (OpenSSL 3.0's
    ``req``/``x509`` only take ``-days``), so no Python crypto package is needed.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    here = Path(tempfile.mkdtemp(prefix="cert-", dir=workdir))
    (here / "index.txt").write_text("")
    (here / "serial").write_text(f"{secrets.randbits(62) | 1 << 62:016X}\n")  # 16 hex digits
    (here / "ca.cnf").write_text(_CA_CONF.format(dir=here))
    now = datetime.now(UTC)
    start = not_before or now - timedelta(days=1)
    end = not_after or now + timedelta(days=30)
    key, csr, cert = here / "key.pem", here / "req.pem", here / "cert.pem"
    openssl = _openssl()
    subprocess.run(
        [openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-subj", f"/CN={common_name}/O=whyloop test",
         "-addext", "subjectAltName=" + ",".join(names),
         "-keyout", str(key), "-out", str(csr)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    signer = (
        ["-cert", str(ca[0]), "-keyfile", str(ca[1])] if ca else ["-selfsign", "-keyfile", str(key)]
    )
    subprocess.run(
        [openssl, "ca", "-batch", "-notext", "-config", str(here / "ca.cnf"), "-in", str(csr),
         "-out", str(cert), "-startdate", f"{start:%Y%m%d%H%M%S}Z",
         "-enddate", f"{end:%Y%m%d%H%M%S}Z", *signer],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


@contextlib.contextmanager
def silent_upstream() -> Iterator[int]:
    """A port that accepts TCP connections and never answers; yields the port.

    The socket listens and never calls accept(): the kernel completes each
    handshake into the backlog, so a proxy in front connects, sends its request
    and waits for an answer that never comes. Closed on exit.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


@contextlib.contextmanager
def nginx(
    workdir: Path,
    upstream_port: int,
    *,
    forward_upgrade: bool,
    tls: bool = False,
    read_timeout: str = "30s",
) -> Iterator[int]:
    """nginx reverse-proxying 127.0.0.1:<port> to ``upstream_port``; yields the port.

    ``forward_upgrade`` adds the three lines a WebSocket needs; without them
    nginx speaks HTTP/1.0 upstream and drops Upgrade/Connection. ``tls``
    serves a fresh self-signed certificate. ``read_timeout`` is nginx's
    ``proxy_read_timeout`` (``"800ms"``, ``"2s"``): how long it waits for the
    upstream's answer before it gives up with a 504.
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
            read_timeout=read_timeout,
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

    async def loop_a(_r: Request) -> Response:
        return RedirectResponse("/loop-b", status_code=302)

    async def loop_b(_r: Request) -> Response:
        return RedirectResponse("/loop-a", status_code=302)

    async def self_loop(_r: Request) -> Response:
        return RedirectResponse("/self", status_code=307)

    async def chain(r: Request) -> Response:
        # /chain/3 -> /chain/2 -> /chain/1 -> /chain/0 -> /ok: a long chain, no loop
        left = int(r.path_params["left"])
        return RedirectResponse(f"/chain/{left - 1}" if left else "/ok", status_code=302)

    async def busy(_r: Request) -> Response:
        return PlainTextResponse("down for maintenance", 503, headers={"Retry-After": "120"})

    async def busy_until(_r: Request) -> Response:
        until = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
        return PlainTextResponse("down for maintenance", 503, headers={"Retry-After": until})

    async def form(r: Request) -> Response:
        # post/redirect/get to the same URL: not a loop, the method changes
        if r.method == "POST":
            return RedirectResponse("/form", status_code=303)
        return PlainTextResponse("the form")

    async def bad_gateway(_r: Request) -> Response:
        # the application itself answers 502 (it relays a failed call to a payment service)
        return JSONResponse({"error": "payment service unreachable"}, 502)

    return Starlette(
        routes=[
            Route("/ok", ok),
            Route("/redirect", redirect),
            Route("/hop", hop),
            Route("/away", away),
            Route("/slow", slow),
            Route("/text", text),
            Route("/echo", echo),
            Route("/loop-a", loop_a),
            Route("/loop-b", loop_b),
            Route("/self", self_loop),
            Route("/chain/{left:int}", chain),
            Route("/busy", busy),
            Route("/busy-until", busy_until),
            Route("/bad-gateway", bad_gateway),
            Route("/form", form, methods=["GET", "POST"]),
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
def serve_app(
    app: Any,
    *,
    tls: tuple[Path, Path] | None = None,
    ws: str = "none",
    log_level: str = "warning",
) -> Iterator[str]:
    """Run an ASGI ``app`` under uvicorn in a thread on a free port; yield its base URL.

    ``ws`` is uvicorn's WebSocket implementation (``"none"``: plain HTTP only).
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        ws=ws,
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
