"""What a probe, a group of failed tests and the logs beside them showed, for the finding rules.

Pure. :class:`Evidence` is one *subject* (one probe result, or the failed
tests sharing one failure signature) reduced to the facts the rules of
:mod:`whyloop.analyze.rules` look at: the failed stage, HTTP statuses
and close codes seen, the text of the failure, the auth matrix, whether reruns
passed, and the log lines of the same time window. :func:`cite` picks the log
lines a finding quotes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from whyloop.redact import redact_text
from whyloop.results import AuthAttempt, ProbeResult, Stage

__all__ = [
    "LOG_SLACK_S",
    "Evidence",
    "attempt_outcome",
    "cite",
    "in_window",
    "intermittent_tests",
    "log_search_frame",
    "probe_evidence",
    "probe_window",
    "search",
    "test_evidence",
    "tests_window",
]

#: log lines this many seconds either side of a subject's time window belong to it
LOG_SLACK_S = 3.0
_WARNING = frozenset({"WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"})
# extra log columns whose text is searched with the message (structured loggers put causes there)
_LOG_TEXT_COLUMNS = ("reason", "error", "error.message", "exception", "detail", "close_reason")
_STATUS_RE = re.compile(
    r"(?i)\b(?:http|status(?: code)?|got|answered|returned|response|refused with)[\s:=]*([1-5]\d\d)\b"
)
_STATUS_NAME_RE = re.compile(
    r"(?i)\b([45]\d\d)\s+(?:bad request|unauthorized|forbidden|not found|too many requests|"
    r"internal server error|bad gateway|service unavailable|gateway timeout|upgrade required)"
)
_CLOSE_RE = re.compile(
    r"(?i)\b(?:close[ds]?(?: with)?(?: code)?|received|sent|close_code)[\s:=]*(1\d{3}|[34]\d{3})\b"
)
_TIME_KEYS = ("started_at", "started", "start", "timestamp", "time")


@dataclass
class Evidence:
    """The facts of one subject, as the rules read them.

    ``text`` is lowercased free text (diagnosis, stage details, test
    messages); ``logs`` are the log lines of the subject's time window (all
    logs when it has none) with a lowercased ``_text`` column to search.
    """

    subject: str
    kind: str  # "ws", "http" or "tests"
    failed_stage: Stage | None = None
    statuses: frozenset[int] = frozenset()
    close_codes: frozenset[int] = frozenset()
    text: str = ""
    auth: dict[str, AuthAttempt] = field(default_factory=dict)
    origin_sent: bool = False
    html: bool = False
    burst: int | None = None  # requests sent looking for a 429, when a probe says
    path: str = ""  # the URL path probed, to pick its log lines
    test_ids: list[str] = field(default_factory=list)
    intermittent: dict[str, float] = field(default_factory=dict)  # test_id -> pass fraction
    facts: list[str] = field(default_factory=list)
    logs: pd.DataFrame | None = None
    probe: ProbeResult | None = None

    def says(self, pattern: str) -> bool:
        """True when the subject's own text matches ``pattern`` (a regex, case-insensitive)."""
        return bool(pattern) and re.search(pattern, self.text, re.IGNORECASE) is not None

    def logs_say(self, pattern: str) -> bool:
        """True when a log line of the window matches ``pattern``."""
        if not pattern or self.logs is None or self.logs.empty:
            return False
        return bool(search(self.logs["_text"], pattern).any())

    def fields(self) -> dict[str, str]:
        """Values the finding templates may name: ``{statuses}``, ``{close}``, ``{tests}``..."""
        fractions = sorted(self.intermittent.values())
        return {
            "subject": self.subject,
            "diagnosis": self.probe.diagnosis if self.probe is not None else "",
            "stage": self.failed_stage.value if self.failed_stage else "",
            "statuses": ", ".join(f"HTTP {s}" for s in sorted(self.statuses)) or "no HTTP status",
            "close": ", ".join(str(c) for c in sorted(self.close_codes)) or "none",
            "codes": ", ".join(
                [f"HTTP {s}" for s in sorted(self.statuses)]
                + [f"close {c}" for c in sorted(self.close_codes)]
            )
            or "no status code",
            "tests": str(len(self.test_ids)),
            "burst": str(self.burst) if self.burst else "a burst of",
            "intermittent": str(len(self.intermittent)),
            "pass_fraction": (
                "/".join(f"{f:.0%}" for f in fractions[:3]) if fractions else "no rerun"
            ),
        }


def search(texts: pd.Series, pattern: str) -> pd.Series:
    """Which of ``texts`` match ``pattern`` (case-insensitive), as a bool Series."""
    # groups made non-capturing: pandas warns about capturing groups in str.contains
    plain = re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern)
    return texts.str.contains(plain, case=False, regex=True).fillna(False).astype(bool)


# -- probes ---------------------------------------------------------------------


def _walk(value: Any, key: str = "") -> Iterable[tuple[str, Any]]:
    """Every (key, scalar) pair in a nested detail structure, keys lowercased."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, str(k).lower())
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def _codes(pairs: list[tuple[str, Any]]) -> tuple[set[int], set[int]]:
    statuses, closes = set(), set()
    for key, value in pairs:
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        if "close" in key or key == "code":
            if 1000 <= value < 5000:
                closes.add(value)
        elif "status" in key and not key.startswith("expect") and 100 <= value < 600:
            statuses.add(value)
    return statuses, closes


def _render(name: str, ok: bool, ms: float | None, detail: dict[str, Any]) -> str:
    shown = {k: v for k, v in detail.items() if v not in (None, "", [], {}) and k != "summary"}
    summary = detail.get("summary") or ""
    parts = [f"{k}={str(v)[:80]}" for k, v in shown.items() if not isinstance(v, (dict, list))]
    took = f" in {ms:.0f} ms" if ms is not None else ""
    head = f"probe stage {name} {'passed' if ok else 'failed'}{took}"
    return redact_text(": ".join(p for p in (head, summary, ", ".join(parts[:6])) if p))


#: what an auth-matrix row not accepted says first in its detail (whyloop.probes.ws.matrix)
_OUTCOMES = ("refused", "negotiation failed", "not reached", "unclear")


def attempt_outcome(attempt: AuthAttempt) -> str:
    """``accepted``, or the outcome a row's detail starts with (``not reached: HTTP 404``)."""
    if attempt.accepted:
        return "accepted"
    head = attempt.detail.split(":", 1)[0]
    return head if head in _OUTCOMES else "refused"


def probe_evidence(probe: ProbeResult) -> Evidence:
    """The evidence of one probe result: its failed stage, codes, text and auth matrix."""
    failed = probe.stage(probe.failed_stage) if probe.failed_stage else None
    scope = [failed] if failed else []
    pairs = [p for s in scope for p in _walk(s.detail)]
    statuses, closes = _codes(pairs)
    auth = {a.method: a for a in probe.auth_matrix or []}
    all_pairs = [p for s in probe.stages for p in _walk(s.detail)]
    every_status, _ = _codes(all_pairs)
    if not statuses and failed and failed.name in (Stage.UPGRADE, Stage.EXPECT, Stage.FIRST_BYTE):
        statuses = every_status
    # the auth matrix's refusals are not folded in: refusing "no token" is what a server
    # should do; the rules read the matrix itself
    text_parts = [probe.diagnosis, *probe.evidence, *(str(v) for _, v in pairs)]
    text_parts += [f"{a.method} {a.detail}" for a in auth.values()]
    body = " ".join(str(v) for k, v in all_pairs if k in ("body", "received", "excerpt"))
    ctype = " ".join(str(v) for k, v in all_pairs if k == "content-type")
    facts = [_render(s.name.value, s.ok, s.ms, s.detail) for s in scope]
    if probe.diagnosis:
        facts.append(redact_text(f"probe diagnosis: {probe.diagnosis}"))
    if auth:
        facts.append(
            "auth matrix: "
            + "; ".join(
                f"{a.method} {attempt_outcome(a)}"
                + (f" (HTTP {a.status})" if a.status not in (None, 101) else "")
                + (f" (close {a.close_code})" if a.close_code else "")
                for a in auth.values()
            )
        )
    burst = next(
        (v for k, v in all_pairs if k in ("burst", "requests", "sent") and isinstance(v, int)),
        None,
    )
    target = re.sub(r"^[a-z]+://[^/]+", "", probe.target) or "/"
    return Evidence(
        subject=f"{probe.kind} probe of {redact_text(probe.target)}",
        kind=probe.kind,
        failed_stage=probe.failed_stage,
        statuses=frozenset(statuses),
        close_codes=frozenset(closes),
        text=" ".join(str(t) for t in text_parts).lower(),
        auth=auth,
        origin_sent=any(k == "origin" and v for k, v in all_pairs),
        html="text/html" in ctype.lower() or bool(re.search(r"(?i)<!doctype html|<html", body)),
        burst=burst,
        path=target.split("?", 1)[0],
        facts=facts,
        probe=probe,
    )


def probe_window(probe: ProbeResult) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The probe's time window, when a stage detail records when it started (else None)."""
    for stage in probe.stages:
        for key in _TIME_KEYS:
            value = stage.detail.get(key)
            if value is None:
                continue
            stamp = pd.to_datetime(
                value,
                utc=True,
                errors="coerce",
                unit="s" if isinstance(value, (int, float)) else None,
            )
            if pd.notna(stamp):
                total = sum(s.ms or 0.0 for s in probe.stages)
                return stamp, stamp + pd.Timedelta(milliseconds=total)
    return None


# -- tests ----------------------------------------------------------------------


_EXPECTED_RE = re.compile(r"(?i)\bexpected (?:http |status )?[1-5]\d\d(?:/[1-5]\d\d)*")


def _codes_in(text: str) -> tuple[set[int], set[int]]:
    text = _EXPECTED_RE.sub("", text)  # "expected HTTP 201, got 500": only 500 was seen
    statuses = {int(m) for m in _STATUS_RE.findall(text)} | {
        int(m) for m in _STATUS_NAME_RE.findall(text)
    }
    closes = {int(m) for m in _CLOSE_RE.findall(text)}
    return statuses, closes


def test_evidence(failed: pd.DataFrame, intermittent: dict[str, float]) -> Evidence:
    """The evidence of a group of failed tests (rows of a tests frame) that fail one way."""
    messages = [
        " ".join(str(r.get(c) or "") for c in ("failure_type", "message", "signature_text"))
        for r in failed.to_dict("records")
    ]
    text = " ".join(dict.fromkeys(messages))
    statuses, closes = _codes_in(text)
    ids = [str(t) for t in dict.fromkeys(failed["test_id"])]
    first = str(failed["message"].iloc[0]) if "message" in failed and len(failed) else ""
    facts = [redact_text(f"{len(ids)} failed test(s), e.g. {ids[0]}: {first[:200]}")]
    flaky = {t: f for t, f in intermittent.items() if t in ids}
    if flaky:
        facts.append(
            f"{len(flaky)} of these passed on some reruns "
            f"(pass fraction {', '.join(f'{f:.0%}' for f in list(flaky.values())[:5])})"
        )
    return Evidence(
        subject=f"{len(ids)} failed test(s)",
        kind="tests",
        statuses=frozenset(statuses),
        close_codes=frozenset(closes),
        text=(text + " " + " ".join(ids)).lower(),
        origin_sent="origin" in text.lower(),
        test_ids=ids,
        intermittent=flaky,
        facts=facts,
    )


def tests_window(failed: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """From the first start to the last stop of the tests (None when the results carry no times)."""
    if "start" not in failed:
        return None
    starts = pd.to_datetime(failed["start"], utc=True, errors="coerce").dropna()
    stops = pd.to_datetime(failed.get("stop", failed["start"]), utc=True, errors="coerce").dropna()
    if starts.empty:
        return None
    return starts.min(), max(stops.max() if len(stops) else starts.max(), starts.max())


def intermittent_tests(reruns: pd.DataFrame | None) -> dict[str, float]:
    """Tests that passed on at least one rerun, with their pass fraction.

    ``reruns`` is either :func:`~whyloop.analyze.flaky.classify_reruns` output
    (``verdict``, ``pass_fraction``) or the attempt rows of
    :func:`~whyloop.probes.rerun.rerun_failures` (``outcome`` per attempt).
    """
    if reruns is None or reruns.empty:
        return {}
    if "pass_fraction" in reruns:
        keep = reruns[reruns["pass_fraction"].fillna(0) > 0]
        return {
            str(t): float(f) for t, f in zip(keep["test_id"], keep["pass_fraction"], strict=True)
        }
    out: dict[str, float] = {}
    for test_id, group in reruns.groupby("test_id", sort=False):
        outcomes = group["outcome"].astype(str)
        passed = int(outcomes.isin(["passed", "xpassed"]).sum())
        ran = passed + int(outcomes.isin(["failed", "error"]).sum())
        if passed and ran:
            out[str(test_id)] = passed / ran
    return out


# -- logs -----------------------------------------------------------------------


def log_search_frame(logs: pd.DataFrame | None) -> pd.DataFrame | None:
    """``logs`` with a lowercased ``_text`` column (message plus reason/error fields) to search."""
    if logs is None or logs.empty:
        return None
    text = (
        logs["message"].fillna("").astype(str)
        if "message" in logs
        else pd.Series("", index=logs.index)
    )
    for column in _LOG_TEXT_COLUMNS:
        if column in logs:
            text = text + " " + logs[column].fillna("").astype(str)
    return logs.assign(_text=text.str.lower())


def in_window(
    logs: pd.DataFrame | None,
    window: tuple[pd.Timestamp, pd.Timestamp] | None,
    slack_s: float = LOG_SLACK_S,
) -> pd.DataFrame | None:
    """The log lines within ``window`` ± ``slack_s`` (all of them when there is no window)."""
    if logs is None or window is None or "timestamp" not in logs:
        return logs
    slack = pd.Timedelta(seconds=slack_s)
    stamps = pd.to_datetime(logs["timestamp"], utc=True, errors="coerce")
    return logs[(stamps >= window[0] - slack) & (stamps <= window[1] + slack)]


def _text(value: Any) -> str:
    """A cell as text; a missing value (None, NaN, NA) is empty, never ``"nan"``."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _line(row: dict[str, Any]) -> str:
    stamp = row.get("timestamp")
    when = (
        stamp.isoformat(timespec="milliseconds")
        if isinstance(stamp, pd.Timestamp)
        else str(stamp or "")
    )
    parts = [
        when.replace("+00:00", "Z"),
        _text(row.get("service")) or "-",
        _text(row.get("level")) or "no-level",
    ]
    return redact_text(" ".join([*parts, str(row.get("message") or "")[:300]]))


def cite(
    ev: Evidence,
    pattern: str = "",
    statuses: Iterable[int] = (),
    *,
    limit: int = 5,
    warnings: bool = True,
) -> list[str]:
    """Up to ``limit`` log lines supporting a finding, as ``timestamp service level message``.

    The most telling kind found wins: lines matching ``pattern``; else lines
    with one of ``statuses`` (on the probe's path, for a probe); else, when
    ``warnings`` and the subject is a group of tests (whose time window is
    known), the WARNING-or-worse lines of that window.
    """
    logs = ev.logs
    if logs is None or logs.empty:
        return []
    hit = pd.Series(False, index=logs.index)
    if pattern:
        hit = search(logs["_text"], pattern)
    if not hit.any() and statuses and "httpRequest.status" in logs:
        hit = pd.to_numeric(logs["httpRequest.status"], errors="coerce").isin(set(statuses))
        if ev.path and ev.path != "/" and "httpRequest.requestUrl" in logs:
            hit &= logs["httpRequest.requestUrl"].fillna("").astype(str).str.startswith(ev.path)
    if not hit.any() and warnings and ev.kind == "tests" and "level" in logs:
        hit = logs["level"].astype(str).str.upper().isin(_WARNING)
    rows = logs.loc[hit.fillna(False).astype(bool)].head(limit)
    return [_line(r) for r in rows.to_dict("records")]
