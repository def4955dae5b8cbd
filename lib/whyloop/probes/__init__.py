"""Probes: rerun what failed and take the live system apart stage by stage.

Each probe records what it observed and hands it to a pure classifier that
names the first stage that broke and says why, with evidence::

    from whyloop.probes import probe_ws, probe_http, run_suite

    result = probe_ws("ws://127.0.0.1:8080/ws", token=token, auth="auto")
    result.failed_stage, result.diagnosis, result.to_dict()["auth_matrix"]

``rerun_failures`` + ``classify_reruns`` tell flaky from consistent failures;
``derive_findings`` turns probe results, reruns, tests and logs into findings.
"""

from whyloop.probes.findings import Finding, derive_findings, findings_frame
from whyloop.probes.flaky import Verdict, classify_reruns
from whyloop.probes.http import probe_http
from whyloop.probes.model import ProbeResult, Stage, StageResult
from whyloop.probes.rerun import rerun_failures
from whyloop.probes.suite import run_suite
from whyloop.probes.websocket import probe_websocket, probe_ws

__all__ = [
    "Finding",
    "ProbeResult",
    "Stage",
    "StageResult",
    "Verdict",
    "classify_reruns",
    "derive_findings",
    "findings_frame",
    "probe_http",
    "probe_websocket",
    "probe_ws",
    "rerun_failures",
    "run_suite",
]
