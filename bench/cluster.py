"""One worker against N behind nginx: sessions × frames per second, a room of 200 viewers, a killed worker.

    .venv/bin/python bench/cluster.py                       # 1 and 2 workers, then the room and the kill
    .venv/bin/python bench/cluster.py --workers 1,2,4 --seconds 8 --viewers 200

For each worker count it starts ``backprop-playground serve --workers W`` (nginx in front of W workers,
redis-server, no database; 1 worker is behind nginx too, so both sides pay the proxy) and climbs a ladder of
playing sessions (``--ladder``, default 20, 40, 60, 70, 80, …): each rung creates that many sessions (hidden [8, 8],
tanh, ``circle`` with 500 samples, as bench/stream.py), opens one websocket per session that plays it and
acks every frame as the page does, plus a probe client timing ``step`` → ``trace`` every 200 ms (the very
clients of bench/stream.py), measures ``--seconds`` after a warm-up, then deletes them. A rung passes when
every client gets ≥ 10 fps and step→trace p95 ≤ 150 ms; the ladder stops at the first rung that fails. It
prints, per worker count, the most sessions that passed and the total frames per second served there, and
the ratio of N workers to 1 (target: 2 workers ≥ 1.5× the sessions of 1 — the load generator shares the
machine).

With the most workers it then measures a room: the teacher plays its session (its own socket is the
reference clock), ``--viewers`` read-only room sockets join through nginx (least connections spreads them
over the workers; each worker then gets the room's frames once through Redis pub/sub and fans them out)
and ack every frame. Per viewer: the share of the teacher's frames it got, and for each the delay after the
teacher's socket got the same step. Target: ≥ 95 % of frames, p95 delay ≤ 250 ms.

Last, the kill: 20 sessions over the workers, SIGKILL one worker, and time until every one of its sessions
answers ``GET`` again (target ≤ 15 s; the supervisor starts the worker again, it loads its checkpoints from
Redis).

The machine's load average is printed at the start and the end: figures taken on a busy machine are low.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stream

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {
    "dataset": {"name": "circle", "samples": 500},
    "hidden": [8, 8],
    "activation": "tanh",
    "batch_size": 10,
    "seed": 1,
}
TARGET_FPS, TARGET_P95 = 10.0, 150.0
ROOM_SHARE, ROOM_P95 = 0.95, 250.0
KILL_TARGET_S = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Cluster:
    """``serve --workers W`` as a child process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="bpp-bench-cluster-"))
        env = {
            **os.environ,
            "BPP_DB": "",
            "BPP_MAX_SESSIONS_PER_CLIENT": "1000",
            "BPP_MAX_SESSIONS_PER_ADDRESS": "1000",
            "BPP_MAX_SOCKETS_PER_ADDRESS": "2000",
            "BPP_CREATE_RATE": "100000/minute",
        }
        self.log = open(self.dir / "log.txt", "wb")  # noqa: SIM115
        cmd = [sys.executable, "-m", "app", "serve", "--workers", str(workers), "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def start(self) -> Cluster:
        seen: set[str] = set()
        deadline = time.monotonic() + 90
        while len(seen) < self.workers:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.dir / "log.txt").read_text()[-3000:])
            try:
                r = httpx.get(self.url + "/api/health", timeout=2)
                body = r.json()
                if r.status_code == 200 and (body["engine"]["ready"] or body["engine"]["error"]):
                    seen.add(body["worker"])
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        return self

    def worker_pids(self) -> dict[str, int]:
        out = subprocess.run(["ps", "-ww", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
        pids = {}
        for line in out.splitlines()[1:]:
            pid, ppid, args = line.split(None, 2)
            if int(ppid) == self.proc.pid and "app serve" in args:
                env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                tag = next(e for e in env if e.startswith(b"BPP_WORKER=")).split(b"=", 1)[1].decode()
                pids[tag] = int(pid)
        return pids

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of every process the cluster runs: workers, nginx, redis-server."""
        out = subprocess.run(["ps", "-eo", "pid,ppid"], capture_output=True, text=True).stdout
        children: dict[int, list[int]] = {}
        for line in out.splitlines()[1:]:
            pid, ppid = (int(v) for v in line.split())
            children.setdefault(ppid, []).append(pid)
        total, todo = 0.0, list(children.get(self.proc.pid, []))
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / stream.TICKS
        return total

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- sessions × fps ------------------------------------------------------------------------------------------


@dataclass
class Rung:
    sessions: int
    fps: list[float]
    p95: float
    server_cores: float  # CPU the cluster's processes used over the window, in cores
    machine_busy: float  # share of all the machine's cores busy (the cluster, the bench, everything else)

    @property
    def ok(self) -> bool:
        return bool(self.fps) and min(self.fps) >= TARGET_FPS and self.p95 <= TARGET_P95

    @property
    def total_fps(self) -> float:
        return sum(self.fps)


async def rung(cluster: Cluster, n: int, seconds: float) -> Rung:
    async with httpx.AsyncClient(base_url=cluster.url, timeout=60) as http:
        await http.get("/api/health")
        created = []
        for _ in range(n + 1):
            r = await http.post("/api/sessions", json=CONFIG)
            r.raise_for_status()
            created.append(r.json())
        window = stream.Window()
        stats = [stream.Viewer() for _ in range(n)]
        latencies: list[float] = []
        tasks = [
            asyncio.create_task(stream.viewer(cluster, s, v, window, None))
            for s, v in zip(created, stats, strict=False)
        ]  # type: ignore[arg-type]
        tasks.append(asyncio.create_task(stream.prober(cluster, created[-1], latencies, window)))  # type: ignore[arg-type]
        await asyncio.sleep(stream.WARMUP_S)
        window.on = True
        t0, cpu0, busy0 = time.perf_counter(), cluster.cpu_seconds(), stream.machine_busy()
        await asyncio.sleep(seconds)
        window.on = False
        span = time.perf_counter() - t0
        cpu1, busy1 = cluster.cpu_seconds(), stream.machine_busy()
        window.done = True
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        for s in created:
            await http.delete(f"/api/sessions/{s['id']}", headers={"Authorization": f"Bearer {s['token']}"})
    busy = (busy1[0] - busy0[0]) / max(1e-9, busy1[1] - busy0[1])
    return Rung(n, [v.frames / span for v in stats], stream.percentile(latencies, 0.95), (cpu1 - cpu0) / span, busy)


async def ladder(cluster: Cluster, steps: list[int], seconds: float) -> list[Rung]:
    out = []
    for n in steps:
        r = await rung(cluster, n, seconds)
        out.append(r)
        print(
            f"  {cluster.workers} worker(s), {n:4d} sessions: "
            f"fps min/med {min(r.fps):5.1f}/{statistics.median(r.fps):5.1f}"
            f"  total {r.total_fps:7.1f} fps  step→trace p95 {r.p95:6.1f} ms  {'ok' if r.ok else 'FAIL'}"
            f"  cluster CPU {r.server_cores:.2f} cores, machine {r.machine_busy:.0%} busy (load {loadavg()})",
            flush=True,
        )
        if not r.ok:
            break
    return out


# -- a room of many viewers -------------------------------------------------------------------------------------


@dataclass
class RoomViewer:
    got: dict[int, float] = field(default_factory=dict)  # frame step → when it arrived


async def arrivals(ws: websockets.ClientConnection, got: dict[int, float], window: stream.Window) -> None:
    """Ack every frame as it arrives and note when each step's frame came (while the window is on)."""
    async for msg in stream.acked(ws, window):
        if isinstance(msg, bytes) and window.on:
            got.setdefault(stream.frame_step(msg), time.perf_counter())


async def room_viewer(cluster: Cluster, code: str, v: RoomViewer, window: stream.Window) -> None:
    url = f"{cluster.ws_url}/api/rooms/{code}/ws"
    async with websockets.connect(url, open_timeout=30, compression=None, max_size=2**22) as ws:
        await arrivals(ws, v.got, window)


async def room(cluster: Cluster, viewers: int, seconds: float) -> tuple[float, float, float]:
    """(median share of the teacher's frames, p95 delay in ms, worst share)."""
    async with httpx.AsyncClient(base_url=cluster.url, timeout=60) as http:
        await http.get("/api/health")
        teacher = (await http.post("/api/sessions", json=CONFIG)).json()
        opened = await http.post(
            "/api/rooms", json={"session_id": teacher["id"]}, headers={"Authorization": f"Bearer {teacher['token']}"}
        )
        code = opened.json()["code"]
    window = stream.Window()
    ref: dict[int, float] = {}
    vs = [RoomViewer() for _ in range(viewers)]
    tasks = []
    for v in vs:
        tasks.append(asyncio.create_task(room_viewer(cluster, code, v, window)))
        await asyncio.sleep(0.005)

    async def play() -> None:
        async with await stream.open_session(cluster, teacher) as ws:  # type: ignore[arg-type]
            await ws.send('{"type": "play"}')
            await arrivals(ws, ref, window)
            await ws.send('{"type": "pause"}')

    tasks.append(asyncio.create_task(play()))
    await asyncio.sleep(3.0)
    window.on = True
    await asyncio.sleep(seconds)
    window.on = False
    window.done = True
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
    # the last half second's frames may still be on their way when the window closes: count the others
    last = max(ref.values(), default=0.0) - 0.5
    steps = {s for s, t in ref.items() if t < last}
    shares, delays = [], []
    for v in vs:
        shares.append(len(steps & v.got.keys()) / max(1, len(steps)))
        delays += [(v.got[s] - ref[s]) * 1000 for s in steps & v.got.keys()]
    return statistics.median(shares), stream.percentile(delays, 0.95), min(shares)


# -- a killed worker --------------------------------------------------------------------------------------------


def kill(cluster: Cluster) -> float:
    with httpx.Client(base_url=cluster.url, timeout=30) as http:
        http.get("/api/health")
        made = [http.post("/api/sessions", json=CONFIG).json() for _ in range(20)]
        victim = made[0]["worker"]
        mine = [s for s in made if s["worker"] == victim]
        os.kill(cluster.worker_pids()[victim], signal.SIGKILL)
        t0 = time.perf_counter()
        for s in mine:
            while (
                http.get(f"/api/sessions/{s['id']}", headers={"Authorization": f"Bearer {s['token']}"}).status_code
                != 200
            ):
                time.sleep(0.05)
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (the first is the baseline)")
    parser.add_argument(
        "--ladder", default="20,40,60,70,80,90,100,120,140,160,180,200", help="playing sessions per rung"
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per rung")
    parser.add_argument("--viewers", type=int, default=200, help="room viewers (0: skip the room)")
    parser.add_argument("--no-kill", action="store_true", help="skip the killed-worker measure")
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    steps = [int(n) for n in args.ladder.split(",")]
    print(f"bench/cluster.py: {os.cpu_count()} cores, load average {loadavg()} at the start", flush=True)
    best: dict[int, Rung | None] = {}
    ok = True
    for w in counts:
        cluster = Cluster(w).start()
        try:
            rungs = asyncio.run(ladder(cluster, steps, args.seconds))
            passed = [r for r in rungs if r.ok]
            best[w] = passed[-1] if passed else None
            if w == counts[-1] and args.viewers:
                share, p95, worst = asyncio.run(room(cluster, args.viewers, args.seconds))
                room_ok = share >= ROOM_SHARE and p95 <= ROOM_P95
                ok &= room_ok
                print(
                    f"room, {args.viewers} viewers over {w} workers: median {share:.1%} of the teacher's frames "
                    f"(worst viewer {worst:.1%}), p95 delay {p95:.0f} ms  {'ok' if room_ok else 'FAIL'}"
                    f"  (target ≥ {ROOM_SHARE:.0%} at p95 ≤ {ROOM_P95:.0f} ms; load {loadavg()})",
                    flush=True,
                )
            if w == counts[-1] and w > 1 and not args.no_kill:
                back = kill(cluster)
                ok &= back <= KILL_TARGET_S
                print(f"killed worker: its sessions answered again after {back:.1f} s (target ≤ {KILL_TARGET_S:.0f} s)")
        finally:
            cluster.stop()
    print("\nworkers  most sessions ≥10 fps (p95 ≤150 ms)  total fps there  cluster CPU  sessions per core used")
    for w, r in best.items():
        per_core = r.sessions / max(r.server_cores, 1e-9) if r else 0.0
        print(
            f"{w:7d}  {r.sessions if r else 0:34d}  {r.total_fps if r else 0:15.1f}  "
            f"{r.server_cores if r else 0:8.2f} cores  {per_core:21.0f}"
        )
    base = best.get(counts[0])
    for w in counts[1:]:
        r = best.get(w)
        if base and r:
            ratio = r.sessions / base.sessions
            print(
                f"{w} workers / {counts[0]}: {ratio:.2f}× the sessions, {r.total_fps / base.total_fps:.2f}× the frames"
            )
            ok &= ratio >= 1.5 or counts[0] != 1
    print(f"load average {loadavg()} at the end")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
