"""Fixtures that start sandboxes on free ports and always stop them, checking nothing is left."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support import JWT_RE

from whyloop.sandbox import Sandbox, up

#: one constant scales every timeout in these tests


def pytest_configure(config: pytest.Config) -> None:
    # the e2e suite's own markers, met here when its modules are imported for inspection
    config.addinivalue_line("markers", "category(name): the part of the system a test exercises")
    config.addinivalue_line("markers", "priority(level): 1 is must-pass before a release")


def assert_stopped(box: Sandbox) -> None:
    """Every service process of ``box`` is gone (reaped, not a zombie)."""
    for name, pid in box.pids.items():
        assert not Path(f"/proc/{pid}").exists() or _is_other_program(pid), (
            f"{name} (pid {pid}) still runs"
        )


def _is_other_program(pid: int) -> bool:
    try:
        return b"whyloop.sandbox.serve" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def stop(box: Sandbox) -> None:
    """Stop ``box`` and check its processes are gone and exited cleanly."""
    box.down()
    assert_stopped(box)
    assert not (box.state_dir / "sandbox.json").exists(), "state file left behind"


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes in tmp dirs; every one is stopped at teardown, also when the test failed."""
    started: list[Sandbox] = []

    def start(faults: tuple[str, ...] | list[str] = (), **kwargs: Any) -> Sandbox:
        state = tmp_path / f"sandbox{len(started)}"
        box = up(faults=faults, state_dir=state, **kwargs)
        started.append(box)
        return box

    yield start
    for box in started:
        stop(box)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One fault-free sandbox shared by a module's tests; stopped after the module."""
    box = up(state_dir=tmp_path_factory.mktemp("sandbox"))
    try:
        yield box
    finally:
        stop(box)


def _read_log(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            raise AssertionError(f"{path.name}:{number} is not JSON: {line[:200]}") from None
        assert isinstance(record, dict), f"{path.name}:{number} is not an object"
        records.append(record)
    return records


@pytest.fixture
def read_log() -> Callable[[Path], list[dict[str, Any]]]:
    """Parse a service log into records; fails if any line is not one JSON object."""
    return _read_log


@pytest.fixture
def check_log_shape() -> Callable[[list[dict[str, Any]], str], None]:
    """Assert every record has the Cloud Run shape and no whole token."""
    return _check_log_shape


_TRACE = re.compile(r"^projects/sandbox/traces/[0-9a-f]{32}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
_LATENCY = re.compile(r"^\d+\.\d{3}s$")


def _check_log_shape(records: list[dict[str, Any]], service: str) -> None:
    assert records, f"{service} log is empty"
    for record in records:
        where = f"{service}: {json.dumps(record)[:300]}"
        assert _TIMESTAMP.match(record.get("timestamp", "")), where
        assert record.get("severity") in ("INFO", "WARNING", "ERROR"), where
        assert isinstance(record.get("message"), str) and record["message"], where
        assert _TRACE.match(record.get("logging.googleapis.com/trace", "")), where
        resource = record.get("resource", {})
        assert resource.get("type") == "cloud_run_revision", where
        assert resource.get("labels", {}).get("service_name") == service, where
        assert resource["labels"].get("revision_name", "").startswith(f"sandbox-{service}-"), where
        http = record.get("httpRequest")
        if http is not None:
            assert {"requestMethod", "requestUrl", "status", "latency", "userAgent"} <= set(http), (
                where
            )
            assert _LATENCY.match(http["latency"]), where
        text = json.dumps(record)
        assert not JWT_RE.search(text), f"a whole token is logged: {where}"
        assert not re.search(r"\bfaults?\b", text, re.IGNORECASE), (
            f"a log line names a fault: {where}"
        )
