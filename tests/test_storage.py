"""Storage that tells the truth, against a real server on a real SQLite file: when the database cannot be
written (an immutable file, ``chattr +i``, as root) or its directory is deleted, every change answers 503
"storage unavailable" and leaves the session as it was, ``DELETE`` answers 204 only once the row is gone,
and ``/api/health`` says so (503); a row that cannot be read is set aside with a log line and the rest start;
the file is 0600 and holds no token in the clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from helpers import ROOT, LiveServer, auth

WAIT = 10.0
SMALL: dict[str, Any] = {"dataset": {"name": "xor", "samples": 80}, "hidden": [3], "batch_size": 8, "seed": 3}


def chattr_dir(base: Path) -> Path:
    """A fresh directory where ``chattr +i`` works: the test's temporary directory when its filesystem
    supports it, else one under the worktree. Skips only when the chattr tool itself is missing."""
    if shutil.which("chattr") is None or shutil.which("lsattr") is None:
        pytest.skip("chattr/lsattr (e2fsprogs) are not installed: cannot make the database immutable")
    for root in (base, ROOT / ".pytest-chattr"):
        root.mkdir(parents=True, exist_ok=True)
        where = root / f"db-{uuid.uuid4().hex[:8]}"
        where.mkdir()
        probe = where / "probe"
        probe.touch()
        if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode == 0:
            subprocess.run(["chattr", "-i", str(probe)], check=True)
            probe.unlink()
            return where
        shutil.rmtree(where)
    pytest.fail("chattr +i works on neither the temporary directory nor the worktree's filesystem (as root?)")


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """The file cannot be written (even by root) inside the block."""
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextlib.asynccontextmanager
async def served(db: Path) -> AsyncIterator[tuple[LiveServer, httpx.AsyncClient]]:
    server = LiveServer(env={"BPP_DB": str(db)}).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
            yield server, http
    finally:
        server.stop()


async def new_session(http: httpx.AsyncClient, **config: Any) -> tuple[str, dict[str, str]]:
    r = await http.post("/api/sessions", json={**SMALL, **config})
    assert r.status_code == 201, r.text
    return f"/api/sessions/{r.json()['id']}", auth(r.json()["token"])


def unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.json()["detail"].startswith("storage unavailable"), r.text


async def every_change_is_refused(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
    """PATCH, train, reset, PUT weights, DELETE and a new session all answer 503 and change nothing."""
    before = (await http.get(url, headers=headers)).json()
    unavailable(await http.patch(url, headers=headers, json={"learning_rate": 0.5, "hidden": [5, 2]}))
    unavailable(await http.post(url + "/train", headers=headers, json={"steps": 40}))
    unavailable(await http.post(url + "/reset", headers=headers, json={"seed": 9}))
    zeros = [[[0.0] * len(row) for row in layer] for layer in before["weights"]]
    unavailable(await http.put(url + "/weights", headers=headers, json={"weights": zeros}))
    unavailable(await http.delete(url, headers=headers))
    unavailable(await http.post("/api/sessions", json=SMALL))
    unavailable(await http.post("/api/rooms", json={"session_id": url.rsplit("/", 1)[1]}, headers=headers))
    after = (await http.get(url, headers=headers)).json()
    assert after == before  # memory is as it was: same config, weights, step, metrics
    export = (await http.get(url + "/export", headers=headers)).json()
    assert export["state"]["step"] == before["step"]
    health = await http.get("/api/health")
    assert health.status_code == 503 and health.json()["status"] == "unavailable", health.text


async def test_an_unwritable_database_refuses_every_change_and_health_says_so(tmp_path: Path):
    where = chattr_dir(tmp_path)
    db = where / "bpp.db"
    try:
        async with served(db) as (server, http):
            url, headers = await new_session(http)
            trained = (await http.post(url + "/train", headers=headers, json={"steps": 25})).json()
            assert (await http.get("/api/health")).json()["storage"] == "ok"
            r = await http.post("/api/rooms", json={"session_id": url.rsplit("/", 1)[1]}, headers=headers)
            code, teacher = r.json()["code"], auth(r.json()["teacher_token"])
            with immutable(db):
                await every_change_is_refused(http, url, headers)
                unavailable(await http.delete(f"/api/rooms/{code}", headers=teacher))
                assert (await http.get(f"/api/rooms/{code}")).status_code == 200  # still open
                assert "cannot be written" in (await http.get("/api/health")).json()["storage"]
                # the live channel's changes are refused the same way
                async with websockets.connect(server.ws_url + url + "/ws", open_timeout=WAIT) as ws:
                    await ws.send(json.dumps({"type": "auth", "token": headers["Authorization"][7:]}))
                    assert json.loads(await ws.recv())["type"] == "hello"
                    await ws.send(json.dumps({"type": "set", "learning_rate": 0.7}))
                    while True:
                        raw = await asyncio.wait_for(ws.recv(), WAIT)
                        msg = json.loads(raw) if isinstance(raw, str) else {"type": "frame"}
                        if msg["type"] == "error":
                            break
                    assert msg["code"] == "storage_unavailable", msg
                assert (await http.get(url, headers=headers)).json()["config"]["learning_rate"] == 0.03
                log = Path(server.log.name).read_text()
                assert "storage unavailable" in log and "Traceback" not in log, log[-3000:]
            # writable again: health recovers (it re-checks at most once a second) and changes are saved again
            for _ in range(50):
                if (await http.get("/api/health")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert (await http.get("/api/health")).json()["storage"] == "ok"
            r = await http.patch(url, headers=headers, json={"learning_rate": 0.1})
            assert r.status_code == 200, r.text
        async with served(db) as (_, http):  # after a restart: the last saved state, with no refused change
            back = (await http.get(url, headers=headers)).json()
            assert back["step"] == trained["step"] and back["weights"] == trained["weights"]
            assert back["config"]["learning_rate"] == 0.1 and back["config"]["hidden"] == [3]
            r = await http.delete(url, headers=headers)
            assert r.status_code == 204
        with contextlib.closing(sqlite3.connect(db)) as conn:
            assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0  # 204: the row is gone
    finally:
        shutil.rmtree(where, ignore_errors=True)


async def test_a_deleted_database_directory_refuses_every_change(tmp_path: Path):
    where = tmp_path / "data"
    where.mkdir()
    db = where / "bpp.db"
    async with served(db) as (_, http):
        url, headers = await new_session(http)
        shutil.rmtree(where)
        await every_change_is_refused(http, url, headers)
        assert "has gone" in (await http.get("/api/health")).json()["storage"]


async def test_a_row_that_cannot_be_read_is_set_aside_and_the_rest_start(tmp_path: Path):
    db = tmp_path / "bpp.db"
    async with served(db) as (_, http):
        good_url, good_headers = await new_session(http)
        bad_url, bad_headers = await new_session(http)
        worse_url, worse_headers = await new_session(http)
        good = (await http.post(good_url + "/train", headers=good_headers, json={"steps": 16})).json()
    bad_id, worse_id = bad_url.rsplit("/", 1)[1], worse_url.rsplit("/", 1)[1]
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("UPDATE sessions SET state=? WHERE id=?", (b"\x00{not json", bad_id))
        state = json.loads(conn.execute("SELECT state FROM sessions WHERE id=?", (worse_id,)).fetchone()[0])
        state["weights"] = [[[1.0]]]  # valid JSON, wrong shapes
        conn.execute("UPDATE sessions SET state=? WHERE id=?", (json.dumps(state), worse_id))
        conn.commit()
    server = LiveServer(env={"BPP_DB": str(db)}).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
            back = (await http.get(good_url, headers=good_headers)).json()
            assert back["weights"] == good["weights"]
            assert (await http.get(bad_url, headers=bad_headers)).status_code == 404
            assert (await http.get(worse_url, headers=worse_headers)).status_code == 404
    finally:
        server.stop(kill=True)  # keeps the log
    log = Path(server.log.name).read_text()
    Path(server.log.name).unlink()
    assert f"session row {bad_id} cannot be read" in log and f"session row {worse_id}" in log, log[-2000:]
    assert "Traceback" not in log
    with contextlib.closing(sqlite3.connect(db)) as conn:
        aside = dict(conn.execute("SELECT id, reason FROM sessions_set_aside").fetchall())
        assert set(aside) == {bad_id, worse_id} and all(aside.values())
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1


async def test_the_database_is_private_and_holds_no_token_in_the_clear(tmp_path: Path):
    db = tmp_path / "bpp.db"
    async with served(db) as (_, http):
        url, headers = await new_session(http)
        token = headers["Authorization"][7:]
        r = await http.post("/api/rooms", json={"session_id": url.rsplit("/", 1)[1]}, headers=headers)
        teacher = r.json()["teacher_token"]
        r = await http.get(f"/api/rooms/{r.json()['code']}/class", headers=auth(teacher))
        assert r.status_code == 200  # the hashed teacher token still opens the class view
        wrong = token[:-1] + ("y" if token.endswith("x") else "x")  # always a different token
        assert (await http.get(url, headers=auth(wrong))).status_code == 403
        for path in (db, Path(f"{db}-wal")):
            if path.exists():
                assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("bpp.db"))
        assert token.encode() not in raw and teacher.encode() not in raw
    async with served(db) as (_, http):  # the hash opens the session after a restart
        assert (await http.get(url, headers=headers)).status_code == 200


async def test_plain_tokens_of_an_older_file_are_hashed_at_start(tmp_path: Path):
    db = tmp_path / "bpp.db"
    async with served(db) as (_, http):
        url, _ = await new_session(http)
    session_id = url.rsplit("/", 1)[1]
    with contextlib.closing(sqlite3.connect(db)) as conn:  # as 0.1.0 wrote it: the token itself
        conn.execute("UPDATE sessions SET token=? WHERE id=?", ("plain-old-token", session_id))
        conn.commit()
    async with served(db) as (_, http):
        assert (await http.get(url, headers=auth("plain-old-token"))).status_code == 200
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT token FROM sessions").fetchone()[0].startswith("sha256:")
