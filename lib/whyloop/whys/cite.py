"""From what a finding cites to evidence references into the store, and stored probes back to results.

Pure. A :class:`~whyloop.analyze.findings.Finding` cites its proof as text
lines (``log: 2026-11-24T06:11:32.711Z backend ERROR ...``, ``probe stage
welcome failed in 1500 ms: ...``, ``3 failed test(s), e.g. ID: ...``);
:func:`finding_evidence` turns each into an :class:`~whyloop.whys.model.Evidence`
that points at the row of the iteration it came from, so a reviewer can open
it and ``whyloop whys check`` can tell when it is gone or contradicts the
because. :func:`probe_results` rebuilds probe results from a stored
``probes`` table (a WebSocket probe's stages, or a suite's checks), so a
draft from the store sees what the probes saw.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from whyloop.redact import redact_text
from whyloop.results import ProbeResult, Stage, StageResult
from whyloop.whys.model import Claim, Evidence, EvidenceKind
from whyloop.whys.refs import StoreRef

__all__ = ["finding_evidence", "log_evidence", "probe_results"]

_STAGE_LINE = re.compile(r"^probe stage (\w+) (passed|failed)\b")
_TESTS_LINE = re.compile(r"^\d+ failed test\(s\), e\.g\. (\S+): ")
_MESSAGE_KEY = 60  # characters of a log message that pick out its row (with the timestamp)


def _stage(value: Any) -> Stage | None:
    try:
        return Stage(str(value))
    except ValueError:
        return None


def _log_row(logs: pd.DataFrame | None, stamp: str, message: str) -> int | None:
    """Position of the log row with this timestamp whose message starts like ``message``."""
    if logs is None or logs.empty or "timestamp" not in logs or "message" not in logs:
        return None
    when = pd.to_datetime(stamp, utc=True, errors="coerce")
    if pd.isna(when):
        return None
    stamps = pd.to_datetime(logs["timestamp"], utc=True, errors="coerce")
    # the cited line keeps milliseconds only
    same = (stamps - when).abs() < pd.Timedelta(milliseconds=1)
    texts = logs["message"].astype("string").fillna("").str[:_MESSAGE_KEY]
    hit = same & (texts == message[:_MESSAGE_KEY])
    positions = [n for n, flag in enumerate(hit.tolist()) if flag]
    return positions[0] if positions else None


def log_evidence(
    line: str, logs: pd.DataFrame | None, loop: str, iteration: str, *, note: str = ""
) -> Evidence:
    """A cited log line (``timestamp service level message``) as a reference to its row."""
    stamp, _, rest = line.partition(" ")
    message = rest.split(" ", 2)[2] if rest.count(" ") >= 2 else rest
    row = _log_row(logs, stamp, message)
    where = {"row": str(row)} if row is not None else {"message~": message[:_MESSAGE_KEY]}
    text = f"{line} ({note})" if note else line
    return Evidence(EvidenceKind.LOG, ref=str(StoreRef(loop, iteration, "logs", where)), text=text)


def finding_evidence(
    lines: list[str],
    *,
    loop: str,
    iteration: str,
    logs: pd.DataFrame | None = None,
    probes: pd.DataFrame | None = None,
) -> list[Evidence]:
    """Each line a finding cites, as evidence pointing into iteration ``iteration`` of ``loop``."""
    probe_key = "stage" if probes is not None and "stage" in probes else "probe"
    out: list[Evidence] = []
    for line in lines:
        line = redact_text(line)
        if line.startswith("log: "):
            out.append(log_evidence(line.removeprefix("log: "), logs, loop, iteration))
        elif stage := _STAGE_LINE.match(line):
            name, state = stage.groups()
            where = {probe_key: name} if probe_key == "stage" else {"failed_stage": name}
            out.append(
                Evidence(
                    EvidenceKind.PROBE,
                    ref=str(StoreRef(loop, iteration, "probes", where)),
                    text=line,
                    stage=name,
                    claim=Claim(state),
                )
            )
        elif line.startswith(("probe diagnosis:", "auth matrix:")):
            ref = str(StoreRef(loop, iteration, "probes")) if probes is not None else ""
            out.append(Evidence(EvidenceKind.PROBE, ref=ref, text=line))
        elif test := _TESTS_LINE.match(line):
            ref = StoreRef(loop, iteration, "tests", {"test_id": test.group(1)})
            out.append(Evidence(EvidenceKind.TEST, ref=str(ref), text=line, claim=Claim.FAILED))
        elif "passed on some reruns" in line:
            ref = str(StoreRef(loop, iteration, "rerun_verdicts"))
            out.append(Evidence(EvidenceKind.RERUN, ref=ref, text=line))
        else:
            out.append(Evidence(EvidenceKind.NOTE, text=line))
    return out


def _ws_results(frame: pd.DataFrame) -> list[ProbeResult]:
    """WebSocket probe rows (one per stage run, :func:`whyloop.probes.ws.probe.results_frame`)."""
    out = []
    for target, rows in frame.groupby("target", sort=False):
        stages = [
            StageResult(name, bool(r["stage_ok"]), _number(r.get("ms")), {"summary": r["summary"]})
            for r in rows.to_dict("records")
            if (name := _stage(r["stage"])) is not None
        ]
        first = rows.iloc[0]
        kind = "ws" if str(target).startswith("ws") else "http"
        out.append(
            ProbeResult(
                str(target),
                kind,
                stages=stages,
                failed_stage=_stage(first.get("failed_stage")),
                diagnosis=str(first.get("diagnosis") or ""),
            )
        )
    return out


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(number) else number


def _suite_results(frame: pd.DataFrame) -> list[ProbeResult]:
    """A probe suite's failed checks (:data:`whyloop.probes.suite.run.COLUMNS`), one result a probe."""
    out = []
    failed = frame[~frame["ok"].fillna(False).astype(bool)]
    for name, rows in failed.groupby("probe", sort=False):
        stages = []
        for r in rows.to_dict("records"):
            try:
                detail = json.loads(r.get("detail") or "{}")
            except (TypeError, ValueError):
                detail = {}
            detail = detail if isinstance(detail, dict) else {"detail": detail}
            detail["summary"] = str(r.get("diagnosis") or "")
            stage = _stage(r.get("failed_stage")) or Stage.EXPECT
            stages.append(StageResult(stage, False, _number(r.get("duration_ms")), detail))
        first = rows.iloc[0]
        out.append(
            ProbeResult(
                str(first.get("target") or name),
                str(first.get("kind") or "http") if first.get("kind") in ("ws", "http") else "http",
                stages=stages,
                failed_stage=stages[0].name if stages else None,
                diagnosis=str(first.get("diagnosis") or ""),
            )
        )
    return out


def probe_results(frame: pd.DataFrame | None) -> list[ProbeResult]:
    """Probe results rebuilt from a stored ``probes`` table, for the findings rules.

    Reads both shapes the store holds: a WebSocket probe's stage rows
    (``target, ok, failed_stage, stage, stage_ok, ms, summary, diagnosis``) and
    a probe suite's checks (``probe, check, ok, failed_stage, detail, ...``, of
    which the failed ones count). Any other shape gives no results.
    """
    if frame is None or frame.empty:
        return []
    if {"target", "stage", "stage_ok"} <= set(frame.columns):
        return _ws_results(frame)
    if {"probe", "ok"} <= set(frame.columns):
        return _suite_results(frame)
    return []
