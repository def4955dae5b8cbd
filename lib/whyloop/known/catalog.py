"""Reading the analyses a team wrote into a :class:`~whyloop.known.index.KnownIndex`, with a cache.

The edge of :mod:`whyloop.known`: it reads files. :func:`load_index` walks
the given folders for five-whys files (``*.yaml``, see
:mod:`whyloop.whys.files`) and postmortems (:mod:`whyloop.postmortem.files`,
told apart by their first line), turns each into index entries and keeps them in a cache file
(JSON) keyed by each file's modification time and size: a file unchanged
since the last look is not parsed again, so opening a history of 10,000
analyses costs a directory walk and one JSON read
(``benchmarks/bench_known.py``). A file that does not load is left out and
named in ``index.skipped`` with its one-line error; a cache that cannot be
read or written is rebuilt or skipped, and ``index.notes`` says so.
"""

from __future__ import annotations

import gc
import json
import os
import secrets
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml

from whyloop.errors import WhyloopError
from whyloop.known.entries import Entry, entries_of
from whyloop.known.index import KnownIndex
from whyloop.known.postmortems import postmortem_entry
from whyloop.postmortem.files import loads as load_postmortem
from whyloop.postmortem.reader import FORMAT as POSTMORTEM_FORMAT
from whyloop.postmortem.reader import read_postmortem
from whyloop.whys.files import loads
from whyloop.whys.reader import BadField, read_analysis

__all__ = ["CACHE_FORMAT", "CACHE_NAME", "analysis_files", "default_cache", "load_index"]

CACHE_FORMAT = "whyloop-known-index/1"
#: the cache's file name, in the first folder searched (hidden: not an analysis)
CACHE_NAME = ".known-index.json"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: 10x faster


def default_cache(root: str | Path) -> Path:
    """Where :func:`load_index` keeps its cache for analyses under ``root``."""
    return Path(root) / CACHE_NAME


def _names(roots: Iterable[str | Path]) -> list[str]:
    # plain strings: 10,000 Path objects cost a quarter of a second
    found: list[str] = []
    for root in roots:
        root = os.fspath(root)
        if os.path.isfile(root):
            found.append(root)
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found += [
                os.path.join(folder, f)
                for f in sorted(files)
                if f.endswith(".yaml") and not f.startswith(".")
            ]
    return found


def analysis_files(roots: Iterable[str | Path]) -> list[Path]:
    """The ``*.yaml`` files under ``roots`` (a file given itself is kept), hidden ones left out."""
    return [Path(n) for n in _names(roots)]


def _whys_entries(path: Path, text: str) -> list[Entry]:
    """Entries of one five-whys file; WhysError (one line, with the line) when it does not load."""
    try:
        analysis = read_analysis(yaml.load(text, Loader=_LOADER))
    except (yaml.YAMLError, BadField):
        analysis = loads(text, path=path)  # the slow reader names the line and field of the error
    return entries_of(analysis, str(path))


def _postmortem_entries(path: Path, text: str) -> list[Entry]:
    """The entry of one postmortem file; PostmortemError (one line) when it does not load."""
    try:
        pm = read_postmortem(yaml.load(text, Loader=_LOADER))
    except (yaml.YAMLError, BadField):
        pm = load_postmortem(text, path=path)
    return [postmortem_entry(pm, str(path))]


def _entries(path: Path, text: str) -> list[Entry]:
    if text.startswith(f"format: {POSTMORTEM_FORMAT}"):
        return _postmortem_entries(path, text)
    return _whys_entries(path, text)


def _read_cache(cache: Path | None, notes: list[str]) -> dict[str, Any]:
    if cache is None or not cache.is_file():
        return {}
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        notes.append(f"cache {cache} not read ({exc}): every file was read again")
        return {}
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        notes.append(f"cache {cache} is of another format: every file was read again")
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_cache(cache: Path, files: dict[str, Any], notes: list[str]) -> None:
    tmp = cache.with_name(f".{cache.name}.{secrets.token_hex(4)}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "x", encoding="utf-8") as fh:
            json.dump({"format": CACHE_FORMAT, "files": files}, fh, separators=(",", ":"))
        os.replace(tmp, cache)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        notes.append(
            f"cache {cache} not written ({exc.strerror or exc}): the next look reads every file again"
        )


def _record(name: str, stamp: list[int]) -> dict[str, Any]:
    path = Path(name)
    try:
        found = _entries(path, path.read_text(encoding="utf-8"))
        return {"stamp": stamp, "entries": [e.to_data() for e in found], "error": ""}
    except (OSError, UnicodeDecodeError) as exc:
        return {"stamp": stamp, "entries": [], "error": f"{path}: cannot read: {exc}"}
    except WhyloopError as exc:
        return {"stamp": stamp, "entries": [], "error": str(exc)}


def _gather(
    names: list[str], cached: dict[str, Any]
) -> tuple[dict[str, Any], list[Entry], dict[str, str], bool]:
    """Each file's record (from the cache while its stamp holds), the entries, the errors."""
    files: dict[str, Any] = {}
    entries: list[Entry] = []
    skipped: dict[str, str] = {}
    changed = False
    for name in names:
        try:
            stat = os.stat(name)
        except OSError:
            continue  # removed while walking
        stamp = [stat.st_mtime_ns, stat.st_size]
        record = cached.get(name)
        if not (isinstance(record, dict) and record.get("stamp") == stamp):
            changed = True
            record = _record(name, stamp)
        files[name] = record
        if record["error"]:
            skipped[name] = record["error"]
        entries += [Entry.from_data(e) for e in record["entries"]]
    return files, entries, skipped, changed


def load_index(
    roots: str | Path | Iterable[str | Path],
    *,
    cache: str | Path | None = None,
) -> KnownIndex:
    """The index of every analysis under ``roots`` (folders or files); ``cache``: a JSON file.

    With ``cache``, files whose modification time and size are those recorded
    there are not read again, and the cache is brought up to date (written
    only when something changed). A missing folder holds no analyses.
    """
    roots = [roots] if isinstance(roots, str | Path) else list(roots)
    cache_path = None if cache is None else Path(cache)
    notes: list[str] = []
    # decoding and building thousands of small containers: the collector would
    # walk every one of them again and again (seconds in a large notebook kernel)
    collecting = gc.isenabled()
    gc.disable()
    try:
        cached = _read_cache(cache_path, notes)
        files, entries, skipped, changed = _gather(_names(roots), cached)
        index = KnownIndex(entries)
    finally:
        if collecting:
            gc.enable()
    changed |= set(files) != set(cached)
    if cache_path is not None and changed:
        _write_cache(cache_path, files, notes)
    index.skipped, index.notes = skipped, notes
    return index
