"""Checkpoints of sessions and rooms in an embedded SQLite database (``BPP_DB``; stdlib sqlite3, WAL).

A session row holds what ``POST /api/sessions {"import": …}`` needs to continue the run bit for bit — its
config, its data (written again only when the data change) and its state (weights, optimizer state,
counters, history) — plus its token, owner and live-channel settings. Writes go through one thread, so they
never interleave; WAL with ``synchronous=NORMAL`` survives a killed process (not a power cut).
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson

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
"""


@dataclass
class SessionRow:
    """One saved session, as plain data."""

    id: str
    token: str
    client: str
    created: float
    touched: float  # wall-clock time of last use
    config: dict[str, Any]
    data: dict[str, Any] | None  # None: unchanged since the last save
    state: dict[str, Any]
    meta: dict[str, Any]
    room: str | None = None
    name: str | None = None


class Database:
    """The SQLite file; every method is async and runs on the database's own thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        self._conn: sqlite3.Connection | None = None

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _open(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        self._conn = conn

    async def open(self) -> None:
        """Open (and create) the file."""
        await self._call(self._open)

    async def close(self) -> None:
        """Close the file after the pending writes."""
        if self._conn is not None:
            await self._call(self._conn.close)
        self._executor.shutdown(wait=True)

    def _save_session(self, row: SessionRow) -> None:
        assert self._conn is not None
        dumps = orjson.dumps
        with self._conn:
            self._conn.execute("BEGIN")
            if row.data is not None:
                self._conn.execute(
                    "INSERT INTO sessions (id, token, client, created, touched, config, data, state, meta, room, name)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET touched=excluded.touched,"
                    " config=excluded.config, data=excluded.data, state=excluded.state, meta=excluded.meta",
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
            else:
                self._conn.execute(
                    "UPDATE sessions SET touched=?, config=?, state=?, meta=? WHERE id=?",
                    (row.touched, dumps(row.config), dumps(row.state), dumps(row.meta), row.id),
                )

    async def save_session(self, row: SessionRow) -> None:
        """Insert or update a session (its data only when ``row.data`` is given)."""
        await self._call(self._save_session, row)

    def _delete(self, table: str, key: str, value: str) -> None:
        assert self._conn is not None
        self._conn.execute(f"DELETE FROM {table} WHERE {key}=?", (value,))

    async def delete_session(self, session_id: str) -> None:
        """Forget a session."""
        await self._call(self._delete, "sessions", "id", session_id)

    async def save_room(self, code: str, session_id: str, teacher_token: str, title: str, created: float) -> None:
        """Insert a room."""
        assert self._conn is not None
        sql = "INSERT OR REPLACE INTO rooms (code, session_id, teacher_token, title, created) VALUES (?,?,?,?,?)"
        await self._call(self._conn.execute, sql, (code, session_id, teacher_token, title, created))

    async def delete_room(self, code: str) -> None:
        """Forget a room."""
        await self._call(self._delete, "rooms", "code", code)

    def _load(self) -> tuple[list[SessionRow], list[tuple[str, str, str, str, float]]]:
        assert self._conn is not None
        loads = orjson.loads
        sessions = [
            SessionRow(r[0], r[1], r[2], r[3], r[4], loads(r[5]), loads(r[6]), loads(r[7]), loads(r[8]), r[9], r[10])
            for r in self._conn.execute(
                "SELECT id, token, client, created, touched, config, data, state, meta, room, name FROM sessions"
            )
        ]
        rooms = list(self._conn.execute("SELECT code, session_id, teacher_token, title, created FROM rooms"))
        return sessions, rooms

    async def load(self) -> tuple[list[SessionRow], list[tuple[str, str, str, str, float]]]:
        """Every saved session and room."""
        result: tuple[list[SessionRow], list[tuple[str, str, str, str, float]]] = await self._call(self._load)
        return result
