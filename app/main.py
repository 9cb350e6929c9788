"""Builds the ASGI app: ``create_app(settings)``; ``app`` is the one ``uvicorn app.main:app`` serves.

Layer: the top, which wires the others together: ``app.engine`` (the maths, no web) ← ``app.sessions`` (runs,
stores, the live hub, rooms; no HTTP) ← ``app.api`` (routes, the live channel, errors, guards), with
``app.schemas`` and ``app.wire`` (what goes over the wire) between them. docs/architecture.md draws it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from app import __version__
from app.api import errors, live, meta, openapi, pages, rooms, sessions
from app.api.deps import RateLimits
from app.api.guard import ClientCookies, Guard, raise_open_file_limit
from app.api.limits import BodyLimit
from app.assets import STATIC_DIR
from app.cluster import node as cluster
from app.engine import paths
from app.sessions import Database, LiveHub, RoomStore, SessionStore, Storage
from app.settings import Settings, get_settings
from app.wire import JSONResponse

EXPIRY_PERIOD_S = 30.0
CHECKPOINT_PERIOD_S = 3.0
log = logging.getLogger("backprop_playground")


async def _housekeeping(store: SessionStore, rooms: RoomStore) -> None:
    """Every few seconds: checkpoint changed sessions; twice a minute: expire idle sessions and their rooms."""
    last_expiry = 0.0
    while True:
        await asyncio.sleep(CHECKPOINT_PERIOD_S)
        try:
            await store.checkpoint_all()
            now = asyncio.get_running_loop().time()
            if now - last_expiry > min(EXPIRY_PERIOD_S, store.settings.session_ttl / 2):
                last_expiry = now
                store.expire()
                await rooms.expire()
        except Exception:  # housekeeping must outlive any one bad session
            log.exception("housekeeping failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app with its own settings and session store (tests build one each)."""
    settings = settings or get_settings()
    if settings.redis_url:
        settings = cluster.settings_for_cluster(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store: SessionStore = app.state.store
        paths.set_policy(settings.engine)
        if settings.engine == "auto":
            paths.warm_up()  # compiles or loads the kernels in the background; sessions run NumPy until then
        log.info("open-file limit %d", raise_open_file_limit())
        node = getattr(app.state, "node", None)
        if node is not None:  # a worker of a cluster: its lease first, then its sessions
            await node.start()
        if store.db is not None:
            await store.db.open()
            loaded = await store.load()
            rooms_loaded = await app.state.rooms.load()
            log.info("restored %d sessions and %d rooms from %s", loaded, rooms_loaded, store.db.path)
        if node is not None:
            await node.serve()
        task = asyncio.create_task(_housekeeping(store, app.state.rooms))
        try:
            yield
        finally:
            task.cancel()
            await app.state.hub.close()
            if store.db is not None:
                await store.checkpoint_all()
                await store.flush()
                await store.db.close()
            store.executor.shutdown(wait=False, cancel_futures=True)
            store.one_offs.shutdown(wait=False, cancel_futures=True)
            if node is not None:
                await node.stop()

    # FastAPIOffline: /docs with Swagger UI served from the package, not a CDN (/redoc: app.api.openapi)
    app = FastAPIOffline(
        redoc_url=None,
        title="Backprop Playground",
        version=__version__,
        default_response_class=JSONResponse,
        lifespan=lifespan,
    )
    app.state.settings = settings
    db: Storage | None = None
    if settings.redis_url:  # a worker of a cluster: checkpoints in Redis, shared by every worker
        db = cluster.database(settings)
    elif settings.db:
        db = Database(settings.db)
    app.state.store = SessionStore(settings, db)
    app.state.rooms = RoomStore(app.state.store, db)
    app.state.hub = LiveHub(app.state.store, settings)
    app.state.rates = RateLimits(settings, cluster.rate_storage(settings) if settings.redis_url else None)
    errors.install(app)
    openapi.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    key = cluster.cookie_key_loader(settings) if settings.redis_url else None
    app.add_middleware(Guard, settings=settings, cookies=ClientCookies(settings.db, key))
    if settings.redis_url:
        cluster.attach(app, settings)
    app.include_router(meta.router)
    app.include_router(sessions.router)
    app.include_router(live.router)
    app.include_router(rooms.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


app = create_app()
