"""Small tests frames built by hand for the loop analyses (clusters, diff, history, verdict)."""

from __future__ import annotations

from typing import Any

import pandas as pd

T0 = pd.Timestamp("2026-11-24T10:00:00Z")
_OUTCOME = {"P": "passed", "F": "failed", "E": "error", "S": "skipped"}


def make_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A tests frame with the columns the analyses read; ``rows`` give what differs."""
    base = {
        "file": "results.xml",
        "format": "junit",
        "suite": "e2e",
        "rerun": 0,
        "outcome": "passed",
        "message": "",
        "failure_type": "",
        "details": "",
        "stdout": "",
        "stderr": "",
        "category": "API",
        "signature": "",
        "signature_text": "",
        "start": pd.NaT,
        "stop": pd.NaT,
        "duration_s": 0.5,
    }
    frame = pd.DataFrame(
        [{**base, "name": row.get("test_id"), "classname": "", **row} for row in rows]
    )
    for column in ("start", "stop"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def failing(test_id: str, sig: str, **more: Any) -> dict[str, Any]:
    """A failed row whose signature is ``sig`` (its text is ``text of <sig>``)."""
    return {
        "test_id": test_id,
        "outcome": "failed",
        "signature": sig,
        "signature_text": f"text of {sig}",
        "message": more.pop("message", f"AssertionError: {sig} happened"),
        **more,
    }


def histories(runs: dict[str, str], **extra: Any) -> pd.DataFrame:
    """Tests over iterations 1..N from strings: ``P`` pass, ``F`` fail, ``E`` error, ``S`` skip, ``-`` absent.

    ``{"t1": "PPF"}`` is t1 passing in iterations 1 and 2 and failing in 3; a
    failure's signature is ``sig-<test>`` unless ``signatures`` maps it.
    """
    sigs = extra.pop("signatures", {})
    rows = []
    for test_id, marks in runs.items():
        for i, mark in enumerate(marks, 1):
            if mark == "-":
                continue
            row = {"iteration": str(i), "test_id": test_id, "outcome": _OUTCOME[mark]}
            if mark in "FE":
                sig = sigs.get(test_id, f"sig-{test_id}")
                row |= {"signature": sig, "signature_text": f"text of {sig}",
                        "message": f"AssertionError: {sig}"}  # fmt: skip
            rows.append(row)
    return make_frame(rows)
