"""SQLite storage for the sandbox: users (auth service), threads and messages (backend).

The methods are synchronous and open a connection per call, so the apps run
them in worker threads (``asyncio.to_thread``) and concurrent writers meet in
SQLite's own locking, as they would in a real deployment. Every query that
reads or writes a thread filters on its owner: one user never sees another's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["ThreadStore", "UserStore", "hold_write_lock"]

_THREADS_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, title TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS threads_user ON threads (user_id, created_at);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, thread_id TEXT NOT NULL,
    role TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_thread ON messages (thread_id, seq);
"""

_USERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, username TEXT UNIQUE NOT NULL, salt BLOB NOT NULL,
    hash BLOB NOT NULL, created_at TEXT NOT NULL
);
"""

# A sandbox needs real hashing, not strong hashing: 20 concurrent first logins
# must stay fast on a 2-core machine.
_PBKDF2_ROUNDS = 2_000


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Store:
    def __init__(self, path: Path, *, busy_timeout_s: float, schema: str) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        with closing(sqlite3.connect(self.path, timeout=5.0)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(schema)
            conn.commit()

    def _connect(self) -> sqlite3.Connection:
        # autocommit: reads hold no snapshot, writes open their own transaction
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        conn.row_factory = sqlite3.Row
        # WAL makes NORMAL durable enough, and commits skip the fsync that would
        # make 20 concurrent writers wait past the busy timeout on a slow disk
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock first (BEGIN IMMEDIATE).

        Taking it up front makes a busy writer wait out the busy timeout
        instead of failing at once when another writer committed after it read.
        """
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


class ThreadStore(_Store):
    """Threads and their messages, each owned by one user."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 0.5) -> None:
        super().__init__(path, busy_timeout_s=busy_timeout_s, schema=_THREADS_SCHEMA)

    def create_thread(self, user_id: str, title: str) -> dict[str, Any]:
        """Insert a thread; raises sqlite3.OperationalError when the database is locked."""
        row = {"id": "thr_" + uuid.uuid4().hex[:16], "title": title, "created_at": _now()}
        with self._write() as conn:
            conn.execute(
                "INSERT INTO threads (id, user_id, title, created_at) VALUES (?, ?, ?, ?)",
                (row["id"], user_id, title, row["created_at"]),
            )
        return {**row, "message_count": 0}

    def list_threads(self, user_id: str) -> list[dict[str, Any]]:
        """The user's threads, oldest first, with their message counts."""
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT t.id, t.title, t.created_at, COUNT(m.seq) AS message_count FROM threads t "
                "LEFT JOIN messages m ON m.thread_id = t.id WHERE t.user_id = ? "
                "GROUP BY t.id ORDER BY t.created_at, t.id",
                (user_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def get_thread(self, user_id: str, thread_id: str) -> dict[str, Any] | None:
        """The thread if ``user_id`` owns it, else None (the caller answers 404 either way)."""
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT id, title, created_at FROM threads WHERE id = ? AND user_id = ?",
                (thread_id, user_id),
            ).fetchone()
        return dict(row) if row else None

    def add_message(
        self, user_id: str, thread_id: str, role: str, content: str
    ) -> dict[str, Any] | None:
        """Append a message to the user's thread; None when the thread is not theirs."""
        row = {
            "id": "msg_" + uuid.uuid4().hex[:16],
            "thread_id": thread_id,
            "role": role,
            "content": content,
            "created_at": _now(),
        }
        with self._write() as conn:
            owned = conn.execute(
                "SELECT 1 FROM threads WHERE id = ? AND user_id = ?", (thread_id, user_id)
            ).fetchone()
            if not owned:
                return None
            conn.execute(
                "INSERT INTO messages (id, thread_id, role, content, created_at) VALUES (?, ?, ?, ?, ?)",
                (row["id"], thread_id, role, content, row["created_at"]),
            )
        return row

    def list_messages(self, user_id: str, thread_id: str) -> list[dict[str, Any]] | None:
        """The thread's messages in order; None when the thread is not the user's."""
        if self.get_thread(user_id, thread_id) is None:
            return None
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT id, thread_id, role, content, created_at FROM messages "
                "WHERE thread_id = ? ORDER BY seq",
                (thread_id,),
            ).fetchall()
        return [dict(r) for r in rows]


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Open a connection that takes the database's write lock and keeps it until closed.

    This is what a stuck migration or backup job does to a live SQLite
    database: readers carry on, every writer waits out its busy timeout and
    fails with ``database is locked``.
    """
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


class UserStore(_Store):
    """Users of the auth service, created on their first login."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 5.0) -> None:
        super().__init__(path, busy_timeout_s=busy_timeout_s, schema=_USERS_SCHEMA)

    @staticmethod
    def _hash(password: str, salt: bytes) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)

    def login(self, username: str, password: str) -> tuple[dict[str, str] | None, bool]:
        """Return ``(user, created)``; user is None when the password is wrong."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT id, username, salt, hash FROM users WHERE username = ?", (username,)
            ).fetchone()
            if row is None:
                salt = secrets.token_bytes(16)
                user = {"id": "usr_" + uuid.uuid4().hex[:16], "username": username}
                conn.execute(
                    "INSERT INTO users (id, username, salt, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                    (user["id"], username, salt, self._hash(password, salt), _now()),
                )
                return user, True
        if not hmac.compare_digest(self._hash(password, row["salt"]), row["hash"]):
            return None, False
        return {"id": row["id"], "username": row["username"]}, False

    def get(self, user_id: str) -> dict[str, str] | None:
        """The user with ``user_id``, or None."""
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT id, username FROM users WHERE id = ?", (user_id,)).fetchone()
        return dict(row) if row else None
