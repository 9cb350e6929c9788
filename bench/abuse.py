"""Abuse: what one hostile address can do to a shared classroom server, measured section by section.

    .venv/bin/python bench/abuse.py [--section sockets|all] [--sockets 1000]

Every section starts its own server (tests/conftest.py's LiveServer: ``backprop-playground serve`` on a free
loopback port) with ``BPP_TRUSTED_PROXIES=127.0.0.1``, so that this one process can act as many addresses by
sending ``X-Forwarded-For`` as a trusted proxy would, and prints its figures.

- ``sockets``: one address opens ``--sockets`` room sockets at once (as a script would, to hold the server's
  files). Prints how many were accepted (hello received) and how many refused (close 1013, "try again
  later") against ``BPP_MAX_SOCKETS_PER_ADDRESS``, how long the whole attempt took, how long another address
  then takes to connect and get its hello (and the loopback address with no header), how many log lines the
  refusals wrote, the server's open-file limit (raised to the hard limit at start) and its RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import LiveServer  # noqa: E402

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


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {"sockets": sockets}


def main(argv: list[str] | None = None) -> None:
    """Run the named section, or all of them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=[*SECTIONS, "all"], default="all")
    parser.add_argument("--sockets", type=int, default=1000, help="sockets one address tries to open")
    args = parser.parse_args(argv)
    for name, section in SECTIONS.items():
        if args.section in (name, "all"):
            section(args)


if __name__ == "__main__":
    main()
