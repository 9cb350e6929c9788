"""docs/protocol.md, point by point, against a real server (`serve`): each test is one statement of the
document that a client written from it alone relies on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from helpers import WAIT, Api, LiveServer, closed_with, connect, decode, new_session

from app.api.live import MAX_MESSAGE_BYTES, PROTOCOL, READ_ONLY_TRACE_INTERVAL_S

SMALL: dict[str, Any] = {"dataset": {"name": "circle", "samples": 200}, "hidden": [3], "batch_size": 10, "seed": 1}


async def open_room(http: httpx.AsyncClient, api: Api) -> tuple[str, str]:
    """A room on the session: its code and teacher token."""
    r = await http.post("/api/rooms", json={"session_id": api.id}, headers=api.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["code"]), str(r.json()["teacher_token"])


@contextlib.asynccontextmanager
async def viewer(server: LiveServer, code: str) -> AsyncIterator[websockets.ClientConnection]:
    """A room's socket, opened and not yet read: the room channel says hello without being asked."""
    url = f"{server.ws_url}/api/rooms/{code}/ws"
    async with websockets.connect(url, open_timeout=WAIT, close_timeout=2, compression=None) as ws:
        yield ws


async def recv(ws: websockets.ClientConnection) -> dict[str, Any]:
    return decode(await asyncio.wait_for(ws.recv(), WAIT))


async def test_the_version_is_3(live_server: LiveServer, rest: httpx.AsyncClient):
    assert PROTOCOL == 3
    async with connect(live_server, await new_session(rest, SMALL)) as live:
        assert live.hello["protocol"] == 3


async def test_room_channel_needs_no_auth_and_answers_one_with_already_authenticated(
    live_server: LiveServer,
    rest: httpx.AsyncClient,
):
    api = await new_session(rest, SMALL)
    async with viewer(live_server, (await open_room(rest, api))[0]) as ws:
        hello = await recv(ws)  # nothing sent: hello comes at once
        assert hello["type"] == "hello" and hello["read_only"] is True and hello["protocol"] == 3
        assert (await recv(ws))["type"] == "frame"
        await ws.send(json.dumps({"type": "auth", "token": api.token}))
        err = await recv(ws)
        assert (err["type"], err["code"]) == ("error", "already_authenticated")
        await ws.send(json.dumps({"type": "trace", "sample": 0}))
        assert (await recv(ws))["kind"] == "probe"  # still up, nothing changed


async def test_close_4404_when_the_session_or_room_is_gone(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest, SMALL)
    async with connect(live_server, api) as live:
        await live.of_type("frame")
        await api.call("DELETE")  # the session is deleted while connected
        assert await closed_with(live.ws) == 4404
    teacher = await new_session(rest, SMALL)
    code, teacher_token = await open_room(rest, teacher)
    async with viewer(live_server, code) as ws:
        assert (await recv(ws))["type"] == "hello"
        r = await rest.delete(f"/api/rooms/{code}", headers={"Authorization": f"Bearer {teacher_token}"})
        assert r.status_code == 204, r.text  # the room is closed while watched
        assert await closed_with(ws) == 4404
    code, _ = await open_room(rest, teacher)
    async with viewer(live_server, code) as ws:
        assert (await recv(ws))["type"] == "hello"
        await teacher.call("DELETE")  # the room's session is deleted while watched
        assert await closed_with(ws) == 4404
    async with viewer(live_server, "ZZZZ-ZZZZ") as ws:  # an unknown room, at connect
        assert await closed_with(ws) == 4404


async def test_a_frame_follows_hello_and_spends_a_credit(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest, SMALL)
    async with connect(live_server, api) as live:
        assert live.hello["credits"] == 2
        first = await live.recv(ack=False)
        assert first["type"] == "frame" and first["step"] == live.hello["session"]["step"]
        await live.send({"type": "step", "unit": "batch"})  # one credit left: the step's frame comes
        msgs = [await live.recv(ack=False), await live.recv(ack=False)]
        assert sorted(m["type"] for m in msgs) == ["frame", "trace"]
        await live.send({"type": "step", "unit": "batch"})  # no credit: the trace, and no frame until an ack
        assert (await live.recv(ack=False))["type"] == "trace"
        with pytest.raises(TimeoutError):
            await live.recv(timeout=0.5, ack=False)
        await live.send({"type": "ack"})
        newest = await live.recv(ack=False)
        assert newest["type"] == "frame" and newest["step"] == first["step"] + 2


async def test_pause_while_paused_and_play_while_playing_are_answered(
    live_server: LiveServer,
    rest: httpx.AsyncClient,
):
    async with connect(live_server, await new_session(rest, SMALL)) as live:
        await live.send({"type": "pause"})
        status = await live.of_type("status")
        assert status["status"] == "paused"
        await live.send({"type": "play"})
        assert (await live.of_type("status"))["status"] == "playing"
        await live.send({"type": "play"})
        assert (await live.of_type("status"))["status"] == "playing"
        await live.send({"type": "pause"})
        stopped, _ = await live.until(lambda m: m["type"] == "status" and m["status"] == "paused")
        await live.send({"type": "pause"})
        assert await live.of_type("status") == stopped  # answered, and nothing changed


async def test_a_message_over_64_kib_closes_1009(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest, SMALL)
    async with connect(live_server, api) as live:
        message = json.dumps({"type": "trace", "sample": 0, "pad": ""})
        fits = json.dumps({"type": "trace", "sample": 0, "pad": "x" * (MAX_MESSAGE_BYTES - len(message))})
        assert len(fits) == MAX_MESSAGE_BYTES
        await live.send(fits)  # exactly 64 KiB: read, and refused for its unknown field
        err = await live.of_type("error")
        assert (err["code"], err["field"]) == ("invalid", "pad")
        await live.send(fits + " ")  # one byte more
        assert await closed_with(live.ws) == 1009


async def test_default_steps_per_frame_is_one_epoch(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest, SMALL)
    async with connect(live_server, api) as live:
        session = live.hello["session"]
        epoch = math.ceil(session["n_train"] / session["config"]["batch_size"])
        assert session["steps_per_frame"] is None and live.hello["steps_per_frame"] == epoch == 10
        first = await live.of_type("frame")
        assert first["steps_per_frame"] == epoch
        await live.send({"type": "set", "steps_per_frame": 25})
        state = await live.of_type("state")
        assert state["session"]["steps_per_frame"] == 25
        assert (await live.of_type("frame"))["steps_per_frame"] == 25
        await live.send({"type": "set", "steps_per_frame": 0})  # 0: back to one epoch
        assert (await live.of_type("state"))["session"]["steps_per_frame"] is None


async def test_recovery_when_the_last_finite_weights_still_diverge(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest, {**SMALL, "dataset": {"name": "plane", "samples": 40}})  # linear output, mse
    huge = [[[1e200] * len(row) for row in matrix] for matrix in (await api.get())["weights"]]
    await api.call("PUT", "/weights", json={"weights": huge})  # finite weights whose cost overflows
    assert (await api.get())["status"] == "diverged"
    async with connect(live_server, api) as live:
        assert live.hello["session"]["status"] == "diverged"
        await live.send({"type": "set", "learning_rate": 0.001})  # keeps the weights: diverged again at once
        state = await live.of_type("state")
        assert state["session"]["status"] == "diverged" and state["session"]["config"]["learning_rate"] == 0.001
        await live.send({"type": "play"})
        assert (await live.of_type("error"))["code"] == "diverged"
        await live.send({"type": "reset"})  # new weights: recovered
        state = await live.of_type("state")
        assert state["session"]["status"] == "paused" and state["session"]["divergence"] is None
        await live.send({"type": "play"})
        assert (await live.of_type("status"))["status"] == "playing"
        await live.send({"type": "pause"})
        await live.until(lambda m: m["type"] == "status" and m["status"] == "paused")


async def test_room_viewers_trace_at_most_4_times_a_second(live_server: LiveServer, rest: httpx.AsyncClient):
    assert READ_ONLY_TRACE_INTERVAL_S == 0.25
    api = await new_session(rest, SMALL)
    async with viewer(live_server, (await open_room(rest, api))[0]) as ws:
        assert (await recv(ws))["type"] == "hello"
        await ws.send(json.dumps({"type": "trace", "sample": 1}))
        await ws.send(json.dumps({"type": "trace", "sample": 2}))  # at once: within the same quarter second
        answers = [await recv(ws) for _ in range(3)]  # the frame after hello, a trace, an error
        kinds = sorted(m.get("kind") or m.get("code") or m["type"] for m in answers)
        assert kinds == ["frame", "probe", "rate_limited"], answers
        await asyncio.sleep(READ_ONLY_TRACE_INTERVAL_S * 1.2)  # the documented interval, with a margin
        await ws.send(json.dumps({"type": "trace", "sample": 3}))
        assert (await recv(ws))["indices"] == [3]
    async with connect(live_server, api) as live:  # the session's own channel has no such limit
        for sample in range(5):
            await live.send({"type": "trace", "sample": sample})
        traces = [await live.of_type("trace") for _ in range(5)]
        assert [t["indices"] for t in traces] == [[i] for i in range(5)]


@pytest.mark.parametrize("raw", ["[1, 2]", "[]", '"play"', "3", "null", "{not json"])
async def test_what_is_not_a_json_object_is_bad_json(live_server: LiveServer, rest: httpx.AsyncClient, raw: str):
    async with connect(live_server, await new_session(rest, SMALL)) as live:
        await live.send(raw)
        assert (await live.of_type("error"))["code"] == "bad_json"
        await live.send({"type": "dance"})
        assert (await live.of_type("error"))["code"] == "unknown_type"


@pytest.mark.parametrize("kind", ["step", "trace"])
@pytest.mark.parametrize("sample", [-1, 100, 10**6])
async def test_a_sample_out_of_range_is_reported_as_sample(
    live_server: LiveServer,
    rest: httpx.AsyncClient,
    kind: str,
    sample: int,
):
    api = await new_session(rest, SMALL)  # 100 training samples: 0..99
    async with connect(live_server, api) as live:
        message = {"type": kind, "sample": sample, **({"unit": "sample"} if kind == "step" else {})}
        await live.send(message)
        err = await live.of_type("error")
        assert (err["code"], err["field"]) == ("invalid", "sample"), err
        assert (await api.get())["step"] == 0  # nothing changed


async def test_no_two_frames_show_the_same_step(live_server: LiveServer, rest: httpx.AsyncClient):
    async with connect(live_server, await new_session(rest, SMALL)) as live:
        first = await live.of_type("frame")
        await live.send({"type": "play"})
        played, seen = await live.until(lambda m: m["type"] == "frame" and m["step"] >= first["step"] + 50)
        await live.send({"type": "pause"})
        stopped, after = await live.until(lambda m: m["type"] == "status" and m["status"] == "paused")
        await live.send({"type": "play"})
        again, more = await live.until(lambda m: m["type"] == "frame" and m["step"] > stopped["step"])
        steps = [m["step"] for m in [first, *seen, played, *after, *more, again] if m["type"] == "frame"]
        assert steps == sorted(set(steps)), steps  # strictly increasing: no copy at a play or a pause
        await live.send({"type": "pause"})
        await live.until(lambda m: m["type"] == "status" and m["status"] == "paused")


async def test_room_channel_sends_the_lesson_after_hello_and_on_every_change(
    live_server: LiveServer,
    rest: httpx.AsyncClient,
):
    api = await new_session(rest, {**SMALL, "dataset": {"name": "network_n", "samples": 60}})
    code, teacher = await open_room(rest, api)
    headers = {"Authorization": f"Bearer {teacher}"}
    body = {"lesson": "derivation", "step": 3, "sample": 5}
    assert (await rest.put(f"/api/rooms/{code}/lesson", json=body, headers=headers)).status_code == 200
    async with viewer(live_server, code) as ws:

        async def next_of(kind: str) -> dict[str, Any]:
            async with asyncio.timeout(WAIT):
                while True:
                    msg = await recv(ws)
                    if msg["type"] == "frame":
                        await ws.send('{"type": "ack"}')
                    elif msg["type"] == kind:
                        return msg

        assert (await recv(ws))["type"] == "hello"
        assert await next_of("lesson") == {"type": "lesson", **body}
        await rest.put(f"/api/rooms/{code}/lesson", json={**body, "step": 4}, headers=headers)
        assert await next_of("lesson") == {"type": "lesson", **body, "step": 4}
        await rest.put(f"/api/rooms/{code}/lesson", json={"lesson": None}, headers=headers)
        assert await next_of("lesson") == {"type": "lesson", "lesson": None}
        # the lesson's numbers: a probe trace of its sample, with the float64 weights it used
        await ws.send(json.dumps({"type": "trace", "sample": 5}))
        trace = await next_of("trace")
        assert trace["kind"] == "probe" and trace["indices"] == [5] and len(trace["weights"]) == 2
    async with connect(live_server, api) as live:  # the session channel never sends it
        await rest.put(f"/api/rooms/{code}/lesson", json=body, headers=headers)
        await live.ws.send(json.dumps({"type": "trace", "sample": 1}))
        async with asyncio.timeout(WAIT):
            while (msg := decode(await live.ws.recv()))["type"] != "trace":
                assert msg["type"] != "lesson"
                if msg["type"] == "frame":
                    await live.ws.send('{"type": "ack"}')
