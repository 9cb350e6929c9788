"""Dependencies shared by the routes: the settings and the session store of the running app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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


def client_key(request: Request) -> str:
    """Who a request counts against for the per-client session limit: its address, and the browser's
    ``bpp_client`` cookie or ``X-BPP-Client`` header where there is one, so that a class behind one school
    NAT is told apart (the global limit and per-address rate limits still bound the whole address)."""
    host = request.client.host if request.client else "unknown"
    tag = request.headers.get("x-bpp-client") or request.cookies.get("bpp_client") or ""
    tag = "".join(ch for ch in tag if ch.isalnum() or ch in "-_")[:64]
    return f"{host}/{tag}" if tag else host


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
