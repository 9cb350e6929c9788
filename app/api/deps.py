"""Dependencies shared by the routes: the settings and the session store of the running app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import HTTPConnection

from app.sessions import ApiError, SessionStore
from app.settings import Settings


def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> SessionStore:
    """The app's session store."""
    store: SessionStore = request.app.state.store
    return store


def client_address(request: HTTPConnection) -> str:
    """The address a request (or socket) comes from."""
    return request.client.host if request.client else "unknown"


def client_key(request: HTTPConnection) -> str:
    """Who a request counts against for the per-client session limit: its address, and the browser's
    ``bpp_client`` cookie or ``X-BPP-Client`` header where there is one, so that a class behind one school
    NAT is told apart (the global limit and per-address rate limits still bound the whole address)."""
    host = request.client.host if request.client else "unknown"
    tag = request.headers.get("x-bpp-client") or request.cookies.get("bpp_client") or ""
    tag = "".join(ch for ch in tag if ch.isalnum() or ch in "-_")[:64]
    return f"{host}/{tag}" if tag else host


class RateLimits:
    """Rate limits by key, a moving window each (the ``limits`` library, in memory)."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self.create = parse(settings.create_rate)
        self.ws_message = parse(settings.ws_message_rate)

    def hit(self, item: RateLimitItem, *keys: str) -> bool:
        """Count one event; False when over the limit."""
        return self._limiter.hit(item, *keys)


def check_create_rate(request: Request) -> None:
    """429 when this address has created too many sessions (or forks) lately."""
    rates: RateLimits = request.app.state.rates
    host = request.client.host if request.client else "unknown"
    if not rates.hit(rates.create, "create", host):
        raise ApiError(429, f"too many new sessions from this address (at most {rates.create}); try again soon")


CreateRate = Depends(check_create_rate)
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
