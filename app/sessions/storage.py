"""Where sessions and rooms are checkpointed: the ``Storage`` interface, its rows, and each session's
bookkeeping of what it saved.

Layer: sessions, storage. The session and room stores (``app.sessions.store``, ``app.sessions.rooms``) write
through ``Storage`` only; ``app.sessions.sqlite.Database`` implements it with an embedded SQLite file. A
second backend (say, Redis shared by several workers) implements the same methods and is handed to the
stores in ``app.main.create_app``; nothing in the routes changes.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.engine import Dataset

HASH_PREFIX = "sha256:"
RoomRow = tuple[str, str, str, str, float]
"""One saved room: (code, session id, teacher token hash, title, created)."""


class StorageError(Exception):
    """The database could not be written (or read): the change was not saved."""


def hash_token(token: str) -> str:
    """What the database keeps of a token (a token is 24 random bytes: a plain hash is enough)."""
    return HASH_PREFIX + hashlib.sha256(token.encode()).hexdigest()


@dataclass
class SessionRow:
    """One saved session, as plain data (``token`` is the token's hash)."""

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


class Storage(Protocol):
    """What the stores need of a database. Every write either happens or raises ``StorageError`` (and then
    nothing was written); ``health`` says why writes fail now, or None."""

    path: str  # where it is, for the logs

    async def open(self) -> None:
        """Open (and create) the storage."""

    async def close(self) -> None:
        """Close it after the pending writes."""

    async def health(self) -> str | None:
        """None when it can be written, else why not."""

    async def save_session(self, row: SessionRow) -> None:
        """Insert or replace a session's row (its data kept from the last save when ``row.data`` is None)."""

    async def delete_session(self, session_id: str) -> None:
        """Delete a session's row."""

    async def save_room(self, code: str, session_id: str, teacher_token: str, title: str, created: float) -> None:
        """Insert or replace a room's row."""

    async def delete_room(self, code: str) -> None:
        """Delete a room's row."""

    async def set_aside(self, session_id: str, reason: str) -> None:
        """Move a row that cannot be restored out of the way, with why."""

    async def load(self) -> tuple[list[SessionRow], list[RoomRow]]:
        """Every saved session and room."""


@dataclass(eq=False)
class Saved:
    """A session's checkpoint bookkeeping, kept by the session store: the ``version`` (of
    ``LiveState.version``) and the dataset last written, and the lock that orders its writes."""

    version: int = -1
    dataset: Dataset | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
