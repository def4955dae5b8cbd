"""The loop's verdict: CONTINUE or DONE, from explicit exit criteria, each reported with its figure.

Pure (:func:`load_criteria` reads the one YAML file it is given). The verdict
is data, so a report and a CI gate read the same thing: a
:class:`~whyloop.schema.LoopStatus` and a frame with one row per criterion
(``criterion, kind, target, figure, met, state, detail``). DONE only when
every criterion is met; a criterion whose figure cannot be computed (its data
was not given) is not met, and its detail says ``unknown: no probes table``.

The criteria (:class:`CriterionKind`), in YAML::

    criteria:
      - {kind: pass_rate, target: 0.95}                      # every test of the latest iteration
      - {kind: pass_rate, target: 1.0, category: WebSocket}  # or suite: <the tests' suite>
      - {kind: sla}                # every probe check with an SLA met (the probes table's ok)
      - {kind: probes_ok}          # every probe check passed
      - {kind: no_new_signatures}  # no failure signature the previous iteration did not have
      - {kind: whys_answered}      # no open why without a countermeasure

Shorthands: ``- pass_rate: 0.95`` (with ``category``/``suite`` beside it), ``- sla``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from whyloop.analyze.clusters import ITERATION, SINGLE_ITERATION, iteration_order, last_runs
from whyloop.analyze.compare import compare_iterations
from whyloop.errors import ConfigError
from whyloop.schema import CriterionState, LoopStatus

__all__ = [
    "CRITERIA_COLUMNS",
    "Criterion",
    "CriterionKind",
    "LoopVerdict",
    "load_criteria",
    "loop_verdict",
]

#: columns of :attr:`LoopVerdict.criteria`
CRITERIA_COLUMNS: tuple[str, ...] = (
    "criterion",
    "kind",
    "target",
    "figure",
    "met",
    "state",
    "detail",
)


class CriterionKind(StrEnum):
    """What an exit criterion checks."""

    #: passed / (passed + failed + errors) of the latest iteration >= target
    PASS_RATE = "pass_rate"
    #: every probe check that carries an SLA is ok
    SLA = "sla"
    #: every probe check is ok
    PROBES_OK = "probes_ok"
    #: no failure signature that the previous iteration did not have
    NO_NEW_SIGNATURES = "no_new_signatures"
    #: no why that is open and has no countermeasure
    WHYS_ANSWERED = "whys_answered"


@dataclass(frozen=True)
class Criterion:
    """One exit criterion. ``target`` is the minimum pass rate (0 to 1) for PASS_RATE only;
    ``category`` or ``suite`` narrows a pass rate to the tests carrying it."""

    kind: CriterionKind
    target: float | None = None
    category: str | None = None
    suite: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", CriterionKind(self.kind))
        if self.kind is CriterionKind.PASS_RATE:
            if self.target is None or not 0 <= float(self.target) <= 1:
                raise ConfigError(f"pass_rate needs a target between 0 and 1, got {self.target}")
            if self.category and self.suite:
                raise ConfigError("pass_rate takes a category or a suite, not both")
        elif self.target is not None or self.category or self.suite:
            raise ConfigError(f"{self.kind.value} takes no target, category or suite")

    @property
    def label(self) -> str:
        """How the criterion reads in a report: ``pass rate of category WebSocket``."""
        if self.kind is CriterionKind.PASS_RATE:
            scope = f" of category {self.category}" if self.category else ""
            return "pass rate" + (f" of suite {self.suite}" if self.suite else scope)
        return {
            CriterionKind.SLA: "every SLA check met",
            CriterionKind.PROBES_OK: "every probe check passed",
            CriterionKind.NO_NEW_SIGNATURES: "no new failure signature",
            CriterionKind.WHYS_ANSWERED: "no open why without a countermeasure",
        }[self.kind]


@dataclass(frozen=True)
class LoopVerdict:
    """CONTINUE or DONE, and every criterion with its figure (:data:`CRITERIA_COLUMNS`)."""

    status: LoopStatus
    criteria: pd.DataFrame

    @property
    def done(self) -> bool:
        """True when every criterion is met."""
        return self.status is LoopStatus.DONE

    def unmet(self) -> pd.DataFrame:
        """The criteria not met (unknown ones included)."""
        return self.criteria[~self.criteria["met"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``{"status": "continue", "criteria": [{criterion, target, figure, ...}]}``."""
        table = self.criteria.astype(object).where(self.criteria.notna(), None)
        return {"status": self.status.value, "criteria": table.to_dict("records")}

    def __str__(self) -> str:
        lines = [self.status.value.upper()]
        for r in self.criteria.to_dict("records"):
            mark = "met" if r["met"] else ("unknown" if r["state"] == "unknown" else "NOT met")
            lines.append(f"  {mark:8} {r['criterion']}: {r['detail']}")
        return "\n".join(lines)


def _criterion(item: Any, where: str) -> Criterion:
    if isinstance(item, Criterion):
        return item
    if isinstance(item, str):
        item = {"kind": item}
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: expected a mapping such as {{kind: sla}}, got {item!r}")
    entry = dict(item)
    if "kind" not in entry:
        kinds = [k for k in entry if k in CriterionKind._value2member_map_]
        if len(kinds) != 1:
            raise ConfigError(f"{where}: name one kind ({', '.join(CriterionKind)})")
        value = entry.pop(kinds[0])
        entry["kind"] = kinds[0]
        if kinds[0] == CriterionKind.PASS_RATE:
            entry["target"] = value
        elif value is not True and value is not None:
            raise ConfigError(f"{where}: {kinds[0]} takes true, got {value!r}")
    unknown = set(entry) - {"kind", "target", "category", "suite"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if entry["kind"] not in CriterionKind._value2member_map_:
        raise ConfigError(f"{where}: unknown kind {entry['kind']!r} ({', '.join(CriterionKind)})")
    try:
        target = entry.get("target")
        return Criterion(
            kind=CriterionKind(entry["kind"]),
            target=None if target is None else float(target),
            category=entry.get("category"),
            suite=entry.get("suite"),
        )
    except (ConfigError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {getattr(exc, 'reason', exc)}") from None


def load_criteria(source: str | Path | Mapping[str, Any] | Sequence[Any]) -> list[Criterion]:
    """Read exit criteria from a YAML file, or the same data (``{criteria: [...]}`` or a list).

    :class:`Criterion` objects in the list are taken as they are.
    Raises ConfigError naming the file and the criterion when one is malformed.
    """
    path = None
    data: Any = source
    if isinstance(source, (str, Path)):
        path = str(source)
        try:
            data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read exit criteria: {exc.strerror}", path=path) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {str(exc).splitlines()[0]}", path=path) from None
    if isinstance(data, Mapping):
        data = data.get("criteria")
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        raise ConfigError("exit criteria must be a non-empty list (under 'criteria:')", path=path)
    try:
        return [_criterion(item, f"criterion {i}") for i, item in enumerate(data, 1)]
    except ConfigError as exc:
        raise exc.at(path) from None


# -- figures --------------------------------------------------------------------------------

_Row = tuple[float | None, bool | None, str]  # figure, met (None: unknown), detail


def _latest(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows of the frame's latest iteration, and ``iteration 7`` (empty when unnamed)."""
    if ITERATION not in frame or frame.empty:
        return frame, ""
    last = iteration_order(frame[ITERATION])[-1]
    named = "" if last == SINGLE_ITERATION else f"iteration {last}"
    return frame[frame[ITERATION].astype(str) == last], named


def _pass_rate(c: Criterion, tests: pd.DataFrame | None, summary: Mapping | None) -> _Row:
    scope = f"category {c.category}" if c.category else (f"suite {c.suite}" if c.suite else "")
    if tests is not None:
        runs, at = _latest(last_runs(tests))
        if c.category or c.suite:
            column = "category" if c.category else "suite"
            if column not in runs:
                return None, None, f"unknown: the tests have no {column} column"
            runs = runs[runs[column].astype(str) == (c.category or c.suite)]
        outcomes = runs["outcome"].astype(str)
        passed = int(outcomes.isin(["passed", "xpassed"]).sum())
        ran = passed + int(outcomes.isin(["failed", "error"]).sum())
        where = ", ".join(p for p in (scope, at) if p)
        where = f" ({where})" if where else ""
    elif summary is not None:
        if c.suite:
            return None, None, "unknown: a summary has no suites (pass the tests frame)"
        counts = summary["by_category"].get(c.category) if c.category else summary
        if counts is None:
            return None, None, f"unknown: no test in category {c.category}"
        passed = int(counts["passed"])
        ran = passed + int(counts["failed"]) + int(counts["errors"])
        where = f" ({scope})" if scope else ""
    else:
        return None, None, "unknown: no tests or summary given"
    if not ran:
        return None, None, f"unknown: no test{' of ' + scope if scope else ''} passed or failed"
    rate = round(passed / ran, 4)
    sign = ">=" if rate >= float(c.target or 0) else "<"
    return (
        rate,
        rate >= float(c.target or 0),
        f"{passed} of {ran} passed{where}: {rate:.2%} {sign} {float(c.target or 0):.2%}",
    )


def _checks(table: Any, sla_only: bool) -> _Row:
    if table is None:
        return None, None, "unknown: no probes table"
    if not isinstance(table, pd.DataFrame):  # probe results (whyloop.results.ProbeResult)
        table = pd.DataFrame(
            [
                {
                    "probe": getattr(r, "target", ""),
                    "ok": bool(r.ok),
                    "diagnosis": getattr(r, "diagnosis", ""),
                }
                for r in table
            ]
        )
    table, _ = _latest(table)
    if "ok" not in table:
        return None, None, "unknown: the probes table has no 'ok' column"
    if sla_only:
        sla = table["sla"].astype(object) if "sla" in table else pd.Series(dtype=object)
        table = table[sla.notna() & (sla.astype(str).str.strip() != "")]
        if table.empty:
            return None, None, "unknown: no SLA check in the probes table"
    if table.empty:
        return None, None, "unknown: the probes table is empty"
    ok = table["ok"].astype(bool)
    what = "SLA checks" if sla_only else "probe checks"
    detail = f"{int(ok.sum())} of {len(table)} {what} met"
    missed = table[~ok].to_dict("records")
    if missed:
        names = []
        for r in missed[:3]:
            name = (
                " ".join(str(r[k]) for k in ("probe", "check", "metric") if r.get(k)) or "a check"
            )
            figure = (
                f" {r['value']:g}"
                if isinstance(r.get("value"), float) and pd.notna(r.get("value"))
                else ""
            )
            bound = f" (SLA {r['sla']})" if r.get("sla") else ""
            names.append(f"{name}{figure}{bound}")
        detail += "; missed: " + ", ".join(names) + (", ..." if len(missed) > 3 else "")
    return round(float(ok.mean()), 4), bool(ok.all()), detail


def _new_signatures(new: Any, tests: pd.DataFrame | None) -> _Row:
    if new is None and tests is not None and ITERATION in tests:
        names = iteration_order(tests[ITERATION])
        if len(names) >= 2:
            it = tests[ITERATION].astype(str)
            new = compare_iterations(tests[it != names[-1]], tests[it == names[-1]]).new_signatures
    if new is None:
        return (
            None,
            None,
            "unknown: no iteration diff given (and no earlier iteration in the tests)",
        )
    if isinstance(new, pd.DataFrame):
        items = [
            f"{r.get('signature', '')} {str(r.get('signature_text') or '')[:80]}".strip()
            for r in new.to_dict("records")
        ]
    else:
        items = [str(s) for s in new]
    if not items:
        return 0.0, True, "no new failure signature"
    shown = "; ".join(items[:3]) + ("; ..." if len(items) > 3 else "")
    return float(len(items)), False, f"{len(items)} new: {shown}"


def _field(why: Any, name: str) -> Any:
    return why.get(name) if isinstance(why, Mapping) else getattr(why, name, None)


def _whys(whys: Sequence[Any] | None) -> _Row:
    if whys is None:
        return None, None, "unknown: no whys given"
    open_ = [w for w in whys if _field(w, "open") and not _field(w, "has_countermeasure")]
    if not open_:
        n = len(whys)
        return 0.0, True, f"{n} why{'s' * (n != 1)}, none open without a countermeasure"
    names = [
        str(_field(w, "id") or _field(w, "title") or _field(w, "problem") or "?") for w in open_
    ]
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return float(len(open_)), False, f"{len(open_)} open without a countermeasure: {shown}"


def loop_verdict(
    criteria: Sequence[Criterion] | Sequence[Mapping[str, Any]] | Mapping[str, Any] | str | Path,
    *,
    summary: Mapping[str, Any] | None = None,
    tests: pd.DataFrame | None = None,
    probes: Any = None,
    suite_checks: pd.DataFrame | None = None,
    new_signatures: pd.DataFrame | Sequence[str] | None = None,
    whys: Sequence[Any] | None = None,
) -> LoopVerdict:
    """Judge the exit criteria: DONE when every one is met, else CONTINUE.

    ``criteria``: :class:`Criterion` objects, or what :func:`load_criteria`
    reads. The data, each optional (a criterion without its data is unknown,
    so not met): ``tests`` (a tests frame; with ``iteration``, its latest
    iteration is judged, and the previous one gives the new signatures) or
    ``summary`` (:func:`whyloop.summarize_tests`) for pass rates;
    ``suite_checks`` (the ``probes`` table of a probe suite) for SLA checks,
    ``probes`` (the same table, or probe results) for both when
    ``suite_checks`` is not given; ``new_signatures`` (an iteration diff's
    ``new_signatures`` frame, or signature ids); ``whys`` (dicts or objects
    with ``open`` and ``has_countermeasure``, optionally ``id``/``title``).
    """
    chosen = load_criteria(criteria)
    rows = []
    for c in chosen:
        if c.kind is CriterionKind.PASS_RATE:
            figure, met, detail = _pass_rate(c, tests, summary)
            target = float(c.target or 0)
        elif c.kind in (CriterionKind.SLA, CriterionKind.PROBES_OK):
            table = suite_checks if suite_checks is not None else probes
            figure, met, detail = _checks(table, c.kind is CriterionKind.SLA)
            target = 1.0
        elif c.kind is CriterionKind.NO_NEW_SIGNATURES:
            figure, met, detail = _new_signatures(new_signatures, tests)
            target = 0.0
        else:
            figure, met, detail = _whys(whys)
            target = 0.0
        state = (
            CriterionState.UNKNOWN
            if met is None
            else (CriterionState.MET if met else CriterionState.NOT_MET)
        )
        rows.append(
            {
                "criterion": c.label,
                "kind": c.kind.value,
                "target": target,
                "figure": figure,
                "met": bool(met),
                "state": state.value,
                "detail": detail,
            }
        )
    frame = pd.DataFrame(rows, columns=list(CRITERIA_COLUMNS))
    frame["figure"] = frame["figure"].astype("float64")
    frame["met"] = frame["met"].astype(bool)
    status = LoopStatus.DONE if frame["met"].all() else LoopStatus.CONTINUE
    return LoopVerdict(status=status, criteria=frame)
