"""Probes: rerun what failed and take the live system apart stage by stage.

Each probe records what it observed (the edge: :mod:`.ws.recorder`,
:mod:`.http.probe`) and hands it to a pure judge (:mod:`.ws.judge`,
:mod:`.http.judge`) that names the first stage that broke and says why, with
evidence::

    from whyloop.probes import probe_ws, probe_http, run_suite

    result = probe_ws("ws://127.0.0.1:8080/ws", token=token, auth="auto")
    result.failed_stage, result.diagnosis, result.to_dict()["auth_matrix"]

``rerun_failures`` reruns failed tests; ``whyloop.analyze`` classifies the
reruns and derives findings. The network libraries load on first use of a
probe, not on ``import whyloop.probes``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from whyloop.analyze.findings import Finding, derive_findings, findings_frame
from whyloop.analyze.flaky import classify_reruns
from whyloop.results import ProbeResult, StageResult
from whyloop.schema import Stage, Verdict

__all__ = [
    "AuthMethod",
    "Finding",
    "ProbeResult",
    "Stage",
    "StageResult",
    "Verdict",
    "WsOptions",
    "classify_reruns",
    "derive_findings",
    "findings_frame",
    "probe_http",
    "probe_http_async",
    "probe_websocket",
    "probe_ws",
    "rerun_failures",
    "run_suite",
]

#: names loaded on first use, so that importing whyloop does not load httpx, aiohttp or websockets
_LAZY = {
    "AuthMethod": "whyloop.probes.ws.options",
    "WsOptions": "whyloop.probes.ws.options",
    "probe_http": "whyloop.probes.http.probe",
    "probe_http_async": "whyloop.probes.http.probe",
    "probe_websocket": "whyloop.probes.ws.probe",
    "probe_ws": "whyloop.probes.ws.probe",
    "rerun_failures": "whyloop.probes.rerun",
    "run_suite": "whyloop.probes.suite.run",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'whyloop.probes' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
