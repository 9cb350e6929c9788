"""The live channel (docs/protocol.md) against a real uvicorn server on loopback, driven by the
``websockets`` client: handshake and auth, origins, every message type, binary frames, credit flow control,
slow readers, malformed messages, rate limiting, divergence, reconnecting and deleting the session.

Every wait is bounded by an asyncio timeout, so a misbehaving server fails a test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import websockets
from helpers import SMALL, WAIT, Api, Live, LiveServer, closed_with, connect, decode, new_session
from websockets.exceptions import ConnectionClosed

ALLOWED = "http://allowed.example"


# -- fixtures and helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_server() -> Iterator[LiveServer]:
    """A server of our own: an extra allowed origin and 30 frames a second."""
    server = LiveServer(env={"BPP_ALLOWED_ORIGINS": ALLOWED, "BPP_FPS": "30"}).start()
    yield server
    server.stop()


def frames(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in msgs if m["type"] == "frame"]


QUIET = 0.5  # seconds watched for a message that must not come (an absence cannot be awaited as an event)


def shows_where_it_stopped(frame: dict[str, Any], stopped: dict[str, Any]) -> bool:
    """Whether ``frame`` is the last frame of a run that stopped as the ``status`` ``stopped`` says: it shows the
    stopped step, with that step's own metrics (a frame whose metrics lagged is followed by one that has them)."""
    return frame["step"] == stopped["step"] and frame["metrics"]["step"] == frame["step"]


async def pause_and_last_frame(live: Live, shown: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pause a playing run and read, waiting on messages and not on time, what docs/protocol.md promises: the
    ``paused`` status, after the frame that shows where the run stopped; that frame and no other after it.

    ``shown``: the frames received since the play. The last frame may have gone out before the pause arrived (a
    pause alone sends no frame; it then says ``playing``), or between the pause and the status (``paused``); a
    client out of credit when the run stopped is owed it, and gets it on its next ack. Returns the status and the
    last frame."""
    await live.send({"type": "pause"})
    stopped, before = await live.until(lambda m: m["type"] == "status")
    assert stopped["status"] == "paused", stopped
    shown = shown + frames(before)
    if not shown or not shows_where_it_stopped(shown[-1], stopped):
        owed = await live.of_type("frame")  # sent on the ack of the frames just read (``recv`` acks them)
        assert owed["status"] == "paused", owed
        shown.append(owed)
    last = shown[-1]
    assert shows_where_it_stopped(last, stopped), ([(f["step"], f["metrics"]["step"]) for f in shown], stopped)
    for a, b in itertools.pairwise(shown):  # no copies: the same step again only to bring its lagging metrics
        assert a["step"] < b["step"] or (a["step"] == b["step"] and a["metrics"]["step"] < b["metrics"]["step"])
    after = await live.collect(QUIET)  # still acking: a frame would be sent
    assert frames(after) == [], [(m["type"], m.get("step")) for m in after]
    return stopped, last


async def trained_past(api: Api, step: int) -> int:
    """Wait until the session has trained past ``step`` (a client that does not ack is not waited for); the step."""
    async with asyncio.timeout(WAIT):
        while (now := (await api.get())["step"]) <= step:
            await asyncio.sleep(0.02)
    return int(now)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def close(a: Any, b: Any, tol: float = 1e-12) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=tol, atol=tol))


# -- handshake, auth, origins --------------------------------------------------------------------------------


async def test_hello_carries_the_session_as_rest_returns_it(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        hello = live.hello
        assert hello["protocol"] == 3
        assert hello["credits"] == 2
        assert hello["read_only"] is False
        assert hello["probe"] == 0
        assert hello["steps_per_frame"] == math.ceil(100 / 10)  # one epoch: 100 training samples, batch 10
        assert hello["session"] == await api.get()
        assert hello["session"]["status"] == "paused"


async def test_second_auth_is_an_error_not_a_close(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "auth", "token": api.token})
        err = await live.of_type("error")
        assert err["code"] == "already_authenticated"


@pytest.mark.parametrize("first", ["bad_token", "not_auth", "not_json", "unknown_session"])
async def test_bad_authentication_closes_with_1008(live_server: LiveServer, rest: httpx.AsyncClient, first: str):
    api = await new_session(rest)
    sid = "no-such-session" if first == "unknown_session" else api.id
    message = {
        "bad_token": json.dumps({"type": "auth", "token": "wrong"}),
        "not_auth": json.dumps({"type": "play"}),
        "not_json": "auth please",
        "unknown_session": json.dumps({"type": "auth", "token": api.token}),
    }[first]
    async with websockets.connect(f"{live_server.ws_url}/api/sessions/{sid}/ws", open_timeout=WAIT) as ws:
        await ws.send(message)
        assert await closed_with(ws) == 1008
    assert (await api.get())["status"] == "paused"  # the "play" sent as a first message did nothing


async def test_foreign_origin_is_refused(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    url = f"{live_server.ws_url}/api/sessions/{api.id}/ws"
    async with websockets.connect(url, origin="http://evil.example", open_timeout=WAIT) as ws:  # type: ignore[arg-type]
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps({"type": "auth", "token": api.token}))
        assert await closed_with(ws) == 1008


async def test_own_origin_is_accepted(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api, origin=live_server.url) as live:
        assert live.hello["session"]["id"] == api.id


async def test_allowed_origins_setting(own_server: LiveServer):
    async with httpx.AsyncClient(base_url=own_server.url, timeout=WAIT) as http:
        api = await new_session(http)
        async with connect(own_server, api, origin=ALLOWED) as live:
            assert live.hello["fps"] == 30.0
        async with connect(own_server, api, origin=own_server.url) as live:
            assert live.hello["protocol"] == 3
        url = f"{own_server.ws_url}/api/sessions/{api.id}/ws"
        async with websockets.connect(url, origin="http://other.example", open_timeout=WAIT) as ws:  # type: ignore[arg-type]
            assert await closed_with(ws) == 1008


# -- play, pause, frames ---------------------------------------------------------------------------------------


async def test_play_sends_frames_and_pause_stops_them(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        status = await live.of_type("status")
        assert status["status"] == "playing"
        got = [await live.of_type("frame") for _ in range(3)]  # 25 a second on a quiet machine; fewer when loaded
        steps = [f["step"] for f in got]
        assert steps == sorted(set(steps)), steps
        assert all(f["status"] == "playing" for f in got)

        stopped, last = await pause_and_last_frame(live, got)
        rest_state = await api.get()
        assert rest_state["status"] == "paused"
        assert rest_state["step"] == stopped["step"] == last["step"]


async def test_metrics_lag_while_a_run_plays_and_are_its_own_steps_once_it_stops(
    live_server: LiveServer, rest: httpx.AsyncClient
):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "set", "steps_per_frame": 3})  # frames mostly between two epoch ends
        await live.send({"type": "play"})
        got = [await live.of_type("frame") for _ in range(12)]
        assert any(f["metrics"]["step"] < f["step"] for f in got)  # at most 0.25 s old (docs/protocol.md)
        assert all(f["metrics"]["step"] <= f["step"] for f in got)
        stopped, last = await pause_and_last_frame(live, got)
        assert last["metrics"]["step"] == last["step"] == stopped["step"]
        state = await api.get()  # the snapshot that reads serve was republished with exact metrics
        assert state["metrics"]["step"] == state["step"] == stopped["step"]
        await live.send({"type": "step", "unit": "sample"})  # a stopped run's step: exact at once
        trace = await live.of_type("trace")
        state = await api.get()
        assert state["metrics"]["step"] == state["step"] == trace["step"] == stopped["step"] + 1


async def test_a_pause_without_credit_owes_the_frame_of_the_stopped_step(
    live_server: LiveServer, rest: httpx.AsyncClient
):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        got = [await live.of_type("frame", ack=False) for _ in range(2)]  # the 2 credits spent, none given back
        await trained_past(api, got[-1]["step"])  # training goes on without the client
        await live.send({"type": "pause"})
        stopped, before = await live.until(lambda m: m["type"] == "status", ack=False)
        assert stopped["status"] == "paused" and frames(before) == []  # no credit: the status comes alone
        assert stopped["step"] > got[-1]["step"] and (await api.get())["step"] == stopped["step"]
        await live.send({"type": "ack"})
        owed = await live.recv(ack=False)  # the frame that shows where the run stopped, and only that one
        assert owed["type"] == "frame", owed
        assert (owed["step"], owed["status"], owed["metrics"]["step"]) == (stopped["step"], "paused", stopped["step"])
        await live.send({"type": "ack"})
        assert frames(await live.collect(QUIET)) == []


async def test_frame_weights_equal_rest_weights_after_pause(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        played, _ = await live.until(lambda m: m["type"] == "frame" and m["step"] > 0)  # a step: D, U, A, E, N
        _, frame = await pause_and_last_frame(live, [played])
        state = await api.get()
        assert frame["step"] == state["step"] and frame["epoch"] == state["epoch"]
        weights = await api.weights()
        layers = len(weights)
        assert [a["name"] for a in frame["arrays"][:layers]] == [f"W{i}" for i in range(1, layers + 1)]
        for i, w in enumerate(weights, start=1):
            got = frame["_arrays"][f"W{i}"]
            assert got.shape == w.shape
            np.testing.assert_allclose(got, w, rtol=1e-6, atol=1e-7)  # float32 on the wire
        names = {a["name"] for a in frame["arrays"]}
        sizes = state["layer_sizes"]
        assert {f"D{layers}", f"U{layers}", f"A{len(sizes)}", f"E{len(sizes)}", "N", "PA1", "PZ2", "PE2"} <= names
        assert frame["metrics"]["step"] == frame["step"]  # a stopped run's last frame has its own step's metrics
        assert frame["probe"]["sample"] == 0


async def test_frame_of_a_6x8_network_is_at_most_8_kb(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest, {**SMALL, "hidden": [8] * 6, "dataset": {"name": "circle", "samples": 500}})
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        big, _ = await live.until(lambda m: m["type"] == "frame" and m["step"] > 0)  # after a step: every array
        assert {"D1", "U1", "PE7"} <= set(big["_arrays"])  # the full frame: gradients, updates, probe
        assert sum(a.size for a in big["_arrays"].values()) > 393 * 3
        assert big["_bytes"] <= 8 * 1024, big["_bytes"]
        await live.send({"type": "pause"})


async def test_credit_without_acks_then_the_newest_frame(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        status, first = await live.until(lambda m: m["type"] == "status", ack=False)
        assert status["status"] == "playing" and len(frames(first)) <= 1  # the frame after hello may come first
        got = [*frames(first), *[await live.of_type("frame", ack=False) for _ in range(2 - len(frames(first)))]]
        latest = await trained_past(api, got[-1]["step"] + 10)  # training went on without the client
        assert frames(await live.collect(QUIET, ack=False)) == []  # and nothing more was sent: no credit
        await live.send({"type": "ack"})
        newest = await live.of_type("frame", ack=False)
        assert newest["step"] >= latest  # the newest frame, not a backlog
        assert frames(await live.collect(QUIET, ack=False)) == []  # one credit: exactly one frame
        await live.send({"type": "pause"})


async def test_slow_reader_costs_no_memory_and_gets_no_backlog(live_server: LiveServer, rest: httpx.AsyncClient):
    """A stalled tab (never reads, so never acks) holds no queue on the server; a greedy client that acks
    blindly without reading is held back by TCP: the server's memory stays flat for both."""
    api = await new_session(rest, {**SMALL, "hidden": [8] * 6})
    url = f"{live_server.ws_url}/api/sessions/{api.id}/ws"
    auth = json.dumps({"type": "auth", "token": api.token})
    async with (
        connect(live_server, api) as driver,
        websockets.connect(url, open_timeout=WAIT, max_queue=4, compression=None) as slow,
        websockets.connect(url, open_timeout=WAIT, max_queue=4, compression=None) as greedy,
    ):
        await slow.send(auth)
        await greedy.send(auth)
        await driver.send({"type": "play"})
        await driver.of_type("status")
        rss0 = rss_kb(live_server.pid)
        end = time.monotonic() + 5.0
        while time.monotonic() < end:  # the driver keeps watching; the other two sockets are never read
            await greedy.send('{"type": "ack"}')
            with contextlib.suppress(TimeoutError):
                await driver.recv(0.04)
        rss1 = rss_kb(live_server.pid)
        assert rss1 - rss0 < 30 * 1024, (rss0, rss1)
        assert (await rest.get("/api/health")).status_code == 200

        buffered: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            while True:
                buffered.append(decode(await asyncio.wait_for(slow.recv(), 0.3)))
        kinds = [m["type"] for m in buffered]
        assert kinds[0] == "hello" and kinds.count("frame") <= 2 and len(kinds) <= 5, kinds
        latest = (await api.get())["step"]
        await slow.send(json.dumps({"type": "ack"}))
        fresh = decode(await asyncio.wait_for(slow.recv(), WAIT))
        while fresh["type"] != "frame":
            fresh = decode(await asyncio.wait_for(slow.recv(), WAIT))
        assert fresh["step"] >= latest  # the newest frame, not an old one
        await driver.send({"type": "pause"})
        backlog = 0  # the greedy client's backlog: what TCP held, at most one frame per 1/fps it acked
        with contextlib.suppress(TimeoutError):
            while True:
                await asyncio.wait_for(greedy.recv(), 0.3)
                backlog += 1
        assert backlog <= 5 * 25 + 5


# -- step, trace, set, reset, set_weight, gradcheck -----------------------------------------------------


def check_phase_order(phases: list[dict[str, Any]], layers: int, update: bool) -> None:
    """forward 1..L, cost, backward L..2, gradient L−1..1, then (a step) update 1..L−1."""
    expected = [("forward", i) for i in range(1, layers + 1)] + [("cost", None)]
    expected += [("backward", i) for i in range(layers, 1, -1)]
    expected += [("gradient", i) for i in range(layers - 1, 0, -1)]
    if update:
        expected += [("update", i) for i in range(1, layers)]
    assert [(p["phase"], p.get("layer")) for p in phases] == expected


def check_against_backprop(trace: dict[str, Any], ref: dict[str, Any]) -> None:
    """The trace's numbers equal POST …/backprop on the same samples at the same weights."""
    by = {(p["phase"], p.get("layer")): p for p in trace["phases"]}
    for layer in ref["layers"]:
        fwd = by[("forward", layer["layer"])]
        assert close(fwd["a"], layer["a"])
        if layer["layer"] > 1:
            assert close(fwd["z"], layer["z"])
            assert close(by[("backward", layer["layer"])]["delta"], layer["delta"])
    for i, d in enumerate(ref["gradients"], start=1):
        assert close(by[("gradient", i)]["D"], d)
    cost = by[("cost", None)]
    for key in ("data", "regularization", "total"):
        assert math.isclose(cost[key], ref["cost"][key], rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize(("unit", "sample"), [("sample", None), ("sample", 7), ("batch", None), ("epoch", None)])
async def test_step_trace(live_server: LiveServer, rest: httpx.AsyncClient, unit: str, sample: int | None):
    api = await new_session(rest, {**SMALL, "hidden": [3, 2], "regularization": "l2", "reg_rate": 0.01})
    async with connect(live_server, api) as live:
        await live.send({"type": "step", "unit": "batch"})  # start mid-epoch
        await live.of_type("trace")
        start = await api.get()
        before = await api.weights()
        msg: dict[str, Any] = {"type": "step", "unit": unit}
        if sample is not None:
            msg["sample"] = sample
        await live.send(msg)
        trace = await live.of_type("trace")
    assert trace["kind"] == "step" and trace["unit"] == unit
    layers = len(start["layer_sizes"])
    check_phase_order(trace["phases"], layers, update=True)
    expected_m = {"sample": 1, "batch": 10, "epoch": 10}[unit]
    assert len(trace["indices"]) == expected_m
    if sample is not None:
        assert trace["indices"] == [sample]
    for p in trace["phases"]:
        if p["phase"] in ("forward", "cost", "backward"):  # rows per sample (updates are shaped like Θ)
            assert all(len(p[key]) == expected_m for key in ("a", "z", "delta", "y") if key in p)
    updates = [p for p in trace["phases"] if p["phase"] == "update"]
    traced_before = [np.asarray(p["before"]) for p in updates]
    for p in updates:
        assert close(p["after"], np.asarray(p["before"]) + np.asarray(p["delta"]))
    now = await api.get()
    for p, w in zip(updates, await api.weights(), strict=True):
        assert close(p["after"], w)
    if unit == "epoch":
        assert now["epoch"] == start["epoch"] + 1
        assert now["step"] == start["step"] + 9  # the rest of an epoch of 10 batches, one of which was done
        assert trace["step"] == now["step"]
    else:
        assert now["step"] == start["step"] + 1 == trace["step"]
        for b, w in zip(traced_before, before, strict=True):
            assert close(b, w)
    assert trace["learning_rate"] == SMALL.get("learning_rate", 0.03)
    # the same samples at the weights the pass used, through REST
    await api.call("PUT", "/weights", json={"weights": [b.tolist() for b in traced_before]})
    ref = await api.call("POST", "/backprop", json={"samples": trace["indices"]})
    check_against_backprop(trace, ref)


async def test_step_while_playing_pauses_first(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        await live.until(lambda m: m["type"] == "frame" and m["status"] == "playing")
        await live.send({"type": "step", "unit": "batch"})
        trace, before = await live.until(lambda m: m["type"] == "trace")
        seen = [*before, trace]
        if not any(m["type"] == "status" and m["status"] == "paused" for m in seen):  # it may follow the trace
            stopped, more = await live.until(lambda m: m["type"] == "status" and m["status"] == "paused")
            seen += [*more, stopped]
        seen += await live.collect(QUIET)  # and no status after it
        statuses = [m["status"] for m in seen if m["type"] == "status"]
        assert statuses[-1:] == ["paused"], [(m["type"], m.get("status"), m.get("step")) for m in seen]
        state = await api.get()
        assert state["status"] == "paused" and state["step"] == trace["step"]


async def test_probe_trace_changes_nothing(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "step", "unit": "batch"})
        await live.of_type("trace")
        start = await api.get()
        await live.send({"type": "trace", "sample": 5})
        trace = await live.of_type("trace")
        assert trace["kind"] == "probe" and trace["indices"] == [5]
        assert trace["step"] == start["step"]
        check_phase_order(trace["phases"], len(start["layer_sizes"]), update=False)
        now = await api.get()
        assert now["step"] == start["step"] and now["weights"] == start["weights"]
        check_against_backprop(trace, await api.call("POST", "/backprop", json={"samples": [5]}))
        await live.send({"type": "trace", "sample": 100})  # 100 training samples: indices 0..99
        err = await live.of_type("error")
        assert err["code"] == "invalid" and err["field"] == "sample"


async def test_set_keeps_the_weights_and_announces_the_state(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        await live.collect(0.3)
        await live.send({"type": "set", "learning_rate": 0.2})
        state = await live.of_type("state")
        assert state["session"]["config"]["learning_rate"] == 0.2
        assert (await live.of_type("frame"))["status"] == "playing"  # still playing
        await live.send({"type": "pause"})
        await live.until(lambda m: m["type"] == "status" and m["status"] == "paused")
        await live.collect(0.2)
        before = await api.weights()
        await live.send({"type": "set", "learning_rate": 0.05, "batch_size": 5, "optimizer": "momentum"})
        state = (await live.of_type("state"))["session"]
        assert (state["config"]["learning_rate"], state["config"]["batch_size"]) == (0.05, 5)
        assert state["config"]["optimizer"] == "momentum"
        after = await api.weights()
        for b, a in zip(before, after, strict=True):
            np.testing.assert_array_equal(b, a)
        for b, a in zip(before, state["weights"], strict=True):
            np.testing.assert_array_equal(b, a)
        assert (await api.get())["config"] == state["config"]


async def test_set_steps_per_frame(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "set", "steps_per_frame": 1})
        await live.of_type("state")
        await live.send({"type": "play"})
        await live.of_type("status")
        got = [await live.of_type("frame") for _ in range(5)]
        assert all(f["steps_per_frame"] == 1 for f in got)
        steps = [f["step"] for f in got]
        assert statistics.median(b - a for a, b in itertools.pairwise(steps)) <= 2, steps  # ≈ 1 a frame
        await live.send({"type": "set", "steps_per_frame": 0})  # one epoch (10 batches) per frame
        await live.of_type("state")
        assert (await live.of_type("frame"))["steps_per_frame"] == 10  # every frame after the state
        await live.send({"type": "set", "probe": 42})  # the sample whose values frames carry
        await live.of_type("state")
        assert (await live.of_type("frame"))["probe"]["sample"] == 42
        await live.send({"type": "pause"})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"learning_rate": -1}, "learning_rate"),
        ({"activation": "cosine"}, "activation"),
        ({"bogus": 1}, "bogus"),
        ({"steps_per_frame": -2}, "steps_per_frame"),
        ({"probe": 100}, "probe"),
        ({"hidden": [0]}, "hidden"),
    ],
)
async def test_set_invalid_changes_nothing(
    live_server: LiveServer, rest: httpx.AsyncClient, change: dict[str, Any], field: str
):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        before = await api.get()
        await live.send({"type": "set", **change})
        err = await live.of_type("error")
        assert err["code"] == "invalid"
        assert err["field"] is not None and err["field"].startswith(field), err
        assert await api.get() == before
        assert [m for m in await live.collect(0.2) if m["type"] == "state"] == []


async def test_reset_and_set_weight(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        initial = live.hello["session"]["weights"]
        for _ in range(3):
            await live.send({"type": "step", "unit": "batch"})
            await live.of_type("trace")
        assert (await api.get())["step"] == 3
        await live.send({"type": "reset"})
        state = (await live.of_type("state"))["session"]
        assert state["step"] == 0 and state["epoch"] == 0
        assert state["weights"] == initial  # the same seed, the same weights

        await live.send({"type": "set_weight", "layer": 2, "row": 1, "column": 3, "value": 0.625})
        state = (await live.of_type("state"))["session"]
        assert state["weights"][1][1][3] == 0.625
        rest_weights = await api.weights()
        assert rest_weights[1][1, 3] == 0.625
        assert state["weights"] == [w.tolist() for w in rest_weights]

        await live.send({"type": "set_weight", "layer": 9, "row": 0, "column": 0, "value": 1.0})
        err = await live.of_type("error")
        assert (err["code"], err["field"]) == ("invalid", "layer")
        await live.send({"type": "set_weight", "layer": 1, "row": 0, "column": 0})
        err = await live.of_type("error")
        assert (err["code"], err["field"]) == ("invalid", "value")
        assert [w.tolist() for w in await api.weights()] == state["weights"]

        await live.send({"type": "reset", "seed": 7})
        state = (await live.of_type("state"))["session"]
        assert state["config"]["seed"] == 7 and state["weights"] != initial


async def test_frame_metrics_follow_a_hand_edited_weight_at_once(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        first = await live.of_type("frame")  # a new viewer gets the current frame at once
        await live.send({"type": "set_weight", "layer": 3, "row": 0, "column": 0, "value": 5.0})
        state = (await live.of_type("state"))["session"]
        frame = await live.of_type("frame")
        assert frame["step"] == first["step"] == 0
        assert frame["metrics"]["train_loss"] != first["metrics"]["train_loss"]
        assert math.isclose(frame["metrics"]["train_loss"], state["metrics"]["train_loss"], rel_tol=1e-12)
        np.testing.assert_allclose(frame["_arrays"]["W3"], state["weights"][2], rtol=1e-6)


async def test_gradcheck(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "gradcheck"})
        check = await live.of_type("gradcheck")
        assert check["step"] == 0 and check["m"] == 32
        assert check["max_relative_error"] < 1e-6
        assert len(check["layers"]) == 3
        await live.send({"type": "gradcheck", "samples": [1, 2, 3], "epsilon": 1e-4})
        check = await live.of_type("gradcheck")
        assert check["m"] == 3 and check["max_relative_error"] < 1e-4
        await live.send({"type": "gradcheck", "samples": [1000]})
        err = await live.of_type("error")
        assert (err["code"], err["field"]) == ("invalid", "samples")


# -- malformed messages, rate limit ------------------------------------------------------------------------


async def test_malformed_messages_get_errors(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        cases: list[tuple[str | bytes, str]] = [
            ("{not json", "bad_json"),
            ("[1, 2]", "bad_json"),
            (json.dumps({"type": "dance"}), "unknown_type"),
            (json.dumps({"kind": "play"}), "unknown_type"),
            (b"\x00\x01binary", "binary"),
            (json.dumps({"type": "step", "unit": "century"}), "invalid"),
            (json.dumps({"type": "trace"}), "invalid"),
            (json.dumps({"type": "play", "speed": "ludicrous"}), None),  # extra fields on play are ignored
        ]
        for raw, code in cases:
            await live.send(raw)
            if code is None:
                await live.until(lambda m: m["type"] == "status" and m["status"] == "playing")
                await live.send({"type": "pause"})
                await live.until(lambda m: m["type"] == "status" and m["status"] == "paused")
                continue
            err = await live.of_type("error")
            assert err["code"] == code, (raw, err)
            assert err["message"]
        await live.send({"type": "trace", "sample": 0})
        assert (await live.of_type("trace"))["kind"] == "probe"  # the connection is still up


async def test_oversized_message(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send(json.dumps({"type": "trace", "pad": "x" * (65 * 1024)}))
        assert await closed_with(live.ws) == 1009
    r = await rest.get("/api/health")
    assert r.status_code == 200
    async with connect(live_server, api) as live:  # the server is still up and serving sockets
        await live.send({"type": "trace", "sample": 0})
        assert (await live.of_type("trace"))["kind"] == "probe"


async def test_rate_limit(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        for _ in range(300):
            await live.send({"type": "ack"})
        for _ in range(100):  # 60 a second pass, the rest is dropped, each answered
            assert (await live.of_type("error"))["code"] == "rate_limited"
        async with asyncio.timeout(WAIT):  # the budget refills (the window is a second): a trace gets through
            while True:
                await live.send({"type": "trace", "sample": 1})
                with contextlib.suppress(TimeoutError):  # dropped (the burst's errors still arrive): ask again
                    answer, _ = await live.until(lambda m: m["type"] == "trace", timeout=0.25)
                    break
        assert answer["indices"] == [1]


# -- divergence, reconnecting, deleting --------------------------------------------------------------------


async def test_divergence_stops_the_run_cleanly(live_server: LiveServer, rest: httpx.AsyncClient):
    config = {
        "dataset": {"name": "plane", "samples": 200},
        "hidden": [8, 8],
        "activation": "relu",
        "learning_rate": 100,
        "optimizer": "sgd",
        "seed": 3,
    }
    api = await new_session(rest, config)
    assert api.created["task"] == "regression"
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        status, seen = await live.until(lambda m: m["type"] == "status" and m["status"] == "diverged", timeout=10)
        assert status["divergence"]["reason"] and status["divergence"]["step"] >= 1
        seen += await live.collect(0.5)
        for f in frames(seen):
            for name, arr in f["_arrays"].items():
                assert np.isfinite(arr).all(), (name, f["step"])
        state = await api.get()
        assert state["status"] == "diverged" and state["divergence"]["reason"] == status["divergence"]["reason"]
        assert all(np.isfinite(np.asarray(w)).all() for w in state["weights"])
        await live.send({"type": "play"})
        err = await live.of_type("error")
        assert err["code"] == "diverged"
        await live.send({"type": "step", "unit": "batch"})
        assert (await live.of_type("error"))["code"] == "diverged"
        await live.send({"type": "reset"})  # a reset trains again
        await live.of_type("state")
        await live.send({"type": "set", "learning_rate": 0.001})
        await live.of_type("state")
        await live.send({"type": "play"})
        assert (await live.of_type("status"))["status"] == "playing"
        await live.send({"type": "pause"})


async def test_reconnect_to_a_playing_session(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        last = (await live.until(lambda m: m["type"] == "frame" and m["step"] > 0))[0]["step"]
    async with connect(live_server, api) as live:
        assert live.hello["session"]["status"] == "playing"
        assert live.hello["session"]["step"] >= last
        got = [await live.of_type("frame") for _ in range(2)]
        assert got[0]["step"] >= last and got[1]["step"] > got[0]["step"]
        await live.send({"type": "pause"})
        await live.until(lambda m: m["type"] == "status" and m["status"] == "paused")


async def test_two_viewers_see_the_same_run(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as a, connect(live_server, api) as b:
        await a.send({"type": "set_weight", "layer": 1, "row": 0, "column": 0, "value": 0.5})
        assert (await a.of_type("state"))["session"]["weights"][0][0][0] == 0.5
        assert (await b.of_type("state"))["session"]["weights"][0][0][0] == 0.5
        await b.send({"type": "play"})
        assert (await a.of_type("status"))["status"] == "playing"
        assert (await a.of_type("frame"))["status"] == "playing"
        await a.send({"type": "pause"})
        await b.until(lambda m: m["type"] == "status" and m["status"] == "paused")


async def test_deleting_the_session_closes_the_socket_with_4404(live_server: LiveServer, rest: httpx.AsyncClient):
    api = await new_session(rest)
    async with connect(live_server, api) as live:
        await live.send({"type": "play"})
        await live.of_type("frame")
        await api.call("DELETE")
        assert await closed_with(live.ws) == 4404
    url = f"{live_server.ws_url}/api/sessions/{api.id}/ws"
    async with websockets.connect(url, open_timeout=WAIT) as ws:
        await ws.send(json.dumps({"type": "auth", "token": api.token}))
        assert await closed_with(ws) == 1008


@pytest.fixture(scope="module")
def long_call_server() -> Iterator[LiveServer]:
    """A server whose gradient checks may run for 3 s (the default bounds end them within a fraction of one)."""
    env = {"BPP_GRADCHECK_MAX_WORK": "1e12", "BPP_MAX_GRADCHECK_WEIGHTS": "30000", "BPP_MAX_CALL_SECONDS": "3"}
    server = LiveServer(env=env).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("path", "body"),
    [("/train", {"steps": 100_000}), ("/gradcheck", {"samples": list(range(256))})],
    ids=["train", "gradcheck"],
)
async def test_two_students_long_calls_do_not_hold_up_a_third_students_play(
    long_call_server: LiveServer, path: str, body: dict[str, Any]
):
    """Two students each play a session and make a long REST call on it at the same time: a train call (it holds
    the run until it answers, in slices) or a gradient check (one piece of up to BPP_MAX_CALL_SECONDS). A third
    student's playing session must keep getting frames meanwhile. It did not: a play loop waiting for its own
    session held a place among the play slices (1–2 frames in 2 s), and two gradient checks filled the engine
    pool's two threads (1–2 frames); long one-piece calls now run on the store's ``one_offs`` pool."""
    server = long_call_server
    heavy = {**SMALL, "dataset": {"name": "circle", "samples": 2000}, "hidden": [64] * 8, "batch_size": 100}
    clients = [httpx.AsyncClient(base_url=server.url, timeout=60) for _ in range(3)]  # a cookie, a client each
    try:
        apis = [
            await new_session(clients[0], heavy),
            await new_session(clients[1], heavy),
            await new_session(clients[2]),
        ]
        async with contextlib.AsyncExitStack() as stack:
            lives = [await stack.enter_async_context(connect(server, api)) for api in apis]
            for live in lives:
                await live.send({"type": "play"})
                await live.of_type("frame")
            calls = [asyncio.create_task(api.call("POST", path, json=body)) for api in apis[:2]]
            await asyncio.sleep(0.5)  # both calls hold their sessions; both play loops wait for them
            assert not any(t.done() for t in calls)
            shown = frames(await lives[2].collect(2.0))
            for api in apis[:2]:
                await api.call("DELETE")  # a deleted session's train call stops at its next slice
            await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), WAIT)
        assert len(shown) >= 10, f"the third student got {len(shown)} frames in 2 s during the others' calls"
    finally:
        for c in clients:
            await c.aclose()
