"""The iteration store: ingested tables kept as Parquet, one folder per loop iteration.

Layout (default root ``data/iterations``)::

    <root>/<loop>/<iteration>/manifest.json
    <root>/<loop>/<iteration>/tests-1a2b3c4d.parquet
    <root>/<loop>/<iteration>/logs-5e6f7a8b.parquet
    <root>/<loop>/<iteration>/.lock          (held while the manifest changes)
    <root>/<loop>/.lock                      (held while a folder is created or cleaned)

The manifest is the only thing readers trust: it names each table's file, its
row count, its sources and when it was written. A table goes to a fresh file
name (a temporary name, then renamed), and only then is the manifest replaced
(``os.replace``) to name it. An iteration without a manifest does not exist.

Processes may write at once (POSIX only; the locks are in
:mod:`whyloop.store_locks`). Each new iteration gets its own number (its folder
is created by one process alone); writers of different tables to one iteration
all land; a table the iteration holds is refused unless ``replace=True``. A
writer that fails removes its files (and the folder it created); one killed
outright can leave a file no manifest names, which readers ignore and
:meth:`Store.clean` removes.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from whyloop.errors import StoreError
from whyloop.store_locks import (
    LOCK,
    MANIFEST,
    abandon,
    clean_folder,
    lock_file,
    lock_folder,
)

__all__ = ["DEFAULT_ROOT", "Store"]

DEFAULT_ROOT = Path("data/iterations")
_MAX_TRIES = 1000  # numbers a new iteration skips (or vanished folders retried) before giving up
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
#: ``store:LOOP/ITERATION``, how a command line names a stored iteration instead of a file
_REF = re.compile(r"^store:([^/]+)/([^/]+)$")


def _check_name(kind: str, value: str) -> str:
    value = str(value)
    if not _NAME.match(value) or value in (".", ".."):
        raise StoreError(
            f"invalid {kind} name {value!r}: use letters, digits, '.', '_' or '-' (max 100)"
        )
    return value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _held(loop: str, iteration: str, tables: list[str]) -> StoreError:
    """The refusal to write over ``tables``, which the iteration already holds."""
    names = ", ".join(repr(n) for n in tables)
    return StoreError(
        f"iteration {iteration!r} of loop {loop!r} already has "
        f"{'table' if len(tables) == 1 else 'tables'} {names}: "
        "pass replace=True (--replace) to replace it"
    )


def _arrow_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Make object columns holding dicts/lists/mixed values storable as Parquet strings."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            sample = out[col].dropna()
            if len(sample) and not all(isinstance(v, str) for v in sample.head(1000)):
                out[col] = [
                    v
                    if v is None or isinstance(v, str)
                    else json.dumps(v, default=str, sort_keys=True)
                    for v in out[col]
                ]
    out.columns = [str(c) for c in out.columns]
    return out


@dataclass
class Store:
    """An iteration store rooted at ``root`` (default ``data/iterations``).

    Use :meth:`write` to add tables to an iteration (several processes may
    write at once), :meth:`read` to get one back, :meth:`read_all` for one
    table across iterations (trends), :meth:`clean` after a writer was killed.
    """

    root: Path = DEFAULT_ROOT

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    # -- locations ---------------------------------------------------------
    def path(self, loop: str, iteration: str | int) -> Path:
        """Folder of one iteration (it may not exist yet)."""
        return self.root / _check_name("loop", loop) / _check_name("iteration", str(iteration))

    def loops(self) -> list[str]:
        """Names of the loops that have at least one complete iteration."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.iterations(p.name))

    def iterations(self, loop: str) -> list[str]:
        """Complete iterations of ``loop`` (those with a manifest), in natural order."""
        base = self.root / _check_name("loop", loop)
        if not base.is_dir():
            return []
        names = [p.name for p in base.iterdir() if (p / MANIFEST).is_file()]
        return sorted(names, key=lambda n: (0, int(n), "") if n.isdigit() else (1, 0, n))

    def next_iteration(self, loop: str) -> str:
        """The next numeric iteration name for ``loop`` ("1" for a new loop).

        One past every numbered folder, finished or still being written. Only a
        guess when others write too: :meth:`write` with no iteration takes a
        number atomically, skipping any another writer took meanwhile.
        """
        base = self.root / _check_name("loop", loop)
        names = [p.name for p in base.iterdir() if p.is_dir()] if base.is_dir() else []
        numbers = [int(n) for n in names if n.isascii() and n.isdigit()]
        return str(max(numbers, default=0) + 1)

    def latest(self, loop: str) -> str:
        """The last complete iteration of ``loop`` in natural order; StoreError when it has none."""
        iterations = self.iterations(loop)
        if not iterations:
            raise StoreError(f"loop {loop!r} has no iterations", path=str(self.root))
        return iterations[-1]

    def resolve(self, loop: str, iteration: str | int | None = None) -> str:
        """``iteration`` as a name, or the latest of ``loop`` when None."""
        return self.latest(loop) if iteration is None else _check_name("iteration", str(iteration))

    def target_iteration(self, loop: str, iteration: str | int | None = None) -> str:
        """The iteration to add tables to, beside those already there.

        ``iteration`` when given, else the latest of ``loop``, else ``"1"`` for a
        loop with no iterations yet. Unlike ``write(loop, None)``, which starts
        the next iteration, this keeps new tables with the run they describe.
        """
        if iteration is None and not self.iterations(loop):
            return self.next_iteration(loop)
        return self.resolve(loop, iteration)

    def check_free(self, loop: str, iteration: str | int, *tables: str) -> None:
        """StoreError now if :meth:`write` would refuse ``tables`` in this iteration.

        For a caller about to do long work whose result it will write; a first
        check only (:meth:`write` checks again). A missing iteration is free.
        """
        folder = self.path(loop, iteration)
        if (folder / MANIFEST).exists():
            held = sorted(set(tables) & set(self.manifest(loop, iteration)["tables"]))
            if held:
                raise _held(loop, folder.name, held)

    def manifest(self, loop: str, iteration: str | int) -> dict[str, Any]:
        """The manifest of one iteration; StoreError when the iteration is missing or incomplete."""
        path = self.path(loop, iteration) / MANIFEST
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(
                f"no iteration {iteration!r} in loop {loop!r} (no manifest)", path=path
            ) from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"unreadable manifest: {exc}", path=path) from None

    # -- writing -----------------------------------------------------------
    def write(
        self,
        loop: str,
        iteration: str | int | None = None,
        *,
        sources: Iterable[str] = (),
        meta: dict[str, Any] | None = None,
        replace: bool = False,
        **tables: pd.DataFrame,
    ) -> Path:
        """Write tables (``tests=df``, ``logs=df``, ...) into an iteration, atomically.

        ``iteration=None`` starts a new iteration with the next free number,
        which no other writer gets, even one running at the same time. A given
        ``iteration`` (created when missing) gets the tables beside those it
        holds. A table it already holds is refused with StoreError, and nothing
        is written, unless ``replace=True``: then the new table replaces it.
        ``df.attrs["warnings"]`` is kept in the manifest. Returns the iteration folder.
        """
        if not tables:
            raise StoreError("nothing to write: pass at least one table, e.g. tests=df")
        for name, df in tables.items():
            _check_name("table", name)
            if not isinstance(df, pd.DataFrame):
                raise StoreError(f"table {name!r} is not a pandas DataFrame")
        base = self.root / _check_name("loop", loop)
        wanted = None if iteration is None else _check_name("iteration", str(iteration))
        folder, fd, created = self._enter(base, wanted)
        written: list[Path] = []
        try:
            entries: dict[str, dict[str, Any]] = {}
            for name, df in tables.items():
                path = folder / f"{name}-{secrets.token_hex(4)}.parquet"
                written.append(path)
                self._write_parquet(_arrow_safe(df), path)
                entries[name] = {
                    "file": path.name,
                    "rows": len(df),
                    "columns": [str(c) for c in df.columns],
                    "sources": sorted({str(s) for s in sources}),
                    "warnings": list(df.attrs.get("warnings", []))[:200],
                    "written": _now(),
                }
            replaced = self._commit(folder, loop, entries, meta, replace=replace)
        except BaseException:
            abandon(folder, fd, written, created=created)
            raise
        finally:
            os.close(fd)  # releases the shared lock
        for path in replaced:  # only after the manifest stopped naming them
            with suppress(OSError):  # a file left here is a leftover for clean()
                path.unlink(missing_ok=True)
        return folder

    def _enter(self, base: Path, iteration: str | None) -> tuple[Path, int, bool]:
        """The folder of ``iteration``, a descriptor holding its shared lock, and if this made it.

        ``None`` is the first number whose folder this call creates: ``mkdir``
        fails for every other writer, so no two share an iteration.
        """
        number = int(self.next_iteration(base.name)) if iteration is None else 0
        folder = base
        try:
            base.mkdir(parents=True, exist_ok=True)
            # shared with other writers; clean() takes it exclusively, so no folder made
            # here can be removed as unfinished before this call holds its lock
            guard = lock_file(base / LOCK, exclusive=False)
            try:
                for _ in range(_MAX_TRIES):
                    folder = base / (str(number) if iteration is None else iteration)
                    try:
                        folder.mkdir()
                        created = True
                    except FileExistsError:
                        if iteration is None:
                            number += 1  # taken, finished or not
                            continue
                        created = False
                    fd = lock_folder(folder)
                    if fd is not None:
                        return folder, fd, created
            finally:
                os.close(guard)
        except OSError as exc:
            raise StoreError(
                f"cannot create iteration folder: {exc.strerror}", path=folder
            ) from None
        raise StoreError(f"no iteration folder to write after {_MAX_TRIES} tries", path=base)

    def _commit(
        self,
        folder: Path,
        loop: str,
        entries: dict[str, dict[str, Any]],
        meta: dict[str, Any] | None,
        *,
        replace: bool,
    ) -> list[Path]:
        """Name ``entries`` in the manifest under the iteration's lock; files now unnamed."""
        iteration = folder.name
        try:
            fd = lock_file(folder / LOCK, exclusive=True)
            try:
                manifest = {"loop": loop, "iteration": iteration, "created": _now(), "tables": {}}
                if (folder / MANIFEST).exists():
                    manifest = self.manifest(loop, iteration)  # unreadable: refused, not replaced
                held = sorted(set(entries) & set(manifest["tables"]))
                if held and not replace:
                    raise _held(loop, iteration, held)
                replaced = [folder / manifest["tables"][name]["file"] for name in held]
                manifest["tables"].update(entries)
                manifest["updated"] = _now()
                if meta:
                    manifest.setdefault("meta", {}).update(meta)
                _write_json_atomic(folder / MANIFEST, manifest)
                return replaced
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(f"cannot write manifest: {exc.strerror}", path=folder) from None

    def clean(self, loop: str) -> list[Path]:
        """Remove what writers killed outright left in ``loop``; returns the paths removed.

        Table and temporary files no manifest names, and folders that never got
        a manifest (when nothing else is in them): readers ignore them anyway.
        Safe beside writers: a folder being written is skipped.
        """
        base = self.root / _check_name("loop", loop)
        if not base.is_dir():
            return []
        removed: list[Path] = []
        try:
            guard = lock_file(base / LOCK, exclusive=True)
            try:
                for folder in sorted(p for p in base.iterdir() if p.is_dir()):
                    fd = lock_folder(folder, exclusive=True)
                    if fd is not None:
                        try:
                            removed += clean_folder(folder)
                        finally:
                            os.close(fd)
            finally:
                os.close(guard)
        except OSError as exc:
            raise StoreError(f"cannot clean: {exc.strerror}", path=exc.filename or base) from None
        return removed

    @staticmethod
    def _write_parquet(df: pd.DataFrame, path: Path) -> None:
        tmp = path.with_name("." + path.name + ".tmp")
        try:
            table = pa.Table.from_pandas(df, preserve_index=False)
            pq.write_table(table, tmp, compression="zstd")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except (pa.ArrowException, OSError) as exc:
            raise StoreError(f"cannot write table: {exc}", path=path) from None
        finally:
            tmp.unlink(missing_ok=True)  # gone after the rename; else a half-written file

    # -- reading -----------------------------------------------------------
    def read(self, loop: str, iteration: str | int, table: str = "tests") -> pd.DataFrame:
        """Read one table of one iteration back as it was written."""
        manifest = self.manifest(loop, iteration)
        entry = manifest["tables"].get(table)
        if entry is None:
            have = ", ".join(sorted(manifest["tables"])) or "none"
            raise StoreError(
                f"iteration {iteration!r} of loop {loop!r} has no table {table!r} (has: {have})"
            )
        path = self.path(loop, iteration) / entry["file"]
        try:
            df = pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            raise StoreError(f"cannot read table {table!r}: {exc}", path=path) from None
        df.attrs["warnings"] = entry.get("warnings", [])
        df.attrs["sources"] = entry.get("sources", [])
        return df

    def read_ref(self, ref: str, table: str = "tests") -> tuple[pd.DataFrame, str, str] | None:
        """Read ``table`` of the iteration that ``ref`` (``store:LOOP/ITERATION``) names.

        Returns the frame, the loop and the iteration; None when ``ref`` is not
        such a reference (a results file, say), for the caller to read it as one.
        """
        match = _REF.match(str(ref))
        if match is None:
            return None
        loop, iteration = match.groups()
        return self.read(loop, iteration, table), loop, iteration

    def read_all(self, loop: str, table: str = "tests") -> pd.DataFrame:
        """One table from every iteration of ``loop`` that has it, with an ``iteration`` column."""
        frames = []
        for iteration in self.iterations(loop):
            if table in self.manifest(loop, iteration)["tables"]:
                df = self.read(loop, iteration, table)
                df.insert(0, "iteration", iteration)
                frames.append(df)
        if not frames:
            raise StoreError(f"loop {loop!r} has no iteration with table {table!r}")
        return pd.concat(frames, ignore_index=True)
