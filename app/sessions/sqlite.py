"""Checkpoints of sessions and rooms in an embedded SQLite database (``BPP_DB``; stdlib sqlite3, WAL).

Layer: sessions, storage. ``Database`` is the SQLite implementation of ``app.sessions.storage.Storage``, the
interface the session and room stores write through.

A session row holds what ``POST /api/sessions {"import": …}`` needs to continue the run bit for bit — its
config, its data (written again only when the data change) and its state (weights, optimizer state,
counters, history) — plus a hash of its token, its owner and live-channel settings. Writes go through one
thread, so they never interleave; WAL with ``synchronous=NORMAL`` survives a killed process (not a power cut).

The database tells the truth about itself: every write first checks that the file is still the one that
was opened and that it can be written, and any failure is a ``StorageError`` (the routes answer 503
"storage unavailable" and leave memory as it was). The file is created 0600; tokens are kept as SHA-256
hashes. A row that cannot be read is moved to a ``*_set_aside`` table with the reason, and the rest load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from app.sessions.storage import HASH_PREFIX, RoomRow, SessionRow, StorageError, hash_token

log = logging.getLogger("backprop_playground")
SESSION_COLUMNS = "id, token, client, created, touched, config, data, state, meta, room, name"
ROOM_COLUMNS = "code, session_id, teacher_token, title, created"
SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, token TEXT NOT NULL, client TEXT NOT NULL, created REAL NOT NULL,
    touched REAL NOT NULL, config BLOB NOT NULL, data BLOB NOT NULL, state BLOB NOT NULL,
    meta BLOB NOT NULL, room TEXT, name TEXT
);
CREATE TABLE IF NOT EXISTS rooms (
    code TEXT PRIMARY KEY, session_id TEXT NOT NULL, teacher_token TEXT NOT NULL, title TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS health (k INTEGER PRIMARY KEY, at REAL);
CREATE TABLE IF NOT EXISTS sessions_set_aside (
    id TEXT, token TEXT, client TEXT, created REAL, touched REAL, config BLOB, data BLOB, state BLOB,
    meta BLOB, room TEXT, name TEXT, reason TEXT, set_aside REAL
);
"""


class Database:
    """The SQLite file (a ``Storage``); every method is async and runs on the database's own thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file that was opened
        self.error: str | None = None  # the last failure, until a write succeeds again
        self._probed = 0.0

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _open(self) -> None:
        # Created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the same mode).
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        st = os.stat(self.path)
        self._identity = (st.st_dev, st.st_ino)
        self._conn = conn

    async def open(self) -> None:
        """Open (and create) the file."""
        await self._call(self._open)

    async def close(self) -> None:
        """Close the file after the pending writes."""
        if self._conn is not None:
            await self._call(self._conn.close)
        self._executor.shutdown(wait=True)

    def _problem(self) -> str | None:
        """Why the file cannot be written now, or None."""
        try:
            st = os.stat(self.path)
        except OSError:
            return f"the database file {self.path} has gone"
        if (st.st_dev, st.st_ino) != self._identity:
            return f"the database file {self.path} was replaced"
        if not os.access(self.path, os.W_OK):  # also false for an immutable file, even for root
            return f"the database file {self.path} cannot be written"
        return None

    def _write(self, fn: Any, *args: Any) -> Any:
        """Run a write in one transaction, after checking the file; StorageError on any failure."""
        assert self._conn is not None
        problem = self._problem()
        if problem is None:
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    result = fn(self._conn, *args)
                self.error = None
                return result
            except sqlite3.Error as err:
                problem = f"the database cannot be written: {err}"
        if self.error != problem:
            log.error("storage unavailable: %s", problem)
        self.error = problem
        raise StorageError(problem)

    async def write(self, fn: Any, *args: Any) -> Any:
        """``fn(connection, *args)`` in one checked transaction on the database thread."""
        return await self._call(self._write, fn, *args)

    def _probe(self) -> None:
        with contextlib.suppress(StorageError):  # _write records the problem (or clears it)
            self._write(
                lambda conn: conn.execute("INSERT OR REPLACE INTO health (k, at) VALUES (1, ?)", (time.time(),))
            )

    async def health(self) -> str | None:
        """None when the file is there and can be written, else why not: the last write's failure, or a probe
        write's (made at most once a second, so that polling the health endpoint costs nothing)."""
        now = time.monotonic()
        if now - self._probed > 1.0:
            self._probed = now
            await self._call(self._probe)
        return self.error

    @staticmethod
    def _save_session(conn: sqlite3.Connection, row: SessionRow) -> None:
        dumps = orjson.dumps
        if row.data is not None:
            conn.execute(
                f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE"
                " SET touched=excluded.touched, config=excluded.config, data=excluded.data, state=excluded.state,"
                " meta=excluded.meta",
                (
                    row.id,
                    row.token,
                    row.client,
                    row.created,
                    row.touched,
                    dumps(row.config),
                    dumps(row.data),
                    dumps(row.state),
                    dumps(row.meta),
                    row.room,
                    row.name,
                ),
            )
            return
        cur = conn.execute(
            "UPDATE sessions SET touched=?, config=?, state=?, meta=? WHERE id=?",
            (row.touched, dumps(row.config), dumps(row.state), dumps(row.meta), row.id),
        )
        if cur.rowcount != 1:
            raise sqlite3.OperationalError(f"session {row.id} has no row to update")

    async def save_session(self, row: SessionRow) -> None:
        """Insert or update a session (its data only when ``row.data`` is given)."""
        await self.write(self._save_session, row)

    @staticmethod
    def _delete(conn: sqlite3.Connection, table: str, key: str, value: str) -> None:
        conn.execute(f"DELETE FROM {table} WHERE {key}=?", (value,))
        if conn.execute(f"SELECT 1 FROM {table} WHERE {key}=?", (value,)).fetchone() is not None:
            raise sqlite3.OperationalError(f"the row {value} is still there")

    async def delete_session(self, session_id: str) -> None:
        """Forget a session (StorageError unless its row is gone)."""
        await self.write(self._delete, "sessions", "id", session_id)

    async def save_room(self, code: str, session_id: str, teacher_token: str, title: str, created: float) -> None:
        """Insert a room (``teacher_token`` is the token's hash)."""
        sql = f"INSERT OR REPLACE INTO rooms ({ROOM_COLUMNS}) VALUES (?,?,?,?,?)"
        await self.write(lambda conn: conn.execute(sql, (code, session_id, teacher_token, title, created)))

    async def delete_room(self, code: str) -> None:
        """Forget a room."""
        await self.write(self._delete, "rooms", "code", code)

    def _load(self) -> tuple[list[SessionRow], list[RoomRow]]:
        assert self._conn is not None
        loads = orjson.loads
        sessions, bad = [], []
        for r in self._conn.execute(f"SELECT {SESSION_COLUMNS} FROM sessions").fetchall():
            try:
                row = SessionRow(
                    str(r[0]), str(r[1]), str(r[2]), float(r[3]), float(r[4]),
                    loads(r[5]), loads(r[6]), loads(r[7]), loads(r[8]), r[9], r[10],
                )  # fmt: skip
                for name in ("config", "data", "state", "meta"):
                    if not isinstance(getattr(row, name), dict):
                        raise ValueError(f"{name} is not an object")
                sessions.append(row)
            except (ValueError, TypeError, orjson.JSONDecodeError) as err:
                bad.append((r[0], f"{type(err).__name__}: {err}"))
        for session_id, reason in bad:
            self._set_aside(session_id, reason)
        rooms: list[RoomRow] = [tuple(r) for r in self._conn.execute(f"SELECT {ROOM_COLUMNS} FROM rooms")]  # type: ignore[misc]
        # Files written before tokens were hashed: hash them now, in place.
        plain = [(hash_token(row.token), row.id) for row in sessions if not row.token.startswith(HASH_PREFIX)]
        plain_rooms = [(hash_token(r[2]), r[0]) for r in rooms if not r[2].startswith(HASH_PREFIX)]
        if plain or plain_rooms:
            with contextlib.suppress(StorageError):
                self._write(self._hash_tokens, plain, plain_rooms)
            for row in sessions:
                if not row.token.startswith(HASH_PREFIX):
                    row.token = hash_token(row.token)
            rooms = [r if r[2].startswith(HASH_PREFIX) else (r[0], r[1], hash_token(r[2]), r[3], r[4]) for r in rooms]
        return sessions, rooms

    @staticmethod
    def _hash_tokens(conn: sqlite3.Connection, sessions: list[tuple[str, str]], rooms: list[tuple[str, str]]) -> None:
        conn.executemany("UPDATE sessions SET token=? WHERE id=?", sessions)
        conn.executemany("UPDATE rooms SET teacher_token=? WHERE code=?", rooms)

    def _set_aside(self, session_id: str, reason: str) -> None:
        log.error("session row %s cannot be read (%s): set aside in sessions_set_aside", session_id, reason[:200])
        with contextlib.suppress(StorageError):  # it stays where it is; the next start tries again
            self._write(self._move_aside, session_id, reason)

    @staticmethod
    def _move_aside(conn: sqlite3.Connection, session_id: str, reason: str) -> None:
        conn.execute(
            f"INSERT INTO sessions_set_aside SELECT {SESSION_COLUMNS}, ?, ? FROM sessions WHERE id=?",
            (reason[:1000], time.time(), session_id),
        )
        conn.execute("DELETE FROM sessions WHERE id=?", (session_id,))

    async def set_aside(self, session_id: str, reason: str) -> None:
        """Move a session row that cannot be restored out of the way, keeping it for inspection."""
        await self._call(self._set_aside, session_id, reason)

    async def load(self) -> tuple[list[SessionRow], list[RoomRow]]:
        """Every readable saved session (unreadable ones are set aside) and every room."""
        result: tuple[list[SessionRow], list[RoomRow]] = await self._call(self._load)
        return result
