"""The scale-out path against real nginx and redis-server on loopback: ``backprop-playground serve --workers 2``.

One cluster per module (started once, ~5 s); the tests that kill a worker or stop Redis come last. A missing
nginx or redis-server fails these tests (``.ci/run`` installs both); it never skips them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
from helpers import ROOT, SMALL, auth, free_port
from page_helpers import browser, page, page_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
WAIT = 15.0


def tool(name: str) -> str:
    found = (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK))
    path = shutil.which(name) or next(found, None)
    assert path, f"{name} is not installed: apt-get install nginx redis-server (.ci/run does)"
    return path


class Cluster:
    """``serve --workers N`` as a child process, its log in a file."""

    def __init__(self, workers: int = 2, env: dict[str, str] | None = None) -> None:
        tool("nginx"), tool("redis-server")
        self.dir = Path(tempfile.mkdtemp(prefix="bpp-cluster-test-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = {**os.environ, "BPP_DB": str(self.dir / "db.sqlite"), "BPP_ENGINE": "numpy", **(env or {})}
        self.log = open(self.dir / "log.txt", "wb")  # noqa: SIM115
        cmd = [sys.executable, "-m", "app", "serve", "--workers", str(workers), "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        while len(seen) < self.workers:
            assert self.proc.poll() is None, self.text()[-3000:]
            assert time.monotonic() < deadline, f"workers seen: {seen}\n{self.text()[-3000:]}"
            try:
                r = httpx.get(self.url + "/api/health", timeout=2)
                if r.status_code == 200:
                    seen.add(r.json()["worker"])
            except httpx.HTTPError:
                pass
            time.sleep(0.05)

    def text(self) -> str:
        return (self.dir / "log.txt").read_text(errors="replace")

    def workers_now(self) -> dict[str, tuple[int, int]]:
        """Worker tag → (pid, port) of the running worker processes (children of the supervisor)."""
        out = subprocess.run(["ps", "-ww", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
        found: dict[str, tuple[int, int]] = {}
        for line in out.splitlines()[1:]:
            pid, ppid, args = line.split(None, 2)
            if int(ppid) == self.proc.pid and "app serve" in args:
                env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                tag = next(e for e in env if e.startswith(b"BPP_WORKER=")).split(b"=", 1)[1].decode()
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                found[tag] = (int(pid), int(argv[argv.index(b"--port") + 1]))
        return found

    def pids(self) -> dict[str, int]:
        return {tag: pid for tag, (pid, _) in self.workers_now().items()}

    def direct(self, tag: str) -> str:
        """The address of one worker, bypassing nginx."""
        return f"127.0.0.1:{self.workers_now()[tag][1]}"

    def child(self, name: str) -> int:
        out = subprocess.run(["ps", "-ww", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
        for line in out.splitlines()[1:]:
            pid, ppid, args = line.split(None, 2)
            if int(ppid) == self.proc.pid and name in args:
                return int(pid)
        raise AssertionError(f"no {name} child")

    def children(self) -> list[int]:
        out = subprocess.run(["ps", "-eo", "pid,ppid"], capture_output=True, text=True).stdout
        return [int(p) for p, pp in (line.split() for line in out.splitlines()[1:]) if int(pp) == self.proc.pid]

    def stop(self) -> None:
        """SIGTERM the supervisor, as Ctrl-C or systemd would: it exits 0 and every child is gone with it."""
        children = self.children()
        self.proc.send_signal(signal.SIGTERM)
        try:
            assert self.proc.wait(30) == 0, self.text()[-2000:]
            alive = [p for p in children if Path(f"/proc/{p}").exists()]
            assert not alive, f"children left running: {alive}"
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    limits = {
        "BPP_MAX_SESSIONS_PER_CLIENT": "8",
        "BPP_MAX_FORKS_PER_CLIENT": "2",
        "BPP_MAX_SOCKETS_PER_ADDRESS": "6",
        "BPP_MAX_MEMORY_MB": "400",  # each client's and address's share: 100 MB
    }
    c = Cluster(env=limits)
    yield c
    c.stop()


@contextlib.contextmanager
def new_client(cluster: Cluster) -> Iterator[httpx.Client]:
    """A client like a browser: it holds the server's signed client cookie (from whichever worker answers)."""
    with httpx.Client(base_url=cluster.url, timeout=30) as c:
        c.get("/api/health")
        yield c


def create(c: httpx.Client, config: dict[str, Any] | None = None) -> dict[str, Any]:
    r = c.post("/api/sessions", json=config or SMALL)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_health_names_the_worker_and_new_sessions_spread(cluster: Cluster) -> None:
    workers = [httpx.get(cluster.url + "/api/health").json()["worker"] for _ in range(6)]
    assert set(workers) == {"w1", "w2"}
    with new_client(cluster) as c:
        made = [create(c) for _ in range(4)]
        for s in made:
            assert s["id"].startswith(s["worker"] + ".")
        assert {s["worker"] for s in made} == {"w1", "w2"}
        for s in made:
            assert c.delete(f"/api/sessions/{s['id']}", headers=auth(s["token"])).status_code == 204


def test_every_session_route_reaches_the_worker_that_owns_it(cluster: Cluster) -> None:
    with new_client(cluster) as c:
        for s in [create(c), create(c)]:  # one on each worker (least_conn spreads two in a row)
            sid, h = s["id"], auth(s["token"])
            for _ in range(3):  # never a 404 from the other worker
                got = c.get(f"/api/sessions/{sid}", headers=h)
                assert got.status_code == 200 and got.json()["worker"] == s["worker"]
            assert c.post(f"/api/sessions/{sid}/train", headers=h, json={"steps": 20}).json()["step"] == 20
            assert c.patch(f"/api/sessions/{sid}", headers=h, json={"learning_rate": 0.1}).status_code == 200
            assert c.get(f"/api/sessions/{sid}/weights", headers=h).status_code == 200
            assert c.post(f"/api/sessions/{sid}/backprop", headers=h, json={"samples": [0]}).status_code == 200
            assert c.post(f"/api/sessions/{sid}/gradcheck", headers=h, json={"samples": [0, 1]}).status_code == 200
            export = c.get(f"/api/sessions/{sid}/export", headers=h)
            assert export.status_code == 200
            # the export imports on whichever worker takes it and continues bit for bit
            imported = c.post("/api/sessions", json={"import": export.json()})
            assert imported.status_code == 201, imported.text
            ih = auth(imported.json()["token"])
            assert imported.json()["step"] == 20
            a = c.post(f"/api/sessions/{sid}/train", headers=h, json={"steps": 15}).json()
            b = c.post(f"/api/sessions/{imported.json()['id']}/train", headers=ih, json={"steps": 15}).json()
            assert (a["step"], a["weights"]) == (b["step"], b["weights"])
            assert c.post(f"/api/sessions/{sid}/reset", headers=h, json={}).json()["step"] == 0
            asyncio.run(live_frames(cluster, sid, s["token"]))
            for x in (s, imported.json()):
                assert c.delete(f"/api/sessions/{x['id']}", headers=auth(x["token"])).status_code == 204
            assert c.get(f"/api/sessions/{sid}", headers=h).status_code == 404


async def live_frames(cluster: Cluster, sid: str, token: str) -> None:
    url = f"{cluster.ws_url}/api/sessions/{sid}/ws"
    async with websockets.connect(url, open_timeout=WAIT, compression=None) as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        hello = orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert hello["type"] == "hello" and hello["session"]["id"] == sid
        await ws.send('{"type": "play"}')
        frames = 0
        while frames < 3:
            msg = await asyncio.wait_for(ws.recv(), WAIT)
            if isinstance(msg, bytes):
                frames += 1
                await ws.send('{"type": "ack"}')
        await ws.send('{"type": "pause"}')


def test_the_per_client_cap_holds_across_workers(cluster: Cluster) -> None:
    with new_client(cluster) as c:
        made = [create(c) for _ in range(8)]
        assert {s["worker"] for s in made} == {"w1", "w2"}  # the cap is server-wide, not 8 per worker
        for _ in range(3):
            r = c.post("/api/sessions", json=SMALL)
            assert r.status_code == 429 and "per client" in r.json()["detail"]
        for s in made:
            c.delete(f"/api/sessions/{s['id']}", headers=auth(s["token"]))
        assert c.post("/api/sessions", json=SMALL).status_code == 201  # given back when deleted


async def watch(url: str, frames: int) -> tuple[dict[str, Any], int]:
    """A room viewer: its hello and how many frames it got (acking each) before ``frames`` arrived."""
    async with websockets.connect(url, open_timeout=WAIT, compression=None) as ws:
        hello = orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))
        got = 0
        while got < frames:
            msg = await asyncio.wait_for(ws.recv(), WAIT)
            if isinstance(msg, bytes):
                got += 1
                await ws.send('{"type": "ack"}')
        await ws.send('{"type": "trace", "sample": 1}')  # a viewer's probe, answered by the teacher's worker
        while True:
            msg = await asyncio.wait_for(ws.recv(), WAIT)
            if isinstance(msg, str) and orjson.loads(msg)["type"] == "trace":
                assert orjson.loads(msg)["indices"] == [1]
                break
            if isinstance(msg, bytes):
                await ws.send('{"type": "ack"}')
        return hello, got


async def play(cluster: Cluster, sid: str, token: str, then: Any) -> Any:
    """Play the teacher's session on its own channel while ``then`` runs."""
    async with websockets.connect(f"{cluster.ws_url}/api/sessions/{sid}/ws", compression=None) as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        await ws.send('{"type": "play"}')
        try:
            return await then
        finally:
            await ws.send('{"type": "pause"}')


def test_the_memory_budget_is_shared_by_every_worker(cluster: Cluster) -> None:
    """Sessions of ~33 MB each (8,000 samples, two layers of 64), made on the two workers in turn: the address's
    share of the budget (100 MB) is counted once for the server, so at most three fit, not three per worker."""
    big = {"dataset": {"name": "circle", "samples": 8000}, "hidden": [64, 64]}
    made: list[dict[str, Any]] = []
    with httpx.Client(timeout=60) as c:
        for i in range(7):
            tag = ("w1", "w2")[i % 2]
            c.get(f"http://{cluster.direct(tag)}/api/health")
            r = c.post(f"http://{cluster.direct(tag)}/api/sessions", json=big)
            if r.status_code != 201:
                assert r.status_code == 429 and "share" in r.json()["detail"], r.text
                break
            made.append(r.json())
        assert 2 <= len(made) <= 3 and {s["worker"] for s in made} == {"w1", "w2"}, [s["worker"] for s in made]
        used = c.get(f"{cluster.url}/api/health").json()["memory"]["used_mb"]
        assert used >= 33 * len(made)  # health reports what every worker holds
        for s in made:
            assert c.delete(f"{cluster.url}/api/sessions/{s['id']}", headers=auth(s["token"])).status_code == 204
        again = c.post(f"{cluster.url}/api/sessions", json=big)  # given back when deleted
        assert again.status_code == 201, again.text
        c.delete(f"{cluster.url}/api/sessions/{again.json()['id']}", headers=auth(again.json()["token"]))


def test_a_room_is_watched_forked_and_listed_from_every_worker(cluster: Cluster) -> None:
    with new_client(cluster) as teacher_c:
        teacher = create(teacher_c)
        home = teacher["worker"]
        other = "w2" if home == "w1" else "w1"
        # opened through the other worker: it asks the owner
        r = httpx.post(
            f"http://{cluster.direct(other)}/api/rooms",
            json={"session_id": teacher["id"]},
            headers=auth(teacher["token"]),
        )
        assert r.status_code == 201, r.text
        code, teacher_token = r.json()["code"], r.json()["teacher_token"]
        for tag in (home, other):  # the room's state from either worker
            got = httpx.get(f"http://{cluster.direct(tag)}/api/rooms/{code}").json()
            assert got["session"]["id"] == teacher["id"] and got["session"]["worker"] == home

        # viewers on both workers (and through nginx) get hello and frames while the teacher plays
        urls = [f"ws://{cluster.direct(t)}/api/rooms/{code}/ws" for t in (home, other, other)]
        urls.append(f"{cluster.ws_url}/api/rooms/{code}/ws")

        async def viewers() -> list[tuple[dict[str, Any], int]]:
            return await asyncio.gather(*(watch(u, 5) for u in urls))

        seen = asyncio.run(play(cluster, teacher["id"], teacher["token"], viewers()))
        for hello, frames in seen:
            assert hello["type"] == "hello" and hello["read_only"] and hello["session"]["id"] == teacher["id"]
            assert frames == 5

        # forks land on both workers; the class view lists every one; the teacher removes one on the other worker
        forks = []
        for i, tag in enumerate((home, other, other)):
            with httpx.Client(base_url=f"http://{cluster.direct(tag)}") as student:
                student.get("/api/health")
                f = student.post(f"/api/rooms/{code}/fork", json={"name": f"s{i}"})
                assert f.status_code == 201, f.text
                assert f.json()["worker"] == tag and f.json()["room"] == code
                forks.append(f.json())
        shown = httpx.get(f"{cluster.url}/api/rooms/{code}").json()["session"]  # the teacher's, paused
        for f in forks:  # every fork, on either worker, starts from the teacher's exact network
            assert (f["step"], f["weights"]) == (shown["step"], shown["weights"])
        export = httpx.get(f"http://{cluster.direct(other)}/api/rooms/{code}/export").json()
        assert export["state"]["step"] == shown["step"]
        view = httpx.get(f"{cluster.url}/api/rooms/{code}/class", headers=auth(teacher_token))
        assert view.status_code == 200
        assert sorted(f["id"] for f in view.json()["forks"]) == sorted(f["id"] for f in forks)
        assert httpx.get(f"{cluster.url}/api/rooms/{code}").json()["forks"] == 3
        gone = httpx.delete(f"{cluster.url}/api/rooms/{code}/forks/{forks[1]['id']}", headers=auth(teacher_token))
        assert gone.status_code == 204
        view = httpx.get(f"http://{cluster.direct(other)}/api/rooms/{code}/class", headers=auth(teacher_token))
        assert sorted(f["id"] for f in view.json()["forks"]) == sorted([forks[0]["id"], forks[2]["id"]])

        # the per-client fork cap counts the forks on every worker
        with httpx.Client() as student:
            student.get(f"http://{cluster.direct(home)}/api/health")
            assert student.post(f"http://{cluster.direct(home)}/api/rooms/{code}/fork").status_code == 201
            assert student.post(f"http://{cluster.direct(other)}/api/rooms/{code}/fork").status_code == 201
            third = student.post(f"http://{cluster.direct(home)}/api/rooms/{code}/fork")
            assert third.status_code == 429 and "forks of room" in third.json()["detail"]

        # closing it (through the other worker) ends the viewers on every worker
        async def closed_viewer(url: str) -> int:
            async with websockets.connect(url, open_timeout=WAIT, compression=None) as ws:
                await asyncio.wait_for(ws.recv(), WAIT)
                shut = httpx.AsyncClient()
                async with shut:
                    r = await shut.delete(
                        f"http://{cluster.direct(other)}/api/rooms/{code}", headers=auth(teacher_token)
                    )
                    assert r.status_code == 204
                with contextlib.suppress(websockets.ConnectionClosed):
                    while True:
                        await asyncio.wait_for(ws.recv(), WAIT)
                assert ws.close_code is not None
                return ws.close_code

        assert asyncio.run(closed_viewer(f"ws://{cluster.direct(other)}/api/rooms/{code}/ws")) == 4404
        assert httpx.get(f"{cluster.url}/api/rooms/{code}").status_code == 404


def test_a_lesson_shown_in_a_room_reaches_viewers_and_answers_from_every_worker(cluster: Cluster) -> None:
    with new_client(cluster) as c:
        teacher = create(c)
        home = teacher["worker"]
        other = "w2" if home == "w1" else "w1"
        opened = c.post("/api/rooms", json={"session_id": teacher["id"]}, headers=auth(teacher["token"])).json()
        code, th = opened["code"], auth(opened["teacher_token"])
        shown = httpx.put(
            f"http://{cluster.direct(other)}/api/rooms/{code}/lesson",
            json={"lesson": "derivation", "step": 3, "sample": 1},
            headers=th,
        )  # through the worker that does not hold the room
        assert shown.status_code == 200, shown.text

        async def viewer() -> dict[str, Any]:
            async with websockets.connect(f"ws://{cluster.direct(other)}/api/rooms/{code}/ws") as ws:
                while True:
                    msg = await asyncio.wait_for(ws.recv(), WAIT)
                    if isinstance(msg, str) and orjson.loads(msg)["type"] == "lesson":
                        return dict(orjson.loads(msg))

        note = asyncio.run(viewer())
        assert (note["lesson"], note["step"], note["sample"]) == ("derivation", 3, 1)
        for tag in (home, other):
            assert httpx.get(f"http://{cluster.direct(tag)}/api/rooms/{code}").json()["lesson"]["step"] == 3
        answer = {"prediction": "delta2", "sample": 1, "right": True}
        assert (
            httpx.post(f"http://{cluster.direct(other)}/api/rooms/{code}/lesson/answers", json=answer).status_code
            == 204
        )
        tally = httpx.get(f"http://{cluster.direct(other)}/api/rooms/{code}/class", headers=th).json()["lesson"]
        assert tally is not None and tally["sample"] == 1, tally


async def close_code(url: str, headers: dict[str, str] | None = None) -> int:
    """Open a socket and read until the server closes it: its close code."""
    async with websockets.connect(url, additional_headers=headers) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), WAIT)
        assert ws.close_code is not None
        return ws.close_code


def test_live_sockets_per_address_are_counted_over_every_worker(cluster: Cluster) -> None:
    with new_client(cluster) as c:
        s = create(c)
        code = c.post("/api/rooms", json={"session_id": s["id"]}, headers=auth(s["token"])).json()["code"]

    async def run() -> int:
        async with contextlib.AsyncExitStack() as stack:
            for tag in ("w1", "w2", "w1", "w2", "w1", "w2"):  # 3 on each worker: 6, the cap for this address
                ws = await stack.enter_async_context(
                    websockets.connect(f"ws://{cluster.direct(tag)}/api/rooms/{code}/ws", compression=None)
                )
                assert orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "hello"
            return await close_code(f"ws://{cluster.direct('w1')}/api/rooms/{code}/ws")

    assert asyncio.run(run()) == 1013

    async def again() -> str:  # given back when they closed
        async with websockets.connect(f"{cluster.ws_url}/api/rooms/{code}/ws") as ws:
            return str(orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"])

    deadline = time.monotonic() + WAIT
    while True:
        try:
            assert asyncio.run(again()) == "hello"
            break
        except websockets.ConnectionClosed:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_a_client_behind_nginx_cannot_name_its_own_address(cluster: Cluster) -> None:
    """nginx is the edge: it replaces the X-Forwarded-For a client writes with the address it saw, so sockets that
    each claim another address are still counted at one (6, this cluster's cap)."""
    with new_client(cluster) as c:
        s = create(c)
        code = c.post("/api/rooms", json={"session_id": s["id"]}, headers=auth(s["token"])).json()["code"]
    url = f"{cluster.ws_url}/api/rooms/{code}/ws"

    async def run() -> int:
        async with contextlib.AsyncExitStack() as stack:
            for i in range(6):
                ws = await stack.enter_async_context(
                    websockets.connect(url, compression=None, additional_headers={"X-Forwarded-For": f"10.7.0.{i}"})
                )
                assert orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "hello"
            return await close_code(url, {"X-Forwarded-For": "10.7.1.1"})

    assert asyncio.run(run()) == 1013


def test_a_killed_worker_serves_its_sessions_again_within_15_s_with_nothing_acknowledged_lost(
    cluster: Cluster,
) -> None:
    with new_client(cluster) as c:
        mine = [create(c) for _ in range(4)]
        victim = mine[0]["worker"]
        trained = {}
        for s in mine:
            r = c.post(f"/api/sessions/{s['id']}/train", headers=auth(s["token"]), json={"steps": 37})
            trained[s["id"]] = r.json()["weights"]  # acknowledged
        os.kill(cluster.pids()[victim], signal.SIGKILL)
        t0 = time.monotonic()
        for s in mine:
            while True:
                r = c.get(f"/api/sessions/{s['id']}", headers=auth(s["token"]))
                if r.status_code == 200:
                    break
                assert r.status_code in (502, 503, 504), r.text
                assert time.monotonic() - t0 < 15, "not served again within 15 s"
                time.sleep(0.1)
            assert r.json()["step"] == 37 and r.json()["weights"] == trained[s["id"]]
        assert time.monotonic() - t0 < 15
        assert "exited (code -9)" in cluster.text()


def redis_url(cluster: Cluster) -> str:
    return cluster.text().split("(Redis ")[1].split(")")[0]


def test_redis_down_answers_503_naming_it_keeps_what_workers_hold_and_recovers(cluster: Cluster) -> None:
    import redis

    with new_client(cluster) as c:
        s = create(c)
        h = auth(s["token"])
        assert c.post(f"/api/sessions/{s['id']}/train", headers=h, json={"steps": 10}).status_code == 200
        server = cluster.child("redis-server")
        os.kill(server, signal.SIGSTOP)  # Redis hangs: every call to it times out
        try:
            made = c.post("/api/sessions", json=SMALL)
            assert made.status_code == 503 and "Redis" in made.json()["detail"], made.text
            trained = c.post(f"/api/sessions/{s['id']}/train", headers=h, json={"steps": 10})
            assert trained.status_code == 503 and "storage unavailable" in trained.json()["detail"], trained.text
            got = c.get(f"/api/sessions/{s['id']}", headers=h)  # what the worker holds, as it was
            assert got.status_code == 200 and got.json()["step"] == 10
            health = c.get("/api/health")
            assert health.status_code == 503 and "Redis" in health.json()["storage"]
        finally:
            os.kill(server, signal.SIGCONT)
        deadline = time.monotonic() + WAIT
        while c.post(f"/api/sessions/{s['id']}/train", headers=h, json={"steps": 10}).status_code != 200:
            assert time.monotonic() < deadline, "did not recover"
            time.sleep(0.2)
        assert c.get(f"/api/sessions/{s['id']}", headers=h).json()["step"] == 20

        # Redis killed: the supervisor starts it again from its append-only file, which holds every acknowledged save
        os.kill(server, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if cluster.child("redis-server") != server and c.get("/api/health").status_code == 200:
                    break
            except (AssertionError, httpx.HTTPError):
                pass
            assert time.monotonic() < deadline, "Redis was not started again"
            time.sleep(0.2)
        saved = redis.Redis.from_url(redis_url(cluster)).hget(f"bpp:s:{s['id']}", "state")
        assert saved is not None and orjson.loads(saved)["step"] == 20
        assert create(c)["id"]  # and the workers use it again


def test_two_hosts_behind_one_nginx(tmp_path: Path) -> None:
    """Workers bound to 127.0.0.2 and 127.0.0.3 (two "hosts"), one redis-server, one nginx configured by
    ``backprop-playground nginx-config`` as an admin would: sessions route to their host, rooms span both."""
    redis_port, nginx_port = free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    log = open(tmp_path / "log.txt", "wb")  # noqa: SIM115
    try:
        procs.append(
            subprocess.Popen(
                [tool("redis-server"), "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
                 "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
                stdout=log, stderr=log,
            )
        )  # fmt: skip
        url = f"redis://127.0.0.1:{redis_port}/0"
        workers = []
        for tag, host in (("w1", "127.0.0.2"), ("w2", "127.0.0.3")):
            port = free_port()
            env = {
                **os.environ, "BPP_WORKER": tag, "BPP_REDIS_URL": url, "BPP_TRUSTED_PROXIES": "127.0.0.1",
                "BPP_ENGINE": "numpy", "BPP_DB": "",
            }  # fmt: skip
            cmd = [sys.executable, "-m", "app", "serve", "--host", host, "--port", str(port)]
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log))
            workers.append(f"{tag}={host}:{port}")
        site = subprocess.run(
            [sys.executable, "-m", "app", "nginx-config", "--listen", f"127.0.0.1:{nginx_port}", *workers],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        (tmp_path / "site.conf").write_text(site)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (tmp_path / sub).mkdir()
            os.chmod(tmp_path / sub, 0o777)
        os.chmod(tmp_path, 0o755)
        (tmp_path / "nginx.conf").write_text(
            f"pid {tmp_path}/nginx.pid; error_log stderr; events {{}}\n"
            f"http {{ client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy; "
            f"fastcgi_temp_path {tmp_path}/fastcgi; uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi; "
            f"access_log off; include {tmp_path}/site.conf; }}\n"
        )
        procs.append(
            subprocess.Popen(
                [tool("nginx"), "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                stdout=log, stderr=log,
            )
        )  # fmt: skip
        base = f"http://127.0.0.1:{nginx_port}"
        seen: set[str] = set()
        deadline = time.monotonic() + 60
        while seen != {"w1", "w2"}:
            assert time.monotonic() < deadline, (tmp_path / "log.txt").read_text()[-3000:]
            with contextlib.suppress(httpx.HTTPError, KeyError):
                r = httpx.get(base + "/api/health", timeout=2)
                if r.status_code == 200:
                    seen.add(r.json()["worker"])
            time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as c:
            c.get("/api/health")
            made = [create(c) for _ in range(2)]
            assert {s["worker"] for s in made} == {"w1", "w2"}
            for s in made:
                for _ in range(3):
                    assert c.get(f"/api/sessions/{s['id']}", headers=auth(s["token"])).json()["worker"] == s["worker"]
            room = c.post("/api/rooms", json={"session_id": made[0]["id"]}, headers=auth(made[0]["token"])).json()
            forks = [c.post(f"/api/rooms/{room['code']}/fork").json() for _ in range(2)]
            assert {f["worker"] for f in forks} == {"w1", "w2"}
            listed = c.get(f"/api/rooms/{room['code']}/class", headers=auth(room["teacher_token"])).json()["forks"]
            assert sorted(f["id"] for f in listed) == sorted(f["id"] for f in forks)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


@pytest.mark.parametrize("missing", ["nginx", "redis-server"])
def test_serve_workers_says_what_to_install_when_a_program_is_missing(
    missing: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from app.cluster import supervisor
    from app.settings import Settings

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("nginx", "redis-server"):
        if name != missing:
            (bin_dir / name).symlink_to(tool(name))
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(supervisor, "SBIN", ())
    with pytest.raises(SystemExit) as refused:
        supervisor.Cluster(Settings(db=""), "127.0.0.1", free_port(), 2)
    assert f"{missing} is not installed" in str(refused.value)
    assert "apt-get install nginx redis-server" in str(refused.value)


def test_nginx_config_renders_the_template_and_refuses_bad_workers() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "app", "nginx-config", "--listen", "80", "w1=10.0.0.2:8001", "w2=10.0.0.3:8001"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "~^/api/sessions/w2\\. bpp_w2;" in ok.stdout and "server 10.0.0.3:8001" in ok.stdout
    assert "X-Forwarded-For $remote_addr;" in ok.stdout and "$proxy_add_x_forwarded_for" not in ok.stdout
    chain = subprocess.run(
        [sys.executable, "-m", "app", "nginx-config", "--behind-proxy", "w1=10.0.0.2:8001"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert chain.returncode == 0 and "X-Forwarded-For $proxy_add_x_forwarded_for;" in chain.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "app", "nginx-config", "w1=10.0.0.2:8001", "W2=somewhere"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and "worker tag 'W2'" in bad.stderr


@pytest.mark.browser
def test_the_page_reconnects_by_itself_after_its_worker_is_killed_and_says_how_the_run_came_back(
    cluster: Cluster,
    page: Any,  # noqa: F811
) -> None:
    """The page (through nginx) plays; its worker is SIGKILLed: the page reconnects by itself, and its notice says
    whether the run went back to its last checkpoint (the step it shows is below the one it had shown)."""
    page.goto(page_url(cluster.url, {"hidden": [4, 2], "dataset": {"name": "circle", "samples": 200}}))
    page.wait_for_selector("#conn[data-state=live]", timeout=20_000)
    me = page.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")
    page.click("#play")
    page.wait_for_function("__bpp.store.get().step > 50", timeout=20_000)
    page.evaluate(  # the step the page showed when its socket dropped: what the notice compares with
        "__bpp.socket.addEventListener('connection', (e) => { if (e.detail.state === 'reconnecting' && "
        "window.dropStep === undefined) window.dropStep = __bpp.store.get().step; })"
    )
    os.kill(cluster.pids()[me["id"].split(".")[0]], signal.SIGKILL)
    t0 = time.monotonic()
    page.wait_for_selector("#conn[data-state=reconnecting]", timeout=10_000)
    page.wait_for_selector("#conn[data-state=live]", timeout=20_000)
    back = time.monotonic() - t0
    assert back < 15, f"the page was live again only after {back:.1f} s"
    assert page.evaluate("JSON.parse(sessionStorage.getItem('bpp.session')).id") == me["id"]  # the same session
    now = httpx.get(f"{cluster.url}/api/sessions/{me['id']}", headers=auth(me["token"])).json()["step"]
    page.wait_for_selector("#notice:not([hidden])", timeout=5_000)
    text = page.inner_text("#notice-text")
    # While the worker restarted, nginx answered the page's attempts with 502 (the browser logs each): expected
    expected = f"/api/sessions/{me['id']}/ws' failed: Error during WebSocket handshake: Unexpected response code: 502"
    page.watch.errors[:] = [e for e in page.watch.errors if expected not in e]
    if now < page.evaluate("window.dropStep"):
        assert "went back to its last checkpoint" in text, text
    else:
        assert "where it was" in text, text
