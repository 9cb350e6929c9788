"""The classroom (docs/classroom.md): opening a room, joining by code, forking, the class view, closing, the limits
that keep one client from starving the others (and a class behind one NAT from being refused), expiry,
and the read-only room channel against a real server: fan-out to viewers that never waits on a stalled one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import websockets
from helpers import SMALL, LiveServer, auth
from websockets.exceptions import ConnectionClosed

from app.main import create_app
from app.settings import Settings
from app.wire import read_frame

ADAM: dict[str, Any] = {**SMALL, "optimizer": "adam", "learning_rate": 0.01, "seed": 3}
CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")
WAIT = 5.0


# -- helpers ---------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def app_client(settings: Settings, host: str = "10.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on a fresh in-process app with these settings, every request from ``host``."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(host, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


async def new_browser(http: httpx.AsyncClient) -> None:
    """Make ``http`` another browser: forget its client cookie and get a fresh one from the server."""
    http.cookies.clear()
    assert "bpp_client" in (await http.get("/api/health")).cookies


async def new_session(http: httpx.AsyncClient, config: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await http.post("/api/sessions", json=SMALL if config is None else config)
    assert r.status_code == 201, r.text
    return r.json()


async def open_room(http: httpx.AsyncClient, session: dict[str, Any], title: str = "") -> dict[str, Any]:
    r = await http.post(
        "/api/rooms", json={"session_id": session["id"], "title": title}, headers=auth(session["token"])
    )
    assert r.status_code == 201, r.text
    return r.json()


async def fork(http: httpx.AsyncClient, code: str, name: str | None = None) -> dict[str, Any]:
    r = await http.post(f"/api/rooms/{code}/fork", json={"name": name} if name else None)
    assert r.status_code == 201, r.text
    return r.json()


async def train(http: httpx.AsyncClient, session: dict[str, Any], steps: int) -> dict[str, Any]:
    r = await http.post(f"/api/sessions/{session['id']}/train", json={"steps": steps}, headers=auth(session["token"]))
    assert r.status_code == 200, r.text
    return r.json()


async def export(http: httpx.AsyncClient, session: dict[str, Any]) -> dict[str, Any]:
    r = await http.get(f"/api/sessions/{session['id']}/export", headers=auth(session["token"]))
    assert r.status_code == 200, r.text
    return r.json()


async def get(http: httpx.AsyncClient, session: dict[str, Any]) -> dict[str, Any]:
    r = await http.get(f"/api/sessions/{session['id']}", headers=auth(session["token"]))
    assert r.status_code == 200, r.text
    return r.json()


async def class_view(http: httpx.AsyncClient, code: str, token: str) -> dict[str, Any]:
    r = await http.get(f"/api/rooms/{code}/class", headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()


# -- opening a room --------------------------------------------------------------------------------------


async def test_open_room_needs_the_sessions_own_token(client: httpx.AsyncClient):
    mine, other = await new_session(client), await new_session(client)
    body = {"session_id": mine["id"]}
    assert (await client.post("/api/rooms", json=body)).status_code == 401
    assert (await client.post("/api/rooms", json=body, headers=auth("wrong"))).status_code == 403
    assert (await client.post("/api/rooms", json=body, headers=auth(other["token"]))).status_code == 403
    r = await client.post("/api/rooms", json={"session_id": "nope"}, headers=auth(mine["token"]))
    assert r.status_code == 404
    r = await client.post("/api/rooms", json=body, headers=auth(mine["token"]))
    assert r.status_code == 201, r.text
    room = r.json()
    assert CODE.match(room["code"]), room["code"]
    assert len(room["teacher_token"]) >= 24 and room["teacher_token"] not in (mine["token"], other["token"])
    assert room["url"].endswith(room["code"])
    assert room["title"]


async def test_join_codes_are_distinct_and_readable(client: httpx.AsyncClient):
    session = await new_session(client)
    codes = {(await open_room(client, session))["code"] for _ in range(20)}
    assert len(codes) == 20
    assert all(CODE.match(c) for c in codes)


async def test_room_is_public_and_shows_the_teacher_session(client: httpx.AsyncClient):
    teacher = await new_session(client, ADAM)
    await train(client, teacher, 13)
    room = await open_room(client, teacher, "Lecture 4")
    code = room["code"]
    state = await get(client, teacher)
    for spelling in (code, code.lower(), code.replace("-", ""), code.lower().replace("-", "")):
        r = await client.get(f"/api/rooms/{spelling}")
        assert r.status_code == 200, (spelling, r.text)
        out = r.json()
        assert out["code"] == code and out["title"] == "Lecture 4" and out["forks"] == 0
        session = out["session"]
        assert session["config"] == state["config"]
        assert session["weights"] == state["weights"]
        assert session["metrics"] == state["metrics"]
        assert session["step"] == state["step"] == 13
    assert (await client.get("/api/rooms/ABCD-EFGH")).status_code == 404
    assert (await client.get("/api/rooms/nonsense")).status_code == 404


# -- forks -----------------------------------------------------------------------------------------------


async def test_fork_starts_from_the_teachers_exact_run(client: httpx.AsyncClient):
    teacher = await new_session(client, ADAM)
    await train(client, teacher, 27)  # mid-epoch, adam moments non-trivial
    room = await open_room(client, teacher)
    student = await fork(client, room["code"], "Ada")
    assert student["room"] == room["code"]
    assert student["id"] != teacher["id"] and student["token"] != teacher["token"]
    t_doc, s_doc = await export(client, teacher), await export(client, student)
    assert s_doc["config"] == t_doc["config"]
    assert s_doc["data"] == t_doc["data"]
    assert s_doc["state"]["weights"] == t_doc["state"]["weights"]
    assert s_doc["state"]["optimizer_state"] == t_doc["state"]["optimizer_state"]
    assert t_doc["state"]["optimizer_state"]  # adam mid-run: there is state to copy
    assert s_doc == t_doc  # counters and history too: the whole run
    t_state = await get(client, teacher)
    assert student["config"] == t_state["config"] and student["step"] == 27

    # Training the fork leaves the teacher alone, and both continue identically from the same point.
    after = await train(client, student, 10)
    assert after["step"] == 37
    assert (await export(client, teacher)) == t_doc
    await train(client, teacher, 10)
    assert (await get(client, teacher))["weights"] == (await get(client, student))["weights"]
    assert (await client.get(f"/api/rooms/{room['code']}")).json()["forks"] == 1


async def test_fork_without_a_body_and_of_an_unknown_room(client: httpx.AsyncClient):
    teacher = await new_session(client)
    room = await open_room(client, teacher)
    r = await client.post(f"/api/rooms/{room['code'].lower()}/fork")
    assert r.status_code == 201, r.text
    assert r.json()["room"] == room["code"]
    assert (await client.post("/api/rooms/ZZZZ-ZZZZ/fork")).status_code == 404
    r = await client.post(f"/api/rooms/{room['code']}/fork", json={"name": "x" * 41})
    assert r.status_code == 422


# -- the class view --------------------------------------------------------------------------------------


async def test_class_view_needs_the_teacher_token_and_follows_the_forks(client: httpx.AsyncClient):
    teacher = await new_session(client)
    room = await open_room(client, teacher)
    code, teacher_token = room["code"], room["teacher_token"]
    ada, bob = await fork(client, code, "Ada"), await fork(client, code, "Bob")
    path = f"/api/rooms/{code}/class"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=auth(teacher["token"]))).status_code == 403
    assert (await client.get(path, headers=auth(ada["token"]))).status_code == 403
    assert (await client.get(path, headers=auth("wrong"))).status_code == 403

    view = await class_view(client, code, teacher_token)
    assert view["code"] == code
    assert [(f["id"], f["name"], f["step"]) for f in view["forks"]] == [(ada["id"], "Ada", 0), (bob["id"], "Bob", 0)]
    before = {f["name"]: f for f in view["forks"]}
    assert before["Ada"]["train_loss"] == pytest.approx(ada["metrics"]["train_loss"])
    assert before["Ada"]["status"] == "paused"

    trained = await train(client, ada, 200)
    view = await class_view(client, code, teacher_token)
    now = {f["name"]: f for f in view["forks"]}
    assert now["Ada"]["step"] == 200 and now["Bob"]["step"] == 0
    assert now["Ada"]["epoch"] == trained["epoch"]
    assert now["Ada"]["train_loss"] == pytest.approx(trained["metrics"]["train_loss"])
    assert now["Ada"]["train_loss"] < before["Ada"]["train_loss"]
    assert now["Bob"] == before["Bob"]

    # A fork that is deleted leaves the class; a fresh fork joins it.
    r = await client.delete(f"/api/sessions/{bob['id']}", headers=auth(bob["token"]))
    assert r.status_code == 204
    cy = await fork(client, code, "Cy")
    assert [f["name"] for f in (await class_view(client, code, teacher_token))["forks"]] == ["Ada", "Cy"]
    assert cy["step"] == 0


# -- closing ---------------------------------------------------------------------------------------------


async def test_close_needs_the_teacher_token_and_forks_live_on(client: httpx.AsyncClient):
    teacher = await new_session(client)
    room = await open_room(client, teacher)
    code = room["code"]
    student = await fork(client, code, "Ada")
    assert (await client.delete(f"/api/rooms/{code}")).status_code == 401
    assert (await client.delete(f"/api/rooms/{code}", headers=auth(teacher["token"]))).status_code == 403
    assert (await client.delete(f"/api/rooms/{code}", headers=auth(student["token"]))).status_code == 403
    r = await client.delete(f"/api/rooms/{code}", headers=auth(room["teacher_token"]))
    assert r.status_code == 204
    assert (await client.get(f"/api/rooms/{code}")).status_code == 404
    assert (await client.post(f"/api/rooms/{code}/fork")).status_code == 404
    assert (await client.get(f"/api/rooms/{code}/class", headers=auth(room["teacher_token"]))).status_code == 404
    assert (await client.delete(f"/api/rooms/{code}", headers=auth(room["teacher_token"]))).status_code == 404
    # The fork and the teacher's session are ordinary sessions still.
    assert (await train(client, student, 5))["step"] == 5
    assert (await train(client, teacher, 5))["step"] == 5
    # The teacher may open a new room on the same session: a new code.
    assert (await open_room(client, teacher))["code"] != code


async def test_deleting_the_teacher_session_ends_the_room(client: httpx.AsyncClient):
    teacher = await new_session(client)
    room = await open_room(client, teacher)
    student = await fork(client, room["code"])
    assert (await client.delete(f"/api/sessions/{teacher['id']}", headers=auth(teacher["token"]))).status_code == 204
    assert (await client.get(f"/api/rooms/{room['code']}")).status_code == 404
    assert (await client.post(f"/api/rooms/{room['code']}/fork")).status_code == 404
    assert (await get(client, student))["step"] == 0


# -- limits ----------------------------------------------------------------------------------------------


async def test_per_client_limit_does_not_refuse_a_class_behind_one_nat():
    settings = Settings(db="", max_sessions_per_client=2, create_rate="100000/minute")
    async with app_client(settings) as http:
        await new_browser(http)
        teacher = await new_session(http)
        await new_session(http)
        r = await http.post("/api/sessions", json=SMALL)
        assert r.status_code == 429, r.text
        assert "per client" in r.json()["detail"]
        room = await open_room(http, teacher)
        forks = []
        for i in range(5):  # same address: five students, each with the cookie the server gave their browser
            await new_browser(http)
            forks.append(await fork(http, room["code"], f"student {i}"))
        assert len({f["id"] for f in forks}) == 5
        view = await class_view(http, room["code"], room["teacher_token"])
        assert len(view["forks"]) == 5
        for f in forks:
            assert (await get(http, f))["step"] == 0
    async with app_client(settings, host="10.0.0.2") as http:  # another address is not affected
        await new_session(http)


async def test_per_client_limit_tells_browsers_behind_one_address_apart():
    settings = Settings(db="", max_sessions_per_client=2, create_rate="100000/minute")
    async with app_client(settings) as http:
        await new_browser(http)
        for _ in range(2):
            r = await http.post("/api/sessions", json=SMALL)
            assert r.status_code == 201, r.text
        r = await http.post("/api/sessions", json=SMALL)
        assert r.status_code == 429, r.text
        await new_browser(http)
        r = await http.post("/api/sessions", json=SMALL)
        assert r.status_code == 201, r.text


async def test_room_fork_limit():
    settings = Settings(db="", max_forks_per_room=3, max_forks_per_client=10, create_rate="100000/minute")
    async with app_client(settings) as http:
        teacher = await new_session(http)
        room = await open_room(http, teacher)
        for i in range(3):
            await fork(http, room["code"], f"s{i}")
        r = await http.post(f"/api/rooms/{room['code']}/fork", json={"name": "late"})
        assert r.status_code == 429, r.text
        assert "full" in r.json()["detail"]
        # Another room on another session has its own limit.
        other = await open_room(http, await new_session(http))
        await fork(http, other["code"])


async def test_concurrent_forks_respect_the_room_limit():
    settings = Settings(db="", max_forks_per_room=3, max_forks_per_client=10, create_rate="100000/minute")
    async with app_client(settings) as http:
        teacher = await new_session(http)
        room = await open_room(http, teacher)
        results = await asyncio.gather(*(http.post(f"/api/rooms/{room['code']}/fork") for _ in range(8)))
        codes = sorted(r.status_code for r in results)
        assert codes == [201] * 3 + [429] * 5, codes
        assert len((await class_view(http, room["code"], room["teacher_token"]))["forks"]) == 3


async def test_create_rate_limit_counts_sessions_and_forks():
    settings = Settings(db="", create_rate="3/minute")
    async with app_client(settings) as http:
        teacher = await new_session(http)
        room = await open_room(http, teacher)
        await fork(http, room["code"])
        await new_session(http)
        r = await http.post("/api/sessions", json=SMALL)
        assert r.status_code == 429, r.text
        r = await http.post(f"/api/rooms/{room['code']}/fork")
        assert r.status_code == 429, r.text
        assert "too many" in r.json()["detail"]


# -- expiry ----------------------------------------------------------------------------------------------


async def test_idle_sessions_expire_and_their_rooms_close(client: httpx.AsyncClient):
    app = client.app  # type: ignore[attr-defined]
    store, rooms = app.state.store, app.state.rooms
    teacher = await new_session(client)
    room = await open_room(client, teacher)
    student = await fork(client, room["code"], "Ada")
    owned = await new_session(client)
    store.sessions[owned["id"]].live.owners += 1  # a live socket opened with its token: its owner is there
    viewer = store.sessions[teacher["id"]].live.watch()  # a room's viewer does not keep the teacher's session alive
    try:
        gone = store.expire(now=time.monotonic() + store.settings.session_ttl + 10)
        assert set(gone) == {teacher["id"], student["id"]}
        assert viewer.is_set()  # the viewer is woken, and its socket closes with 4404 (test_security)
        await rooms.expire()
        assert room["code"] not in rooms.rooms
        assert (await client.get(f"/api/rooms/{room['code']}")).status_code == 404
        r = await client.get(f"/api/sessions/{teacher['id']}", headers=auth(teacher["token"]))
        assert r.status_code == 404
        assert (await get(client, owned))["id"] == owned["id"]
    finally:
        store.sessions[owned["id"]].live.owners -= 1


async def test_recently_used_sessions_do_not_expire(client: httpx.AsyncClient):
    app = client.app  # type: ignore[attr-defined]
    store = app.state.store
    teacher = await new_session(client)
    room = await open_room(client, teacher)
    assert store.expire(now=time.monotonic() + store.settings.session_ttl - 60) == []
    await app.state.rooms.expire()
    assert (await client.get(f"/api/rooms/{room['code']}")).status_code == 200


# -- fan-out cost -----------------------------------------------------------------------------------------


async def test_one_frame_build_serves_every_viewer(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch):
    hub = client.app.state.hub  # type: ignore[attr-defined]
    created = await new_session(client)
    session = client.app.state.store.sessions[created["id"]]  # type: ignore[attr-defined]
    builds = []
    build = hub._build_frame
    monkeypatch.setattr(hub, "_build_frame", lambda s: builds.append(s.live.version) or build(s))
    session.live.mark_changed()  # a new version: 50 viewers' senders wake and want its frame at once
    frames = await asyncio.gather(*(hub.frame(session) for _ in range(50)))
    assert len(set(frames)) == 1
    assert len(builds) == 1, f"{len(builds)} builds of one frame"


# -- the read-only room channel, against a real server ------------------------------------------------------

FPS = 20


@pytest.fixture(scope="module")
def room_server() -> Iterator[LiveServer]:
    server = LiveServer(env={"BPP_FPS": str(FPS)}).start()
    yield server
    server.stop()


class Socket:
    """A websocket client that counts what it receives and acks frames as the page does."""

    def __init__(self, ws: websockets.ClientConnection, hello: dict[str, Any]) -> None:
        self.ws = ws
        self.hello = hello
        self.frames: list[int] = []
        self.texts: list[dict[str, Any]] = []
        self.raw_traces: list[str] = []
        self.closed: int | None = None
        self.task: asyncio.Task[None] | None = None

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(msg))

    def start(self, ack: bool = True) -> None:
        """Read (and ack) in the background until the socket closes."""
        self.task = asyncio.create_task(self._read(ack))

    async def _read(self, ack: bool) -> None:
        try:
            async for raw in self.ws:
                if isinstance(raw, bytes):
                    self.frames.append(read_frame(raw)[0]["step"])
                    if ack:
                        await self.ws.send('{"type": "ack"}')
                else:
                    msg = json.loads(raw)
                    self.texts.append(msg)
                    if msg["type"] == "trace":
                        self.raw_traces.append(raw)
        except ConnectionClosed:
            pass
        rcvd = self.ws.close_code
        self.closed = rcvd

    async def wait_for(self, kind: str, timeout: float = WAIT, start: int = 0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for msg in self.texts[start:]:
                    if msg["type"] == kind:
                        return msg
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.ws.close()


@contextlib.asynccontextmanager
async def socket(url: str, token: str | None = None, max_queue: int | None = 16) -> AsyncIterator[Socket]:
    async with websockets.connect(url, open_timeout=WAIT, close_timeout=1, compression=None, max_queue=max_queue) as ws:
        if token is not None:
            await ws.send(json.dumps({"type": "auth", "token": token}))
        hello = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert hello["type"] == "hello", hello
        s = Socket(ws, hello)
        try:
            yield s
        finally:
            if s.task is not None:
                s.task.cancel()


async def count_during(sockets: list[Socket], seconds: float) -> list[int]:
    before = [len(s.frames) for s in sockets]
    await asyncio.sleep(seconds)
    return [len(s.frames) - b for s, b in zip(sockets, before, strict=True)]


async def test_room_channel_fans_out_without_waiting_on_a_stalled_viewer(room_server: LiveServer):
    async with httpx.AsyncClient(base_url=room_server.url, timeout=WAIT) as http:
        teacher = await new_session(http, {**SMALL, "dataset": {"name": "circle", "samples": 400}})
        room = await open_room(http, teacher)
        code = room["code"]
        room_url = f"{room_server.ws_url}/api/rooms/{code}/ws"
        assert (await http.get(f"/api/rooms/{code}")).status_code == 200
        async with (
            socket(f"{room_server.ws_url}/api/sessions/{teacher['id']}/ws", teacher["token"]) as t,
            socket(room_url.replace(code, code.lower())) as v1,
        ):
            assert t.hello["read_only"] is False
            assert v1.hello["read_only"] is True
            assert v1.hello["session"] == await get(http, teacher)
            t.start()
            v1.start()

            # A viewer cannot drive the teacher's run.
            before = await export(http, teacher)
            for msg in (
                {"type": "play"},
                {"type": "set", "learning_rate": 1.0},
                {"type": "step", "unit": "batch"},
                {"type": "reset"},
                {"type": "set_weight", "layer": 1, "row": 0, "column": 0, "value": 5.0},
            ):
                n = len(v1.texts)
                await v1.send(msg)
                err = await v1.wait_for("error", start=n)
                assert err["code"] == "read_only", err
            await asyncio.sleep(0.2)
            assert await export(http, teacher) == before
            assert (await get(http, teacher))["status"] == "paused"
            assert v1.frames == [] or set(v1.frames) == {0}

            # Baseline: the teacher plays, one viewer.
            await t.send({"type": "play"})
            await v1.wait_for("status")
            await asyncio.sleep(0.5)
            (baseline,) = await count_during([v1], 3.0)
            assert baseline >= FPS * 3 * 0.5, baseline

            # Two prompt viewers and one that never reads: the prompt ones keep their rate.
            async with socket(room_url) as v2, socket(room_url, max_queue=1) as stalled:
                v2.start()
                await asyncio.sleep(0.5)
                n1, n2 = await count_during([v1, v2], 3.0)
                assert n1 >= 0.8 * baseline and n2 >= 0.8 * baseline, (baseline, n1, n2)

                # The teacher steps: every viewer gets the very trace the teacher gets.
                await t.send({"type": "step", "unit": "batch"})
                trace = await t.wait_for("trace")
                assert trace["kind"] == "step"
                assert [p["phase"] for p in trace["phases"]].count("backward") >= 2
                for v in (v1, v2):
                    got = await v.wait_for("trace")
                    assert got == trace
                    assert v.raw_traces[0] == t.raw_traces[0]

                # The stalled viewer: at most its two credits' worth of frames, and the same trace.
                stalled.start(ack=False)
                got = await stalled.wait_for("trace")
                assert got == trace
                await asyncio.sleep(0.3)
                assert len(stalled.frames) <= 2, stalled.frames

                # Closing the room closes every viewer's socket with 4404; the teacher's stays open.
                r = await http.delete(f"/api/rooms/{code}", headers=auth(room["teacher_token"]))
                assert r.status_code == 204
                async with asyncio.timeout(WAIT):
                    for v in (v1, v2, stalled):
                        assert v.task is not None
                        await v.task
                assert (v1.closed, v2.closed, stalled.closed) == (4404, 4404, 4404)
                assert t.task is not None and not t.task.done()
                n = len(t.texts)
                await t.send({"type": "trace", "sample": 0})
                assert (await t.wait_for("trace", start=n))["kind"] == "probe"
        # A closed room's channel refuses new viewers.
        async with websockets.connect(room_url, open_timeout=WAIT) as ws:
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), WAIT)
            assert info.value.rcvd is not None and info.value.rcvd.code == 4404


async def test_room_channel_of_an_unknown_room_closes_4404(room_server: LiveServer):
    async with websockets.connect(f"{room_server.ws_url}/api/rooms/ZZZZ-ZZZZ/ws", open_timeout=WAIT) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert info.value.rcvd is not None and info.value.rcvd.code == 4404


async def test_the_room_link_is_absolute_and_the_room_page_offers_the_teachers_data(client: httpx.AsyncClient):
    """Routes are found by name whatever the FastAPI version lists in ``app.routes`` (included routers are not
    flattened by every version): the room's link is the page's absolute URL, and the room page says the
    server offers the teacher's run (``data-export``) so that it draws the decision surface with the data."""
    room = await open_room(client, await new_session(client))
    assert room["url"] == f"http://testserver/room/{room['code']}"
    page = (await client.get(f"/room/{room['code']}")).text
    assert 'data-export="1"' in page
