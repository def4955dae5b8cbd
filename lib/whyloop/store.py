"""The iteration store: ingested tables kept as Parquet, one folder per loop iteration.

Layout (default root ``data/iterations``)::

    <root>/<loop>/<iteration>/manifest.json
    <root>/<loop>/<iteration>/tests-1a2b3c4d.parquet
    <root>/<loop>/<iteration>/logs-5e6f7a8b.parquet

The manifest is the only thing readers trust: it names each table's file, its
row count, its sources and when it was written. Writes are atomic in two steps:
a table goes to a fresh file name (written to a temporary name, then renamed),
and only then is the manifest replaced (``os.replace``) to point at it. A run
killed midway leaves at worst an unreferenced file, never a manifest that
names a half-written table; an iteration without a manifest does not exist.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from whyloop.errors import StoreError

__all__ = ["DEFAULT_ROOT", "Store"]

DEFAULT_ROOT = Path("data/iterations")
MANIFEST = "manifest.json"
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

    Use :meth:`write` to add tables to an iteration, :meth:`read` to get one
    back, :meth:`read_all` for one table across iterations (trends).
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
        """The next free numeric iteration name for ``loop`` ("1" for a new loop)."""
        numbers = [int(n) for n in self.iterations(loop) if n.isdigit()]
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
        **tables: pd.DataFrame,
    ) -> Path:
        """Write tables (``tests=df``, ``logs=df``, ...) into an iteration, atomically.

        ``iteration=None`` takes the next number. Tables already in the
        iteration under other names are kept; a table written again replaces
        the old one. ``df.attrs["warnings"]`` is kept in the manifest. Returns
        the iteration folder.
        """
        if not tables:
            raise StoreError("nothing to write: pass at least one table, e.g. tests=df")
        iteration = self.next_iteration(loop) if iteration is None else str(iteration)
        folder = self.path(loop, iteration)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create iteration folder: {exc.strerror}", path=folder
            ) from None
        try:
            manifest = self.manifest(loop, iteration)
        except StoreError:
            manifest = {"loop": loop, "iteration": iteration, "created": _now(), "tables": {}}
        replaced: list[Path] = []
        for name, df in tables.items():
            _check_name("table", name)
            if not isinstance(df, pd.DataFrame):
                raise StoreError(f"table {name!r} is not a pandas DataFrame")
            filename = f"{name}-{secrets.token_hex(4)}.parquet"
            self._write_parquet(_arrow_safe(df), folder / filename)
            old = manifest["tables"].get(name)
            if old:
                replaced.append(folder / old["file"])
            manifest["tables"][name] = {
                "file": filename,
                "rows": len(df),
                "columns": [str(c) for c in df.columns],
                "sources": sorted({str(s) for s in sources}),
                "warnings": list(df.attrs.get("warnings", []))[:200],
                "written": _now(),
            }
        manifest["updated"] = _now()
        if meta:
            manifest.setdefault("meta", {}).update(meta)
        _write_json_atomic(folder / MANIFEST, manifest)
        for path in replaced:  # only after the manifest stopped naming them
            path.unlink(missing_ok=True)
        return folder

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
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write table: {exc}", path=path) from None

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
