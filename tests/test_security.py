"""A shared classroom server that one student cannot take down (docs/security.md), tried the way a hostile student
would, against real servers on loopback: client identity (spoofed headers, forged and harvested cookies, spoofed
X-Forwarded-For with and without trusted proxies, under ``serve`` and plain uvicorn), a fork flood and the
teacher removing a fork, sockets per address, bad ``Host`` and DNS rebinding, the pages' security headers,
strict integers, and a room that expires when its teacher is idle however many watch it."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from helpers import LiveServer, auth
from websockets.exceptions import ConnectionClosed

WAIT = 20.0
SMALL = {"dataset": {"name": "xor", "samples": 20}, "hidden": [3]}
FAST = {"BPP_CREATE_RATE": "100000/minute"}


@contextmanager
def server(env: dict[str, str] | None = None, plain_uvicorn: bool = False) -> Iterator[LiveServer]:
    """A server of this test's own, stopped at the end."""
    s = LiveServer({**FAST, **(env or {})}, plain_uvicorn=plain_uvicorn).start()
    try:
        yield s
    finally:
        s.stop()


def log_of(s: LiveServer) -> str:
    return Path(s.log.name).read_text()


def create(s: LiveServer, headers: dict[str, str] | None = None, cookie: str | None = None) -> httpx.Response:
    """POST /api/sessions from a client with no cookie jar: it sends exactly ``headers`` and ``cookie``."""
    h = dict(headers or {})
    if cookie is not None:
        h["Cookie"] = cookie
    return httpx.post(s.url + "/api/sessions", json=SMALL, headers=h, timeout=WAIT)


def fresh_cookie(s: LiveServer, headers: dict[str, str] | None = None) -> str:
    """A genuine client cookie, as a browser gets it with its first request."""
    r = httpx.get(s.url + "/api/health", headers=headers, timeout=WAIT)
    value = r.cookies["bpp_client"]
    return f"bpp_client={value}"


def refused(r: httpx.Response, words: str) -> None:
    assert r.status_code == 429, r.text
    assert words in r.json()["detail"], r.text


# -- client identity ------------------------------------------------------------------------------------------


def test_the_server_issues_a_signed_client_cookie_and_made_up_ones_buy_nothing() -> None:
    env = {"BPP_MAX_SESSIONS_PER_CLIENT": "2", "BPP_MAX_SESSIONS_PER_ADDRESS": "6"}
    with server(env) as s:
        # Without the server's cookie, every request counts against the address's one anonymous client, whatever
        # X-BPP-Client header or bpp_client cookie it makes up.
        first = create(s, {"X-BPP-Client": "student-1"})
        assert first.status_code == 201, first.text
        set_cookie = first.headers["set-cookie"]
        assert set_cookie.startswith("bpp_client=") and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
        assert create(s, {"X-BPP-Client": "student-2"}).status_code == 201
        refused(create(s, {"X-BPP-Client": "student-3"}), "per client")
        refused(create(s, cookie="bpp_client=student-4"), "per client")
        genuine = fresh_cookie(s)
        client_id, mac = genuine.split("=", 1)[1].split(".")
        refused(create(s, cookie=f"bpp_client={client_id}x.{mac}"), "per client")  # a changed id: not signed
        refused(create(s, cookie=f"bpp_client={client_id}.{'0' * len(mac)}"), "per client")  # a made-up signature
        # The cookie the server gave is a client of its own: two sessions, then its cap.
        assert create(s, cookie=genuine).status_code == 201
        assert create(s, cookie=genuine).status_code == 201
        refused(create(s, cookie=genuine), "per client")
        # Collecting genuine cookies one after another ends at the address's cap, X-Forwarded-For or not.
        third = fresh_cookie(s)
        assert create(s, cookie=third).status_code == 201
        assert create(s, {"X-Forwarded-For": "203.0.113.9"}, cookie=third).status_code == 201
        refused(create(s, {"X-Forwarded-For": "203.0.113.10"}, cookie=fresh_cookie(s)), "per address")
        refused(create(s, cookie=fresh_cookie(s, {"X-Forwarded-For": "203.0.113.11"})), "per address")


def test_the_cookie_key_is_kept_with_the_database_across_a_restart() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"BPP_DB": str(Path(tmp) / "bpp.db"), "BPP_MAX_SESSIONS_PER_CLIENT": "2"}
        with server(env) as s:
            cookie = fresh_cookie(s)
            assert create(s, cookie=cookie).status_code == 201
        key = Path(tmp) / "bpp.db.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        with server(env) as s:  # the same browser, after a restart: the same client, with its session restored
            assert create(s, cookie=cookie).status_code == 201
            refused(create(s, cookie=cookie), "per client")
            assert create(s, cookie=fresh_cookie(s)).status_code == 201


@pytest.mark.parametrize("plain_uvicorn", [False, True], ids=["serve", "uvicorn"])
def test_x_forwarded_for_is_ignored_without_trusted_proxies(plain_uvicorn: bool) -> None:
    """uvicorn run by hand trusts X-Forwarded-For from loopback; the server does not, either way it is started."""
    with server({"BPP_MAX_SESSIONS_PER_ADDRESS": "2"}, plain_uvicorn=plain_uvicorn) as s:
        for i in range(2):
            assert create(s, {"X-Forwarded-For": f"198.51.100.{i}"}, cookie=fresh_cookie(s)).status_code == 201
        for spoof in ("198.51.100.7", "198.51.100.8, 127.0.0.1", "[2001:db8::1]:4000"):
            refused(create(s, {"X-Forwarded-For": spoof}, cookie=fresh_cookie(s)), "per address")
        refused(create(s, cookie=fresh_cookie(s)), "per address")


@pytest.mark.parametrize("plain_uvicorn", [False, True], ids=["serve", "uvicorn"])
def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(plain_uvicorn: bool) -> None:
    """Behind a proxy named in BPP_TRUSTED_PROXIES, each client counts by its own address; what a client
    writes into the header before the proxy appends its address does not change who it is."""
    env = {"BPP_MAX_SESSIONS_PER_ADDRESS": "2", "BPP_TRUSTED_PROXIES": "127.0.0.1,::1"}
    with server(env, plain_uvicorn=plain_uvicorn) as s:
        a, b = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}
        for _ in range(2):
            assert create(s, a, cookie=fresh_cookie(s, a)).status_code == 201
        refused(create(s, a, cookie=fresh_cookie(s, a)), "per address")
        assert create(s, b, cookie=fresh_cookie(s, b)).status_code == 201
        spoofed = {"X-Forwarded-For": "198.51.100.9, 198.51.100.2"}  # b claims to be .9; the proxy appended .2
        assert create(s, spoofed, cookie=fresh_cookie(s, spoofed)).status_code == 201
        refused(create(s, spoofed, cookie=fresh_cookie(s, spoofed)), "per address")
        assert create(s, {"X-Forwarded-For": "198.51.100.9"}).status_code == 201  # .9 itself was never charged
        # The proxy's X-Forwarded-Proto is believed: links the server makes are https, the cookie is Secure.
        https = {"X-Forwarded-For": "198.51.100.3", "X-Forwarded-Proto": "https"}
        made = create(s, https)
        assert "Secure" in made.headers["set-cookie"]
        body, headers = {"session_id": made.json()["id"]}, {**https, **auth(made.json()["token"])}
        room = httpx.post(s.url + "/api/rooms", json=body, headers=headers).json()
        assert room["url"].startswith("https://"), room


# -- forks ----------------------------------------------------------------------------------------------------


@asynccontextmanager
async def socket(url: str, **kw: Any) -> AsyncIterator[Any]:
    async with websockets.connect(url, open_timeout=WAIT, close_timeout=2, compression=None, **kw) as ws:
        yield ws


async def until_closed(ws: Any) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code, closed.rcvd.reason


async def hello(ws: Any) -> dict[str, Any]:
    msg = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert msg["type"] == "hello", msg
    return msg


def test_a_fork_flood_stops_at_the_clients_share_and_the_teacher_removes_a_fork() -> None:
    env = {"BPP_TRUSTED_PROXIES": "127.0.0.1", "BPP_MAX_SESSIONS_PER_ADDRESS": "10"}
    teacher_at, student_at, other_at = ({"X-Forwarded-For": f"192.0.2.{i}"} for i in (1, 2, 3))
    with server(env) as s, httpx.Client(base_url=s.url, timeout=WAIT) as http:
        teacher = http.post("/api/sessions", json=SMALL, headers=teacher_at).json()
        room = http.post("/api/rooms", json={"session_id": teacher["id"]}, headers=auth(teacher["token"])).json()
        code, teacher_token = room["code"], room["teacher_token"]

        def fork(headers: dict[str, str], cookie: str | None = None) -> httpx.Response:
            h = {**headers, **({"Cookie": cookie} if cookie else {})}
            return httpx.post(f"{s.url}/api/rooms/{code}/fork", json={"name": "flood"}, headers=h, timeout=WAIT)

        student = fresh_cookie(s, student_at)
        mine = [fork(student_at, student) for _ in range(3)]
        assert [r.status_code for r in mine] == [201] * 3
        refused(fork(student_at, student), "3 forks")
        # Without the server's cookie, or with a made-up one, all are the address's one anonymous client.
        anonymous = [fork(student_at, c).status_code for c in (None, "bpp_client=x", "bpp_client=a.b")]
        assert anonymous == [201] * 3
        refused(fork(student_at, "bpp_client=y"), "3 forks")
        # Harvesting a new cookie for every three forks ends at the address's cap, far below the room's.
        results = [fork(student_at, fresh_cookie(s, student_at)).status_code for _ in range(20)]
        assert results.count(201) == 10 - 3 - 3, results
        refused(fork(student_at, fresh_cookie(s, student_at)), "per address")
        other = fork(other_at, fresh_cookie(s, other_at))  # the room is not full for the rest of the class
        assert other.status_code == 201, other.text
        view = http.get(f"/api/rooms/{code}/class", headers=auth(teacher_token)).json()
        assert len(view["forks"]) == 11

        # The teacher removes one of the flood's forks; the student's own socket is told; a slot is free again.
        victim = mine[0].json()

        async def remove() -> tuple[int, str]:
            async with socket(f"{s.ws_url}/api/sessions/{victim['id']}/ws") as ws:
                await ws.send(json.dumps({"type": "auth", "token": victim["token"]}))
                await hello(ws)
                url = f"/api/rooms/{code}/forks/{victim['id']}"
                assert http.delete(url).status_code == 401
                assert http.delete(url, headers=auth(victim["token"])).status_code == 403
                assert (
                    http.delete(f"/api/rooms/{code}/forks/{teacher['id']}", headers=auth(teacher_token)).status_code
                    == 404
                )
                assert http.delete(url, headers=auth(teacher_token)).status_code == 204
                return await until_closed(ws)

        assert asyncio.run(remove())[0] == 4404
        assert http.get(f"/api/sessions/{victim['id']}", headers=auth(victim["token"])).status_code == 404
        view = http.get(f"/api/rooms/{code}/class", headers=auth(teacher_token)).json()
        assert victim["id"] not in {f["id"] for f in view["forks"]} and len(view["forks"]) == 10
        assert fork(student_at, student).status_code == 201


# -- live sockets ---------------------------------------------------------------------------------------------


def test_sockets_per_address_and_quiet_refusals() -> None:
    env = {"BPP_TRUSTED_PROXIES": "127.0.0.1", "BPP_MAX_SOCKETS_PER_ADDRESS": "4"}
    with server(env) as s:
        created = httpx.post(s.url + "/api/sessions", json=SMALL, timeout=WAIT).json()
        room = httpx.post(
            s.url + "/api/rooms", json={"session_id": created["id"]}, headers=auth(created["token"]), timeout=WAIT
        ).json()
        url = f"{s.ws_url}/api/rooms/{room['code']}/ws"
        flood, other = {"X-Forwarded-For": "192.0.2.50"}, {"X-Forwarded-For": "192.0.2.51"}

        async def attack() -> None:
            held = []
            for _ in range(4):
                ws = await websockets.connect(url, additional_headers=flood, open_timeout=WAIT, compression=None)
                await hello(ws)
                held.append(ws)
            for _ in range(10):  # one address past its cap: every further socket is refused, "try again later"
                async with socket(url, additional_headers=flood) as ws:
                    assert await until_closed(ws) == (1013, "too many live sockets from this address")
            async with socket(url, additional_headers=other) as ws:  # another address still connects
                await hello(ws)
            session_url = f"{s.ws_url}/api/sessions/{created['id']}/ws"
            async with socket(session_url, additional_headers=flood) as ws:  # the session socket counts too
                assert (await until_closed(ws))[0] == 1013
            await held.pop().close()
            async with socket(url, additional_headers=flood) as ws:  # a freed place is taken again
                await hello(ws)
            for ws in held:
                await ws.close()
            for _ in range(20):  # clients that leave before they authenticate
                async with socket(session_url):
                    pass

        asyncio.run(attack())
        assert httpx.get(s.url + "/api/health", timeout=WAIT).status_code == 200
        log = log_of(s)
        limits = Path(f"/proc/{s.pid}/limits").read_text()
    assert log.count("refusing live sockets from 192.0.2.50") == 1, log  # logged once, not per socket
    assert "Traceback" not in log and "WebSocketDisconnect" not in log, log
    # The server raised its open-file limit to the hard limit at start (every socket is a file).
    soft, hard = next(line.split()[3:5] for line in limits.splitlines() if line.startswith("Max open files"))
    assert soft == hard or (hard == "unlimited" and int(soft) >= 1 << 20), limits


# -- Host, origins and headers --------------------------------------------------------------------------------


def csp(r: httpx.Response) -> dict[str, list[str]]:
    out = {}
    for part in r.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_requests_must_name_the_server_and_sockets_must_come_from_it() -> None:
    env = {"BPP_ALLOWED_HOSTS": "playground.school.example"}
    with server(env) as s:
        created = httpx.post(s.url + "/api/sessions", json=SMALL, timeout=WAIT).json()
        for path in ("/", "/api/health", f"/api/sessions/{created['id']}", "/static/js/main.js"):
            r = httpx.get(s.url + path, headers={"Host": f"evil.example:{s.port}"}, timeout=WAIT)
            assert r.status_code == 400 and "host" in r.json()["detail"], (path, r.text)
        assert httpx.get(s.url + "/", headers={"Host": "127.0.0.1.evil.example"}, timeout=WAIT).status_code == 400
        assert httpx.get(s.url + "/", headers={"Host": ""}, timeout=WAIT).status_code == 400
        for good in (f"localhost:{s.port}", f"[::1]:{s.port}", "127.0.0.1", f"PLAYGROUND.school.example:{s.port}"):
            assert httpx.get(s.url + "/", headers={"Host": good}, timeout=WAIT).status_code == 200, good

        path = f"/api/sessions/{created['id']}/ws"

        async def sockets() -> None:
            # DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host and Origin.
            rebound = f"ws://evil.example:{s.port}{path}"
            async with socket(rebound, host="127.0.0.1", port=s.port, origin=f"http://evil.example:{s.port}") as ws:
                assert (await until_closed(ws))[0] == 1008
            async with socket(s.ws_url + path, origin=f"http://evil.example:{s.port}") as ws:
                assert await until_closed(ws) == (1008, "origin not allowed")
            async with socket(s.ws_url + path, origin=f"http://localhost:{s.port}") as ws:  # Host 127.0.0.1
                assert await until_closed(ws) == (1008, "origin not allowed")
            named = f"ws://playground.school.example:{s.port}{path}"
            origin = f"http://playground.school.example:{s.port}"
            async with socket(named, host="127.0.0.1", port=s.port, origin=origin) as ws:
                await ws.send(json.dumps({"type": "auth", "token": created["token"]}))
                await hello(ws)
            async with socket(s.ws_url + path, origin=s.url) as ws:
                await ws.send(json.dumps({"type": "auth", "token": created["token"]}))
                await hello(ws)

        asyncio.run(sockets())


def test_pages_send_security_headers() -> None:
    env = {"BPP_FRAME_ANCESTORS": "https://moodle.school.example, 'self'"}
    with server(env) as s, server() as plain:
        code = "ABCD-EFGH"
        for base, ancestors in ((s, ["https://moodle.school.example", "'self'"]), (plain, ["'none'"])):
            for path in ("/", f"/room/{code}", "/room"):
                r = httpx.get(base.url + path, timeout=WAIT)
                assert r.status_code == 200, path
                assert r.headers["x-content-type-options"] == "nosniff"
                assert r.headers["referrer-policy"] == "no-referrer"
                policy = csp(r)
                assert policy["script-src"] == ["'self'"], policy  # no inline script, nothing from elsewhere
                assert policy["default-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
                host = f"127.0.0.1:{base.port}"
                assert policy["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"], policy
                assert policy["frame-ancestors"] == ancestors, policy
                assert "'unsafe-inline'" not in policy["style-src"] and "'unsafe-eval'" not in str(policy)
        for path in ("/api/health", "/static/js/main.js", "/api/nothing"):
            r = httpx.get(s.url + path, timeout=WAIT)
            assert r.headers["x-content-type-options"] == "nosniff", path  # every answer
            assert "content-security-policy" not in r.headers  # not a page


def test_bad_settings_are_refused_at_start() -> None:
    from pydantic import ValidationError

    from app.settings import Settings

    for bad in (
        {"trusted_proxies": "not-an-address"},
        {"allowed_hosts": "http://x.example"},
        {"frame_ancestors": "https://a.example; script-src *"},
    ):
        with pytest.raises(ValidationError):
            Settings(db="", **bad)


# -- strict integers ------------------------------------------------------------------------------------------


def test_integer_fields_are_strict(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=WAIT) as http:
        created = http.post("/api/sessions", json=SMALL).json()
        url, h = f"/api/sessions/{created['id']}", auth(created["token"])
        for bad in ("5", True, 2.0, 2.5):
            r = http.post(url + "/train", json={"steps": bad}, headers=h)
            assert r.status_code == 422 and r.json()["field"] == "steps", (bad, r.text)
            r = http.patch(url, json={"batch_size": bad}, headers=h)
            assert r.status_code == 422 and r.json()["field"] == "batch_size", (bad, r.text)
        r = http.post("/api/sessions", json={"hidden": [3.0]})
        assert r.status_code == 422 and r.json()["field"].startswith("hidden"), r.text
        r = http.post("/api/sessions", json={"dataset": {"name": "xor", "samples": "20"}})
        assert r.status_code == 422 and r.json()["field"] == "dataset.samples", r.text
        assert http.get(url, headers=h).json()["step"] == 0  # nothing was applied

        async def live() -> None:
            async with socket(f"{live_server.ws_url}{url}/ws") as ws:
                await ws.send(json.dumps({"type": "auth", "token": created["token"]}))
                await hello(ws)
                for msg, field in (
                    ({"type": "set", "steps_per_frame": "5"}, "steps_per_frame"),
                    ({"type": "set", "batch_size": True}, "batch_size"),
                    ({"type": "step", "unit": "sample", "sample": 1.0}, "sample"),
                    ({"type": "trace", "sample": True}, "sample"),
                    ({"type": "set_weight", "layer": 1.0, "row": 0, "column": 0, "value": 0.5}, "layer"),
                ):
                    await ws.send(json.dumps(msg))
                    while True:
                        raw = await asyncio.wait_for(ws.recv(), WAIT)
                        out = {} if isinstance(raw, bytes) else json.loads(raw)  # frames are binary
                        if out.get("type") == "error":
                            break
                    assert out["code"] == "invalid" and out["field"] == field, (msg, out)

        asyncio.run(live())
        assert http.get(url, headers=h).json()["step"] == 0


# -- expiry ---------------------------------------------------------------------------------------------------


def test_a_room_expires_when_its_teacher_is_idle_however_many_watch() -> None:
    with server({"BPP_SESSION_TTL": "3"}) as s, httpx.Client(base_url=s.url, timeout=WAIT) as http:
        teacher = http.post("/api/sessions", json=SMALL).json()
        room = http.post("/api/rooms", json={"session_id": teacher["id"]}, headers=auth(teacher["token"])).json()
        owned = http.post("/api/sessions", json=SMALL).json()

        async def watch() -> tuple[int, str]:
            async with (
                socket(f"{s.ws_url}/api/rooms/{room['code']}/ws") as viewer,
                socket(f"{s.ws_url}/api/sessions/{owned['id']}/ws") as owner,
            ):
                await owner.send(json.dumps({"type": "auth", "token": owned["token"]}))
                await hello(owner)
                await hello(viewer)

                async def keep_asking() -> None:  # a viewer's probes are not the teacher's use
                    while True:
                        await viewer.send(json.dumps({"type": "trace", "sample": 0}))
                        await asyncio.sleep(0.5)

                asker = asyncio.create_task(keep_asking())
                try:
                    return await until_closed(viewer)
                finally:
                    asker.cancel()

        code, reason = asyncio.run(watch())
        assert code == 4404 and "expired" in reason, (code, reason)
        assert http.get(f"/api/rooms/{room['code']}").status_code == 404
        # A session whose owner held its socket open stayed (the socket was its owner's presence).
        assert http.get(f"/api/sessions/{owned['id']}", headers=auth(owned["token"])).status_code == 200


def test_refused_accepts_are_logged_once_a_minute_not_per_socket() -> None:
    from app.api.guard import ACCEPT_REFUSED, OnceAMinute

    once = OnceAMinute(ACCEPT_REFUSED)

    def record(msg: str) -> logging.LogRecord:
        try:
            raise OSError(24, "Too many open files")
        except OSError:
            return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, sys.exc_info())

    first = record(f"{ACCEPT_REFUSED}\nexception: ...")
    assert once.filter(first) and first.exc_info is None and "out of open files" in first.getMessage()
    assert not any(once.filter(record(f"{ACCEPT_REFUSED}\nexception: ...")) for _ in range(500))
    assert once.filter(record("something else"))  # other records pass untouched
    once.last -= 61  # a minute later: one more line, with the count held back
    later = record(ACCEPT_REFUSED)
    assert once.filter(later) and "500 more" in later.getMessage()


def test_the_python_client_keeps_the_cookie_it_is_given(live_server: LiveServer) -> None:
    from app.client import Client

    with Client(live_server.url) as pg:
        pg.health()
        cookie = pg.http.cookies.get("bpp_client")
        assert cookie and "." in cookie
        run = pg.create_session(SMALL)
        r = pg.http.get("/api/health")
        assert "set-cookie" not in r.headers and pg.http.cookies.get("bpp_client") == cookie  # accepted, kept
        run.delete()


def test_host_and_address_rules() -> None:
    """The rules the real-server tests above rely on, case by case: a server bound to every interface answers to
    the address it was reached on; the client address walks X-Forwarded-For only past trusted proxies."""
    import ipaddress

    from app.api.guard import client_address, own_host

    lan = {"server": ("192.168.1.10", 8000)}
    assert own_host("192.168.1.10:8000", lan, []) and own_host("localhost", lan, [])
    assert not own_host("192.168.1.11:8000", lan, []) and not own_host("teacher-pc.local:8000", lan, [])
    assert own_host("teacher-pc.local:8000", lan, ["teacher-pc.local"])
    assert own_host("[fe80::1]:8000", {"server": ("fe80::1", 8000)}, [])
    assert not own_host("evil.example", {"server": ("testserver", 80)}, [])

    def addr(peer: tuple[str, int], xff: str | None, proxies: str = "") -> str:
        headers = [(b"x-forwarded-for", xff.encode())] if xff is not None else []
        nets = [ipaddress.ip_network(p) for p in proxies.split(",") if p]
        return client_address({"client": peer, "headers": headers}, nets)

    assert addr(("203.0.113.5", 40000), None) == "203.0.113.5"
    assert addr(("203.0.113.5", 40000), "1.2.3.4") == "203.0.113.5"  # not from a trusted proxy
    assert addr(("203.0.113.5", 40000), "203.0.113.5") == "203.0.113.5"  # its own address: nothing changes
    assert addr(("1.2.3.4", 0), "1.2.3.4") == "127.0.0.1"  # uvicorn rewrote a loopback peer
    assert addr(("1.2.3.4", 5555), "1.2.3.4:5555") == "127.0.0.1"
    assert addr(("1.2.3.4", 0), "1.2.3.4", "127.0.0.1") == "1.2.3.4"  # ... from a proxy the operator trusts
    assert addr(("10.0.0.2", 40000), "6.6.6.6, 1.2.3.4", "10.0.0.0/8") == "1.2.3.4"
    assert addr(("10.0.0.2", 40000), "1.2.3.4, 10.0.0.9", "10.0.0.0/8") == "1.2.3.4"  # two proxies
    assert addr(("10.0.0.2", 40000), "[2001:db8::7]:443", "10.0.0.0/8") == "2001:db8::7"
