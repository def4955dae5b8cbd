"""What ``whyloop probe`` prints: the results of the probes as text for a person, or JSON.

Each function takes what the library returned (``ProbeResult.to_dict()``, or
a suite's frame) and returns the text, every line redacted, so the commands
in :mod:`.probe` stay one call and one ``print``.
"""

from __future__ import annotations

import json
from typing import Any

from whyloop.redact import redact_text

__all__ = ["format_http", "format_suite", "format_ws", "suite_json"]


def _redacted(lines: list[str]) -> str:
    return "\n".join(redact_text(line) for line in lines)


def format_ws(data: dict[str, Any]) -> str:
    """A WebSocket ``ProbeResult.to_dict()``: stage table, auth matrix, diagnosis, evidence."""
    lines = [f"probe {data['target']}", ""]
    for stage in data["stages"]:
        mark = "✓" if stage["ok"] else "✗"
        ms = "-" if stage["ms"] is None else f"{stage['ms']:.1f}"
        lines.append(
            f"  {mark} {stage['name']:<12} {ms:>9} ms  {stage['detail'].get('summary', '')}"
        )
    if data.get("auth_matrix"):
        lines += ["", "auth matrix:"]
        for row in data["auth_matrix"]:
            # a row not accepted says its outcome first: "refused: HTTP 401", "not reached: ..."
            verdict, _, facts = (
                ("accepted", "", row["detail"])
                if row["accepted"]
                else row["detail"].partition(": ")
            )
            lines.append(f"  {row['method']:<17} {verdict:<18} {facts}")
    verdict = "ok" if data["ok"] else "FAILED at " + data["failed_stage"]
    lines += ["", f"{verdict}: {data['diagnosis']}"]
    lines += ["", "evidence:", *(f"  - {e}" for e in data["evidence"])]
    return _redacted(lines)


def format_http(data: dict[str, Any]) -> str:
    """An HTTP ``ProbeResult.to_dict()``: verdict, phases (status, TLS), diagnosis, evidence."""
    verdict = "ok" if data["ok"] else f"FAILED at {data['failed_stage']}"
    lines = [f"{data['target']}: {verdict}"]
    for stage in data["stages"]:
        ms = "" if stage["ms"] is None else f"{stage['ms']:9.2f} ms"
        lines.append(f"  {stage['name']:<11} {'ok' if stage['ok'] else 'FAIL':<5}{ms}".rstrip())
        detail = stage["detail"]
        if stage["name"] == "first_byte" and detail.get("status") is not None:
            hops = len(detail.get("redirects") or [])
            more = f", after {hops} redirect(s)" if hops else ""
            lines.append(f"      status {detail['status']} ({detail.get('http_version')}){more}")
        if stage["name"] == "tls" and detail.get("read_unverified") and "subject" in detail:
            # the verified handshake failed: these facts come from a second, unverified one
            lines.append(
                f"      certificate (read without verification): subject {detail['subject']}, "
                f"issuer {detail.get('issuer')}, valid {detail.get('not_before')} to "
                f"{detail.get('not_after')}, names {', '.join(detail.get('san') or []) or 'none'}"
            )
        elif stage["name"] == "tls" and detail.get("version"):
            cert = f", subject {detail['subject']}, expires {detail.get('not_after')}"
            lines.append(f"      {detail['version']}" + (cert if "subject" in detail else ""))
        if stage["name"] == "tls":
            lines += [f"      problem: {p}" for p in detail.get("problems") or []]
    lines.append(f"diagnosis: {data['diagnosis']}")
    lines += [f"  - {line}" for line in data["evidence"]]
    return _redacted(lines)


def format_suite(df: Any, stored: str | None) -> str:
    """A suite's frame: one line per check (a failed one with its diagnosis), warnings, totals."""
    lines = []
    for row in df.itertuples(index=False):
        value = "" if row.value != row.value else f"={row.value:.4g}"  # NaN is not equal to itself
        sla = f" ({row.sla})" if row.sla else ""
        mark = ("WARN" if row.warning else "ok  ") if row.ok else "FAIL"
        lines.append(f"{mark} {row.probe}/{row.check}: {row.metric}{value}{sla}")
        if not row.ok and row.diagnosis:
            lines.append(f"     {row.diagnosis}")
    lines += [f"warning: {warning}" for warning in df.attrs.get("warnings", [])]
    failed = int((~df["ok"]).sum())
    total = f"{len(df)} checks, {failed} failed" + (f"; stored in {stored}" if stored else "")
    return _redacted(lines) + ("\n" if lines else "") + total


def suite_json(df: Any, stored: str | None) -> str:
    """A suite's frame as the JSON object of ``--json``: totals, warnings, where stored, rows."""
    rows = df.assign(started=df["started"].map(lambda t: t.isoformat())).to_dict("records")
    for row in rows:
        row["detail"] = json.loads(row["detail"])
        row["evidence"] = json.loads(row["evidence"])
        row["value"] = None if row["value"] != row["value"] else row["value"]
    out = {
        "suite": df.attrs.get("suite"),
        "ok": bool(df["ok"].all()),
        "checks": len(df),
        "failed": int((~df["ok"]).sum()),
        "warnings": df.attrs.get("warnings", []),
        "stored": stored,
        "rows": rows,
    }
    return redact_text(json.dumps(out, default=str))
