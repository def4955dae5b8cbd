"""What changed from one iteration to the next: tests newly failing, fixed, still failing, regressed.

Pure (:func:`compare_stored` only reads a store it is given). Each test counts
by its last execution in an iteration; a *result* is a pass (``passed``,
``xpassed``) or a failure (``failed``, ``error``): a skipped or absent test
gives none, so "the last result before" skips over iterations it did not run in.

For a test that fails in the current iteration:

- **still failing**: its last result before was a failure;
- **regressed**: its last result before was a pass, and it failed earlier in
  the history given (it was fixed, and broke again);
- **new failure**: it never failed before in the history given (it passed, or
  never gave a result).

A test that passes now and whose last result before was a failure is
**fixed**. Failure signatures (and log templates, when given) are compared
between the two iterations only: *new* ones appear in the current iteration
and not in the previous one (``seen_before`` names an earlier iteration that
had them, a comeback), *vanished* ones the other way round.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import pandas as pd

from whyloop.analyze.clusters import (
    ITERATION,
    failed_runs,
    iteration_key,
    iteration_order,
    last_runs,
)
from whyloop.errors import StoreError
from whyloop.schema import ChangeKind

if TYPE_CHECKING:
    from whyloop.store import Store

__all__ = ["CHANGE_COLUMNS", "IterationDiff", "compare_iterations", "compare_stored"]

#: columns of the frames of tests (new_failures, fixed, still_failing, regressed)
CHANGE_COLUMNS: tuple[str, ...] = (
    "test_id",
    "category",
    "outcome",
    "previous_outcome",
    "signature",
    "signature_text",
    "message",
    "since",
    "detail",
)
_SIGNATURE_COLUMNS = ("signature", "signature_text", "size", "tests", "seen_before")
_FAIL = frozenset({"failed", "error"})
_PASS = frozenset({"passed", "xpassed"})
#: the frames of tests, and the change each one holds
_TABLES: dict[str, ChangeKind] = {
    "new_failures": ChangeKind.NEW_FAILURE,
    "fixed": ChangeKind.FIXED,
    "still_failing": ChangeKind.STILL_FAILING,
    "regressed": ChangeKind.REGRESSED,
}


@dataclass(frozen=True)
class IterationDiff:
    """The changes between two iterations, as frames (also readable as ``diff["fixed"]``).

    ``new_templates`` and ``vanished_templates`` are None when no template
    tables were given.
    """

    previous: str
    current: str
    new_failures: pd.DataFrame
    fixed: pd.DataFrame
    still_failing: pd.DataFrame
    regressed: pd.DataFrame
    new_signatures: pd.DataFrame
    vanished_signatures: pd.DataFrame
    new_templates: pd.DataFrame | None = None
    vanished_templates: pd.DataFrame | None = None

    def __getitem__(self, name: str) -> Any:
        if name not in {f.name for f in fields(self)}:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(f.name for f in fields(self))

    def counts(self) -> dict[str, int | None]:
        """How many rows each part holds (None for templates not compared)."""
        out: dict[str, int | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame) or value is None:
                out[f.name] = None if value is None else len(value)
        return out

    def changes(self) -> pd.DataFrame:
        """Every changed test in one frame, with ``change`` (a :class:`ChangeKind` value)."""
        parts = [getattr(self, name).assign(change=kind.value) for name, kind in _TABLES.items()]
        frame = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
        return frame[["change", *CHANGE_COLUMNS]]


def _split(tests: pd.DataFrame, default: str) -> tuple[pd.DataFrame, str]:
    """Last runs of ``tests`` and the name of its last iteration (``default`` when unnamed)."""
    if ITERATION not in tests:
        tests = tests.assign(**{ITERATION: default})
    runs = last_runs(tests)
    names = iteration_order(runs[ITERATION]) if len(runs) else []
    return runs, (names[-1] if names else "")


def _value(row: pd.Series | None, column: str) -> Any:
    if row is None or column not in row.index:
        return None
    value = row[column]
    return None if value is None or (not isinstance(value, list) and pd.isna(value)) else value


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))


def _history(runs: pd.DataFrame) -> dict[str, list[tuple[str, bool]]]:
    """test_id -> [(iteration, failed?)] over the runs that gave a result, in natural order."""
    results = runs[runs["outcome"].isin(_FAIL | _PASS)]
    results = results.assign(_k=results[ITERATION].map(iteration_key)).sort_values("_k")
    out: dict[str, list[tuple[str, bool]]] = {}
    for test_id, it, outcome in zip(
        results["test_id"], results[ITERATION], results["outcome"], strict=True
    ):
        out.setdefault(str(test_id), []).append((str(it), outcome in _FAIL))
    return out


def _signatures(failed: pd.DataFrame) -> dict[str, tuple[str, list[str]]]:
    out: dict[str, tuple[str, list[str]]] = {}
    for sig, text, test_id in zip(
        failed["signature"], failed["signature_text"], failed["test_id"], strict=True
    ):
        entry = out.setdefault(str(sig), (str(text), []))
        if test_id not in entry[1]:
            entry[1].append(str(test_id))
    return out


def _template_keys(table: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """A template table (or per-record ids) as ``template_id, template, count``."""
    if isinstance(table, pd.Series):
        counts = table.dropna().astype(str).value_counts(sort=False)
        return pd.DataFrame(
            {"template_id": counts.index, "template": None, "count": counts.to_numpy()}
        )
    frame = table.copy()
    if "template_id" not in frame and "template" not in frame:
        raise ValueError("a template table needs a 'template_id' or 'template' column")
    for column in ("template_id", "template"):
        if column not in frame:
            frame[column] = None
    if "count" not in frame:
        key = "template" if frame["template"].notna().any() else "template_id"
        frame = frame.groupby(key, dropna=False, sort=False).agg(
            template_id=("template_id", "first"),
            template=("template", "first"),
            count=("template_id", "size"),
        )
        frame = frame.reset_index(drop=True)
    return frame[["template_id", "template", "count"]].drop_duplicates(
        "template" if frame["template"].notna().all() else "template_id"
    )


def _template_diff(
    previous: pd.DataFrame | pd.Series, current: pd.DataFrame | pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    before, now = _template_keys(previous), _template_keys(current)
    # template text is stable across mining runs; ids may not be: compare texts when both have them
    key = (
        "template"
        if before["template"].notna().all() and now["template"].notna().all()
        else "template_id"
    )
    new = now[~now[key].isin(set(before[key]))].reset_index(drop=True)
    gone = before[~before[key].isin(set(now[key]))].reset_index(drop=True)
    return new, gone


def compare_iterations(
    previous: pd.DataFrame,
    current: pd.DataFrame,
    *,
    previous_templates: pd.DataFrame | pd.Series | None = None,
    current_templates: pd.DataFrame | pd.Series | None = None,
) -> IterationDiff:
    """Compare the tests of ``current`` with ``previous`` (see the module docstring for the terms).

    ``previous`` is the previous iteration's tests frame, or the history up to
    it (several iterations with an ``iteration`` column, as
    ``Store.read_all`` gives): its last iteration in natural order is the one
    compared, the earlier ones tell a regression from a new failure.
    ``current`` is one iteration's tests frame (with several, its last one).
    ``previous_templates``/``current_templates`` are template tables
    (``template_id`` and/or ``template``, optionally ``count``) or per-record
    template ids; compared by template text when both have it, else by id.
    """
    before, prev_name = _split(previous, "previous")
    now_all, cur_name = _split(current, "current")
    now = now_all[now_all[ITERATION] == cur_name] if len(now_all) else now_all
    history = _history(before)
    last_before = before[before[ITERATION] == prev_name].set_index("test_id", drop=False)
    buckets: dict[str, list[dict[str, Any]]] = {name: [] for name in _TABLES}
    failed_now = failed_runs(now).set_index("test_id", drop=False) if len(now) else None
    failed_prev = failed_runs(before) if len(before) else pd.DataFrame()
    for row in now.to_dict("records"):
        test_id = str(row["test_id"])
        seq = history.get(test_id, [])
        prev_row = last_before.loc[test_id] if test_id in last_before.index else None
        if isinstance(prev_row, pd.DataFrame):  # duplicated id in the index: keep the first
            prev_row = prev_row.iloc[0]
        base = {
            "test_id": test_id,
            "category": row.get("category"),
            "outcome": row["outcome"],
            "previous_outcome": _value(prev_row, "outcome"),
        }
        if row["outcome"] in _FAIL:
            current_row = failed_now.loc[test_id]
            if isinstance(current_row, pd.DataFrame):
                current_row = current_row.iloc[0]
            base |= {
                "signature": current_row["signature"],
                "signature_text": current_row["signature_text"],
                "message": row.get("message"),
            }
            fails = [it for it, failed in seq if failed]
            if seq and seq[-1][1]:
                streak = [it for it, _ in _trailing_fails(seq)]
                base |= {"since": streak[0], "detail": f"failing since iteration {streak[0]}"}
                buckets["still_failing"].append(base)
            elif fails:
                last_fail = fails[-1]
                passed_in = next(it for it, failed in seq if not failed and _after(it, last_fail))
                base |= {
                    "since": cur_name,
                    "detail": f"failed in iteration {last_fail}, passed in {passed_in}, "
                    f"fails again in {cur_name}",
                }
                buckets["regressed"].append(base)
            else:
                n = len(seq)
                ran = f"passed in {n} earlier run{'s' * (n > 1)}" if n else "no result before"
                base |= {"since": cur_name, "detail": f"first failure ({ran})"}
                buckets["new_failures"].append(base)
        elif row["outcome"] in _PASS and seq and seq[-1][1]:
            streak = [it for it, _ in _trailing_fails(seq)]
            last = failed_prev[failed_prev["test_id"] == test_id]
            last = last[last[ITERATION] == streak[-1]]
            base |= {
                "signature": last["signature"].iloc[0] if len(last) else None,
                "signature_text": last["signature_text"].iloc[0] if len(last) else None,
                "message": last["message"].iloc[0] if len(last) and "message" in last else None,
                "since": streak[0],
                "detail": f"failed from iteration {streak[0]} to {streak[-1]}, passes in {cur_name}",
            }
            buckets["fixed"].append(base)
    new_sigs, gone_sigs = _signature_diff(before, prev_name, failed_now, failed_prev)
    new_t = gone_t = None
    if previous_templates is not None and current_templates is not None:
        new_t, gone_t = _template_diff(previous_templates, current_templates)
    return IterationDiff(
        previous=prev_name,
        current=cur_name,
        **{name: _frame(rows) for name, rows in buckets.items()},
        new_signatures=new_sigs,
        vanished_signatures=gone_sigs,
        new_templates=new_t,
        vanished_templates=gone_t,
    )


def _trailing_fails(seq: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    streak: list[tuple[str, bool]] = []
    for item in reversed(seq):
        if not item[1]:
            break
        streak.insert(0, item)
    return streak


def _after(it: str, other: str) -> bool:
    return iteration_key(it) > iteration_key(other)


def _signature_diff(
    before: pd.DataFrame,
    prev_name: str,
    failed_now: pd.DataFrame | None,
    failed_prev: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    now = _signatures(failed_now) if failed_now is not None and len(failed_now) else {}
    prev_rows = (
        failed_prev[failed_prev[ITERATION] == prev_name] if len(failed_prev) else failed_prev
    )
    prev = _signatures(prev_rows) if len(prev_rows) else {}
    earlier: dict[str, str] = {}
    if len(failed_prev):
        older = failed_prev[failed_prev[ITERATION] != prev_name]
        for sig, it in zip(older["signature"], older[ITERATION], strict=True):
            if sig not in earlier or _after(it, earlier[sig]):
                earlier[str(sig)] = str(it)
    new = [
        {"signature": s, "signature_text": t, "size": len(ids), "tests": ids,
         "seen_before": earlier.get(s)}
        for s, (t, ids) in now.items()
        if s not in prev
    ]  # fmt: skip
    gone = [
        {"signature": s, "signature_text": t, "size": len(ids), "tests": ids, "seen_before": None}
        for s, (t, ids) in prev.items()
        if s not in now
    ]
    columns = list(_SIGNATURE_COLUMNS)
    new_frame = pd.DataFrame(new, columns=columns)
    new_frame["seen_before"] = new_frame["seen_before"].astype(object)
    new_frame["seen_before"] = new_frame["seen_before"].where(
        new_frame["seen_before"].notna(), None
    )
    return new_frame, pd.DataFrame(gone, columns=columns[:-1])


def compare_stored(
    store: Store,
    loop: str,
    iteration: str | int | None = None,
    against: str | int | None = None,
    *,
    templates_table: str = "templates",
) -> IterationDiff:
    """Compare two stored iterations of ``loop``: ``iteration`` (default: the latest) with ``against``.

    ``against`` defaults to the iteration before ``iteration`` (among those
    holding a ``tests`` table); the history used to tell a regression is every
    iteration up to ``against``. When both iterations hold ``templates_table``,
    their templates are compared too. Raises StoreError when there is nothing
    to compare against.
    """
    tests = store.read_all(loop, "tests")
    names = iteration_order(tests[ITERATION])
    current = names[-1] if iteration is None else str(iteration)
    if current not in names:
        raise StoreError(f"iteration {current!r} of loop {loop!r} has no tests table")
    if against is None:
        earlier = [n for n in names if iteration_key(n) < iteration_key(current)]
        if not earlier:
            raise StoreError(
                f"iteration {current!r} of loop {loop!r} has no earlier iteration to compare with"
            )
        previous = earlier[-1]
    else:
        previous = str(against)
        if previous not in names:
            raise StoreError(f"iteration {previous!r} of loop {loop!r} has no tests table")
    key = tests[ITERATION].astype(str).map(iteration_key)
    history = tests[key <= iteration_key(previous)]
    templates: list[pd.DataFrame | None] = []
    for name in (previous, current):
        held = store.manifest(loop, name)["tables"]
        templates.append(
            store.read(loop, name, templates_table) if templates_table in held else None
        )
    return compare_iterations(
        history,
        tests[tests[ITERATION].astype(str) == current],
        previous_templates=templates[0],
        current_templates=templates[1],
    )
