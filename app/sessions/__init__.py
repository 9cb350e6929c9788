"""The session layer: runs that clients hold, share and watch, between the engine and the web.

Layer: sessions — imports the engine, ``app.schemas`` (the wire's config) and ``app.wire``; knows no HTTP and
no websockets (``app.api`` maps its refusals, ``app.sessions.errors``, to statuses and error codes).

- ``session``  — ``Session``: identity and auth, the run (config, trainer, lock, snapshot), its export.
- ``store``    — ``SessionStore``: every session by id; limits, expiry, saving before announcing.
- ``budget``   — the memory and disk each session may hold, reserved before it is built.
- ``build``    — from a config or an export document to a trainer, within the server's limits.
- ``live``     — ``LiveHub`` and each session's ``LiveState``: play loops, frames, step traces.
- ``rooms``    — ``RoomStore``: a teacher's session shown to a class, forked by students.
- ``storage``  — the ``Storage`` interface the stores save through; ``sqlite`` implements it.
- ``errors``   — the layer's refusals.
"""

from app.sessions.budget import Budget, Charge, footprint, give_memory_back
from app.sessions.build import build_trainer, finite_rows, trainer_from_export
from app.sessions.errors import (
    NotFound,
    NoToken,
    OverLimit,
    ServerFull,
    SessionError,
    StorageUnavailable,
    WrongToken,
)
from app.sessions.live import LiveHub, LiveState
from app.sessions.rooms import Room, RoomStore
from app.sessions.session import Session, Snapshot
from app.sessions.sqlite import Database
from app.sessions.storage import SessionRow, Storage, StorageError
from app.sessions.store import SessionStore

__all__ = [
    "Budget",
    "Charge",
    "Database",
    "LiveHub",
    "LiveState",
    "NoToken",
    "NotFound",
    "OverLimit",
    "Room",
    "RoomStore",
    "ServerFull",
    "Session",
    "SessionError",
    "SessionRow",
    "SessionStore",
    "Snapshot",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "WrongToken",
    "build_trainer",
    "finite_rows",
    "footprint",
    "give_memory_back",
    "trainer_from_export",
]
