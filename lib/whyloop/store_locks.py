"""How several processes write one iteration store at once: the locks and the leftovers.

Used by :mod:`whyloop.store` only. POSIX: the locks are ``fcntl.flock`` locks,
which the system releases when their descriptors close, also when a process
is killed. From the widest:

- ``<loop>/.lock``: shared by writers while they create or open an iteration
  folder, exclusive for :meth:`~whyloop.store.Store.clean`, so that no folder
  is removed as unfinished between its ``mkdir`` and its writer's lock;
- the iteration folder itself: shared by every writer in it for the whole
  write, exclusive (only when free) to remove anything from it, so a table
  about to be named is never taken for a leftover;
- ``<loop>/<iteration>/.lock``: exclusive while the manifest is read, changed
  and replaced, so writers of different tables to one iteration all land.

A new iteration's number is the first whose folder a writer creates itself
(``os.mkdir`` succeeds for one process only).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from contextlib import suppress
from pathlib import Path

__all__ = [
    "LEFTOVER",
    "LOCK",
    "MANIFEST",
    "abandon",
    "clean_folder",
    "lock_file",
    "lock_folder",
    "named_files",
]

MANIFEST = "manifest.json"
LOCK = ".lock"
#: files a writer leaves when killed: tables, and the temporary names of tables and manifests
LEFTOVER = re.compile(
    r"^(?:[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{8}\.parquet|\..+\.parquet\.tmp|\.manifest-.+)$"
)


def lock_file(path: Path, *, exclusive: bool) -> int:
    """A descriptor holding a lock on ``path`` (created when missing); waits for it.

    Closing the descriptor releases the lock.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    except BaseException:
        os.close(fd)
        raise
    return fd


def lock_folder(folder: Path, *, exclusive: bool = False) -> int | None:
    """A descriptor of ``folder`` holding a shared lock on it (or exclusive, if free now).

    None when the folder is gone or was removed while this waited, or is in
    use (``exclusive``). Closing the descriptor releases the lock.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    same = False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_SH)
        same = os.path.samestat(os.stat(folder), os.fstat(fd))
    except (FileNotFoundError, BlockingIOError):
        pass
    finally:
        if not same:
            os.close(fd)
    return fd if same else None


def named_files(folder: Path) -> set[str] | None:
    """The files ``folder``'s manifest names: none without a manifest, None if it is unreadable."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return {str(entry["file"]) for entry in manifest["tables"].values()}
    except FileNotFoundError:
        return set()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def clean_folder(folder: Path) -> list[Path]:
    """Remove what killed writers left in ``folder``, which the caller holds exclusively.

    A folder never finished loses its lock file too, and goes when empty.
    """
    named = named_files(folder)
    if named is None:
        return []  # an unreadable manifest: nothing here can be judged
    finished = (folder / MANIFEST).is_file()
    left = [p.name for p in folder.iterdir() if p.name not in named]
    gone = [folder / n for n in left if LEFTOVER.match(n) or (n == LOCK and not finished)]
    for path in gone:
        path.unlink(missing_ok=True)
    if not finished:
        with suppress(OSError):  # not empty: files the store did not write stay
            folder.rmdir()
            gone.append(folder)
    return gone


def abandon(folder: Path, fd: int, written: list[Path], *, created: bool) -> None:
    """Undo a failed write: its ``written`` files no manifest names, and the folder it made.

    The folder goes only if still unfinished and unused (``fd``'s shared lock can
    be made exclusive). Errors are swallowed: the caller raises the one that matters.
    """
    with suppress(OSError):
        named = named_files(folder)
        if named is None:
            return  # cannot tell what is named: leave it to clean()
        for path in written:
            if path.name not in named:
                path.unlink(missing_ok=True)
        if not created:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another writer is adding to it
        if not (folder / MANIFEST).exists():
            (folder / LOCK).unlink(missing_ok=True)
            folder.rmdir()
