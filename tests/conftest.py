"""Shared fixtures: an in-process app (httpx.ASGITransport) and a real uvicorn server on loopback. The helpers
that test modules import live in helpers.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from helpers import WAIT, LiveServer

from app.engine import paths
from app.main import create_app
from app.settings import Settings


@pytest.fixture(scope="session", autouse=True)
def compiled_engine() -> None:
    """Load the compiled kernels once for the whole run (from Numba's on-disk cache after the first run), as a
    server's warm-up does, so in-process apps run on the path a warm server runs. Fails when Numba is unusable."""
    assert paths.load() is not None, paths.status()


@pytest.fixture
def settings() -> Settings:
    """Settings for an in-process app: no database, default limits."""
    return Settings(db="")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to a fresh in-process app (lifespan run)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            c.app = app  # type: ignore[attr-defined]
            await c.get("/api/health")  # like a browser that loaded the page: it holds the server's client cookie
            yield c


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """One real server for the whole test session (tests must not depend on its other sessions)."""
    server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture
async def rest(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the shared real server."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=WAIT) as c:
        yield c
