"""JupyterLab on the notebooks folder, with the workbench's own kernel: ``whyloop lab``.

An edge of :mod:`whyloop.report` (a subprocess and HTTP on 127.0.0.1).
:func:`install_kernel` writes the ``whyloop`` kernelspec ("Python (whyloop)")
into this environment's prefix, pointing at this interpreter, so the lab's
notebooks run in the project's environment whatever other ``python3``
kernels a machine has. :func:`start_lab` starts JupyterLab on loopback
(a free port unless one is given), waits until it answers, and returns a
:class:`Lab` whose ``url`` carries the token; :meth:`Lab.stop` ends it and
its kernels. :func:`running_lab` is the same as a context manager that
always stops it, and :func:`serve` is what the command does: start, report
the URL, wait for Ctrl-C, stop.

The server runs in a session of its own, so a Ctrl-C in the terminal reaches
only the caller, which then stops the server with SIGTERM (JupyterLab then
shuts its kernels down; a server still running after :meth:`Lab.stop`'s
``timeout_s`` is killed with its process group). It never fetches news or update checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote

from whyloop.errors import ReportError

__all__ = [
    "KERNEL_DISPLAY_NAME",
    "KERNEL_NAME",
    "Lab",
    "checkout_notebooks",
    "install_kernel",
    "kernel_dir",
    "running_lab",
    "serve",
    "start_lab",
]

#: the kernelspec the lab's notebooks run in: this environment's interpreter
KERNEL_NAME = "whyloop"
KERNEL_DISPLAY_NAME = "Python (whyloop)"
HOST = "127.0.0.1"
#: how much of the server's output a start failure quotes
LOG_TAIL = 1500
#: the lab is on loopback: never through an HTTP proxy the environment names
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def kernel_dir(prefix: str | Path | None = None) -> Path:
    """Where the ``whyloop`` kernelspec lives: ``<prefix>/share/jupyter/kernels/whyloop``."""
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def install_kernel(*, prefix: str | Path | None = None) -> Path:
    """Install (or refresh) the ``whyloop`` kernelspec for this interpreter; return its folder.

    ``prefix`` defaults to ``sys.prefix`` (the virtual environment), where
    Jupyter run from this environment finds it; the kernel runs ``sys.executable``.
    """
    from ipykernel.kernelspec import install

    try:
        where = install(
            kernel_name=KERNEL_NAME,
            display_name=KERNEL_DISPLAY_NAME,
            prefix=str(prefix or sys.prefix),
        )
    except OSError as exc:
        raise ReportError(
            f"cannot install the {KERNEL_NAME} kernelspec: {exc}", path=str(kernel_dir(prefix))
        ) from exc
    return Path(where)


def checkout_notebooks() -> Path:
    """The ``notebooks/`` folder of the checkout whyloop runs from.

    ReportError (``param="notebooks_dir"``) when whyloop is installed from a
    package rather than run from a checkout: the caller must name the folder.
    """
    root = Path(__file__).resolve().parents[3]
    folder = root / "notebooks"
    if not (root / "pyproject.toml").is_file() or not folder.is_dir():
        raise ReportError(
            "whyloop is not running from a checkout with a notebooks/ folder: name the folder",
            param="notebooks_dir",
        )
    return folder


@dataclass
class Lab:
    """A running JupyterLab: its process, folder, port and token; ``url`` opens it."""

    process: subprocess.Popen[bytes]
    root_dir: Path
    port: int
    token: str
    log_path: Path | None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no token)."""
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """The lab's address with its token: what a person opens."""
        return f"{self.base_url}/lab?token={self.token}"

    def notebook_url(self, name: str) -> str:
        """The address that opens notebook ``name`` (relative to ``root_dir``) in the lab."""
        return f"{self.base_url}/lab/tree/{quote(name)}?token={self.token}"

    def api(self, path: str, *, timeout_s: float = 5) -> object:
        """GET ``/api/<path>`` with the token and return the JSON it answers."""
        request = urllib.request.Request(
            f"{self.base_url}/api/{path}", headers={"Authorization": f"token {self.token}"}
        )
        with _DIRECT.open(request, timeout=timeout_s) as response:
            return json.load(response)

    def running(self) -> bool:
        """Whether the server process is still alive."""
        return self.process.poll() is None

    def stop(self, *, timeout_s: float = 15) -> int:
        """Stop the server and its kernels; return its exit status (negative: the signal).

        SIGTERM first (JupyterLab shuts its kernels down), SIGKILL to its process
        group when it is still there after ``timeout_s``.
        """
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
                # still there, or a second Ctrl-C while it shuts down: kill it
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout_s)
                if isinstance(exc, KeyboardInterrupt):
                    raise
        return int(self.process.returncode)


def _command(root_dir: Path, port: int, kernel: str) -> list[str]:
    # Jupyter refuses to run as root unless told; containers and CI run as root
    root = ["--ServerApp.allow_root=True"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root_dir}",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # a busy port is an error, not another port
        "--ServerApp.open_browser=False",
        f"--MappingKernelManager.default_kernel_name={kernel}",
        # no calls out from a workbench: no news feed, no update check, no extension index
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        *root,
    ]


def _tail(log_path: Path | None) -> str:
    if log_path is None or not log_path.is_file():
        return "(its output went to the terminal)"
    lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    # the server's own errors ([E ...], [C ...]) say why; else its last lines
    errors = [line for line in lines if line.startswith(("[E ", "[C "))]
    return " | ".join(errors or lines[-5:])[-LOG_TAIL:] or "(it printed nothing)"


def _info_port(pid: int) -> int | None:
    """The port from the server's own info file (``jpserver-<pid>.json``), once written."""
    from jupyter_core.paths import jupyter_runtime_dir

    info = Path(jupyter_runtime_dir()) / f"jpserver-{pid}.json"
    try:
        return int(json.loads(info.read_text(encoding="utf-8"))["port"])
    except (OSError, ValueError, KeyError):
        return None  # not written yet, or written half-way


def _answers(lab: Lab) -> bool:
    try:
        lab.api("status", timeout_s=2)
    except (OSError, ValueError):
        return False
    return True


def _folder(root_dir: str | Path) -> Path:
    folder = Path(root_dir).resolve()
    if not folder.is_dir():
        raise ReportError(f"root_dir {folder} is not a folder", param="root_dir")
    return folder


def _check_port(port: int) -> None:
    """A port given must be free now: say so in one line rather than in the server's log."""
    if not 0 <= port < 65536:
        raise ReportError(f"port {port} is not a port number", param="port")
    if port:
        with socket.socket() as probe:
            # as the server binds (SO_REUSEADDR): a port in TIME_WAIT is free, one listened on is not
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError as exc:
                raise ReportError(
                    f"port {port} on {HOST} is not free ({exc.strerror})", param="port"
                ) from exc


def start_lab(
    root_dir: str | Path,
    *,
    port: int = 0,
    token: str | None = None,
    kernel: str = KERNEL_NAME,
    log_path: str | Path | None = None,
    start_timeout_s: float = 90,
) -> Lab:
    """Start JupyterLab on ``root_dir`` at 127.0.0.1:``port`` (0: a free one) and wait until it answers.

    ``kernel`` is the default kernel for new notebooks; ``token`` defaults to a
    random one; the server's output goes to ``log_path`` (default: the caller's
    stderr, file descriptor 2). ReportError, quoting the server's output, when it exits or does
    not answer within ``start_timeout_s``; the caller must :meth:`Lab.stop` it.
    """
    folder = _folder(root_dir)
    _check_port(port)
    token = token or secrets.token_hex(24)
    log = Path(log_path) if log_path is not None else None
    out: IO[bytes] | None = open(log, "ab") if log is not None else None  # noqa: SIM115
    try:
        process = subprocess.Popen(
            _command(folder, port, kernel),
            cwd=folder,
            # the token in the environment, not on a command line every local user can list
            env={**os.environ, "JUPYTER_TOKEN": token},
            stdin=subprocess.DEVNULL,
            # all of the server's output to the log, else to the caller's stderr (fd 2): the
            # caller's stdout stays its own, and a pipe reading it is not held open by the server
            stdout=out if out is not None else 2,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the caller, which stops the server
        )
    finally:
        if out is not None:
            out.close()
    lab = Lab(process=process, root_dir=folder, port=port, token=token, log_path=log)
    deadline = time.monotonic() + start_timeout_s
    try:
        while True:
            if process.poll() is not None:
                raise ReportError(
                    f"JupyterLab exited with status {process.returncode} before it was up: "
                    + _tail(log)
                )
            if time.monotonic() > deadline:
                raise ReportError(
                    f"JupyterLab did not answer within {start_timeout_s:g} s: " + _tail(log)
                )
            lab.port = lab.port or _info_port(process.pid) or 0
            if lab.port and _answers(lab):
                return lab
            time.sleep(0.2)
    except BaseException:
        lab.stop()
        raise


@contextlib.contextmanager
def running_lab(
    root_dir: str | Path,
    *,
    port: int = 0,
    token: str | None = None,
    kernel: str = KERNEL_NAME,
    log_path: str | Path | None = None,
    start_timeout_s: float = 90,
) -> Iterator[Lab]:
    """:func:`start_lab` (same arguments) as a context manager that always stops the server."""
    lab = start_lab(
        root_dir,
        port=port,
        token=token,
        kernel=kernel,
        log_path=log_path,
        start_timeout_s=start_timeout_s,
    )
    try:
        yield lab
    finally:
        lab.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve(
    root_dir: str | Path | None = None,
    *,
    port: int = 0,
    open_browser: bool | None = None,
    on_ready: Callable[[Lab], None] | None = None,
) -> int:
    """Install the kernelspec, run JupyterLab on ``root_dir`` until Ctrl-C, then stop it.

    ``root_dir`` None is the checkout's ``notebooks/`` (:func:`checkout_notebooks`).
    ``on_ready`` is called with the :class:`Lab` once it answers (the command
    prints its URL there). ``open_browser`` None opens one only where a
    display is available. Returns 0 after Ctrl-C or SIGTERM; ReportError when
    the server ends on its own with a failure.
    """
    folder = checkout_notebooks() if root_dir is None else _folder(root_dir)
    _check_port(port)
    install_kernel()
    # `kill` (SIGTERM) stops it as Ctrl-C does, rather than leave the server running alone
    previous = (
        signal.signal(signal.SIGTERM, _interrupt)
        if threading.current_thread() is threading.main_thread()
        else None
    )
    try:
        lab = start_lab(folder, port=port)
        try:
            if on_ready is not None:
                on_ready(lab)
            if open_browser if open_browser is not None else _has_display():
                webbrowser.open(lab.url)
            status = lab.process.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            lab.stop()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if status != 0:
        raise ReportError(f"JupyterLab stopped with status {status}")
    return 0
