"""The sandbox's agents: a catalog, their tools, and a run that streams events.

A run is a fixed little plan (think, call one tool, answer) so its events are
predictable: ``agent_started``, ``agent_thinking``, ``tool_executing``,
``tool_completed``, ``agent_completed``. The HTTP execute endpoint and the
WebSocket both drive :func:`run_agent`; only where the events go differs.
"""

from __future__ import annotations

import ast
import asyncio
import operator
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["AGENTS", "DEFAULT_CONFIG", "Emit", "ToolError", "run_agent", "run_tool"]

AGENTS: dict[str, dict[str, Any]] = {
    "triage": {
        "name": "Triage agent",
        "description": "Sorts incoming requests and looks up related documents.",
        "tools": ["search", "clock"],
    },
    "research": {
        "name": "Research agent",
        "description": "Answers questions with search results and arithmetic.",
        "tools": ["search", "calculator"],
    },
    "ops": {
        "name": "Ops agent",
        "description": "Reports the time and does capacity arithmetic.",
        "tools": ["clock", "calculator"],
    },
}

DEFAULT_CONFIG: dict[str, Any] = {
    "model": "sandbox-small",
    "temperature": 0.2,
    "max_steps": 5,
    "system_prompt": "You are a helpful assistant.",
}

_DOCS = (
    ("Reconnecting WebSockets", "Clients should back off and resend the token on reconnect."),
    ("Rate limits", "Each user may send a bounded number of requests per window."),
    ("Threads", "A thread keeps the history of one conversation."),
    ("Agents", "Agents use tools to answer questions."),
)

_OPS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
}

#: the arguments a run passes to its agent's first tool, given the user's text
_PLAN_ARGUMENTS: dict[str, Callable[[str], dict[str, Any]]] = {
    "search": lambda text: {"query": text.strip() or "agents"},
    "calculator": lambda _text: {"expression": "6 * 7"},
    "clock": lambda _text: {},
}

Emit = Callable[[dict[str, Any]], Awaitable[None]]


class ToolError(ValueError):
    """The tool's arguments are invalid; the message says which and why."""


def _calc(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _calc(node.body)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_calc(node.left), _calc(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_calc(node.operand))
    raise ToolError("expression may only hold numbers and + - * /")


def run_tool(tool: str, arguments: dict[str, Any]) -> Any:
    """Run one tool with its arguments; raises ToolError for bad arguments, KeyError if unknown."""
    if tool == "search":
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ToolError("search needs a non-empty string 'query'")
        words = {w.lower() for w in query.split()}
        hits = [
            {"title": t, "snippet": s}
            for t, s in _DOCS
            if words & {w.lower().strip(".,") for w in (t + " " + s).split()}
        ]
        return {"query": query, "results": hits or [{"title": _DOCS[3][0], "snippet": _DOCS[3][1]}]}
    if tool == "calculator":
        expression = arguments.get("expression")
        if not isinstance(expression, str) or len(expression) > 200:
            raise ToolError("calculator needs a string 'expression' of at most 200 characters")
        try:
            value = _calc(ast.parse(expression, mode="eval"))
        except (SyntaxError, ZeroDivisionError) as exc:
            raise ToolError(f"cannot evaluate expression: {exc}") from None
        return {"expression": expression, "value": value}
    if tool == "clock":
        return {"utc": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")}
    raise KeyError(tool)


async def run_agent(
    agent_id: str,
    text: str,
    emit: Emit,
    *,
    config: dict[str, Any],
    step_delay_s: float,
    think_s: float | None = None,
    thread_id: str | None = None,
) -> dict[str, Any]:
    """Run ``agent_id`` on ``text``, awaiting ``emit(event)`` for each event; return the result.

    ``think_s`` overrides how long the thinking step takes (the slow path).
    """
    run_id = "run_" + uuid.uuid4().hex[:12]
    start = time.perf_counter()
    base = {"run_id": run_id, "agent_id": agent_id, "thread_id": thread_id}
    tool = AGENTS[agent_id]["tools"][0]
    arguments = _PLAN_ARGUMENTS[tool](text)
    steps: list[dict[str, Any]] = []

    async def step(event: dict[str, Any], pause: float) -> None:
        steps.append(event)
        await emit({**event, **base})
        await asyncio.sleep(pause)

    await step({"type": "agent_started", "model": config.get("model")}, step_delay_s)
    await step(
        {"type": "agent_thinking", "content": f"Planning an answer to: {text[:80]}"},
        think_s if think_s is not None else step_delay_s,
    )
    await step({"type": "tool_executing", "tool": tool, "arguments": arguments}, step_delay_s)
    result = run_tool(tool, arguments)
    await step({"type": "tool_completed", "tool": tool, "result": result}, 0)
    output = f"[{agent_id}] Handled {text[:60]!r} using {tool}."
    duration_ms = round((time.perf_counter() - start) * 1000)
    done = {"type": "agent_completed", "output": output, "duration_ms": duration_ms}
    steps.append(done)
    await emit({**done, **base})
    return {
        **base,
        "status": "completed",
        "output": output,
        "duration_ms": duration_ms,
        "events": [s["type"] for s in steps],
    }
