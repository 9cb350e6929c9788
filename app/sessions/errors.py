"""The session layer's refusals: what went wrong, in the domain's words; no HTTP status here.

Layer: sessions. The API layer maps each class to a status (``app.api.errors``: 401, 403, 404, 409, 429, 503)
and the live channel to an ``error`` code; the engine's refusals of a value stay ``EngineError`` (422, with
the field). Every message is written for the person who sent the request.
"""

from __future__ import annotations

from app.engine import EngineError

__all__ = [
    "EngineError",
    "MovedOn",
    "NoToken",
    "NotFound",
    "OverLimit",
    "ServerFull",
    "SessionError",
    "StorageUnavailable",
    "WrongToken",
]


class SessionError(Exception):
    """A refusal of the session layer: ``detail`` says why, naming ``field`` where there is one."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(SessionError):
    """No such session, room or fork (it may have expired, been deleted or closed)."""


class NoToken(SessionError):
    """The call needs a token and none was given."""


class WrongToken(SessionError):
    """The token given does not open this session (or is not this room's teacher token)."""


class OverLimit(SessionError):
    """Over a limit of this client, address or room (sessions, forks, its share of the memory, a heavy call
    already running): it may try again once it holds less."""


class MovedOn(SessionError):
    """A room's lesson has moved on: it shows no lesson now, or another sample than the one answered."""


class ServerFull(SessionError):
    """The server's memory or disk budget is full: try again later, or with less."""


class StorageUnavailable(SessionError):
    """The database could not be written: nothing was changed."""

    @classmethod
    def because(cls, err: Exception) -> StorageUnavailable:
        """The refusal for a failed write."""
        return cls(f"storage unavailable: {err}; nothing was changed")
