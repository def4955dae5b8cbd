"""Known causes of a stored iteration, a five-whys file or a test results file; a draft from them.

The entry points a notebook cell, the report or the command line call in one
line. Analyses and postmortems are read from ``root`` (a folder or a list of
folders; default: ``whys/`` and ``postmortems/`` beside the store root, as
:func:`whyloop.whys.whys_dir` and :func:`whyloop.postmortem.postmortems_dir`
give) through the cached index of :func:`~whyloop.known.catalog.load_index`;
pass ``index`` to look many things up in one index::

    from whyloop import known
    known.for_iteration("data/iterations", "staging")          # a DataFrame, best first
    print(known.to_markdown(known.for_iteration(store, "staging", 4)))
    a = known.draft(store, "staging")   # the five whys, starting from the known causes
    a.save()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from whyloop.errors import WhyloopError
from whyloop.known.catalog import default_cache, load_index
from whyloop.known.entries import Failure, failures_of
from whyloop.known.failures import failures_from_tables, failures_from_tests
from whyloop.known.index import KnownIndex
from whyloop.known.match import Match, lookup
from whyloop.known.postmortems import postmortem_entry
from whyloop.known.wording import hypothesis_text, matches_frame, similarity_text, to_markdown
from whyloop.postmortem.files import loads as load_postmortem
from whyloop.postmortem.files import postmortems_dir
from whyloop.postmortem.reader import FORMAT as POSTMORTEM_FORMAT
from whyloop.store import DEFAULT_ROOT, Store
from whyloop.whys.draft import TABLES, KnownCause
from whyloop.whys.draft import draft as draft_whys
from whyloop.whys.files import loads, whys_dir
from whyloop.whys.model import Analysis, Evidence, EvidenceKind

__all__ = [
    "Lookup",
    "default_roots",
    "draft",
    "for_iteration",
    "known_causes",
    "lookup_file",
    "lookup_iteration",
    "open_index",
    "section",
]

#: matches kept per failure by default
TOP = 5


class Lookup(list):
    """The matches of a lookup (a list, best first per failure), with the failures looked up."""

    def __init__(self, matches: list[Match], failures: list[Failure], index: KnownIndex) -> None:
        super().__init__(matches)
        self.failures, self.index = failures, index


def _store(store: Store | str | Path) -> Store:
    return store if isinstance(store, Store) else Store(Path(store))


Roots = str | Path | Sequence[str | Path]


def default_roots(
    store_root: str | Path = DEFAULT_ROOT,
    *,
    whys: str | Path | None = None,
    postmortems: str | Path | None = None,
) -> list[Path]:
    """Where a team's analyses are: ``whys`` and ``postmortems``, by default beside the store root.

    ``data/iterations`` -> ``[data/whys, data/postmortems]``.
    """
    return [
        Path(whys) if whys is not None else whys_dir(store_root),
        Path(postmortems) if postmortems is not None else postmortems_dir(store_root),
    ]


def open_index(root: Roots, *, cache: bool | str | Path = True) -> KnownIndex:
    """The index of the analyses under ``root`` (folders or files); cached by default.

    The cache is ``.known-index.json`` in the first folder; ``cache=False``
    reads every file; a path puts the cache there.
    """
    roots = [Path(root)] if isinstance(root, str | Path) else [Path(r) for r in root]
    path = Path(cache) if not isinstance(cache, bool) else None
    if cache is True and roots:
        path = default_cache(roots[0])
    return load_index(roots, cache=path)


def _index(index: KnownIndex | None, root: Roots | None, store: Store | None) -> KnownIndex:
    if index is not None:
        return index
    if root is None:
        root = default_roots(store.root if store is not None else DEFAULT_ROOT)
    return open_index(root)


def lookup_iteration(
    store: Store | str | Path,
    loop: str,
    iteration: str | int | None = None,
    *,
    root: Roots | None = None,
    index: KnownIndex | None = None,
    top: int | None = TOP,
    tables: Mapping[str, pd.DataFrame | None] | None = None,
) -> Lookup:
    """The known causes of each failure cluster of a stored iteration (default: the latest).

    ``tables`` are the iteration's tables when the caller has read them already
    (a report has), so they are not read from the store again.
    """
    store = _store(store)
    name = store.resolve(loop, None if iteration is None else str(iteration))
    if tables is None:
        have = store.manifest(loop, name)["tables"]
        if "tests" not in have:
            store.read(loop, name, "tests")  # raises, naming the tables the iteration has
        tables = {t: store.read(loop, name, t) if t in have else None for t in TABLES}
    failures = failures_from_tables(tables, loop=loop, iteration=name)
    idx = _index(index, root, store)
    return Lookup(lookup(idx, failures, top=top), failures, idx)


def for_iteration(
    store: Store | str | Path,
    loop: str,
    iteration: str | int | None = None,
    *,
    root: Roots | None = None,
    index: KnownIndex | None = None,
    top: int | None = TOP,
) -> pd.DataFrame:
    """The known causes of a stored iteration as a table (:data:`~whyloop.known.wording.MATCH_COLUMNS`)."""
    return matches_frame(lookup_iteration(store, loop, iteration, root=root, index=index, top=top))


def section(
    store: Store | str | Path,
    loop: str,
    iteration: str | int | None = None,
    *,
    root: Roots | None = None,
    index: KnownIndex | None = None,
    top: int | None = 3,
    tables: Mapping[str, pd.DataFrame | None] | None = None,
) -> str:
    """The known causes of a stored iteration as Markdown: the report's and triage's one line."""
    found = lookup_iteration(store, loop, iteration, root=root, index=index, top=top, tables=tables)
    return to_markdown(found, len(found.failures))


def lookup_file(
    path: str | Path,
    *,
    root: Roots | None = None,
    store: Store | str | Path | None = None,
    index: KnownIndex | None = None,
    top: int | None = TOP,
) -> Lookup:
    """The known causes of the failures of a five-whys file or of a test results file.

    A ``.yaml`` file starting with the five-whys format line is read as an
    analysis (its whys are looked up; the analysis itself is left out of the
    matches), one starting with the postmortem format line as a postmortem
    (its failure looked up); anything else is read by :func:`whyloop.read_tests` (signatures
    and tests only: a results file has no logs or probes).
    """
    path = Path(path)
    st = None if store is None else _store(store)
    idx = _index(index, root, st)
    head = ""
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        try:
            head = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WhyloopError(f"cannot read: {exc}", path=str(path)) from None
    if head.startswith("format: whyloop-whys/"):
        failures = failures_of(loads(head, path=path))
    elif head.startswith(f"format: {POSTMORTEM_FORMAT}"):
        e = postmortem_entry(load_postmortem(head, path=path), str(path))
        first = e.iterations[0] if e.iterations else ""
        failures = [
            Failure(
                e.clusters,
                e.signature,
                e.tests,
                e.stages,
                e.log_keys,
                e.loop,
                first,
                e.analysis,
                label=e.clusters[0] if e.clusters else f"postmortem {e.analysis}",
            )
        ]
    else:
        from whyloop.pull import read_tests

        failures = failures_from_tests(read_tests(path))
    return Lookup(lookup(idx, failures, top=top), failures, idx)


def known_causes(matches: list[Match], *, top: int = 1) -> list[KnownCause]:
    """The best ``top`` matches of each failure as hypotheses for :func:`whyloop.whys.draft`."""
    out: list[KnownCause] = []
    for m in matches:
        if m.rank > top:
            continue
        e = m.entry
        evidence = [
            Evidence(EvidenceKind.FILE, ref=e.path, text=f"analysis {e.analysis}, why {e.why}")
            if e.path
            else Evidence(EvidenceKind.NOTE, text=f"analysis {e.analysis}, why {e.why}"),
            Evidence(EvidenceKind.NOTE, text=f"similar: {similarity_text(m)}"),
        ]
        out.append(
            KnownCause(
                hypothesis_text(m),
                f"known cause {e.analysis} why {e.why} ({m.confidence.value} confidence)",
                clusters=tuple(m.failure.clusters),
                tests=tuple(m.failure.tests),
                stage=e.stages[0] if e.stages else None,
                evidence=tuple(evidence),
            )
        )
    return out


def draft(
    store: Store | str | Path,
    loop: str,
    iteration: str | int | None = None,
    *,
    root: Roots | None = None,
    index: KnownIndex | None = None,
    analysis_id: str | None = None,
) -> Analysis:
    """The five whys of a stored iteration drafted from its known causes first; nothing is written.

    Like :func:`whyloop.whys.draft` (its ``path`` is under ``root``, or its
    first folder; default ``whys/`` beside the store root), with
    the best past analysis of each failure cluster put first among its why's
    becauses, as a hypothesis.
    """
    store = _store(store)
    found = lookup_iteration(store, loop, iteration, root=root, index=index, top=1)
    if root is None:
        whys_root = whys_dir(store.root)
    else:
        whys_root = Path(root) if isinstance(root, str | Path) else Path(next(iter(root)))
    return draft_whys(
        store, loop, iteration, root=whys_root, analysis_id=analysis_id, known=known_causes(found)
    )
