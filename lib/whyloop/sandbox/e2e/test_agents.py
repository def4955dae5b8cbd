"""Agent infrastructure: discovery, configuration, execution, status and tools."""

from __future__ import annotations

import pytest

from whyloop.sandbox.e2e._support import AGENT_EVENTS, execute_agent, expect, expect_error

pytestmark = [pytest.mark.category("Agent Infrastructure"), pytest.mark.priority(1)]


def test_agent_discovery(client, targets, new_user) -> None:
    """GET /api/agents lists agents with ids, names and tools."""
    user = new_user()
    body = expect(
        client.get(f"{targets.backend}/api/agents", headers=user.headers), 200, "list agents"
    )
    agents = body["agents"]
    assert agents, "no agents discovered"
    for agent in agents:
        assert agent.get("id") and agent.get("name"), f"agent without id/name: {agent}"
        assert isinstance(agent.get("tools"), list) and agent["tools"], (
            f"agent without tools: {agent}"
        )


def test_agent_configuration(client, targets, new_user) -> None:
    """An agent's configuration can be read, changed, and is validated."""
    user = new_user()
    url = f"{targets.backend}/api/agents/triage/config"
    before = expect(client.get(url, headers=user.headers), 200, "read config")["config"]
    assert {"model", "temperature", "max_steps"} <= set(before), f"config lacks fields: {before}"
    changed = expect(
        client.put(url, json={"temperature": 0.7, "max_steps": 3}, headers=user.headers),
        200,
        "update config",
    )["config"]
    assert changed["temperature"] == 0.7 and changed["max_steps"] == 3
    again = expect(client.get(url, headers=user.headers), 200, "re-read config")["config"]
    assert again == changed, "the change did not persist"
    bad = expect_error(
        client.put(url, json={"temperature": 5}, headers=user.headers), (422,), "bad config"
    )
    assert any(e.get("field") == "temperature" for e in bad.get("errors", [])), bad


def test_agent_execution(client, targets, new_user) -> None:
    """Executing an agent returns a completed run with output, within the client timeout."""
    user = new_user()
    run = execute_agent(client, targets, user, "research", "find documents about threads")
    assert run["status"] == "completed", run
    assert run.get("output") and run.get("run_id"), run
    assert run.get("events") == list(AGENT_EVENTS), f"run events {run.get('events')}"


def test_agent_status(client, targets, new_user) -> None:
    """Every agent reports a status; an unknown agent is 404."""
    user = new_user()
    agents = expect(
        client.get(f"{targets.backend}/api/agents", headers=user.headers), 200, "list agents"
    )
    for agent in agents["agents"]:
        status = expect(
            client.get(f"{targets.backend}/api/agents/{agent['id']}/status", headers=user.headers),
            200,
            f"status of {agent['id']}",
        )
        assert status.get("state") in ("idle", "running"), status
        assert isinstance(status.get("runs"), int), status
    expect_error(
        client.get(f"{targets.backend}/api/agents/no-such-agent/status", headers=user.headers),
        (404,),
        "unknown agent",
    )


def test_agent_tool_execution(client, targets, new_user) -> None:
    """A tool runs with valid arguments; bad arguments are 422 and unknown tools 404."""
    user = new_user()
    base = f"{targets.backend}/api/agents/research/tools"
    calc = expect(
        client.post(
            f"{base}/calculator/execute",
            json={"arguments": {"expression": "6 * 7"}},
            headers=user.headers,
        ),
        200,
        "calculator",
    )
    assert calc["result"]["value"] == 42, calc
    found = expect(
        client.post(
            f"{base}/search/execute", json={"arguments": {"query": "threads"}}, headers=user.headers
        ),
        200,
        "search",
    )
    assert found["result"]["results"], found
    expect_error(
        client.post(
            f"{base}/calculator/execute",
            json={"arguments": {"expression": "import os"}},
            headers=user.headers,
        ),
        (422,),
        "bad arguments",
    )
    expect_error(
        client.post(f"{base}/shell/execute", json={"arguments": {}}, headers=user.headers),
        (404,),
        "unknown tool",
    )
