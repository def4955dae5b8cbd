"""Verification: did the tests and probes a countermeasure names pass in a later iteration?

Pure (reads the store). Each countermeasure names what will show it worked
(``verify_tests``: test ids; ``verify_probes``: probe or stage names).
:func:`verify` reads the given iteration (default: the loop's latest) and
marks each countermeasure verified when every named test's last execution
passed and every named probe passed there, and not verified otherwise, with
the figures that say why (``2 of 3 named tests passed; failed: ...; not run:
...``). A name that is not in the iteration counts against it: a check that
did not run shows nothing. Countermeasures that name nothing are left as they
were. The caller saves the analysis.

Probes are looked up in the iteration's ``probes`` table by probe name (a
suite's ``probe`` column), stage name (a WebSocket probe's ``stage`` column,
where ``stage_ok`` says whether it passed) or target.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from whyloop.errors import StoreError
from whyloop.store import Store
from whyloop.whys.model import Analysis, Countermeasure, Verification, current_user, now

__all__ = ["VerifyResult", "verify"]


@dataclass(frozen=True)
class VerifyResult:
    """What one countermeasure's named checks did in one iteration."""

    countermeasure: str
    ok: bool
    iteration: str
    figures: str


def _table(store: Store, loop: str, iteration: str, name: str) -> pd.DataFrame | None:
    if name not in store.manifest(loop, iteration)["tables"]:
        return None
    return store.read(loop, iteration, name)


def _tests(names: list[str], tests: pd.DataFrame | None) -> tuple[int, list[str], list[str]]:
    """(passed, failed, not run) of the named tests, by each one's last execution."""
    if tests is None or tests.empty:
        return 0, [], list(names)
    last = tests
    if "rerun" in last:
        last = last.sort_values("rerun", kind="stable")
    outcome = last.drop_duplicates("test_id", keep="last").set_index("test_id")["outcome"]
    outcome = outcome.astype(str)
    passed = [n for n in names if outcome.get(n) in ("passed", "xpassed")]
    missing = [n for n in names if n not in outcome.index]
    failed = [n for n in names if n not in passed and n not in missing]
    return len(passed), failed, missing


def _probe_rows(name: str, probes: pd.DataFrame) -> pd.Series | None:
    """Whether each row of probe ``name`` passed, or None when no row is about it."""
    for column, ok in (("probe", "ok"), ("stage", "stage_ok"), ("target", "ok")):
        if column in probes and ok in probes:
            rows = probes[probes[column].astype(str) == name]
            if len(rows):
                return rows[ok].fillna(False).astype(bool)
    return None


def _probes(names: list[str], probes: pd.DataFrame | None) -> tuple[int, list[str], list[str]]:
    if probes is None or probes.empty:
        return 0, [], list(names)
    passed, failed, missing = 0, [], []
    for name in names:
        rows = _probe_rows(name, probes)
        if rows is None:
            missing.append(name)
        elif rows.all():
            passed += 1
        else:
            failed.append(name)
    return passed, failed, missing


def _figures(kind: str, total: int, passed: int, failed: list[str], missing: list[str]) -> str:
    text = f"{passed} of {total} named {kind} passed"
    if failed:
        text += f"; failed: {', '.join(failed)}"
    if missing:
        text += f"; not run: {', '.join(missing)}"
    return text


def _verify_one(
    c: Countermeasure, tests: pd.DataFrame | None, probes: pd.DataFrame | None
) -> tuple[bool, str]:
    parts, ok = [], True
    if c.verify_tests:
        passed, failed, missing = _tests(c.verify_tests, tests)
        parts.append(_figures("tests", len(c.verify_tests), passed, failed, missing))
        ok &= passed == len(c.verify_tests)
    if c.verify_probes:
        passed, failed, missing = _probes(c.verify_probes, probes)
        text = _figures("probes", len(c.verify_probes), passed, failed, missing)
        if probes is None:
            text += " (the iteration has no probes table)"
        parts.append(text)
        ok &= passed == len(c.verify_probes)
    return ok, "; ".join(parts)


def verify(
    analysis: Analysis,
    store: Store,
    loop: str | None = None,
    iteration: str | int | None = None,
    *,
    by: str | None = None,
) -> list[VerifyResult]:
    """Mark each countermeasure that names tests or probes verified or not, from one iteration.

    ``loop`` defaults to the analysis's loop and ``iteration`` to the loop's
    latest; ``by`` (default :func:`~whyloop.whys.model.current_user`) is
    recorded with each verification. Returns one result per countermeasure
    checked; ``analysis`` is changed in place and not saved. StoreError when
    the loop or iteration is missing.
    """
    loop = loop or analysis.loop
    if not loop:
        raise StoreError("the analysis names no loop: pass the loop to verify against")
    name = store.resolve(loop, None if iteration is None else str(iteration))
    store.manifest(loop, name)  # a missing iteration fails here, naming it
    tests = _table(store, loop, name, "tests")
    probes = _table(store, loop, name, "probes")
    who, when = by or current_user(), now()
    out = []
    for c in analysis.countermeasures:
        if not c.verify_tests and not c.verify_probes:
            continue
        ok, figures = _verify_one(c, tests, probes)
        c.verified = Verification(ok, name, figures, when, who)
        out.append(VerifyResult(c.id, ok, name, figures))
    return out
