"""Pure judgements of suite probes: recorded observations in, :class:`Check` rows out.

:mod:`whyloop.probes.suite.checks` and :mod:`whyloop.probes.suite.load` do the
network part and record what they saw (statuses, timings, bodies, headers) in
the observation dataclasses here; the ``judge_*`` functions decide pass/fail
against the SLA or the expected answers and write the diagnosis and evidence.
No network and no asyncio, so the rules are unit-tested with recorded data.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "LEAK_PATTERNS",
    "Check",
    "Exchange",
    "RateLimitObservation",
    "RetryObservation",
    "judge_errors",
    "judge_rate_limit",
    "judge_reconnects",
    "judge_retries",
    "judge_timeout",
    "leaks",
    "retry_after_seconds",
]

#: what an error body must not show: stack traces and internals
LEAK_PATTERNS: dict[str, re.Pattern[str]] = {
    "Python traceback": re.compile(r"Traceback \(most recent call last\)"),
    "source file reference": re.compile(r"File \"[^\"]+\", line \d+"),
    "sqlite error": re.compile(r"\bsqlite3\.\w+"),
    "exception name": re.compile(r"\b(?:\w+\.)*\w*Exception\b"),
    "Java stack frame": re.compile(r"\bat [\w$.]+\([\w$]+\.java:\d+\)"),
    "installed package path": re.compile(r"/(?:site|dist)-packages/"),
    "SQL statement": re.compile(
        r"\b(?:SELECT|INSERT INTO|UPDATE)\b[^\"]{0,80}\b(?:FROM|VALUES|SET)\b"
    ),
}


@dataclass
class Check:
    """One judged fact of a suite probe: a row of the probes table."""

    check: str
    metric: str
    value: float | None
    ok: bool
    sla: str = ""
    diagnosis: str = ""
    evidence: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    #: the stage that failed, for staged probes (http, ws); the check's name stands in otherwise
    failed_stage: str | None = None
    #: something to look at even though the check passed (a flaky endpoint, a result near
    #: the client's own ceiling)
    warning: str = ""


# -- rate limit -----------------------------------------------------------------


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


@dataclass
class RateLimitObservation:
    """A burst as one user: each request's status, the first 429, and the wait that followed."""

    burst: int
    statuses: list[int | None] = field(default_factory=list)
    retry_after: str | None = None
    retry_after_s: float | None = None
    max_wait_s: float = 30.0
    waited_s: float | None = None
    status_after_wait: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def first_429(self) -> int | None:
        """1-based index of the first 429 in the burst."""
        return next((i + 1 for i, s in enumerate(self.statuses) if s == 429), None)


def judge_rate_limit(obs: RateLimitObservation) -> list[Check]:
    """Was the burst limited, did the 429 say when to retry, and did waiting that long work?"""
    counts = Counter(str(s) for s in obs.statuses)
    detail = {"burst": obs.burst, "statuses": dict(counts), "errors": obs.errors[:5]}
    first = obs.first_429
    if first is None:
        why = (
            f"no 429 within a burst of {obs.burst} requests (statuses {dict(counts)}): the rate "
            f"limit is off, or higher than {obs.burst} per window"
        )
        return [Check("limited", "first_429_at", None, False, f"<= {obs.burst}", why, [], detail)]
    checks = [
        Check(
            "limited",
            "first_429_at",
            float(first),
            True,
            f"<= {obs.burst}",
            f"the first 429 came at request {first} of {obs.burst}",
            [f"request {first} -> 429, Retry-After: {obs.retry_after}"],
            detail,
        )
    ]
    if obs.retry_after_s is None:
        why = (
            "the 429 carries no usable Retry-After header"
            + (f" ({obs.retry_after!r})" if obs.retry_after else "")
            + ": clients cannot know when to come back"
        )
        checks.append(Check("retry_after", "retry_after_s", None, False, "present", why))
        return checks
    checks.append(
        Check("retry_after", "retry_after_s", obs.retry_after_s, True, "present", "", [], {})
    )
    if obs.waited_s is None:
        why = (
            f"Retry-After asks for {obs.retry_after_s:g} s, more than max_wait_s "
            f"{obs.max_wait_s:g}: not waited, so whether it is honoured is unknown"
        )
        checks.append(Check("honoured", "status_after_wait", None, False, "< 400", why))
        return checks
    after = obs.status_after_wait
    ok = after is not None and after < 400
    why = (
        ""
        if ok
        else (
            f"after waiting the {obs.waited_s:.1f} s Retry-After asked for, the next request got "
            f"{after if after is not None else 'no answer'}: Retry-After is not honoured"
        )
    )
    checks.append(
        Check(
            "honoured",
            "status_after_wait",
            None if after is None else float(after),
            ok,
            "< 400",
            why,
            [f"waited {obs.waited_s:.2f} s, then -> {after}"],
            {"waited_s": round(obs.waited_s, 3)},
        )
    )
    return checks


# -- error handling -------------------------------------------------------------


@dataclass
class Exchange:
    """One request of the error-handling probe and what came back."""

    check: str
    method: str
    path: str
    expected: tuple[int, ...]
    status: int | None = None
    body: str = ""
    error: str | None = None
    #: strings the body must not contain (e.g. ``root:`` for path traversal)
    forbidden: tuple[str, ...] = ()


def leaks(body: str) -> list[str]:
    """The kinds of internal detail found in ``body`` (stack traces, file paths, SQL...)."""
    return [name for name, pattern in LEAK_PATTERNS.items() if pattern.search(body)]


def judge_errors(exchanges: list[Exchange]) -> list[Check]:
    """A row per exchange (status as expected, nothing forbidden), plus one for leaked internals."""
    checks = []
    found: list[str] = []
    for ex in exchanges:
        line = f"{ex.method} {ex.path} -> {ex.status if ex.error is None else ex.error}"
        bad = [s for s in ex.forbidden if s in ex.body]
        expected = "/".join(str(s) for s in ex.expected)
        problems = []
        if ex.error is not None:
            problems.append(f"no answer ({ex.error})")
        elif ex.status not in ex.expected:
            problems.append(f"expected {expected}, got {ex.status}")
        if bad:
            problems.append(f"the body contains {', '.join(map(repr, bad))}")
        why = f"{ex.method} {ex.path}: " + "; ".join(problems) if problems else ""
        if why and ex.body:
            why += f"; body: {ex.body[:200]}"
        checks.append(
            Check(
                ex.check,
                "status",
                None if ex.status is None else float(ex.status),
                not problems,
                expected,
                why,
                [line],
                {"body": ex.body[:500]},
            )
        )
        kinds = leaks(ex.body)
        if kinds:
            found.append(
                f"{ex.method} {ex.path} ({ex.status}) shows {', '.join(kinds)}: {ex.body[:300]}"
            )
    checks.append(
        Check(
            "no_internal_detail",
            "bodies_with_internals",
            float(len(found)),
            not found,
            "0",
            ("error bodies expose internals: " + found[0]) if found else "",
            found,
            {"bodies_checked": len(exchanges)},
        )
    )
    return checks


# -- resilience -----------------------------------------------------------------


def judge_timeout(
    path: str, timeout_s: float, elapsed_s: float, status: int | None, error: str | None
) -> Check:
    """A request with a short client timeout: answered in time, or reported (never hung)."""
    detail = {"timeout_s": timeout_s, "status": status, "error": error}
    hung = elapsed_s > timeout_s * 1.5 + 1
    if status is not None and status < 500:
        return Check(
            "timeout",
            "elapsed_ms",
            round(elapsed_s * 1000, 2),
            True,
            f"<= {timeout_s * 1000:g}",
            "",
            [f"{path} -> {status} in {elapsed_s:.2f} s"],
            detail,
        )
    if error is not None:
        why = (
            f"{path} sent no answer within the client's {timeout_s:g} s timeout ({error}); "
            f"the probe gave up after {elapsed_s:.2f} s"
            + (" (later than the timeout: the client did not enforce it)" if hung else ", as set")
        )
    else:
        why = f"{path} answered {status} within {elapsed_s:.2f} s"
    return Check(
        "timeout",
        "elapsed_ms",
        round(elapsed_s * 1000, 2),
        False,
        f"<= {timeout_s * 1000:g}",
        why,
        [why],
        detail,
    )


def judge_reconnects(path: str, results: list[tuple[int | None, float, str | None]]) -> Check:
    """N sequential new connections: each ``(status, ms, error)`` must be an answer below 400."""
    failed = [(i + 1, s, e) for i, (s, _ms, e) in enumerate(results) if s is None or s >= 400]
    times = [ms for _s, ms, _e in results]
    why = ""
    if failed:
        i, s, e = failed[0]
        why = (
            f"{len(failed)} of {len(results)} new connections to {path} failed; the first, "
            f"#{i}, got {s if e is None else e}"
        )
    return Check(
        "reconnects",
        "connections_ok",
        float(len(results) - len(failed)),
        not failed,
        f"= {len(results)}",
        why,
        [f"#{i}: {e or s}" for i, s, e in failed[:5]],
        {
            "ms": [round(t, 2) for t in times],
            "p50_ms": round(statistics.median(times), 2) if times else None,
        },
    )


@dataclass
class RetryObservation:
    """Calls to a (possibly flaky) endpoint, each retried with backoff up to ``max_retries``."""

    path: str
    max_retries: int
    setup: str | None = None
    setup_error: str | None = None
    #: per call, the answers of its attempts in order (a status or an error text)
    attempts: list[list[int | str]] = field(default_factory=list)
    backoff_s: float = 0.0
    bodies: list[str] = field(default_factory=list)


def _good(answer: int | str) -> bool:
    return isinstance(answer, int) and answer < 400


def judge_retries(obs: RetryObservation) -> Check:
    """Every call must succeed within ``max_retries`` retries; how many retries it took is the value."""
    if obs.setup_error is not None:
        return Check(
            "retries",
            "retries_used",
            None,
            False,
            f"<= {obs.max_retries} per call",
            f"the set-up request {obs.setup} failed: {obs.setup_error}",
            [f"{obs.setup} -> {obs.setup_error}"],
        )
    used = sum(len(a) - 1 for a in obs.attempts)
    needed = [a for a in obs.attempts if len(a) > 1]
    failed = [a for a in obs.attempts if not a or not _good(a[-1])]
    answers = Counter(str(x) for a in obs.attempts for x in a if not _good(x))
    detail = {
        "calls": len(obs.attempts),
        "attempts": [[str(x) for x in a] for a in obs.attempts],
        "failed_answers": dict(answers),
        "backoff_s": round(obs.backoff_s, 3),
    }
    sample = f"; e.g. {obs.bodies[0][:200]}" if obs.bodies else ""
    if failed:
        why = (
            f"{len(failed)} of {len(obs.attempts)} calls to {obs.path} still failed after "
            f"{obs.max_retries} retries (answers {dict(answers)}){sample}"
        )
    elif needed:
        why = (
            f"{len(needed)} of {len(obs.attempts)} calls to {obs.path} needed retries "
            f"({used} extra attempts, answers {dict(answers)}) but all succeeded within "
            f"{obs.max_retries}: the endpoint is flaky{sample}"
        )
    else:
        why = f"all {len(obs.attempts)} calls to {obs.path} succeeded on the first try"
    evidence = [
        f"call {i + 1}: {' -> '.join(map(str, a))}"
        for i, a in enumerate(obs.attempts)
        if len(a) > 1
    ]
    return Check(
        "retries",
        "retries_used",
        float(used),
        not failed,
        f"<= {obs.max_retries} per call",
        why,
        evidence[:10],
        detail,
        warning=why if needed and not failed else "",
    )
