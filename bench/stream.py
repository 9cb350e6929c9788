"""The live channel under load: frames per second per client, bytes per frame, step→trace latency, server CPU.

    .venv/bin/python bench/stream.py                          # 1 and 120 sessions, 10 s each, BPP_ENGINE_THREADS=2
    .venv/bin/python bench/stream.py --sessions 30 --workers 1,2,40
    .venv/bin/python bench/stream.py --shape 8x6 --sessions 1  # the 6-layer × 8-unit network's frames

For every (workers, sessions) pair it starts its own server (``python -m app.cli serve`` on a free loopback
port, no database), creates the sessions (default: hidden [8, 8], tanh, ``circle`` with 500 samples) and
opens one websocket per session that plays it and acks every frame right after receiving it, as the page
does. One more client, the probe, owns a paused session of the same shape and sends ``step`` (unit
``sample``) every 200 ms, timing each step until its ``trace`` arrives. After a warm-up the bench measures
for ``--seconds`` and prints, per run: frames per second per playing client (min, median), training steps
per second per session (min, median: how fairly the CPU is shared), bytes per frame (mean, max),
step→trace latency (p50, p95, max), the server's CPU time (utime + stime of /proc/PID/stat, as % of one
core and of the whole machine), its RSS at the start and end of the window, the CPU the bench's own
clients used (they run on the same machine) and what every other process on the machine used meanwhile
(from /proc/stat: on a shared machine, figures taken while others compete for the cores are not the
server's own).

``--steps-per-frame N`` has every client ``set`` its speed first (default: one epoch per frame, as the page
starts; 100000 = fast-forward, where the time-box of app/live.py decides). ``--profile DIR`` records where
the server's GIL goes during the window with py-spy (``pip install py-spy``; collapsed stacks, one file
per run).

Targets (docs/protocol.md and the issues): one session ≥ 25 fps with step→trace p95 ≤ 30 ms; 120 sessions at
once (the compiled engine's target; 30 before it), every client ≥ 10 fps with step→trace p95 ≤ 150 ms; a
frame of a 6 × 8 network ≤ 8 KB. The server is measured warm (its engine warm-up over).
``--workers`` compares engine pool sizes (BPP_ENGINE_THREADS): 1 and 2 threads, and 40 — the size of anyio's
default thread pool, which stands for "a thread per session" (see app/live.py's module docstring).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
WARMUP_S = 2.0
PROBE_PERIOD_S = 0.2
TARGET_FPS_ONE, TARGET_P95_ONE = 25.0, 30.0
TARGET_FPS_MANY, TARGET_P95_MANY, MANY = 10.0, 150.0, 120
TARGET_FRAME_BYTES_6X8 = 8 * 1024


# -- the server ------------------------------------------------------------------------------------------


class Server:
    """``python -m app.cli serve`` on a free loopback port with its own environment; its log goes to a file
    (an unread pipe would block it once full)."""

    def __init__(self, env: dict[str, str]) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = {**os.environ, "BPP_DB": "", "BPP_MAX_SESSIONS_PER_CLIENT": "1000", **env}
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"the server exited: {self.log.read().decode(errors='replace')}")
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(self.url + "/api/health", timeout=0.5)
                engine = r.json().get("engine", {}) if r.status_code == 200 else None
                # measure a warm server: its engine warm-up (loading the compiled kernels) is over
                if engine is not None and (
                    engine.get("ready") or engine.get("error") or engine.get("policy") != "auto"
                ):
                    return self
            time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (all its threads), in seconds."""
        assert self.proc is not None
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_mb(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def machine_busy() -> tuple[float, float, float]:
    """(busy, total, stolen) CPU time of the whole machine so far, in seconds (/proc/stat). Stolen: time a virtual
    machine's host gave its cores to others (on this project's VM, up to two thirds of a core at times: figures
    taken then are low)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, steal = values[3] + values[4], values[7]  # idle + iowait; steal
    return (sum(values) - idle - steal) / TICKS, sum(values) / TICKS, steal / TICKS


# -- the clients -----------------------------------------------------------------------------------------


@dataclass
class Window:
    """The measurement window: clients count only what arrives while ``on``."""

    on: bool = False
    done: bool = False


@dataclass
class Viewer:
    frames: int = 0
    sizes: list[int] = field(default_factory=list)
    first_step: int | None = None
    last_step: int | None = None
    errors: list[str] = field(default_factory=list)


def frame_step(data: bytes) -> int:
    """The ``step`` of a binary frame, from its JSON header."""
    n = int.from_bytes(data[4:8], "little")
    return int(json.loads(data[8 : 8 + n])["step"])


async def open_session(server: Server, session: dict[str, Any]) -> websockets.ClientConnection:
    ws = await websockets.connect(
        f"{server.ws_url}/api/sessions/{session['id']}/ws", open_timeout=10, compression=None, max_size=2**22
    )
    await ws.send(json.dumps({"type": "auth", "token": session["token"]}))
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert hello["type"] == "hello", hello
    return ws


async def acked(ws: websockets.ClientConnection, window: Window) -> AsyncIterator[str | bytes]:
    """Every message until the window is done, each frame acked as soon as it arrives (as the page does after
    drawing it)."""
    while not window.done:
        try:
            msg = await asyncio.wait_for(ws.recv(), 1.0)
        except TimeoutError:
            continue
        if isinstance(msg, bytes):
            await ws.send('{"type": "ack"}')
        yield msg


async def viewer(
    server: Server, session: dict[str, Any], stats: Viewer, window: Window, steps_per_frame: int | None
) -> None:
    """Play the session and ack every frame as soon as it arrives."""
    async with await open_session(server, session) as ws:
        if steps_per_frame is not None:
            await ws.send(json.dumps({"type": "set", "steps_per_frame": steps_per_frame}))
        await ws.send('{"type": "play"}')
        async for msg in acked(ws, window):
            if isinstance(msg, bytes):
                if window.on:
                    step = frame_step(msg)
                    stats.frames += 1
                    stats.sizes.append(len(msg))
                    stats.first_step = step if stats.first_step is None else stats.first_step
                    stats.last_step = step
            elif (m := json.loads(msg))["type"] == "error":
                stats.errors.append(m["code"])
        await ws.send('{"type": "pause"}')


async def prober(server: Server, session: dict[str, Any], latencies: list[float], window: Window) -> None:
    """Every 200 ms: ``step`` one sample and time it until its ``trace`` arrives (acking frames meanwhile)."""
    async with await open_session(server, session) as ws:
        while not window.done:
            started = time.perf_counter()
            await ws.send('{"type": "step", "unit": "sample"}')
            while True:
                msg = await asyncio.wait_for(ws.recv(), 10)
                if isinstance(msg, bytes):
                    await ws.send('{"type": "ack"}')
                    continue
                m = json.loads(msg)
                if m["type"] == "trace" and m["kind"] == "step":
                    break
                if m["type"] == "error":
                    raise RuntimeError(f"probe step refused: {m}")
            elapsed = time.perf_counter() - started
            if window.on:
                latencies.append(elapsed * 1000)
            await asyncio.sleep(max(0.0, PROBE_PERIOD_S - elapsed))


# -- one run ---------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Result:
    workers: int
    sessions: int
    shape: str
    seconds: float
    fps: list[float]
    steps_per_s: list[float]
    sizes: list[int]
    latencies: list[float]
    cpu_s: float
    rss: tuple[float, float]
    client_cpu_s: float
    machine_busy: float  # the share of all cores busy during the window (server, bench and anything else)
    machine_steal: float  # the share of all cores the VM's host took away during the window
    errors: list[str]

    def targets(self) -> list[tuple[str, bool]]:
        out = []
        p95 = percentile(self.latencies, 0.95)
        if self.sessions == 1:
            # within one frame over the window: frames are counted whole
            out += [(f"fps ≥ {TARGET_FPS_ONE:.0f}", min(self.fps) >= TARGET_FPS_ONE - 1.0 / self.seconds)]
            out += [(f"step→trace p95 ≤ {TARGET_P95_ONE:.0f} ms", p95 <= TARGET_P95_ONE)]
        if self.sessions >= MANY:
            out += [(f"every client ≥ {TARGET_FPS_MANY:.0f} fps", min(self.fps) >= TARGET_FPS_MANY)]
            out += [(f"step→trace p95 ≤ {TARGET_P95_MANY:.0f} ms", p95 <= TARGET_P95_MANY)]
        if self.shape == "8x6":
            out += [(f"frame ≤ {TARGET_FRAME_BYTES_6X8} bytes", max(self.sizes) <= TARGET_FRAME_BYTES_6X8)]
        return out


async def run(
    workers: int,
    sessions: int,
    shape: str,
    seconds: float,
    fps: float | None = None,
    steps_per_frame: int | None = None,
    profile: Path | None = None,
) -> Result:
    units, layers = (int(v) for v in shape.lower().split("x"))
    config = {
        "dataset": {"name": "circle", "samples": 500},
        "hidden": [units] * layers,
        "activation": "tanh",
        "batch_size": 10,
        "seed": 1,
    }
    env = {"BPP_ENGINE_THREADS": str(workers)}
    if fps is not None:
        env["BPP_FPS"] = str(fps)
    server = Server(env).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            created = []
            for _ in range(sessions + 1):
                r = await http.post("/api/sessions", json=config)
                r.raise_for_status()
                created.append(r.json())
        window = Window()
        stats = [Viewer() for _ in range(sessions)]
        latencies: list[float] = []
        tasks = [
            asyncio.create_task(viewer(server, s, v, window, steps_per_frame))
            for s, v in zip(created, stats, strict=False)
        ]
        tasks.append(asyncio.create_task(prober(server, created[-1], latencies, window)))
        await asyncio.sleep(WARMUP_S)
        for t in tasks:
            if t.done():
                t.result()  # a client that failed during the warm-up: raise its error
        cpu0, rss0, client0, t0 = server.cpu_seconds(), server.rss_mb(), time.process_time(), time.perf_counter()
        busy0 = machine_busy()
        window.on = True
        spy = None
        if profile is not None:  # where the server's GIL goes over the window, every thread, collapsed stacks
            out = profile / f"stream-w{workers}-n{sessions}-{shape}.txt"
            venv_bin = str(Path(sys.executable).parent)
            spy_bin = shutil.which("py-spy", path=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}") or "py-spy"
            cmd = [spy_bin, "record", "-p", str(server.pid), "-d", str(int(seconds)), "-r", "200", "-f", "raw"]
            cmd += ["--threads", "--gil", "--nonblocking", "-o", str(out)]
            spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        await asyncio.sleep(seconds)
        window.on = False
        cpu1, rss1, client1, t1 = server.cpu_seconds(), server.rss_mb(), time.process_time(), time.perf_counter()
        busy1 = machine_busy()
        window.done = True
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        if spy is not None:
            spy.wait(30)
    finally:
        server.stop()
    span = t1 - t0
    return Result(
        workers=workers,
        sessions=sessions,
        shape=shape,
        seconds=span,
        fps=[v.frames / span for v in stats],
        steps_per_s=[((v.last_step or 0) - (v.first_step or 0)) / span for v in stats],
        sizes=[s for v in stats for s in v.sizes],
        latencies=latencies,
        cpu_s=cpu1 - cpu0,
        rss=(rss0, rss1),
        client_cpu_s=client1 - client0,
        machine_busy=(busy1[0] - busy0[0]) / max(1e-9, busy1[1] - busy0[1]),
        machine_steal=(busy1[2] - busy0[2]) / max(1e-9, busy1[1] - busy0[1]),
        errors=[e for v in stats for e in v.errors],
    )


def report(r: Result) -> None:
    cpu_core = 100 * r.cpu_s / r.seconds
    print(
        f"\n== {r.sessions} session(s), network {r.shape}, BPP_ENGINE_THREADS={r.workers}, {r.seconds:.1f} s measured"
    )
    print(f"  frames/s per client    min {min(r.fps):6.1f}   median {statistics.median(r.fps):6.1f}")
    print(
        f"  steps/s per session    min {min(r.steps_per_s):6.0f}   median {statistics.median(r.steps_per_s):6.0f}"
        f"   total {sum(r.steps_per_s):7.0f}"
    )
    if r.sizes:
        print(f"  bytes per frame        mean {statistics.fmean(r.sizes):6.0f}   max {max(r.sizes):6d}")
    print(
        f"  step→trace (ms)        p50 {percentile(r.latencies, 0.5):6.1f}   p95 {percentile(r.latencies, 0.95):6.1f}"
        f"   max {max(r.latencies, default=float('nan')):6.1f}   ({len(r.latencies)} steps)"
    )
    print(
        f"  server CPU             {cpu_core:5.0f} % of one core   {cpu_core / CORES:5.0f} % of the machine "
        f"({CORES} cores)"
    )
    print(f"  server RSS (MB)        start {r.rss[0]:6.1f}   end {r.rss[1]:6.1f}")
    others = 100 * (r.machine_busy * CORES - (r.cpu_s + r.client_cpu_s) / r.seconds)
    print(
        f"  bench clients' CPU     {100 * r.client_cpu_s / r.seconds:5.0f} % of one core   (machine busy "
        f"{100 * r.machine_busy:.0f} %; other processes {max(others, 0):.0f} % of one core)"
    )
    print(f"  stolen by the VM host  {100 * r.machine_steal * CORES:5.0f} % of one core")
    if r.errors:
        print(f"  errors received: {sorted(set(r.errors))} ({len(r.errors)})")
    for name, ok in r.targets():
        print(f"  target {name:32s} {'met' if ok else 'MISSED'}")


def summary(results: list[Result]) -> None:
    print("\nworkers sessions shape  fps min/med   steps/s min/med   bytes mean/max  trace p50/p95 ms  CPU %core")
    for r in results:
        print(
            f"{r.workers:7d} {r.sessions:8d} {r.shape:5s} {min(r.fps):6.1f}/{statistics.median(r.fps):5.1f}"
            f" {min(r.steps_per_s):8.0f}/{statistics.median(r.steps_per_s):6.0f}"
            f" {statistics.fmean(r.sizes) if r.sizes else 0:9.0f}/{max(r.sizes, default=0):5d}"
            f" {percentile(r.latencies, 0.5):8.1f}/{percentile(r.latencies, 0.95):6.1f}"
            f" {100 * r.cpu_s / r.seconds:9.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="1,120", help="comma-separated numbers of playing sessions")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run (after a warm-up)")
    parser.add_argument("--shape", default="8x2", help="UNITSxLAYERS of the hidden layers (8x6: the 6 × 8 net)")
    parser.add_argument("--workers", default="2", help="comma-separated BPP_ENGINE_THREADS values to compare")
    parser.add_argument("--fps", type=float, default=None, help="BPP_FPS (default: the server's)")
    parser.add_argument(
        "--steps-per-frame", type=int, default=None, help="training steps per frame (default: one epoch)"
    )
    parser.add_argument("--profile", type=Path, default=None, help="directory for py-spy profiles of the server")
    args = parser.parse_args(argv)
    sessions = [int(s) for s in args.sessions.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    print(f"bench/stream.py: {os.cpu_count()} cores, Python {sys.version.split()[0]}, network {args.shape}")
    results = []
    for w in workers:
        for n in sessions:
            result = asyncio.run(run(w, n, args.shape, args.seconds, args.fps, args.steps_per_frame, args.profile))
            report(result)
            results.append(result)
    if len(results) > 1:
        summary(results)
    return 0 if all(ok for r in results for _, ok in r.targets()) else 1


if __name__ == "__main__":
    sys.exit(main())
