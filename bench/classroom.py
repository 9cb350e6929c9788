"""Classroom load: one teacher playing, N viewers on the room channel, M students playing their own forks.

    .venv/bin/python bench/classroom.py [--viewers 100] [--students 30] [--seconds 120]

Starts its own server (``python -m app.cli serve`` on a free loopback port, a temporary ``BPP_DB``) and drives it
from this one asyncio process (the ``websockets`` client):

- the teacher: a session (circle, hidden [8, 8]) with a room, playing over its own socket, acking every frame;
- N viewers on ``/api/rooms/{code}/ws``, each acking every frame at once (as a page that draws instantly);
- M students, each forking the room and playing the fork over its own socket, acking every frame.

After a warm-up it measures, over ``--seconds``:

- per viewer, the frames of the room it received: distinct frame steps it got, over the distinct steps the
  teacher's own socket got in the window (``got``), and how many of the teacher's very steps it got (``same``);
- viewer frame latency: for a step both received, the viewer's receipt time minus the teacher's (p50, p95);
- the teacher's frames per second (the room's frame rate) and each student's (min, median);
- the server's CPU % and RSS every 10 s (and this client's CPU %, since both share the machine).

It ends with PASS/FAIL against the issue's targets: the teacher's run plays at ≥ 10 fps; viewers receive
≥ 95 % of the room's frames with p95 latency ≤ 250 ms; every student gets ≥ 10 fps; the server's memory is
flat (the RSS grows by at most 5 MB or 3 % over the second half of the run). Exit status 0 when every target
is met, 1 otherwise. Numbers depend on the machine and on what else runs on it: the clients share it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

ROOT = Path(__file__).resolve().parent.parent
ACK = '{"type": "ack"}'
TEACHER: dict[str, Any] = {"dataset": {"name": "circle"}, "hidden": [8, 8], "activation": "tanh", "seed": 1}
SAMPLE_PERIOD_S = 10.0
TARGET_FRACTION, TARGET_P95_MS, TARGET_STUDENT_FPS = 0.95, 250.0, 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
sys.path.insert(0, str(ROOT))
from app.engine.trainer import MAX_HISTORY  # noqa: E402

# -- the server ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m app.cli serve`` on a free loopback port with its own environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        env = {**os.environ, **env}
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            try:
                if httpx.get(self.url + "/api/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not start")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU seconds of a process (threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int | str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the clients ---------------------------------------------------------------------------------------------


@dataclass
class Client:
    """One socket: when it first received each frame step, every frame's receipt time, and what went wrong."""

    name: str
    first_seen: dict[int, float] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    closed: str | None = None
    epoch: int = 0  # of the latest frame
    ready: asyncio.Event = field(default_factory=asyncio.Event)


async def drive(url: str, client: Client, token: str | None = None, play: bool = False) -> None:
    """Connect (authenticating with ``token`` if given), optionally play, then ack every frame at once."""
    try:
        async with websockets.connect(
            url, compression=None, open_timeout=60, close_timeout=2, ping_interval=None, max_size=2**22
        ) as ws:
            if token is not None:
                await ws.send(json.dumps({"type": "auth", "token": token}))
            hello = json.loads(await ws.recv())
            if hello.get("type") != "hello":
                raise RuntimeError(f"{client.name}: {hello}")
            if play:
                await ws.send('{"type": "play"}')
            client.ready.set()
            async for raw in ws:
                if isinstance(raw, bytes):
                    now = time.monotonic()
                    n = int.from_bytes(raw[4:8], "little")
                    header = orjson.loads(raw[8 : 8 + n])
                    step, client.epoch = header["step"], header["epoch"]
                    client.first_seen.setdefault(step, now)
                    client.times.append(now)
                    await ws.send(ACK)
                else:
                    msg = orjson.loads(raw)
                    if msg.get("type") == "error":
                        code = msg.get("code", "?")
                        client.errors[code] = client.errors.get(code, 0) + 1
    except asyncio.CancelledError:
        raise
    except Exception as err:  # report, never crash the bench
        client.closed = f"{type(err).__name__}: {err}"
    finally:
        client.ready.set()


async def sample_resources(pid: int, t0: float, samples: list[dict[str, float]], stop: asyncio.Event) -> None:
    """Every SAMPLE_PERIOD_S: the server's CPU % and RSS, and this process's CPU %."""
    last_t, last_srv, last_me = time.monotonic(), cpu_seconds(pid), cpu_seconds("self")
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_PERIOD_S)
        now, srv, me = time.monotonic(), cpu_seconds(pid), cpu_seconds("self")
        dt = now - last_t
        if dt > 1.0:
            samples.append(
                {
                    "t": now - t0,
                    "server_cpu": 100 * (srv - last_srv) / dt,
                    "client_cpu": 100 * (me - last_me) / dt,
                    "rss": rss_mb(pid),
                }
            )
        last_t, last_srv, last_me = now, srv, me


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


# -- the run ---------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bpp-classroom-") as tmp:
        env = {"BPP_DB": str(Path(tmp) / "bpp.db")}
        if args.fps:
            env["BPP_FPS"] = str(args.fps)
        server = Server(env)
        try:
            return await measure(server, args)
        finally:
            server.stop()


async def measure(server: Server, args: argparse.Namespace) -> int:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        teacher_session = (await http.post("/api/sessions", json=TEACHER)).raise_for_status().json()
        headers = {"Authorization": f"Bearer {teacher_session['token']}"}
        room = (await http.post("/api/rooms", json={"session_id": teacher_session["id"]}, headers=headers)).json()
        forks = []
        for i in range(args.students):
            r = await http.post(f"/api/rooms/{room['code']}/fork", json={"name": f"student {i + 1:02d}"})
            forks.append(r.raise_for_status().json())

    tasks: list[asyncio.Task[None]] = []
    teacher = Client("teacher")
    viewers = [Client(f"viewer {i + 1}") for i in range(args.viewers)]
    students = [Client(f.get("id", "?")) for f in forks]
    room_url = f"{server.ws_url}/api/rooms/{room['code']}/ws"
    tasks.append(
        asyncio.create_task(
            drive(f"{server.ws_url}/api/sessions/{teacher_session['id']}/ws", teacher, teacher_session["token"], True)
        )
    )
    for i, v in enumerate(viewers):
        tasks.append(asyncio.create_task(drive(room_url, v)))
        if i % 20 == 19:
            await asyncio.sleep(0.05)  # no connection storm
    for f, s in zip(forks, students, strict=True):
        tasks.append(asyncio.create_task(drive(f"{server.ws_url}/api/sessions/{f['id']}/ws", s, f["token"], True)))
    everyone = [teacher, *viewers, *students]
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in everyone)), 120)
    await asyncio.sleep(args.warmup)

    t0 = time.monotonic()
    epochs_at_t0 = sum(c.epoch for c in [teacher, *students])
    samples: list[dict[str, float]] = [{"t": 0.0, "server_cpu": float("nan"), "client_cpu": float("nan")}]
    samples[0]["rss"] = rss_mb(server.pid)
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_resources(server.pid, t0, samples, stop))
    print(f"server pid {server.pid}: measuring for {args.seconds:.0f} s …", flush=True)
    await asyncio.sleep(args.seconds)
    t1 = time.monotonic()
    stop.set()
    await sampler
    history = (epochs_at_t0, sum(c.epoch for c in [teacher, *students]))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return report(args, server, teacher, viewers, students, samples, t0, t1, history)


def history_entry_bytes() -> float:
    """Memory one history entry takes in the server (measured on the engine's own Metrics objects)."""
    import tracemalloc

    from app.engine import Metrics

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [
        Metrics(i, i, 0.1 + i, 0.2 + i, 1e-3 * i, 0.5 + 1e-4 * i, 0.4, [0.1 * i, 0.2 * i, 0.3 * i]) for i in range(2000)
    ]
    size = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    tracemalloc.stop()
    return size


def report(
    args: argparse.Namespace,
    server: Server,
    teacher: Client,
    viewers: list[Client],
    students: list[Client],
    samples: list[dict[str, float]],
    t0: float,
    t1: float,
    history: tuple[int, int],
) -> int:
    span = t1 - t0
    ref = {s: t for s, t in teacher.first_seen.items() if t0 <= t <= t1}
    got, same, delays, viewer_p95 = [], [], [], []
    for v in viewers:
        mine = {s: t for s, t in v.first_seen.items() if t0 <= t <= t1}
        got.append(len(mine) / max(1, len(ref)))
        common = [s for s in ref if s in v.first_seen]
        same.append(len(common) / max(1, len(ref)))
        d = [1000 * (v.first_seen[s] - ref[s]) for s in common]
        delays += d
        viewer_p95.append(pct(d, 95))
    student_fps = [sum(t0 <= t <= t1 for t in s.times) / span for s in students]
    teacher_fps = len(ref) / span
    errors: dict[str, int] = {}
    for c in [teacher, *viewers, *students]:
        for k, n in c.errors.items():
            errors[k] = errors.get(k, 0) + n
    broken = [f"{c.name}: {c.closed}" for c in [teacher, *viewers, *students] if c.closed]

    print()
    print(
        f"classroom bench: {args.viewers} viewers, {args.students} students, {span:.0f} s measured, "
        f"{os.cpu_count()} CPUs, server pid {server.pid}"
    )
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"teacher: {len(ref)} distinct frames ({teacher_fps:.1f} fps)")
    print()
    print(f"{'':28}{'min':>9}{'p5':>9}{'median':>9}{'p95':>9}{'max':>9}")

    def row(name: str, xs: list[float], fmt: str = "{:9.1f}") -> None:
        if not xs:
            print(f"{name:28}{'—':>9}")
            return
        cells = [min(xs), pct(xs, 5), statistics.median(xs), pct(xs, 95), max(xs)]
        print(f"{name:28}" + "".join(fmt.format(c) for c in cells))

    row("viewer frames got (%)", [100 * g for g in got])
    row("viewer same frames (%)", [100 * s for s in same])
    row("viewer delay (ms)", delays)
    row("viewer p95 delay (ms)", viewer_p95)
    row("viewer fps", [len([t for t in v.times if t0 <= t <= t1]) / span for v in viewers])
    row("student fps", student_fps)
    print()
    print(f"{'t (s)':>7}{'server CPU %':>14}{'client CPU %':>14}{'server RSS MB':>15}")
    for s in samples:
        print(f"{s['t']:7.0f}{s['server_cpu']:14.0f}{s['client_cpu']:14.0f}{s['rss']:15.1f}")
    per_entry = history_entry_bytes()
    grown = (history[1] - history[0]) * per_entry / 2**20
    print(
        f"history: the {1 + len(students)} playing runs did {history[1] - history[0]} epochs, one history entry each"
        f" (~{per_entry:.0f} B; the engine keeps at most {MAX_HISTORY} per run, then thins by half): ~{grown:.1f} MB"
    )
    if errors:
        print(f"errors from the server: {errors}")
    for b in broken[:10]:
        print(f"socket ended: {b}")

    keeping_up = [g for g in got if g >= TARGET_FRACTION]
    p95 = pct(delays, 95)
    half = [s["rss"] for s in samples if s["t"] >= span / 2] or [samples[-1]["rss"]]
    growth = samples[-1]["rss"] - half[0]
    checks = [
        (
            f"the teacher's run plays at ≥ {TARGET_STUDENT_FPS:.0f} fps (the room's frames)",
            teacher_fps >= TARGET_STUDENT_FPS,
            f"{teacher_fps:.1f} fps",
        ),
        (
            f"viewers receive ≥ {100 * TARGET_FRACTION:.0f}% of the room's frames",
            len(keeping_up) == len(viewers) and bool(ref),
            f"{len(keeping_up)}/{len(viewers)} do (min {100 * min(got, default=0):.1f}%)",
        ),
        (f"viewer p95 delay ≤ {TARGET_P95_MS:.0f} ms", p95 <= TARGET_P95_MS or not viewers, f"p95 {p95:.0f} ms"),
        (
            f"every student ≥ {TARGET_STUDENT_FPS:.0f} fps",
            (bool(student_fps) and min(student_fps) >= TARGET_STUDENT_FPS) or not students,
            f"min {min(student_fps, default=0):.1f}, median {statistics.median(student_fps or [0]):.1f}",
        ),
        (
            "server memory flat (second half)",
            growth <= max(5.0, 0.03 * half[0]),
            f"{half[0]:.1f} → {samples[-1]['rss']:.1f} MB ({growth:+.1f} MB)",
        ),
        ("no socket failed", not broken, f"{len(broken)} failed"),
    ]
    print()
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    ok = all(c[1] for c in checks)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=100, help="viewers on the room channel (default 100)")
    parser.add_argument("--students", type=int, default=30, help="students playing their own forks (default 30)")
    parser.add_argument("--seconds", type=float, default=120, help="measured seconds (default 120)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring (default 3)")
    parser.add_argument("--fps", type=float, default=None, help="the server's BPP_FPS (default: the server's)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 4 * (args.viewers + args.students) + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))  # the server inherits it too
    try:
        import uvloop  # uvicorn[standard] brings it; the client's own overhead matters on a small machine

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    sys.exit(runner(run(args)))


if __name__ == "__main__":
    main()
