"""What one JUnit ``<testcase>`` element says, beyond its name and time.

:func:`executions` reads a testcase's children: its outcome (``<error>`` beats
``<failure>``, then ``<skipped>``, then a ``status``/``result`` attribute),
message, details and captured output, and Surefire's flaky/rerun executions.
:func:`pytest_nodeid` rebuilds pytest's node id from junitxml's dotted
classname. Used by :mod:`whyloop.ingest.tests.junit` for every testcase that is not a
plain pass.
"""

from __future__ import annotations

import math
from typing import Any
from xml.etree.ElementTree import Element

from whyloop.ingest.tests.values import parse_seconds, strip_ansi
from whyloop.schema import Outcome

__all__ = ["element_text", "executions", "first_line", "pytest_nodeid"]

_PASSED, _FAILED, _ERROR = Outcome.PASSED.value, Outcome.FAILED.value, Outcome.ERROR.value
_SKIPPED, _XFAILED = Outcome.SKIPPED.value, Outcome.XFAILED.value
_SKIP_STATUS = frozenset(
    {"notrun", "not run", "disabled", "skipped", "skip", "ignored", "suppressed", "pending"}
)
_STATUS_OUTCOME = {"failed": _FAILED, "fail": _FAILED, "error": _ERROR, "errored": _ERROR}
_XFAIL_TYPES = frozenset({"pytest.xfail", "xfail", "expectedfailure", "expected failure"})
_EXTRA_RUNS = {
    "flakyFailure": (_FAILED, True),
    "flakyError": (_ERROR, True),
    "rerunFailure": (_FAILED, False),
    "rerunError": (_ERROR, False),
}

#: One execution: (outcome, message, failure_type, details, stdout, stderr).
Execution = tuple[str, str, str, str, str, str]


def element_text(el: Element) -> str:
    """All the text in ``el``, stripped, ANSI codes removed."""
    text = el.text if len(el) == 0 else "".join(el.itertext())
    return strip_ansi(text.strip()) if text else ""


def first_line(text: str, name: str = "") -> str:
    """The first non-blank line; PHPUnit's ``Class::test`` heading line is skipped."""
    for line in text.splitlines():
        line = line.strip()
        if line and not (name and line.endswith("::" + name)):
            return line
    return ""


def pytest_nodeid(classname: str, name: str, file: str | None) -> str:
    """Best-effort pytest node id from junitxml's dotted classname (and ``file``)."""
    parts = classname.split(".") if classname else []
    if file and file.endswith(".py"):
        module = file.replace("\\", "/")
        dotted = module[:-3].replace("/", ".")
        if classname == dotted:
            parts = []
        elif classname.startswith(dotted + "."):
            parts = classname[len(dotted) + 1 :].split(".")
        else:
            parts = parts[next((i for i, p in enumerate(parts) if p[:1].isupper()), len(parts)) :]
        return "::".join([module, *parts, name])
    if not parts and name and "[" not in name:
        # a module that failed or skipped at collection: junitxml names it by its path
        return name.replace(".", "/") + ".py"
    i = len(parts)
    while i > 1 and parts[i - 1][:1].isupper():  # pytest classes are Test*: capitalised
        i -= 1
    module = "/".join(parts[:i]) + ".py" if parts else ""
    return "::".join([p for p in (module, *parts[i:], name) if p])


def executions(
    el: Element, a: dict[str, str], props: dict[str, Any], name: str
) -> tuple[list[tuple[Any, ...]], Execution, list[tuple[Any, ...]]]:
    """Read a testcase's children: (flaky runs before, this run, reruns after).

    This run is an :data:`Execution`; the extra runs carry their own duration
    as a seventh item. Testcase ``<properties>`` are added to ``props``.
    """
    bad: list[tuple[int, Element]] = []  # (priority, element) of failure/error
    skipped: Element | None = None
    stdout = stderr = ""
    before: list[tuple[Any, ...]] = []
    after: list[tuple[Any, ...]] = []
    for child in el:
        tag = child.tag
        if tag == "failure" or tag == "error":
            bad.append((2 if tag == "error" else 1, child))
        elif tag == "skipped" or tag == "skip":
            skipped = child
        elif tag == "system-out":
            stdout = element_text(child)
        elif tag == "system-err":
            stderr = element_text(child)
        elif tag == "properties":
            for p in child:
                if p.tag == "property":
                    props[p.get("name", "")] = p.get("value", p.text or "")
        elif tag in _EXTRA_RUNS:
            outcome, is_before = _EXTRA_RUNS[tag]
            (before if is_before else after).append(_extra_run(child, outcome))
    if bad:
        prio, primary = max(bad, key=lambda pair: pair[0])
        outcome = _ERROR if prio == 2 else _FAILED
        details = "\n\n".join(text for text in (element_text(e) for _, e in bad) if text)
        message = strip_ansi(primary.get("message") or "") or first_line(
            element_text(primary), name
        )
        ftype = primary.get("type", "")
    elif skipped is not None:
        kind = (skipped.get("type") or "").lower()
        outcome = _XFAILED if kind in _XFAIL_TYPES else _SKIPPED
        details = element_text(skipped)
        message = strip_ansi(skipped.get("message") or "") or first_line(details)
        ftype = skipped.get("type", "") if outcome == _XFAILED else ""
    else:
        status = (a.get("status") or a.get("result") or "").lower()
        outcome = _STATUS_OUTCOME.get(status, _SKIPPED if status in _SKIP_STATUS else _PASSED)
        message = ftype = details = ""
    return before, (outcome, message, ftype, details, stdout, stderr), after


def _extra_run(el: Element, outcome: str) -> tuple[Any, ...]:
    """One Surefire flaky/rerun execution: (outcome, message, type, details, out, err, time)."""
    trace = out = err = ""
    for child in el:
        if child.tag == "stackTrace":
            trace = element_text(child)
        elif child.tag == "system-out":
            out = element_text(child)
        elif child.tag == "system-err":
            err = element_text(child)
    details = trace or strip_ansi((el.text or "").strip())
    message = strip_ansi(el.get("message") or "").strip() or first_line(details)
    took = parse_seconds(el.get("time") or "")
    return (
        outcome,
        message,
        el.get("type", ""),
        details,
        out,
        err,
        math.nan if took is None else took,
    )
