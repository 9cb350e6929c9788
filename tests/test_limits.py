"""Resource limits tried as a hostile student would, against a real server on loopback: the memory budget
(503 "the server is full", each client's and address's share, the memory given back after deleting, RSS
measured), heavy engine calls (one per client; another client's reads do not queue behind them), and the
live channel's bounds (a batch step's trace obeys BPP_MAX_TRACE_SAMPLES, a socket's queued bytes are capped).
No timed assertions: the tests wait for events and compare what happened in which order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets
from helpers import LiveServer

WAIT = 30.0
BIG_NETWORK = {"hidden": [64] * 8, "activation": "tanh"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def big_data(samples: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(samples, 64)).round(5)
    return {"name": "custom", "x": x.tolist(), "y": np.tanh(x[:, ::-1]).round(5).tolist(), "task": "regression"}


@contextlib.asynccontextmanager
async def server_with(**env: str) -> AsyncIterator[LiveServer]:
    server = LiveServer(env={"BPP_CREATE_RATE": "100000/minute", **env}).start()
    try:
        yield server
    finally:
        server.stop()


def student(server: LiveServer, n: int) -> httpx.AsyncClient:
    """Client n, from its own loopback address (127.0.0.n+1) with its own cookies."""
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{n + 1}")
    return httpx.AsyncClient(base_url=server.url, transport=transport, timeout=WAIT)


async def new_session(http: httpx.AsyncClient, config: dict[str, Any]) -> tuple[str, dict[str, str]]:
    r = await http.post("/api/sessions", json=config)
    assert r.status_code == 201, r.text
    return f"/api/sessions/{r.json()['id']}", {"Authorization": f"Bearer {r.json()['token']}"}


# -- memory ---------------------------------------------------------------------------------------------------


async def test_the_memory_budget_refuses_before_allocating_and_deleting_gives_the_memory_back():
    config = {"dataset": big_data(4000), **BIG_NETWORK}
    body = json.dumps(config)
    async with server_with(BPP_MAX_MEMORY_MB="330", BPP_CLIENT_MEMORY_SHARE="0.5") as server:
        idle = rss_mb(server.pid)
        students = [student(server, n) for n in range(4)]
        made: list[tuple[httpx.AsyncClient, str, dict[str, str]]] = []
        answers: list[httpx.Response] = []
        headers = {"content-type": "application/json"}
        for http in students:  # the first student asks twice: its share holds one
            for _ in range(2 if http is students[0] else 1):
                r = await http.post("/api/sessions", content=body, headers=headers)
                answers.append(r)
                if r.status_code == 201:
                    made.append(
                        (http, f"/api/sessions/{r.json()['id']}", {"Authorization": f"Bearer {r.json()['token']}"})
                    )
        codes = [r.status_code for r in answers]
        assert codes[:2] == [201, 429], codes
        assert "share" in answers[1].json()["detail"]
        assert 503 in codes, codes
        full = next(r for r in answers if r.status_code == 503).json()["detail"]
        assert full.startswith("the server is full") and "BPP_MAX_MEMORY_MB" in full
        health = (await students[0].get("/api/health")).json()["memory"]
        assert health["used_mb"] <= health["budget_mb"] == 330
        # a change that would pass the budget is refused too, and changes nothing
        http, url, auth = made[0]
        before = (await http.get(url, headers=auth)).json()
        r = await http.patch(url, headers=auth, json={"batch_size": 4000})  # bigger workspaces and trace
        assert r.status_code in (429, 503), r.text[:300]
        assert (await http.get(url, headers=auth)).json() == before
        for http, url, auth in made:  # every cache the footprint counts, really allocated
            assert (await http.post(url + "/train", headers=auth, json={"steps": 5})).status_code == 200
        loaded = rss_mb(server.pid)
        assert loaded - idle < health["budget_mb"]  # what the accounting admitted fits in the budget
        for http, url, auth in made:
            assert (await http.delete(url, headers=auth)).status_code == 204
        after = rss_mb(server.pid)
        print(f"\nRSS idle {idle:.0f} MB, with {len(made)} sessions {loaded:.0f} MB, after deleting {after:.0f} MB")
        assert after - idle < 0.5 * (loaded - idle), (idle, loaded, after)  # most of it is given back
        assert (await students[0].get("/api/health")).json()["memory"]["used_mb"] == 0
        r = await students[0].post("/api/sessions", content=body, headers=headers)  # room again
        assert r.status_code == 201, r.text
        for http in students:
            await http.aclose()


# -- heavy calls ----------------------------------------------------------------------------------------------


async def test_reads_do_not_queue_behind_heavy_calls_and_one_client_runs_one():
    # One engine thread, and a gradcheck that may take all of BPP_MAX_CALL_SECONDS: while it holds the only
    # engine thread, another client's reads (its session, its weights, its export, a room) still answer.
    # The weight cap is above the network's 37,440 weights (minutes of work on any machine), so the call can
    # only end by its time bound, however fast the machine.
    env = {
        "BPP_ENGINE_THREADS": "1",
        "BPP_MAX_CALL_SECONDS": "8",
        "BPP_GRADCHECK_MAX_WORK": "1e15",
        "BPP_MAX_GRADCHECK_WEIGHTS": "100000",
    }
    async with server_with(**env) as server, student(server, 0) as hostile, student(server, 1) as other:
        url, auth = await new_session(hostile, {"dataset": big_data(600), **BIG_NETWORK})
        mine, mine_auth = await new_session(other, {"dataset": {"name": "circle", "samples": 200}})
        r = await other.post("/api/rooms", json={"session_id": mine.rsplit("/", 1)[1]}, headers=mine_auth)
        room = r.json()["code"]

        def start() -> asyncio.Task[httpx.Response]:
            gradcheck = hostile.post(url + "/gradcheck", headers=auth, json={"samples": list(range(256))})
            return asyncio.create_task(gradcheck)

        check = start()
        while True:  # wait until the gradcheck is running: the client's next heavy call is refused
            r = await hostile.post(url + "/backprop", headers=auth, json={"samples": [0]})
            if r.status_code == 429:
                break
            assert r.status_code == 200
            if check.done():  # the probe came first and the gradcheck was the one refused: again
                assert (await check).status_code == 429
                check = start()
        assert "already running a heavy call" in r.json()["detail"]
        r = await hostile.post(url + "/train", headers=auth, json={"steps": 10})
        assert r.status_code == 429
        for _ in range(5):
            reads = [
                other.get(mine, headers=mine_auth),
                other.get(mine + "/weights", headers=mine_auth),
                other.get(mine + "/export", headers=mine_auth),
                other.get(f"/api/rooms/{room}"),
                hostile.get(url, headers=auth),  # even the busy session's own state
                other.get("/api/health"),
            ]
            for r in await asyncio.gather(*reads):
                assert r.status_code == 200, r.text
        assert not check.done()  # every read answered while the heavy call held the engine
        r = await check
        assert r.status_code == 200
        out = r.json()
        assert out["complete"] is False and 0 < out["checked"] < 64 * 65 * 9  # stopped by its time bound
        r = await hostile.post(url + "/train", headers=auth, json={"steps": 10})
        assert r.status_code == 200  # the client's next heavy call runs once the first has answered


# -- live channel ---------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def socket(server: LiveServer, url: str, auth: dict[str, str]) -> AsyncIterator[Any]:
    async with websockets.connect(server.ws_url + url + "/ws", open_timeout=WAIT, max_size=None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": auth["Authorization"][7:]}))
        assert json.loads(await ws.recv())["type"] == "hello"
        yield ws


async def next_text(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        raw = await asyncio.wait_for(ws.recv(), WAIT)
        if isinstance(raw, str):
            msg: dict[str, Any] = json.loads(raw)
            if msg["type"] == kind or msg["type"] == "error":
                return msg


async def test_a_batch_step_trace_obeys_the_sample_cap_and_the_socket_byte_cap():
    # 64-64-64-64: a state message is about 0.26 MB, a step trace 1.05 MB for one sample and 1.65 MB for 48
    env = {"BPP_MAX_TRACE_SAMPLES": "50", "BPP_MAX_QUEUED_BYTES": "1300000"}
    async with server_with(**env) as server, student(server, 0) as http:
        config = {"dataset": big_data(400), "hidden": [64, 64], "batch_size": 200}
        url, auth = await new_session(http, config)
        async with socket(server, url, auth) as ws:
            await ws.send(json.dumps({"type": "step", "unit": "batch"}))
            msg = await next_text(ws, "trace")
            assert msg["type"] == "error" and msg["field"] == "unit" and "50" in msg["message"], msg
            assert (await http.get(url, headers=auth)).json()["step"] == 0  # refused before the step
            await ws.send(json.dumps({"type": "step", "unit": "sample"}))
            msg = await next_text(ws, "trace")
            assert msg["type"] == "trace" and len(msg["indices"]) == 1
            # within the sample cap but past the socket's byte cap: not sent, and the client is told
            r = await http.patch(url, headers=auth, json={"batch_size": 48})
            assert r.status_code == 200
            await ws.send(json.dumps({"type": "step", "unit": "batch"}))
            msg = await next_text(ws, "trace")
            assert msg["type"] == "error" and msg["code"] == "too_large", msg
            assert (await http.get(url, headers=auth)).json()["step"] == 2  # the step itself was done
            await ws.send(json.dumps({"type": "step", "unit": "sample"}))
            assert (await next_text(ws, "trace"))["type"] == "trace"  # and the socket still works


# -- the footprint ---------------------------------------------------------------------------------------------


def array_bytes(*roots: Any) -> int:
    """Bytes of every distinct NumPy buffer reachable from ``roots`` (through objects, dicts, lists, tuples)."""
    seen: set[int] = set()
    bases: dict[int, int] = {}
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            base = obj
            while isinstance(base.base, np.ndarray):
                base = base.base
            bases[id(base)] = base.nbytes
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
        elif hasattr(obj, "__slots__"):
            stack.extend(getattr(obj, name, None) for name in obj.__slots__)
    return sum(bases.values())


async def test_the_footprint_bounds_what_a_session_holds_and_stores(client: httpx.AsyncClient):
    """After training, stepping, tracing and checking gradients, the arrays a session holds and its checkpoint
    stay within what was reserved for it before it was built; custom data is held once, as arrays."""
    from app.sessions import footprint

    store = client.app.state.store  # type: ignore[attr-defined]
    configs = [
        {"dataset": big_data(300), "hidden": [16, 8], "optimizer": "adam", "batch_size": 32},
        {"dataset": {"name": "spiral", "samples": 400}, "features": ["x1", "x2", "sin(x1)"], "hidden": [8, 8]},
        {"dataset": {"name": "blobs", "samples": 300}, "hidden": [5], "optimizer": "momentum", "batch_size": 300},
    ]
    for config in configs:
        url, auth = await new_session(client, config)
        await client.post(url + "/train", headers=auth, json={"steps": 60})
        await client.post(url + "/backprop", headers=auth, json={"samples": list(range(50))})
        await client.post(url + "/gradcheck", headers=auth, json={})
        session = store.sessions[url.rsplit("/", 1)[1]]
        assert session.config.dataset.x is None  # the arrays hold the data; the config no lists
        memory, disk = session.charge.amounts
        assert (memory, disk) == footprint(session.trainer.dataset, session.trainer.config, store.settings)
        held = array_bytes(session.trainer, session.snapshot, session.live.last_record)
        assert held <= memory, (config, held, memory)
        row, _ = session.checkpoint()
        stored = sum(len(json.dumps(part)) for part in (row.config, session.data_doc(), row.state, row.meta))
        assert stored <= disk, (config, stored, disk)
        export = (await client.get(url + "/export", headers=auth)).json()
        if config["dataset"]["name"] == "custom":
            assert export["data"]["x"] == config["dataset"]["x"]
            r = await client.patch(url, headers=auth, json={"learning_rate": 0.1})  # a custom run's PATCH
            assert r.status_code == 200 and r.json()["config"]["dataset"]["name"] == "custom"


async def test_the_disk_budget_and_expiry_release_what_sessions_held():
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(db="", max_disk_mb=1.0, client_memory_share=1.0))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            r = await http.post("/api/sessions", json={"dataset": big_data(600), "hidden": [8]})
            assert r.status_code == 503, r.text  # its checkpoint would take about 2 MB
            assert r.json()["detail"].startswith("the server is full") and "disk budget" in r.json()["detail"]
            store = app.state.store
            assert store.memory.used == store.disk.used == 0  # nothing kept from the refused one
            for _ in range(3):
                await new_session(http, {"dataset": {"name": "circle", "samples": 200}})
            assert store.memory.used > 0 and store.disk.used > 0
            gone = store.expire(now=store.settings.session_ttl * 10 + max(s.touched for s in store.sessions.values()))
            assert len(gone) == 3
            await store.flush()
            assert store.memory.used == store.disk.used == 0 and store.memory.held == {}
