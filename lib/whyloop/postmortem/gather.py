"""What a postmortem is built from: a loop's stored iterations and their five-whys analyses.

Pure (reads the store and the analyses' files). :func:`gather` reads each
chosen iteration's tables once into a :class:`LoopData`; the helpers here
write the store references the postmortem cites (the style of
:mod:`whyloop.whys.refs`) and the times it shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from whyloop.analyze.clusters import failed_runs, iteration_order, last_runs
from whyloop.errors import PostmortemError, StoreError
from whyloop.store import Store
from whyloop.whys.files import list_analyses, whys_dir
from whyloop.whys.files import load as load_analysis
from whyloop.whys.model import Analysis
from whyloop.whys.refs import StoreRef

__all__ = ["LoopData", "gather", "iso", "ref", "store_refs", "when"]

_TABLES = ("tests", "logs", "probes", "rerun_verdicts")


@dataclass
class LoopData:
    """The chosen iterations of one loop: their tables (absent ones left out) and manifests.

    ``tests`` frames carry an ``iteration`` column; ``logs`` keep the stored
    row order, so ``row=N`` references point at the same record as the five
    whys' do. ``previous`` is the stored iteration before the first chosen one.
    """

    loop: str
    iterations: list[str]
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    tests: dict[str, pd.DataFrame] = field(default_factory=dict)
    logs: dict[str, pd.DataFrame] = field(default_factory=dict)
    probes: dict[str, pd.DataFrame] = field(default_factory=dict)
    rerun_verdicts: dict[str, pd.DataFrame] = field(default_factory=dict)
    previous: str | None = None
    previous_manifest: dict[str, Any] | None = None
    previous_logs: pd.DataFrame | None = None
    analyses: list[Analysis] = field(default_factory=list)
    _last: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _failed: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def all_tests(self) -> pd.DataFrame:
        """Every chosen iteration's tests in one frame (with ``iteration``); empty when none."""
        frames = [self.tests[i] for i in self.iterations if i in self.tests]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def last(self, iteration: str) -> pd.DataFrame:
        """The last execution of each test of ``iteration`` (empty when it holds no tests)."""
        if iteration not in self._last:
            tests = self.tests.get(iteration)
            empty = tests is None or tests.empty
            self._last[iteration] = pd.DataFrame() if empty else last_runs(tests)
        return self._last[iteration]

    def failed(self, iteration: str) -> pd.DataFrame:
        """The failing last executions of ``iteration`` (``failed`` or ``error``)."""
        if iteration not in self._failed:
            tests = self.tests.get(iteration)
            empty = tests is None or tests.empty
            self._failed[iteration] = pd.DataFrame() if empty else failed_runs(tests)
        return self._failed[iteration]

    def written(self, iteration: str, table: str) -> str:
        """When ``table`` was stored in ``iteration`` (ISO), else when the iteration was."""
        manifest = self.manifests.get(iteration, {})
        entry = manifest.get("tables", {}).get(table, {})
        return str(entry.get("written") or manifest.get("created") or "")


def ref(loop: str, iteration: str, table: str, **where: Any) -> str:
    """A store reference: ``store:LOOP/ITERATION/TABLE#column=value&...``."""
    return str(StoreRef(loop, str(iteration), table, {k: str(v) for k, v in where.items()}))


def store_refs(evidence: Iterable[Any], limit: int = 5) -> list[str]:
    """The distinct ``store:`` references of a because's evidence, at most ``limit``."""
    refs = dict.fromkeys(e.ref for e in evidence if str(e.ref).startswith("store:"))
    return list(refs)[:limit]


def when(value: Any) -> pd.Timestamp | None:
    """A time as a UTC timestamp, or None when there is none."""
    if value is None or value is pd.NaT or (isinstance(value, str) and not value.strip()):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def iso(value: Any) -> str:
    """A time as ISO 8601 in UTC, to the millisecond (``""`` when there is none)."""
    ts = when(value)
    return "" if ts is None else ts.isoformat(timespec="milliseconds")


def _read(store: Store, loop: str, iteration: str, table: str) -> pd.DataFrame | None:
    if table not in store.manifest(loop, iteration)["tables"]:
        return None
    return store.read(loop, iteration, table).reset_index(drop=True)


def _analyses(
    store: Store,
    data: LoopData,
    analyses: Sequence[Analysis | str | Path] | None,
    whys_root: str | Path | None,
) -> list[Analysis]:
    if analyses is not None:
        return [a if isinstance(a, Analysis) else load_analysis(a) for a in analyses]
    root = Path(whys_root) if whys_root is not None else whys_dir(store.root)
    rows = list_analyses(root, data.loop)
    chosen = set(data.iterations)
    out = []
    for row in rows.to_dict("records"):
        if not row["error"] and chosen & set(str(row["iterations"]).split(",")):
            out.append(load_analysis(row["path"]))
    return out


def gather(
    store: Store,
    loop: str,
    iterations: Sequence[str | int] | None = None,
    *,
    analyses: Sequence[Analysis | str | Path] | None = None,
    whys_root: str | Path | None = None,
) -> LoopData:
    """Read ``iterations`` of ``loop`` (default: all of them) and the analyses that cover them.

    ``analyses`` (objects or paths) are used as given; without them every
    analysis under ``whys_root/<loop>/`` (default: ``whys/`` beside the store)
    that names one of the iterations is loaded. PostmortemError when the loop
    or an iteration is not in the store.
    """
    try:
        stored = store.iterations(loop)
    except StoreError as exc:
        raise PostmortemError(str(exc), param="loop") from None
    if not stored:
        raise PostmortemError(f"{loop!r} has no stored iteration in {store.root}", param="loop")
    chosen = [str(i) for i in iterations] if iterations else list(stored)
    missing = [i for i in chosen if i not in stored]
    if missing:
        raise PostmortemError(
            f"loop {loop!r} has no iteration {', '.join(missing)} (it has {', '.join(stored)})",
            param="iterations",
        )
    chosen = iteration_order(dict.fromkeys(chosen))
    data = LoopData(loop, chosen)
    for it in chosen:
        data.manifests[it] = store.manifest(loop, it)
        for table in _TABLES:
            frame = _read(store, loop, it, table)
            if frame is not None:
                if table == "tests":
                    frame = frame.assign(iteration=it)
                getattr(data, table)[it] = frame
    before = stored[: stored.index(chosen[0])]
    if before:
        data.previous = before[-1]
        data.previous_manifest = store.manifest(loop, data.previous)
        data.previous_logs = _read(store, loop, data.previous, "logs")
    data.analyses = _analyses(store, data, analyses, whys_root)
    return data
