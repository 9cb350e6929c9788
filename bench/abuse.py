"""Abuse: what one hostile address can do to a shared classroom server, measured section by section.

    .venv/bin/python bench/abuse.py [--section sockets|memory|heavy|all] [--sockets 1000] [--budget-mb 2000]

Every section starts its own server (tests/conftest.py's LiveServer: ``backprop-playground serve`` on a free
loopback port) with ``BPP_TRUSTED_PROXIES=127.0.0.1``, so that this one process can act as many addresses by
sending ``X-Forwarded-For`` as a trusted proxy would, and prints its figures.

- ``sockets``: one address opens ``--sockets`` room sockets at once (as a script would, to hold the server's
  files). Prints how many were accepted (hello received) and how many refused (close 1013, "try again
  later") against ``BPP_MAX_SOCKETS_PER_ADDRESS``, how long the whole attempt took, how long another address
  then takes to connect and get its hello (and the loopback address with no header), how many log lines the
  refusals wrote, the server's open-file limit (raised to the hard limit at start) and its RSS.
- ``memory``: a server with a memory budget (``--budget-mb``) is filled with the largest sessions the limits
  allow (64 inputs, 64 outputs, 8 hidden layers of 64 units; ``--samples`` samples), first by several clients
  of one address (stopped at the address's share of the budget, 429), then from more loopback addresses
  (127.0.0.2, …, as clients of their own) until the server is full (503). Prints, after each attempt, the
  budget's accounting and the server's RSS (from /proc), and the RSS after every session is deleted.
- ``heavy``: one client starts two heavy calls at once (a gradcheck on 256 samples of the largest network and
  a train call), while another client reads its own session with ``GET`` in a loop; then two clients of one
  address run one each. Prints what the calls answered (one client's second is refused, 429) and the other
  client's read latencies: count, median, p95 and slowest (target: p95 under 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from helpers import LiveServer  # noqa: E402

WAIT = 30.0
SMALL = {"dataset": {"name": "xor", "samples": 20}, "hidden": [3]}


def raise_own_file_limit() -> None:
    """This client holds a file per socket too."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_files_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return line.split()[3]
    return "?"


# -- sockets --------------------------------------------------------------------------------------------------


async def _open(url: str, headers: dict[str, str] | None) -> tuple[str, Any]:
    """One socket: ("accepted", ws) once its hello arrived, ("refused", code) when closed first, ("failed", why)."""
    try:
        ws = await websockets.connect(url, additional_headers=headers, open_timeout=WAIT, compression=None)
    except (OSError, TimeoutError, websockets.InvalidHandshake) as err:
        return "failed", type(err).__name__
    try:
        msg = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        return ("accepted", ws) if msg.get("type") == "hello" else ("failed", msg.get("type"))
    except ConnectionClosed as closed:
        return "refused", closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        await ws.close()
        return "failed", "no hello"


async def _connect_time(url: str, headers: dict[str, str] | None) -> tuple[str, float]:
    start = time.perf_counter()
    outcome, value = await _open(url, headers)
    took = (time.perf_counter() - start) * 1000
    if outcome == "accepted":
        await value.close()
    return outcome, took


def sockets(args: argparse.Namespace) -> None:
    """One address tries to hold ``--sockets`` sockets; another address still connects."""
    raise_own_file_limit()
    env = {"BPP_TRUSTED_PROXIES": "127.0.0.1", "BPP_CREATE_RATE": "100000/minute"}
    server = LiveServer(env).start()
    try:
        created = httpx.post(server.url + "/api/sessions", json=SMALL, timeout=WAIT).json()
        room = httpx.post(
            server.url + "/api/rooms",
            json={"session_id": created["id"]},
            headers={"Authorization": f"Bearer {created['token']}"},
            timeout=WAIT,
        ).json()
        url = f"{server.ws_url}/api/rooms/{room['code']}/ws"
        attacker, other = {"X-Forwarded-For": "203.0.113.66"}, {"X-Forwarded-For": "203.0.113.67"}

        async def run() -> None:
            start = time.perf_counter()
            results = await asyncio.gather(*(_open(url, attacker) for _ in range(args.sockets)))
            took = time.perf_counter() - start
            held = [value for outcome, value in results if outcome == "accepted"]
            refused = [value for outcome, value in results if outcome == "refused"]
            failed = [value for outcome, value in results if outcome == "failed"]
            codes = sorted(set(refused), key=str)
            print(
                f"sockets: one address asked for {args.sockets} sockets in {took:.1f} s: {len(held)} accepted, "
                f"{len(refused)} refused (close codes {codes}), {len(failed)} failed otherwise"
                + (f" ({sorted(set(failed))[:3]})" if failed else "")
            )
            for label, headers in (("another address", other), ("loopback, no header", None)):
                outcome, ms = await _connect_time(url, headers)
                print(f"sockets: {label} while those {len(held)} stay open: {outcome} in {ms:.1f} ms (hello)")
            print(f"sockets: server RSS {rss_mb(server.pid):.0f} MB holding {len(held)} sockets")
            await asyncio.gather(*(ws.close() for ws in held))

        asyncio.run(run())
        log = Path(server.log.name).read_text()
        lines = sum(1 for line in log.splitlines() if "refusing live sockets" in line)
        tracebacks = log.count("Traceback")
        print(f"sockets: log lines about refused sockets: {lines}; tracebacks in the log: {tracebacks}")
        print(f"sockets: the server's open-file limit: {open_files_limit(server.pid)} (soft, raised at start)")
    finally:
        server.stop()


MB = 1024 * 1024
BIG_NETWORK = {"hidden": [64] * 8, "activation": "tanh", "batch_size": 32}


def big_data(samples: int, seed: int = 0) -> dict[str, Any]:
    """Custom regression data as large as the default limits allow: 64 inputs, 64 outputs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 64)).round(6)
    y = np.tanh(x[:, ::-1] * 0.5).round(6)
    return {"name": "custom", "x": x.tolist(), "y": y.tolist(), "task": "regression"}


async def client_for(server: LiveServer, address: str) -> httpx.AsyncClient:
    """An HTTP client from a given loopback address, with its own cookie jar and the client cookie the server
    issues (asked for with a first request), so that it counts as a client of its own."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    http = httpx.AsyncClient(base_url=server.url, transport=transport, timeout=120)
    await http.get("/api/health")
    return http


# -- memory ---------------------------------------------------------------------------------------------------


def memory(args: argparse.Namespace) -> None:
    """RSS against the budget while one address, then several, try to fill the server; RSS after deleting."""
    asyncio.run(_memory(args.budget_mb, args.samples))


async def _memory(budget_mb: int, samples: int) -> None:
    """RSS against the budget while one address, then several, try to fill the server; RSS after deleting."""
    server = LiveServer(env={"BPP_MAX_MEMORY_MB": str(budget_mb), "BPP_CREATE_RATE": "100000/minute"}).start()
    try:
        base = rss_mb(server.pid)
        print(f"memory: budget {budget_mb} MB (BPP_MAX_MEMORY_MB), share per client and address 25 %")
        print(f"  server idle: RSS {base:.0f} MB")
        config = {"dataset": big_data(samples), **BIG_NETWORK}
        created: list[tuple[httpx.AsyncClient, str, dict[str, str]]] = []
        clients: list[httpx.AsyncClient] = []
        refusals: dict[str, str] = {}
        print(f"  each session: {samples} samples × (64 inputs + 64 outputs), network 64-{'-'.join(['64'] * 8)}-64")
        print(f"  {'#':>3} {'from':<10} {'client':<8} {'answer':>6} {'accounted MB':>13} {'RSS MB':>8}")
        addresses = ["127.0.0.1"] * 6 + [f"127.0.0.{i}" for i in range(2, 12)]
        for n, address in enumerate(addresses):
            http = await client_for(server, address)
            clients.append(http)
            r = await http.post("/api/sessions", json=config)
            health = (await http.get("/api/health")).json()
            used = health["memory"]["used_mb"]
            rss = rss_mb(server.pid)
            print(f"  {n + 1:>3} {address:<10} {'s' + str(n):<8} {r.status_code:>6} {used:>13.0f} {rss:>8.0f}")
            if r.status_code == 201:
                body = r.json()
                created.append((http, f"/api/sessions/{body['id']}", {"Authorization": f"Bearer {body['token']}"}))
            else:
                refusals.setdefault(str(r.status_code), r.json()["detail"])
                if r.status_code == 503:
                    break
        for status, detail in refusals.items():
            print(f"  first {status}: {detail}")
        full = rss_mb(server.pid)
        print(f"  full: {len(created)} sessions, RSS {full:.0f} MB = {full / budget_mb:.0%} of the budget")
        for http, url, headers in created:
            # train a little and trace, so that every cache the footprint counts is really allocated
            await http.post(url + "/train", headers=headers, json={"steps": 20})
        trained = rss_mb(server.pid)
        print(f"  after training each: RSS {trained:.0f} MB = {trained / budget_mb:.0%} of the budget")
        for http, url, headers in created:
            r = await http.delete(url, headers=headers)
            assert r.status_code == 204, r.text
        await asyncio.sleep(0.5)
        after = rss_mb(server.pid)
        print(f"  after deleting every session: RSS {after:.0f} MB (idle was {base:.0f} MB)")
        for http in clients:
            await http.aclose()
    finally:
        server.stop()


# -- heavy ----------------------------------------------------------------------------------------------------


def heavy(args: argparse.Namespace) -> None:
    """Two heavy calls from one client; another client's GET latencies meanwhile."""
    asyncio.run(_heavy(args.samples))


async def _heavy(samples: int) -> None:
    """Two heavy calls from one client; another client's GET latencies meanwhile."""
    server = LiveServer(env={"BPP_CREATE_RATE": "100000/minute"}).start()
    try:
        async with contextlib.AsyncExitStack() as clients:
            hostile, other = await client_for(server, "127.0.0.1"), await client_for(server, "127.0.0.2")
            clients.push_async_callback(hostile.aclose)
            clients.push_async_callback(other.aclose)
            r = await hostile.post("/api/sessions", json={"dataset": big_data(samples), **BIG_NETWORK})
            r.raise_for_status()
            big = r.json()
            url, headers = f"/api/sessions/{big['id']}", {"Authorization": f"Bearer {big['token']}"}
            r = await other.post("/api/sessions", json={"dataset": {"name": "circle", "samples": 500}})
            mine = r.json()
            mine_url, mine_headers = f"/api/sessions/{mine['id']}", {"Authorization": f"Bearer {mine['token']}"}
            for _ in range(5):  # warm up
                await other.get(mine_url, headers=mine_headers)

            async def measure(title: str, calls: list[tuple[str, Any]]) -> None:
                latencies: list[float] = []
                done = asyncio.Event()

                async def reads() -> None:
                    while not done.is_set():
                        t0 = time.perf_counter()
                        r = await other.get(mine_url, headers=mine_headers)
                        latencies.append(time.perf_counter() - t0)
                        assert r.status_code == 200
                        await asyncio.sleep(0.01)

                reader = asyncio.create_task(reads())
                t0 = time.perf_counter()
                answers = await asyncio.gather(*(call for _, call in calls))
                elapsed = time.perf_counter() - t0
                done.set()
                await reader
                print(f"heavy: {title}; both answered after {elapsed:.1f} s")
                for (name, _), r in zip(calls, answers, strict=True):
                    body = r.json()
                    if r.status_code == 200 and "checked" in body:
                        what = f"checked {body['checked']} weights, complete={body['complete']}"
                    elif r.status_code == 200:
                        what = f"{body['steps_done']} steps, stopped_early={body['stopped_early']}"
                    else:
                        what = body["detail"]
                    print(f"  {name}: {r.status_code} {what}")
                ms = sorted(x * 1000 for x in latencies)
                p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
                print(
                    f"  another client's GET meanwhile: {len(ms)} reads, median {statistics.median(ms):.1f} ms, "
                    f"p95 {p95:.1f} ms, slowest {ms[-1]:.1f} ms (target p95 < 100 ms)"
                )

            gradcheck = {"samples": list(range(256))}
            await measure(
                "one client, two heavy calls at once",
                [
                    ("gradcheck 256 samples", hostile.post(url + "/gradcheck", headers=headers, json=gradcheck)),
                    ("train 3000 steps", hostile.post(url + "/train", headers=headers, json={"steps": 3000})),
                ],
            )
            accomplice = await client_for(server, "127.0.0.1")
            clients.push_async_callback(accomplice.aclose)
            await measure(
                "two clients of one address, one heavy call each (both engine threads busy)",
                [
                    ("gradcheck 256 samples", hostile.post(url + "/gradcheck", headers=headers, json=gradcheck)),
                    ("train 3000 steps", accomplice.post(url + "/train", headers=headers, json={"steps": 3000})),
                ],
            )
    finally:
        server.stop()


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {"sockets": sockets, "memory": memory, "heavy": heavy}


def main(argv: list[str] | None = None) -> None:
    """Run the named section, or all of them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=[*SECTIONS, "all"], default="all")
    parser.add_argument("--sockets", type=int, default=1000, help="sockets one address tries to open")
    parser.add_argument("--budget-mb", type=int, default=2000, help="BPP_MAX_MEMORY_MB of the memory section")
    parser.add_argument("--samples", type=int, default=20_000, help="samples in each big session's data")
    args = parser.parse_args(argv)
    for name, section in SECTIONS.items():
        if args.section in (name, "all"):
            section(args)


if __name__ == "__main__":
    main()
