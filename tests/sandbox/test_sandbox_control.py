"""Starting and stopping sandboxes: ports, state files, clean exits, clear startup errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

import whyloop.sandbox.control as control
from whyloop.sandbox import SandboxError, down, up


def _free_port_pair() -> int:
    for _ in range(20):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
        try:
            with socket.socket() as b, socket.socket() as c:
                b.bind(("127.0.0.1", port))
                c.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    pytest.skip("no two adjacent free ports")


def test_services_exit_cleanly_on_sigterm(start_sandbox) -> None:
    box = start_sandbox()
    box.down()
    assert box.exit_codes == {"auth": 0, "backend": 0}
    log = box.log_paths["backend"].read_text().splitlines()
    assert json.loads(log[-1])["message"] == "service stopped"


def test_down_from_the_state_file_stops_a_sandbox_started_elsewhere(
    start_sandbox, tmp_path: Path
) -> None:
    box = start_sandbox()
    assert sorted(down(box.state_dir)) == ["auth", "backend"]
    assert not (box.state_dir / "sandbox.json").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(box.backend_url + "/health", timeout=2.0)
    assert down(box.state_dir) == [] and down(tmp_path / "never-used") == []


def test_a_second_up_in_the_same_state_dir_is_refused(start_sandbox, tmp_path: Path) -> None:
    box = start_sandbox()
    with pytest.raises(SandboxError, match="already running"):
        up(state_dir=box.state_dir)


def test_a_stale_state_file_is_replaced(start_sandbox, tmp_path: Path) -> None:
    state = tmp_path / "sandbox0"
    state.mkdir()
    (state / "sandbox.json").write_text(
        json.dumps({"pids": {"auth": 9_999_999, "backend": 9_999_998}})
    )
    box = start_sandbox()
    assert json.loads((state / "sandbox.json").read_text())["pids"] == box.pids


def test_a_base_port_gives_auth_the_port_and_backend_the_next(start_sandbox) -> None:
    port = _free_port_pair()
    box = start_sandbox(port=port)
    assert box.ports == {"auth": port, "backend": port + 1}
    assert box.ws_url == f"ws://127.0.0.1:{port + 1}/ws"


def test_a_busy_port_is_a_clear_error(start_sandbox) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        with pytest.raises(SandboxError, match=r"cannot bind 127\.0\.0\.1"):
            start_sandbox(port=busy.getsockname()[1])


def test_a_child_that_dies_at_startup_is_reported_with_its_stderr(
    start_sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(control, "_MODULE", "whyloop.sandbox.no_such_module")
    with pytest.raises(SandboxError) as info:
        start_sandbox()
    message = str(info.value)
    assert "exited with status 1 during startup" in message and "No module named" in message
    assert not (tmp_path / "sandbox0" / "sandbox.json").exists()


def test_context_manager_stops_the_sandbox(tmp_path: Path) -> None:
    with up(state_dir=tmp_path / "ctx") as box:
        assert httpx.get(box.auth_url + "/health", timeout=5.0).status_code == 200
    assert set(box.exit_codes) == {"auth", "backend"}
    assert not (tmp_path / "ctx" / "sandbox.json").exists()
