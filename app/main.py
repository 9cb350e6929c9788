"""Builds the ASGI app: ``create_app(settings)``; ``app`` is the one ``uvicorn app.main:app`` serves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.api import errors, live, meta, sessions
from app.api.limits import BodyLimit
from app.live import LiveHub
from app.sessions import SessionStore
from app.settings import Settings, get_settings
from app.wire import JSONResponse

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
EXPIRY_PERIOD_S = 30.0

DESCRIPTION = """A visual backpropagation playground: a NumPy training engine for fully-connected networks that
shows every activation, error term δ, gradient and update, in the notation of the classic backprop course.

Every session call needs the session's token as `Authorization: Bearer <token>` (it comes with the new
session). Errors are JSON with a human-readable `detail` naming the field."""


async def _expire_forever(store: SessionStore) -> None:
    while True:
        await asyncio.sleep(EXPIRY_PERIOD_S)
        store.expire()


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app with its own settings and session store (tests build one each)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_expire_forever(app.state.store))
        try:
            yield
        finally:
            task.cancel()
            await app.state.hub.close()
            app.state.store.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="Backprop Playground",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=JSONResponse,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = SessionStore(settings)
    app.state.hub = LiveHub(app.state.store, settings)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(meta.router)
    app.include_router(sessions.router)
    app.include_router(live.router)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


app = create_app()
