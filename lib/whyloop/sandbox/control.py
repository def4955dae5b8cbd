"""Start and stop a sandbox: two service processes on 127.0.0.1 and a state file.

``up()`` binds the listening sockets itself (so the ports are known and held
before any child starts), starts ``python -m whyloop.sandbox.serve`` for auth
and backend in their own sessions (they outlive a CLI that started them),
waits until both answer ``/health`` and writes ``<state_dir>/sandbox.json``.
``down()`` reads that file, sends SIGTERM, waits, then SIGKILL.
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
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from whyloop.errors import ConfigError, SandboxError
from whyloop.sandbox.config import CONFIG_ENV, ServiceConfig
from whyloop.sandbox.faults import parse_faults

__all__ = ["STATE_FILE", "Sandbox", "default_state_dir", "down", "status", "up"]

STATE_FILE = "sandbox.json"
#: how long ``up()`` waits for /health, and ``down()`` for a process to exit after SIGTERM
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 6.0
_SERVICES = ("auth", "backend")
_MODULE = "whyloop.sandbox.serve"
#: handles of services started here and left running by Sandbox.detach()
_DETACHED: list[subprocess.Popen[bytes]] = []


def default_state_dir() -> Path:
    """``data/sandbox`` under the current directory."""
    return Path.cwd() / "data" / "sandbox"


@dataclass
class Sandbox:
    """A running sandbox. Stop it with :meth:`down` or use it as a context manager."""

    auth_url: str
    backend_url: str
    ws_url: str
    state_dir: Path
    log_paths: dict[str, Path]
    faults: tuple[str, ...]
    pids: dict[str, int]
    ports: dict[str, int]
    #: the HS256 secret (tests craft expired or wrong-audience tokens with it); not in the state file
    jwt_secret: str = field(repr=False)
    audience: str = "whyloop-sandbox"
    issuer: str = "whyloop-sandbox-auth"
    #: filled by :meth:`down`: each service's exit status (0 is a clean SIGTERM shutdown)
    exit_codes: dict[str, int] = field(default_factory=dict)
    _procs: dict[str, subprocess.Popen[bytes]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def down(self) -> None:
        """Stop both services (SIGTERM, then SIGKILL after a bounded wait) and remove the state file."""
        for name, proc in self._procs.items():
            self.exit_codes[name] = _stop_popen(proc)
        self._procs.clear()
        (self.state_dir / STATE_FILE).unlink(missing_ok=True)

    def detach(self) -> None:
        """Leave the services running after this process ends (``whyloop sandbox up``).

        Stop them later with :func:`down` and the same ``state_dir``. The
        process handles are kept for the life of this process, so Python neither
        warns about children still running nor leaves them as zombies once
        :func:`down` has stopped them.
        """
        _DETACHED.extend(self._procs.values())
        self._procs.clear()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.down()


def up(
    *,
    faults: Iterable[str] = (),
    port: int = 0,
    state_dir: str | Path | None = None,
    rate_limit: int = 40,
    rate_window_s: float = 10.0,
    slow_agent_s: float = 15.0,
    flaky_seed: int = 20_240_611,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> Sandbox:
    """Start auth and backend on 127.0.0.1 and return the running :class:`Sandbox`.

    ``port`` 0 picks free ports; otherwise auth gets ``port`` and the backend
    ``port + 1``. ``faults`` are names from :func:`~whyloop.sandbox.list_faults`
    (ConfigError otherwise). ``rate_limit`` requests per ``rate_window_s`` are
    allowed per user; the e2e suite needs between 20 (its busiest user makes
    about 8 calls) and 150 (its rate-limit burst). Raises SandboxError when a
    sandbox is already running in ``state_dir`` or a service does not become
    healthy in ``startup_timeout_s``.
    """
    chosen = parse_faults(faults)
    if rate_limit < 1 or rate_window_s <= 0:
        raise ConfigError(
            f"rate limit must be >= 1 per positive window, got {rate_limit}/{rate_window_s}s"
        )
    state = (Path(state_dir) if state_dir is not None else default_state_dir()).resolve()
    state.mkdir(parents=True, exist_ok=True)
    _refuse_if_running(state)
    config = ServiceConfig(
        state_dir=state,
        jwt_secret=secrets.token_hex(32),
        faults=chosen,
        rate_limit=rate_limit,
        rate_window_s=rate_window_s,
        slow_agent_s=slow_agent_s,
        flaky_seed=flaky_seed,
    )
    socks = _bind(port)
    ports = {name: s.getsockname()[1] for name, s in socks.items()}
    env = {**os.environ, CONFIG_ENV: config.to_json()}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, sock in socks.items():
            with (state / f"{name}.stderr").open("wb") as err:
                procs[name] = subprocess.Popen(
                    [sys.executable, "-m", _MODULE, name, "--fd", str(sock.fileno())],
                    pass_fds=[sock.fileno()],
                    stdin=subprocess.DEVNULL,
                    stdout=err,
                    stderr=err,
                    env=env,
                    start_new_session=True,
                    close_fds=True,
                )
    except OSError as exc:
        for proc in procs.values():
            _stop_popen(proc)
        raise SandboxError(f"cannot start sandbox services: {exc}") from None
    finally:
        for sock in socks.values():
            sock.close()
    box = Sandbox(
        auth_url=f"http://127.0.0.1:{ports['auth']}",
        backend_url=f"http://127.0.0.1:{ports['backend']}",
        ws_url=f"ws://127.0.0.1:{ports['backend']}/ws",
        state_dir=state,
        log_paths={name: state / "logs" / f"{name}.log" for name in _SERVICES},
        faults=tuple(f.value for f in chosen),
        pids={name: p.pid for name, p in procs.items()},
        ports=ports,
        jwt_secret=config.jwt_secret,
        audience=config.audience,
        issuer=config.issuer,
        _procs=procs,
    )
    try:
        _wait_healthy(box, procs, startup_timeout_s)
    except BaseException:
        box.down()
        raise
    _write_state(box)
    return box


def down(state_dir: str | Path | None = None) -> list[str]:
    """Stop the sandbox recorded in ``state_dir`` and return the names of the services stopped.

    Only processes that are still running this module are signalled (a pid
    reused by another program is left alone). The state file is removed.
    """
    state = Path(state_dir) if state_dir is not None else default_state_dir()
    path = state / STATE_FILE
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pids = {str(k): int(v) for k, v in data["pids"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SandboxError(
            "state file is unreadable; stop the services by hand", path=str(path)
        ) from None
    stopped = [name for name, pid in pids.items() if _ours(pid) and _stop_pid(pid)]
    for proc in [p for p in _DETACHED if p.pid in pids.values()]:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT_S)  # reap the child this process started
        _DETACHED.remove(proc)
    path.unlink(missing_ok=True)
    return stopped


# -- helpers ------------------------------------------------------------------


def status(state_dir: str | Path | None = None) -> dict[str, Any]:
    """The state of the sandbox started in ``state_dir``: urls, pids, log paths, faults.

    Raises SandboxError when no sandbox runs there (no state file, or its
    processes are gone).
    """
    path = Path(state_dir or default_state_dir()) / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pids = [int(p) for p in data["pids"].values()]
    except FileNotFoundError:
        raise SandboxError(
            "no sandbox running here; start one with `whyloop sandbox up`", path=str(path)
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SandboxError(f"unreadable sandbox state: {exc}", path=str(path)) from None
    if not all(_ours(pid) for pid in pids):
        raise SandboxError(
            "the sandbox recorded here is no longer running; run `whyloop sandbox down` "
            "then `whyloop sandbox up`",
            path=str(path),
        )
    return data


def _bind(port: int) -> dict[str, socket.socket]:
    socks: dict[str, socket.socket] = {}
    try:
        for offset, name in enumerate(_SERVICES):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks[name] = sock
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port + offset if port else 0))
            sock.listen(128)
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in socks.values():
            sock.close()
        raise SandboxError(
            f"cannot bind 127.0.0.1:{port + len(socks) - 1 if port else 0}: {exc.strerror}"
        ) from None
    return socks


def _wait_healthy(
    box: Sandbox, procs: dict[str, subprocess.Popen[bytes]], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    urls = {"auth": box.auth_url + "/health", "backend": box.backend_url + "/health"}
    pending = dict(urls)
    with httpx.Client(timeout=2.0) as client:
        while pending:
            for name, url in list(pending.items()):
                code = procs[name].poll()
                if code is not None:
                    raise SandboxError(
                        f"sandbox {name} exited with status {code} during startup"
                        f"{_stderr_tail(box.state_dir, name)}"
                    )
                try:
                    if client.get(url).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if not pending:
                return
            if time.monotonic() > deadline:
                names = ", ".join(pending)
                raise SandboxError(
                    f"sandbox {names} did not answer /health within {timeout_s:g} s"
                    f"{_stderr_tail(box.state_dir, next(iter(pending)))}"
                )
            time.sleep(0.05)


def _stderr_tail(state: Path, name: str, lines: int = 15) -> str:
    try:
        text = (state / f"{name}.stderr").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    tail = text.strip().splitlines()[-lines:]
    return ("; its stderr ends: " + " | ".join(tail)) if tail else "; it printed nothing"


def _write_state(box: Sandbox) -> None:
    data: dict[str, Any] = {
        "pids": box.pids,
        "ports": box.ports,
        "urls": {"auth": box.auth_url, "backend": box.backend_url, "ws": box.ws_url},
        "log_paths": {k: str(v) for k, v in box.log_paths.items()},
        "faults": list(box.faults),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp = box.state_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(box.state_dir / STATE_FILE)


def _refuse_if_running(state: Path) -> None:
    path = state / STATE_FILE
    if not path.exists():
        return
    try:
        pids = [int(p) for p in json.loads(path.read_text(encoding="utf-8"))["pids"].values()]
    except (ValueError, KeyError, TypeError, AttributeError):
        pids = []
    if any(_ours(pid) for pid in pids):
        raise SandboxError(
            "a sandbox is already running here; stop it with `whyloop sandbox down`", path=str(path)
        )
    path.unlink(missing_ok=True)  # left behind by a sandbox that died


def _ours(pid: int) -> bool:
    """True if ``pid`` is alive and (where /proc tells) runs a sandbox service."""
    if not _alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return _MODULE.encode() in cmdline.read_bytes()
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)  # reaps it if it is our exited child
        if done:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_pid(pid: int) -> bool:
    for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 2.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.05)
    return not _alive(pid)


def _stop_popen(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=5.0)
