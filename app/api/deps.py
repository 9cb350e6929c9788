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


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
