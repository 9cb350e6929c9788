"""Nothing is lost on restart (docs/classroom.md, "Restarts"): a real server on a temporary SQLite file
(``BPP_DB``) is killed with SIGKILL and started again on the same file; every session comes back with its old
token, its exact weights, counters, config and optimizer state, rooms come back with their forks and teacher
token, and training continues bit for bit as if the server had never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from helpers import SMALL, Api, LiveServer, auth, new_session

from app.main import create_app
from app.settings import Settings
from app.wire import read_frame

WAIT = 5.0
CUSTOM: dict[str, Any] = {
    "dataset": {
        "name": "custom",
        "x": [[i / 10, (i % 7) / 7] for i in range(30)],
        "y": [[0.3 * (i / 10) - (i % 7) / 14] for i in range(30)],
        "x_test": [[0.15, 0.5], [1.05, 0.25], [2.2, 0.0]],
        "y_test": [[0.0], [0.2], [0.66]],
    },
    "hidden": [5],
    "activation": "relu",
    "optimizer": "adam",
    "learning_rate": 0.01,
    "batch_size": 4,
    "seed": 7,
}
CONFIGS: dict[str, dict[str, Any]] = {
    "sgd": {**SMALL, "regularization": "l2", "reg_rate": 0.001},
    "momentum": {**SMALL, "dataset": {"name": "xor", "samples": 120, "noise": 0.1}, "optimizer": "momentum"},
    "adam": {
        **SMALL,
        "dataset": {"name": "spiral", "samples": 150},
        "features": ["x1", "x2", "sin(x1)"],
        "hidden": [6, 4],
        "optimizer": "adam",
        "learning_rate": 0.01,
        "seed": 5,
    },
    "multiclass": {**SMALL, "dataset": {"name": "blobs", "samples": 150}, "hidden": [5], "optimizer": "adam"},
    "custom": CUSTOM,
}


# -- helpers ---------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def rest(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
        yield http


@contextlib.asynccontextmanager
async def control_app() -> AsyncIterator[httpx.AsyncClient]:
    """A fresh in-process app that never restarted, for the control runs."""
    app = create_app(Settings(db=""))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.0.0.9", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://control", timeout=30) as http:
            yield http


async def control_run(doc: dict[str, Any], steps: int) -> dict[str, Any]:
    """Import an export document into a server that never restarted, train ``steps``, export again."""
    async with control_app() as http:
        r = await http.post("/api/sessions", json={"import": doc})
        assert r.status_code == 201, r.text
        api = Api(http, r.json())
        if steps:
            await api.on(http).train(steps)
        return await api.on(http).export()


def saved_step(db: str, session_id: str) -> int | None:
    """The step the database holds for a session right now (what would survive a SIGKILL this instant)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)) as conn:
        row = conn.execute("SELECT state FROM sessions WHERE id=?", (session_id,)).fetchone()
    return None if row is None else int(json.loads(row[0])["step"])


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "bpp.db")


def server_on(db: str, **env: str) -> LiveServer:
    return LiveServer(env={"BPP_DB": db, **env}).start()


@contextlib.asynccontextmanager
async def live(server: LiveServer, api: Api) -> AsyncIterator[websockets.ClientConnection]:
    url = f"{server.ws_url}/api/sessions/{api.id}/ws"
    async with websockets.connect(url, open_timeout=WAIT, close_timeout=1, compression=None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": api.token}))
        hello = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert hello["type"] == "hello", hello
        ws.hello = hello  # type: ignore[attr-defined]
        yield ws


async def next_message(ws: websockets.ClientConnection, frames: list[tuple[float, int]]) -> dict[str, Any] | None:
    """The next text message (None for a frame, which is acked and recorded as (time, step))."""
    raw = await asyncio.wait_for(ws.recv(), WAIT)
    if isinstance(raw, bytes):
        frames.append((time.monotonic(), read_frame(raw)[0]["step"]))
        await ws.send('{"type": "ack"}')
        return None
    msg: dict[str, Any] = json.loads(raw)
    return msg


# -- the tests -------------------------------------------------------------------------------------------


async def test_sigkill_and_restart_loses_nothing(db: str):
    server = server_on(db)
    try:
        async with rest(server) as http:
            apis = {name: await new_session(http, cfg) for name, cfg in CONFIGS.items()}
            await apis["sgd"].on(http).train(30)
            await apis["sgd"].on(http).call("PATCH", json={"learning_rate": 0.1, "batch_size": 5})
            await apis["sgd"].on(http).train(3)
            await apis["momentum"].on(http).train(17)
            weights = (await apis["momentum"].on(http).call("GET", "/weights"))["weights"]
            weights[0][0][0] = 0.625
            await apis["momentum"].on(http).call("PUT", "/weights", json={"weights": weights})
            await apis["momentum"].on(http).train(4)  # momentum state rebuilt after the reset
            await apis["adam"].on(http).train(23)  # mid-epoch, Adam's moments and step count in flight
            await apis["multiclass"].on(http).train(9)
            await apis["custom"].on(http).train(11)

            r = await http.post(
                "/api/rooms", json={"session_id": apis["adam"].id, "title": "Spirals"}, headers=auth(apis["adam"].token)
            )
            assert r.status_code == 201, r.text
            room = r.json()
            r = await http.post(f"/api/rooms/{room['code']}/fork", json={"name": "Ada"})
            assert r.status_code == 201, r.text
            apis["fork"] = Api(http, r.json())
            await apis["fork"].on(http).train(9)
            r = await http.post(f"/api/rooms/{room['code']}/fork")  # a nameless fork, never trained
            assert r.status_code == 201, r.text
            apis["fork2"] = Api(http, r.json())
            r = await http.post("/api/rooms", json={"session_id": apis["sgd"].id}, headers=auth(apis["sgd"].token))
            other_room = r.json()

            docs = {name: await api.on(http).export() for name, api in apis.items()}
            states = {name: await api.on(http).call("GET") for name, api in apis.items()}
            class_before = (
                await http.get(f"/api/rooms/{room['code']}/class", headers=auth(room["teacher_token"]))
            ).json()
            assert [f["name"] for f in class_before["forks"]] == ["Ada", None]
            assert docs["adam"]["state"]["optimizer_state"]

            # The last call changes a session; the server is killed the moment it has answered.
            last = await apis["custom"].on(http).train(7)
            server.stop(kill=True)
    finally:
        server.stop(kill=True)
    expected_custom = await control_run(docs["custom"], 7)

    server = server_on(db)
    try:
        async with rest(server) as http:
            docs["custom"] = expected_custom
            for name, api in apis.items():
                restored = await api.on(http).export()
                assert restored == docs[name], name
                state = await api.on(http).call("GET")
                if name == "custom":
                    assert (state["step"], state["epoch"], state["weights"]) == (
                        last["step"],
                        last["epoch"],
                        last["weights"],
                    )
                else:
                    assert state == states[name], name
                r = await http.get(f"/api/sessions/{api.id}", headers=auth("not-the-token"))
                assert r.status_code == 403

            r = await http.get(f"/api/rooms/{room['code']}")
            assert r.status_code == 200, r.text
            assert r.json()["title"] == "Spirals" and r.json()["forks"] == 2
            assert r.json()["session"] == states["adam"]
            r = await http.get(f"/api/rooms/{room['code']}/class", headers=auth(room["teacher_token"]))
            assert r.status_code == 200, r.text
            assert r.json() == class_before
            assert (await http.get(f"/api/rooms/{other_room['code']}")).status_code == 200
            r = await http.get(f"/api/rooms/{room['code']}/class", headers=auth(apis["adam"].token))
            assert r.status_code == 403

            # Training continues bit for bit as on a server that never stopped.
            after = {}
            for name, api in apis.items():
                await api.on(http).train(50)
                after[name] = await api.on(http).export()
        for name in apis:
            control = await control_run(docs[name], 50)
            assert after[name]["state"]["weights"] == control["state"]["weights"], name
            assert after[name] == control, name

        async with rest(server) as http:  # a restored room still forks, and from the teacher's exact state
            r = await http.post(f"/api/rooms/{room['code']}/fork", json={"name": "Bo"})
            assert r.status_code == 201, r.text
            bo = Api(http, r.json())
            assert await bo.on(http).export() == after["adam"]
    finally:
        server.stop(kill=True)


async def test_live_changes_are_saved_when_the_run_pauses(db: str):
    server = server_on(db)
    try:
        async with rest(server) as http:
            api = await new_session(http, SMALL)
        frames: list[tuple[float, int]] = []
        async with live(server, api) as ws:
            await ws.send(json.dumps({"type": "set", "learning_rate": 0.2, "steps_per_frame": 3, "probe": 5}))
            while (msg := await next_message(ws, frames)) is None or msg["type"] != "state":
                pass
            assert msg["session"]["config"]["learning_rate"] == 0.2
            await ws.send(json.dumps({"type": "play"}))
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                await next_message(ws, frames)
            await ws.send(json.dumps({"type": "pause"}))
            while (msg := await next_message(ws, frames)) is None or msg.get("status") != "paused":
                pass
            paused = msg
            # The pause is saved at once (not at the next periodic checkpoint, up to 3 s away). How soon: see
            # test_a_pause_is_on_disk_before_it_is_announced.
            async with asyncio.timeout(1.0):
                while saved_step(db, api.id) != paused["step"]:
                    await asyncio.sleep(0.005)
            server.stop(kill=True)
    finally:
        server.stop(kill=True)
    assert paused["step"] > 0 and paused["step"] % 3 == 0

    server = server_on(db)
    try:
        async with rest(server) as http:
            state = await api.on(http).call("GET")
            assert state["step"] == paused["step"]
            assert state["status"] == "paused"
            assert state["config"]["learning_rate"] == 0.2
        async with live(server, api) as ws:
            assert ws.hello["steps_per_frame"] == 3  # type: ignore[attr-defined]
            assert ws.hello["probe"] == 5  # type: ignore[attr-defined]
            assert ws.hello["session"] == state  # type: ignore[attr-defined]
    finally:
        server.stop(kill=True)


async def test_a_pause_is_on_disk_before_it_is_announced(db: str):
    """What a SIGKILL would leave at the instant ``paused`` arrives: the database as another connection sees it."""
    server = server_on(db)
    try:
        async with rest(server) as http:
            api = await new_session(http, {**SMALL, "dataset": {"name": "circle", "samples": 2000}, "hidden": [16, 16]})
        frames: list[tuple[float, int]] = []
        lost = []
        async with live(server, api) as ws:
            for round in range(10):
                await ws.send(json.dumps({"type": "play"}))
                end = time.monotonic() + 0.3
                while (left := end - time.monotonic()) > 0:
                    with contextlib.suppress(TimeoutError):
                        raw = await asyncio.wait_for(ws.recv(), left)
                        if isinstance(raw, bytes) and round % 2:  # even rounds: no credit left at the pause
                            await ws.send('{"type": "ack"}')
                await ws.send(json.dumps({"type": "pause"}))
                while (msg := await next_message(ws, frames)) is None or msg.get("status") != "paused":
                    pass
                on_disk = saved_step(db, api.id)
                if on_disk != msg["step"]:
                    lost.append((round, msg["step"], on_disk))
                async with asyncio.timeout(2.0):  # settle before the next round
                    while saved_step(db, api.id) != msg["step"]:
                        await asyncio.sleep(0.01)
                for _ in range(2):
                    await ws.send('{"type": "ack"}')
        assert lost == []
    finally:
        server.stop(kill=True)


async def test_a_run_killed_mid_play_loses_at_most_a_few_seconds(db: str):
    server = server_on(db)
    try:
        async with rest(server) as http:
            api = await new_session(http, {**SMALL, "dataset": {"name": "circle", "samples": 400}})
        frames: list[tuple[float, int]] = []
        async with live(server, api) as ws:
            await ws.send(json.dumps({"type": "set", "steps_per_frame": 2}))
            await ws.send(json.dumps({"type": "play"}))
            end = time.monotonic() + 5.0
            while time.monotonic() < end:
                await next_message(ws, frames)
            server.stop(kill=True)  # still playing
    finally:
        server.stop(kill=True)
    killed_at, last_step = frames[-1]
    early = max(step for t, step in frames if t <= killed_at - 4.0)  # what the client saw 4 s before the kill
    assert last_step > early > 0

    server = server_on(db)
    try:
        async with rest(server) as http:
            state = await api.on(http).call("GET")
        assert early <= state["step"] <= last_step + 2 * 3, (early, state["step"], last_step)
        assert state["status"] == "paused"  # a restored run waits for its page to press play again
    finally:
        server.stop(kill=True)


async def test_expired_sessions_and_their_rooms_are_not_restored(db: str):
    ttl = 60.0
    server = server_on(db, BPP_SESSION_TTL=str(ttl))
    try:
        async with rest(server) as http:
            old = await new_session(http, SMALL)
            r = await http.post("/api/rooms", json={"session_id": old.id}, headers=auth(old.token))
            room = r.json()
            fresh = await new_session(http, SMALL)
            server.stop(kill=True)
    finally:
        server.stop(kill=True)
    # The old session was last used two TTLs before the fresh one: idle time counts from the newest use the
    # database saw (the server's downtime does not count), so the old one has expired and the fresh one has
    # not, however long the restart takes on a busy machine.
    with contextlib.closing(sqlite3.connect(db)) as con, con:
        con.execute("UPDATE sessions SET touched = touched - ? WHERE id = ?", (2 * ttl, old.id))

    server = server_on(db, BPP_SESSION_TTL=str(ttl))
    try:
        async with rest(server) as http:
            assert (await http.get(f"/api/sessions/{old.id}", headers=auth(old.token))).status_code == 404
            assert (await http.get(f"/api/rooms/{room['code']}")).status_code == 404
            assert (await fresh.on(http).call("GET"))["id"] == fresh.id
    finally:
        server.stop(kill=True)


async def test_a_clean_shutdown_keeps_everything_too(db: str):
    server = server_on(db)
    try:
        async with rest(server) as http:
            api = await new_session(http, CONFIGS["adam"])
            await api.on(http).train(12)
            doc = await api.on(http).export()
        server.stop()  # SIGTERM: the lifespan's last checkpoint
    finally:
        server.stop(kill=True)
    server = server_on(db)
    try:
        async with rest(server) as http:
            assert await api.on(http).export() == doc
    finally:
        server.stop(kill=True)


async def test_the_latest_gradient_norms_survive_a_checkpoint():
    """The page's gradient chart does not drop to zero after a restart (the checkpoint is an export)."""
    async with control_app() as http:
        api = await new_session(http, SMALL)
        await api.on(http).train(5)
        before = (await api.on(http).call("GET"))["metrics"]["grad_norms"]
        r = await http.post("/api/sessions", json={"import": await api.on(http).export()})
        assert r.status_code == 201, r.text
        assert r.json()["metrics"]["grad_norms"] == before
