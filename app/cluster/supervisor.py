"""``backprop-playground serve --workers N``: redis-server, N workers and nginx on one machine, as child processes.

Layer: entry point (``app.cli`` calls it); the workers it starts are ordinary ``backprop-playground serve``
processes with ``BPP_WORKER`` and ``BPP_REDIS_URL`` set.

- **Redis** (unless ``BPP_REDIS_URL`` names one) on a free loopback port, with AOF ``appendfsync always`` in a
  folder beside ``BPP_DB`` (``backprop-playground.redis/``), so checkpoints survive a restart of everything.
- **Workers** ``w1``…``wN``: ``backprop-playground serve`` on free loopback ports, each with ``BPP_WORKER`` (its
  tag), ``BPP_REDIS_URL`` and nginx as a trusted proxy.
- **nginx** on ``--host``/``--port`` from ``deploy/nginx.conf.j2``, routing each session to its worker.

A child that dies is started again (a worker with the same tag, which loads its sessions from Redis and serves
them again; its dead predecessor's lease is freed at once). Ctrl-C or SIGTERM stops them together: nginx first
(no new requests), then the workers (each checkpoints its sessions), then Redis. Children also get SIGTERM if
the supervisor itself is killed (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import grp
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from app.cluster import nginx
from app.cluster.state import free_lease, sync_client
from app.settings import Settings

log = logging.getLogger("backprop_playground.cluster")
INSTALL_HINT = "install them with: apt-get install nginx redis-server"
STOP_GRACE_S = 20.0
RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)


class MissingTool(SystemExit):
    """A program the cluster needs is not installed."""


SBIN = ("/usr/sbin", "/sbin")  # where Debian puts nginx, often not on a user's PATH


def require(program: str) -> str:
    """The path of ``program``, or exit with what to install."""
    search = os.pathsep.join([os.environ.get("PATH", os.defpath), *SBIN])
    path = shutil.which(program, path=search)
    if path is None:
        raise MissingTool(f"backprop-playground serve --workers: {program} is not installed; {INSTALL_HINT}")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the supervisor dies, and ignore the terminal's Ctrl-C (the
    supervisor stops the children in order)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setpgrp()


@dataclass
class Child:
    """One child process and how to start it again."""

    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)
    tag: str | None = None  # a worker's tag

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, preexec_fn=_die_with_parent)
        self.starts.append(time.monotonic())
        log.info("started %s (pid %d)", self.name, self.proc.pid)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.alive():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    def wait(self, timeout: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s: killed", self.name, timeout)
            self.proc.kill()
            self.proc.wait()


class Cluster:
    """The children of ``serve --workers N`` and the loop that keeps them running."""

    def __init__(self, settings: Settings, host: str, port: int, workers: int) -> None:
        if workers < 1:
            raise SystemExit("backprop-playground serve --workers: N must be at least 1 (or auto)")
        self.settings = settings
        self.host, self.port, self.n = host, port, workers
        self.nginx_bin = require("nginx")
        self.redis_bin = None if settings.redis_url else require("redis-server")
        self.run_dir = Path(tempfile.mkdtemp(prefix="bpp-cluster-"))
        self.redis_url = settings.redis_url
        self.children: list[Child] = []
        self.stopping = False

    # -- the children --------------------------------------------------------------------------------------

    def _redis(self) -> Child:
        port = free_port()
        # beside BPP_DB; memory only (BPP_DB empty): Redis keeps its files for this run only
        db = self.settings.db
        data = Path(db).resolve().with_suffix(".redis") if db else self.run_dir / "redis"
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        argv = [
            str(self.redis_bin), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
            "--protected-mode", "yes", "--loglevel", "warning", "--logfile", "",
        ]  # fmt: skip
        return Child("redis-server", argv, dict(os.environ))

    def _worker(self, i: int, port: int) -> Child:
        tag = f"w{i}"
        env = dict(os.environ)
        trusted = [p for p in env.get("BPP_TRUSTED_PROXIES", "").split(",") if p.strip()]
        env.update(
            BPP_WORKER=tag,
            BPP_REDIS_URL=self.redis_url,
            BPP_TRUSTED_PROXIES=",".join([*trusted, "127.0.0.1"]),
            BPP_HOST="127.0.0.1",
            BPP_PORT=str(port),
        )
        if self.host not in ("127.0.0.1", "localhost", "0.0.0.0", "::", ""):
            # requests name the address nginx listens on: the workers must accept it as their own
            hosts = [h for h in env.get("BPP_ALLOWED_HOSTS", "").split(",") if h.strip()]
            env["BPP_ALLOWED_HOSTS"] = ",".join([*hosts, self.host.strip("[]")])
        argv = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
        child = Child(f"worker {tag} (127.0.0.1:{port})", argv, env, tag=tag)
        return child

    def _nginx(self, upstreams: list[nginx.Upstream]) -> Child:
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / sub).mkdir(exist_ok=True)
        user = None
        if os.geteuid() == 0:  # nginx's workers drop to nobody: they must reach the temporary folders
            nobody = pwd.getpwnam("nobody")
            os.chmod(self.run_dir, 0o755)
            for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
                os.chown(self.run_dir / sub, nobody.pw_uid, nobody.pw_gid)
            user = f"nobody {grp.getgrgid(nobody.pw_gid).gr_name}"
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        text = nginx.render(
            upstreams,
            listen=f"{host}:{self.port}",
            max_body_bytes=self.settings.max_body_bytes,
            standalone=True,
            run_dir=str(self.run_dir),
            user=user,
            behind_proxy=bool(self.settings.trusted_proxies),  # the admin's own proxies, in front of nginx
        )
        conf = self.run_dir / "nginx.conf"
        conf.write_text(text)
        test = subprocess.run(
            [self.nginx_bin, "-t", "-q", "-p", str(self.run_dir), "-c", str(conf)], capture_output=True, text=True
        )
        if test.returncode != 0:
            raise SystemExit(
                f"backprop-playground serve --workers: nginx refused its configuration: {test.stderr.strip()}"
            )
        argv = [self.nginx_bin, "-p", str(self.run_dir), "-c", str(conf), "-g", "daemon off;"]
        return Child("nginx", argv, dict(os.environ))

    def _wait_redis(self, timeout: float = 15.0) -> None:
        client = sync_client(self.redis_url)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    client.ping()
                    return
                except Exception as err:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"Redis at {self.redis_url} does not answer: {err}") from None
                    time.sleep(0.1)
        finally:
            client.close()

    def _wait_workers(self, ports: list[int], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for port in ports:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                        r.read()
                    break
                except Exception:
                    if time.monotonic() > deadline or self.stopping:
                        return
                    time.sleep(0.1)

    # -- running -------------------------------------------------------------------------------------------

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        try:
            if self.redis_bin is not None:
                redis_child = self._redis()
                self.children.append(redis_child)
                redis_child.start()
            self._wait_redis()
            ports = [free_port() for _ in range(self.n)]
            workers = [self._worker(i + 1, p) for i, p in enumerate(ports)]
            for w in workers:
                self.children.append(w)
                w.start()
            front = self._nginx(
                [nginx.Upstream(w.tag or "", f"127.0.0.1:{p}") for w, p in zip(workers, ports, strict=True)]
            )
            self.children.append(front)
            front.start()
            self._wait_workers(ports)
            if not self.stopping:
                print(
                    f"Backprop Playground: {self.n} workers behind nginx at http://{self.host}:{self.port}/ "
                    f"(Redis {self.redis_url}); Ctrl-C stops them all",
                    flush=True,
                )
            self._watch()
        finally:
            self.shutdown()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _watch(self) -> None:
        while not self.stopping:
            for child in self.children:
                if self.stopping or child.alive():
                    continue
                assert child.proc is not None
                code = child.proc.returncode
                if child.tag is not None:
                    free_lease(self.redis_url, child.tag, f"{socket.gethostname()}:{child.proc.pid}")
                recent = [t for t in child.starts if time.monotonic() - t < 60]
                delay = RESTART_BACKOFF_S[min(len(recent) - 1, len(RESTART_BACKOFF_S) - 1)] if len(recent) > 1 else 0
                log.warning(
                    "%s exited (code %s): starting it again%s", child.name, code, f" in {delay} s" if delay else ""
                )
                print(
                    f"backprop-playground: {child.name} exited (code {code}); starting it again",
                    file=sys.stderr,
                    flush=True,
                )
                end = time.monotonic() + delay
                while time.monotonic() < end and not self.stopping:
                    time.sleep(0.05)
                if not self.stopping:
                    child.start()
            time.sleep(0.1)

    def shutdown(self) -> None:
        """nginx, then the workers (they checkpoint), then Redis; each waited for."""
        self.stopping = True
        order = sorted(self.children, key=lambda c: (c.name != "nginx", c.name == "redis-server"))
        for group in (
            [c for c in order if c.name == "nginx"],
            [c for c in order if c.tag is not None],
            [c for c in order if c.name == "redis-server"],
        ):
            for child in group:
                child.stop()
            for child in group:
                child.wait(STOP_GRACE_S)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def serve(settings: Settings, host: str, port: int, workers: str) -> None:
    """Run the cluster until Ctrl-C or SIGTERM."""
    n = (os.cpu_count() or 1) if workers == "auto" else int(workers)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    Cluster(settings, host, port, n).run()
