"""What several test modules share (fixtures stay in conftest.py): the checkout's root, a free port, a real
server process, a small session config, REST calls on one session and one authenticated live-channel socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from app.wire import read_frame

ROOT = Path(__file__).resolve().parent.parent
WAIT = 5.0  # seconds any single expected message may take
SMALL: dict[str, Any] = {
    "dataset": {"name": "circle", "samples": 200},
    "hidden": [4, 2],
    "activation": "tanh",
    "batch_size": 10,
    "seed": 1,
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A uvicorn process serving app.main:app on 127.0.0.1 with its own environment: started the way docs/setup.md
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
        # Generous: the engine's first compile after an install takes ~15 s of CPU, more on a busy machine.
        deadline = time.monotonic() + 120
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
        raise RuntimeError(f"server did not start: {Path(self.log.name).read_text()[-2000:]}")

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


def auth(token: str) -> dict[str, str]:
    """The header a session call carries."""
    return {"Authorization": f"Bearer {token}"}


class Api:
    """REST calls on one session, by its id and token, through the client it was created with; after a server
    restart (id and token survive it) ``api.on(client)`` makes the same calls through a new client."""

    def __init__(self, http: httpx.AsyncClient, created: dict[str, Any]) -> None:
        self.http = http
        self.id: str = created["id"]
        self.token: str = created["token"]
        self.created = created
        self.headers = auth(self.token)

    def on(self, http: httpx.AsyncClient) -> Api:
        """The same session through another client."""
        return Api(http, self.created)

    async def call(self, method: str, path: str = "", **kw: Any) -> Any:
        r = await self.http.request(method, f"/api/sessions/{self.id}{path}", headers=self.headers, **kw)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    async def get(self) -> dict[str, Any]:
        return await self.call("GET")

    async def weights(self) -> list[np.ndarray]:
        return [np.asarray(w) for w in (await self.call("GET", "/weights"))["weights"]]

    async def export(self) -> dict[str, Any]:
        return await self.call("GET", "/export")

    async def train(self, steps: int) -> dict[str, Any]:
        return await self.call("POST", "/train", json={"steps": steps})


async def new_session(http: httpx.AsyncClient, config: dict[str, Any] | None = None) -> Api:
    """A new session (``SMALL`` unless a config is given)."""
    r = await http.post("/api/sessions", json=SMALL if config is None else config)
    assert r.status_code == 201, r.text
    return Api(http, r.json())


def decode(raw: str | bytes) -> dict[str, Any]:
    """A server message as a dict; a binary frame becomes its header plus ``_arrays`` and ``_bytes``."""
    if isinstance(raw, bytes):
        header, arrays = read_frame(raw)
        return {**header, "_arrays": arrays, "_bytes": len(raw)}
    return json.loads(raw)


class Live:
    """One authenticated socket: reads with timeouts, acks frames as the page does."""

    def __init__(self, ws: websockets.ClientConnection, hello: dict[str, Any]) -> None:
        self.ws = ws
        self.hello = hello

    async def send(self, msg: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(msg if isinstance(msg, str | bytes) else json.dumps(msg))

    async def recv(self, timeout: float = WAIT, ack: bool = True) -> dict[str, Any]:
        msg = decode(await asyncio.wait_for(self.ws.recv(), timeout))
        if ack and msg["type"] == "frame":
            await self.send({"type": "ack"})
        return msg

    async def until(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = WAIT, ack: bool = True
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Read until a message satisfies ``pred``; returns it and the messages read before it."""
        seen: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.recv(timeout, ack)
                if pred(msg):
                    return msg, seen
                seen.append(msg)

    async def of_type(self, kind: str, timeout: float = WAIT, ack: bool = True) -> dict[str, Any]:
        return (await self.until(lambda m: m["type"] == kind, timeout, ack))[0]

    async def collect(self, seconds: float, ack: bool = True) -> list[dict[str, Any]]:
        """Every message received during the next ``seconds``."""
        out: list[dict[str, Any]] = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                out.append(await self.recv(left, ack))
            except TimeoutError:
                break
        return out


@contextlib.asynccontextmanager
async def connect(server: LiveServer, api: Api, origin: str | None = None) -> AsyncIterator[Live]:
    """A live-channel socket on the session, authenticated: its ``hello`` read."""
    url = f"{server.ws_url}/api/sessions/{api.id}/ws"
    async with websockets.connect(url, origin=origin, open_timeout=WAIT, close_timeout=2, compression=None) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "auth", "token": api.token}))
        hello = decode(await asyncio.wait_for(ws.recv(), WAIT))
        assert hello["type"] == "hello", hello
        yield Live(ws, hello)


async def closed_with(ws: websockets.ClientConnection, timeout: float = WAIT) -> int:
    """Read until the server closes the socket; the close code."""
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    assert info.value.rcvd is not None, "the server did not send a close frame"
    return info.value.rcvd.code
