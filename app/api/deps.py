"""Dependencies shared by the routes: the settings and the session store of the running app.

Layer: API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import HTTPConnection
from starlette.routing import NoMatchFound

from app.api.errors import ApiError
from app.api.guard import ADDRESS_KEY, CLIENT_KEY
from app.sessions import SessionStore
from app.settings import Settings


def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> SessionStore:
    """The app's session store."""
    store: SessionStore = request.app.state.store
    return store


def client_key(request: HTTPConnection) -> str:
    """Who a request counts against for the per-client limits: ``address/id`` with the id of the client cookie
    the server signed, or the bare address without one (``app.api.guard`` decides both; nothing the client
    sends chooses them)."""
    return str(request.scope.get(CLIENT_KEY) or client_address(request))


def client_address(request: HTTPConnection) -> str:
    """The address a request counts against (the peer, or what trusted proxies say; see ``app.api.guard``)."""
    return str(request.scope.get(ADDRESS_KEY) or (request.client.host if request.client else "unknown"))


def url_for(request: Request, name: str, **params: str) -> str | None:
    """The absolute URL of the route called ``name``, or None when this app has no such route (routers included
    into the app are not listed flat in ``app.routes`` by every FastAPI version; matching by name is)."""
    try:
        return str(request.url_for(name, **params))
    except NoMatchFound:
        return None


class RateLimits:
    """Rate limits by key, a moving window each (the ``limits`` library: in memory, or in a cluster in the
    ``storage`` every worker shares)."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self.create = parse(settings.create_rate)
        self.ws_message = parse(settings.ws_message_rate)

    def hit(self, item: RateLimitItem, *keys: str) -> bool:
        """Count one event; False when over the limit."""
        return self._limiter.hit(item, *keys)


def check_create_rate(request: Request) -> None:
    """429 when this address has created too many sessions (or forks) lately."""
    rates: RateLimits = request.app.state.rates
    if not rates.hit(rates.create, "create", client_address(request)):
        raise ApiError(429, f"too many new sessions from this address (at most {rates.create}); try again soon")


CreateRate = Depends(check_create_rate)
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
