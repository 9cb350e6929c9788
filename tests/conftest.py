"""Shared fixtures: an in-process app (httpx.ASGITransport) and a real uvicorn server on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.engine import paths
from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


class LiveServer:
    """A uvicorn process serving app.main:app on 127.0.0.1 with its own environment: started the way the README
    says (``backprop-playground serve``), or with ``plain_uvicorn`` as ``uvicorn app.main:app`` with uvicorn's
    own defaults (which trust X-Forwarded-For from loopback)."""

    def __init__(self, env: dict[str, str] | None = None, port: int | None = None, plain_uvicorn: bool = False) -> None:
        self.plain_uvicorn = plain_uvicorn
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = {**os.environ, "BPP_DB": "", **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: Any = None

    def start(self) -> LiveServer:
        """Start the process and wait until /api/health answers and the engine's warm-up is over (so that every
        step runs on the path a warm server runs, and runs repeat bit for bit)."""
        cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.plain_uvicorn:
            cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(self.port)]
        # The server's log goes to a file: a pipe nobody reads would fill and block the server.
        self.log = tempfile.NamedTemporaryFile(prefix="bpp-server-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                r = httpx.get(self.url + "/api/health", timeout=0.5)
                engine = r.json()["engine"] if r.status_code == 200 else {}
                if r.status_code == 200 and (engine["ready"] or engine["error"] or engine["policy"] == "numpy"):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self, kill: bool = False) -> None:
        """Stop the process (SIGKILL with ``kill``)."""
        if self.proc and self.proc.poll() is None:
            (self.proc.kill if kill else self.proc.terminate)()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not kill and self.log is not None:  # a killed server's log stays for the test to read
            Path(self.log.name).unlink(missing_ok=True)

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """One real server for the whole test session (tests must not depend on its other sessions)."""
    server = LiveServer().start()
    yield server
    server.stop()
