"""A hostile student against a real server: what the limits hold, in figures.

    .venv/bin/python bench/abuse.py [--section sockets|memory|heavy|all]

- **memory**: a server with a memory budget (``--budget-mb``, default 2000) is filled with the largest
  sessions the limits allow (64 inputs, 64 outputs, 8 hidden layers of 64 units), first by one address
  using many client ids (stopped at its share of the budget, 429), then from more loopback addresses
  (127.0.0.2, …) until the server is full (503). It prints, after each session, the budget's accounting
  and the server's resident memory (RSS, from /proc), and the RSS after every session is deleted.
- **heavy**: one client starts two heavy calls at once (a gradcheck on 256 samples of the largest network,
  and a 60-second train call), while another client reads its own session with ``GET`` in a loop; prints
  what the two heavy calls answered (one is refused with 429), and the other client's read latencies: count,
  median, p95 and slowest (target: p95 under 100 ms).
- **sockets**: sockets one address may hold (written with the per-address socket limit).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import LiveServer

MB = 1024 * 1024
BIG_NETWORK = {"hidden": [64] * 8, "activation": "tanh", "batch_size": 32}


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def big_data(samples: int, seed: int = 0) -> dict[str, Any]:
    """Custom regression data as large as the default limits allow: 64 inputs, 64 outputs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 64)).round(6)
    y = np.tanh(x[:, ::-1] * 0.5).round(6)
    return {"name": "custom", "x": x.tolist(), "y": y.tolist(), "task": "regression"}


def client_for(server: LiveServer, address: str, tag: str) -> httpx.AsyncClient:
    """An HTTP client from a given loopback address, with its own cookies and client tag."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=server.url, transport=transport, timeout=120, headers={"X-BPP-Client": tag})


# -- memory ---------------------------------------------------------------------------------------------------


async def memory(budget_mb: int, samples: int) -> None:
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
            http = client_for(server, address, f"s{n}")
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


async def heavy(samples: int) -> None:
    """Two heavy calls from one client; another client's GET latencies meanwhile."""
    server = LiveServer(env={"BPP_CREATE_RATE": "100000/minute"}).start()
    try:
        async with (
            client_for(server, "127.0.0.1", "hostile") as hostile,
            client_for(server, "127.0.0.2", "other") as other,
        ):
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
            async with client_for(server, "127.0.0.1", "accomplice") as accomplice:
                await measure(
                    "two clients of one address, one heavy call each (both engine threads busy)",
                    [
                        ("gradcheck 256 samples", hostile.post(url + "/gradcheck", headers=headers, json=gradcheck)),
                        ("train 3000 steps", accomplice.post(url + "/train", headers=headers, json={"steps": 3000})),
                    ],
                )
    finally:
        server.stop()


def main() -> None:
    """Run the chosen sections."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=("sockets", "memory", "heavy", "all"), default="all")
    parser.add_argument("--budget-mb", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=20_000, help="samples in each big session's data")
    args = parser.parse_args()
    if args.section in ("memory", "all"):
        asyncio.run(memory(args.budget_mb, args.samples))
    if args.section in ("heavy", "all"):
        asyncio.run(heavy(args.samples))
    if args.section in ("sockets", "all"):
        print("sockets: see the per-address socket limit's section")


if __name__ == "__main__":
    main()
