"""Parsers for pytest's JSON outputs: ``--report-log`` JSON lines and pytest-json-report.

Both carry pytest node ids, markers (keywords) and per-phase outcomes; the
report-log also carries per-phase ``start``/``stop`` epoch times. A test's
setup, call and teardown phases are folded into one row per execution, the way
pytest's own summary counts them: a failed setup or teardown is an ``error``,
an ``xfail`` marker turns a skip into ``xfailed`` and a pass into ``xpassed``,
and pytest-rerunfailures' ``rerun`` reports become earlier executions of the
same test with increasing ``rerun`` index.
"""

from __future__ import annotations

import ast
import contextlib
import json
from datetime import UTC, datetime
from typing import Any, BinaryIO

from whyloop.errors import IngestError
from whyloop.ingest.tests.contract import Declared, ParsedTests
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_json_report", "parse_reportlog"]

_PHASES = ("setup", "call", "teardown")
_NAN = float("nan")
#: a gap between two timestamps of one run longer than this splits the run's own clock off
_MAX_GAP_S = 6 * 3600.0
# keywords pytest adds that are not markers
_NOT_MARKERS = frozenset({"pytestmark", "", "parametrize", "usefixtures", "filterwarnings"})


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def _split_nodeid(nodeid: str) -> tuple[str, str, str]:
    """Return (suite, classname, name) for a node id such as ``a/test_x.py::TestK::test_m[1]``."""
    parts = nodeid.split("::")
    module = parts[0]
    name = parts[-1] if len(parts) > 1 else module
    classes = parts[1:-1]
    dotted = module[:-3] if module.endswith(".py") else module
    dotted = dotted.replace("/", ".").replace("\\", ".")
    classname = ".".join([dotted, *classes]) if dotted else ".".join(classes)
    return module, classname, name


def _keywords(keywords: Any) -> list[str]:
    return [str(k) for k in (keywords.keys() if isinstance(keywords, dict) else (keywords or []))]


def _node_names(all_keywords: list[list[str]]) -> set[str]:
    """Keywords that are node names (directories, packages), not markers.

    A test without ``pytestmark`` among its keywords carries no markers at all,
    so everything it has is a node name; those names are then dropped from every test.
    """
    names: set[str] = set()
    for kws in all_keywords:
        if "pytestmark" not in kws:
            names.update(kws)
    return names


def _markers(keywords: Any, nodeid: str, node_names: set[str] = frozenset()) -> list[str]:
    """The marks among a test's keywords.

    pytest's keywords also hold node names, the parametrize id (``a`` in
    ``test_x[a]``) and the test function's attributes (``__wrapped__``); none
    of those is a mark, so none may become a category.
    """
    names = [k for k in _keywords(keywords) if k not in node_names]
    own = set(nodeid.replace("/", "::").split("::"))
    name = nodeid.rsplit("::", 1)[-1]
    param_id = name[name.index("[") + 1 : -1] if "[" in name and name.endswith("]") else None
    out = []
    for kw in names:
        kw = str(kw)
        if kw in _NOT_MARKERS or kw in own or kw.endswith(".py") or kw.startswith("test"):
            continue
        if kw == param_id or kw.startswith("_"):
            continue
        if "[" in kw or not kw.isidentifier():
            continue
        out.append(kw)
    # the directory holding the tests shows up as a keyword too; drop path parts
    parents = set(nodeid.split("::")[0].split("/"))
    return sorted(k for k in out if k not in parents)


def _longrepr_text(longrepr: Any) -> tuple[str, str, str]:
    """Return (message, failure_type, details) from a report's ``longrepr``."""
    if longrepr is None:
        return "", "", ""
    if isinstance(longrepr, str) and longrepr.startswith("(") and longrepr.endswith(")"):
        # json-report writes a skip's (path, lineno, reason) as its repr
        with contextlib.suppress(ValueError, SyntaxError):
            longrepr = list(ast.literal_eval(longrepr))
    if isinstance(longrepr, str):
        last = longrepr.rstrip().splitlines()[-1] if longrepr.strip() else ""
        ftype = last.rsplit(": ", 1)[-1] if ": " in last else ""
        lines = [ln[1:].strip() for ln in longrepr.splitlines() if ln.startswith("E ")]
        return (lines[0] if lines else last), ftype, longrepr
    if isinstance(longrepr, list) and len(longrepr) == 3:  # skip: (path, lineno, reason)
        reason = str(longrepr[2])
        return reason.removeprefix("Skipped: "), "", f"{longrepr[0]}:{longrepr[1]}: {reason}"
    if isinstance(longrepr, dict):
        crash = longrepr.get("reprcrash") or {}
        message = str(crash.get("message", ""))
        entries = (longrepr.get("reprtraceback") or {}).get("reprentries") or []
        lines: list[str] = []
        ftype = ""
        for entry in entries:
            data = entry.get("data") or {}
            lines.extend(data.get("lines") or [])
            loc = data.get("reprfileloc") or {}
            if loc:
                lines.append(f"{loc.get('path')}:{loc.get('lineno')}: {loc.get('message')}")
                ftype = str(loc.get("message") or ftype)
        if not ftype and ": " in message:
            ftype = message.split(": ", 1)[0]
        return message.split("\n", 1)[0], ftype, "\n".join(lines) or message
    return str(longrepr), "", str(longrepr)


def _sections(sections: Any) -> tuple[str, str]:
    out, err = [], []
    for item in sections or []:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            continue
        title, text = item
        if "stdout" in title:
            out.append(text)
        elif "stderr" in title:
            err.append(text)
    return "".join(dict.fromkeys(out)), "".join(dict.fromkeys(err))


class _Clock:
    """Which phase times are the run's own, when a test froze or moved the clock.

    freezegun and time-machine patch ``time.time``, so pytest writes phase
    start/stop times years away and durations of plus or minus decades. The
    run's own times form the largest group of timestamps with no gap over
    :data:`_MAX_GAP_S`; a time outside it is not used, nor is a negative
    duration. A test's duration is the sum of its phases when all are
    consistent, else the span between its consistent ends, else unknown.
    """

    def __init__(self, stamps: list[float]) -> None:
        self.low = self.high = None
        self.doubtful: list[str] = []
        values = sorted(s for s in stamps if isinstance(s, (int, float)) and s == s)
        if not values:
            return
        best, first = (0, 0), 0
        for i in range(1, len(values) + 1):
            if i == len(values) or values[i] - values[i - 1] > _MAX_GAP_S:
                if i - first >= best[1] - best[0]:
                    best = (first, i)
                first = i
        self.low, self.high = values[best[0]], values[best[1] - 1]

    def own(self, stamp: Any) -> bool:
        if not isinstance(stamp, (int, float)) or self.low is None:
            return False
        return self.low <= stamp <= self.high

    def times(self, phases: list[dict[str, Any]]) -> tuple[float, float | None, float | None]:
        """(duration in s, or NaN; first start and last stop that are the run's own, or None)."""
        starts = [p.get("start") for p in phases if self.own(p.get("start"))]
        stops = [p.get("stop") for p in phases if self.own(p.get("stop"))]
        start, stop = min(starts, default=None), max(stops, default=None)
        durations = [p.get("duration") for p in phases]
        timed = any(p.get("start") is not None or p.get("stop") is not None for p in phases)
        consistent = all(isinstance(d, (int, float)) and d >= 0 for d in durations) and (
            not timed or (len(starts) == len(stops) == len(phases))
        )
        if consistent:
            return float(sum(durations)), start, stop
        if start is not None and stop is not None and stop >= start and len(starts) and len(stops):
            return float(stop - start), start, stop
        return _NAN, start, stop


def _fold(
    nodeid: str,
    phases: dict[str, dict[str, Any]],
    markers: list[str],
    clock: _Clock | None = None,
) -> dict[str, Any]:
    """Fold one execution's setup/call/teardown reports into a row.

    A setup or teardown that pytest-rerunfailures reran (outcome ``rerun``)
    failed like any other: the attempt is an ``error``. ``clock`` says which
    phase times are the run's own (see :class:`_Clock`).
    """
    setup, call, teardown = (phases.get(p) for p in _PHASES)
    outcome = Outcome.PASSED
    failing: dict[str, Any] | None = None
    if setup and setup.get("outcome") in ("failed", "rerun"):
        outcome, failing = Outcome.ERROR, setup
    elif setup and setup.get("outcome") == "skipped":
        outcome, failing = Outcome.SKIPPED, setup
    elif call:
        if call.get("outcome") in ("failed", "rerun"):
            outcome, failing = Outcome.FAILED, call
        elif call.get("outcome") == "skipped":
            outcome, failing = Outcome.SKIPPED, call
        if "wasxfail" in call:
            outcome = Outcome.XFAILED if outcome is Outcome.SKIPPED else Outcome.XPASSED
            if outcome is Outcome.XPASSED:
                failing = None
    if teardown and teardown.get("outcome") in ("failed", "rerun") and outcome is not Outcome.ERROR:
        outcome, failing = Outcome.ERROR, teardown
    if setup and "wasxfail" in setup and outcome is Outcome.SKIPPED:
        outcome = Outcome.XFAILED

    message, ftype, details = _longrepr_text(failing.get("longrepr") if failing else None)
    if outcome is Outcome.XFAILED and not message:
        message = str((call or setup or {}).get("wasxfail", ""))
    suite, classname, name = _split_nodeid(nodeid)
    duration, start, stop = (clock or _Clock([])).times(list(phases.values()))
    stdout, stderr = _sections((teardown or call or setup or {}).get("sections"))
    props = {}
    for p in phases.values():
        for item in p.get("user_properties") or []:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                props[str(item[0])] = item[1]
    return {
        "suite": suite,
        "classname": classname,
        "name": name,
        "test_id": nodeid,
        "outcome": outcome.value,
        "duration_s": duration,
        "start": _epoch(start),
        "stop": _epoch(stop),
        "message": message,
        "failure_type": ftype,
        "details": details,
        "stdout": stdout,
        "stderr": stderr,
        "markers": markers,
        "properties": props,
    }


def _load_lines(stream: BinaryIO, path: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    records: list[tuple[int, dict[str, Any]]] = []
    warnings: list[str] = []
    for lineno, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "msg", None) or type(exc).__name__
            warnings.append(f"{path}:{lineno}: invalid JSON ({reason}); line skipped")
            continue
        if isinstance(obj, dict):
            records.append((lineno, obj))
        else:
            warnings.append(f"{path}:{lineno}: not a JSON object; line skipped")
    return records, warnings


def parse_reportlog(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a pytest ``--report-log`` file (JSON lines) into one row per test execution.

    A truncated file (a run that was killed) keeps every execution whose phases
    were written, and warns about the test left without its teardown.
    """
    records, warnings = _load_lines(stream, path)
    if not records:
        raise IngestError("no readable pytest report-log records", path=path)
    rows: list[dict[str, Any]] = []
    node_names = _node_names(
        [_keywords(r.get("keywords")) for _, r in records if r.get("$report_type") == "TestReport"]
    )
    reports = [r for _, r in records if r.get("$report_type") == "TestReport"]
    clock = _Clock([s for r in reports for s in (r.get("start"), r.get("stop"))])
    strays = [
        r
        for r in reports
        if any(r.get(k) is not None and not clock.own(r.get(k)) for k in ("start", "stop"))
        or (isinstance(r.get("duration"), (int, float)) and r["duration"] < 0)
    ]
    if strays:
        first = strays[0]
        stamp = next((first.get(k) for k in ("start", "stop") if not clock.own(first.get(k))), None)
        seen = f" ({_epoch(stamp):%Y-%m-%d} in {first.get('nodeid')})" if stamp else ""
        warnings.append(
            f"{path}: {len(strays)} phase report(s) of "
            f"{len({r.get('nodeid') for r in strays})} test(s) carry times outside the run's own "
            f"clock{seen}: a frozen or mocked clock; their start, stop and duration come from "
            "the phases that agree with the run, or are unknown"
        )
    after_rerun: set[str] = set()
    open_phases: dict[str, dict[str, dict[str, Any]]] = {}
    open_line: dict[str, int] = {}
    reruns: dict[str, int] = {}
    finished = False

    def close(nodeid: str) -> None:
        phases = open_phases.pop(nodeid)
        open_line.pop(nodeid, None)
        any_phase = next(iter(phases.values()))
        markers = _markers(any_phase.get("keywords"), nodeid, node_names)
        row = _fold(nodeid, phases, markers, clock)
        row["rerun"] = reruns.get(nodeid, 0)
        rows.append(row)

    for lineno, rec in records:
        kind = rec.get("$report_type")
        if kind == "TestReport":
            nodeid = str(rec.get("nodeid", ""))
            when = str(rec.get("when", "call"))
            if not nodeid:
                warnings.append(f"{path}:{lineno}: TestReport without nodeid; skipped")
                continue
            if when == "teardown" and nodeid in after_rerun and nodeid not in open_phases:
                # pytest-rerunfailures writes the teardown of a rerun execution after
                # the "rerun" call report; that execution's row is already closed
                after_rerun.discard(nodeid)
                continue
            open_phases.setdefault(nodeid, {})[when] = rec
            open_line.setdefault(nodeid, lineno)
            if rec.get("outcome") == "rerun":
                close(nodeid)
                reruns[nodeid] = reruns.get(nodeid, 0) + 1
                after_rerun.add(nodeid)
            elif when == "teardown":
                close(nodeid)
                reruns.pop(nodeid, None)
        elif kind == "CollectReport" and rec.get("outcome") in ("failed", "skipped"):
            # a module that fails to import is an error; one that skips itself
            # (pytest.skip(allow_module_level=True), importorskip) is a skipped
            # test, and pytest's closing line counts both
            nodeid = str(rec.get("nodeid", ""))
            message, ftype, details = _longrepr_text(rec.get("longrepr"))
            suite, classname, name = _split_nodeid(nodeid)
            failed = rec.get("outcome") == "failed"
            rows.append(
                {
                    "suite": suite,
                    "classname": classname,
                    "name": name,
                    "test_id": nodeid,
                    "outcome": (Outcome.ERROR if failed else Outcome.SKIPPED).value,
                    "rerun": 0,
                    "duration_s": _NAN,
                    "message": message or ("collection error" if failed else "skipped"),
                    "failure_type": (ftype or "CollectionError") if failed else "",
                    "details": details,
                    "markers": [],
                    "properties": {"phase": "collect"},
                }
            )
        elif kind == "SessionFinish":
            finished = True
    for nodeid in list(open_phases):
        warnings.append(
            f"{path}:{open_line[nodeid]}: {nodeid} has no teardown report (run interrupted?); "
            "kept with the phases written"
        )
        close(nodeid)
    if not finished:
        warnings.append(f"{path}: no SessionFinish record: the run did not finish")
    return ParsedTests(format=TestFormat.PYTEST_REPORTLOG, rows=rows, warnings=warnings)


def parse_json_report(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse a pytest-json-report file into one row per test.

    The format has no per-test clock times, so ``start``/``stop`` are implied by
    laying the tests end to end from the session start (``created - duration``).
    """
    try:
        doc = json.load(stream)
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON ({exc.msg})", path=path, line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text ({exc.reason})", path=path) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tests"), list):
        raise IngestError("not a pytest-json-report document (no 'tests' list)", path=path)
    warnings: list[str] = []
    rows: list[dict[str, Any]] = []
    created, total = doc.get("created"), doc.get("duration")
    node_names = _node_names(
        [_keywords(t.get("keywords")) for t in doc["tests"] if isinstance(t, dict)]
    )
    clock = None
    if isinstance(created, (int, float)) and isinstance(total, (int, float)):
        clock = float(created) - float(total)
    for index, test in enumerate(doc["tests"]):
        if not isinstance(test, dict) or "nodeid" not in test:
            warnings.append(f"{path}: tests[{index}] has no nodeid; skipped")
            continue
        nodeid = str(test["nodeid"])
        phases = {p: test[p] for p in _PHASES if isinstance(test.get(p), dict)}
        for p in phases.values():  # json-report keeps crash/longrepr/stdout per phase
            if "stdout" in p or "stderr" in p:
                p.setdefault("sections", [])
                p["sections"] = [
                    *p["sections"],
                    ("Captured stdout", p.get("stdout", "")),
                    ("Captured stderr", p.get("stderr", "")),
                ]
            folds_xfail = p is phases.get("call") or (
                p is phases.get("setup") and "call" not in phases
            )
            if (
                folds_xfail
                and "wasxfail" not in p
                and test.get("outcome") in ("xfailed", "xpassed")
            ):
                p["wasxfail"] = ""
        # merge the captured output of all phases into the last one folded
        last = phases.get("teardown") or phases.get("call") or phases.get("setup") or {}
        last["sections"] = [s for p in phases.values() for s in p.get("sections", [])]
        row = _fold(nodeid, phases, _markers(test.get("keywords"), nodeid, node_names))
        if test.get("outcome") == "rerun":
            row["properties"] = {**row["properties"], "reran": True}
        row["rerun"] = 0
        if clock is not None and row["start"] is None:
            row["start"] = _epoch(clock)
            clock += row["duration_s"]
            row["stop"] = _epoch(clock)
        rows.append(row)
    summary = doc.get("summary") or {}
    declared = Declared(
        tests=summary.get("total"),
        failures=summary.get("failed"),
        errors=summary.get("error"),
        skipped=summary.get("skipped"),
    )
    return ParsedTests(
        format=TestFormat.PYTEST_JSON, rows=rows, warnings=warnings, declared=declared
    )
