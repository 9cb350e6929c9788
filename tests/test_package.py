"""The installed product: build the sdist and, from it, the wheel; install the wheel into a fresh virtual
environment outside the checkout; start ``backprop-playground serve`` from an empty folder and use the page,
its static files, a room page, ``/docs``, a REST session and a live-channel frame.

An editable install (what ``make`` uses) reads templates and static files from the checkout and so would hide
a wheel that lacks them; only this test sees what an admin who runs ``pip install`` gets."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from helpers import ROOT, free_port

from app import __version__
from app.wire import read_frame

pytestmark = pytest.mark.slow
WAIT = 60.0
LOCK = ROOT / "requirements/lock.txt"


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; its output, or a failure that shows it."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it (``python -m build`` builds the wheel from the unpacked sdist), with
    the locked setuptools of the test's own environment (no download)."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)], cwd=out)
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed: the wheel's own dependencies, each at the version
    and hash of ``requirements/lock.txt`` (what ``make install`` uses), installed by the locked pip of the
    test's environment into the new one."""
    home = tmp_path_factory.mktemp("venv")
    env = home / "env"
    run([sys.executable, "-m", "venv", "--without-pip", str(env)], cwd=home)
    wheel = next(dist.glob("*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (home / "wheel.txt").write_text(f"backprop-playground @ {wheel.as_uri()} --hash=sha256:{digest}\n")
    pip = [sys.executable, "-m", "pip", "--python", str(env / "bin/python"), "install", "--quiet", "--require-hashes"]
    run([*pip, "--requirement", str(home / "wheel.txt"), "--constraint", str(LOCK)], cwd=home)
    return env


@pytest.fixture(scope="module")
def served(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``backprop-playground serve`` from the venv, started in an empty folder; its base URL."""
    folder = tmp_path_factory.mktemp("empty")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BPP_", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    log = (folder.parent / "server.log").open("wb")
    cmd = [str(venv / "bin/backprop-playground"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            assert proc.poll() is None, (folder.parent / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the installed server did not answer"
            try:
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def test_the_sdist_and_the_wheel_carry_templates_and_static_files(dist: Path) -> None:
    page = [p for d in ("templates", "static") for p in (ROOT / d).rglob("*") if p.is_file()]
    page_files = {str(p.relative_to(ROOT)) for p in page}
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        in_sdist = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert page_files <= in_sdist
    assert "docs/protocol.md" in in_sdist
    with zipfile.ZipFile(next(dist.glob("*.whl"))) as wheel:
        in_wheel = set(wheel.namelist())
    assert {f"app/{name}" for name in page_files} <= in_wheel


def test_the_venv_imports_the_installed_package_not_the_checkout(venv: Path) -> None:
    probe = "import app, app.assets; print(app.__file__); print(app.assets.STATIC_DIR)"
    out = run([str(venv / "bin/python"), "-c", probe], cwd=venv).split()
    assert all(Path(p).is_relative_to(venv) for p in out), out
    assert run([str(venv / "bin/backprop-playground"), "--version"], cwd=venv).strip().endswith(__version__)
    assert run([str(venv / "bin/python"), "-m", "app", "--version"], cwd=venv).strip().endswith(__version__)


def test_the_installed_server_serves_the_page_its_files_and_the_docs(served: str) -> None:
    page = httpx.get(served + "/")
    assert page.status_code == 200
    assert f'data-testid="version">{__version__}<' in page.text
    script = httpx.get(served + "/static/js/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert httpx.get(served + "/static/css/app.css").status_code == 200
    assert httpx.get(served + "/api/health").json()["version"] == __version__
    assert httpx.get(served + "/docs").status_code == 200
    assert httpx.get(served + "/openapi.json").json()["info"]["version"] == __version__


def test_the_installed_server_runs_a_session_a_room_and_the_live_channel(served: str) -> None:
    made = httpx.post(served + "/api/sessions", json={"hidden": [3], "seed": 1})
    assert made.status_code == 201, made.text
    sid, token = made.json()["id"], made.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    trained = httpx.post(f"{served}/api/sessions/{sid}/train", json={"steps": 20}, headers=auth)
    assert trained.status_code == 200, trained.text
    assert trained.json()["step"] == 20

    room = httpx.post(served + "/api/rooms", json={"session_id": sid}, headers=auth)
    assert room.status_code == 201, room.text
    code = room.json()["code"]
    room_page = httpx.get(f"{served}/room/{code}")
    assert room_page.status_code == 200
    assert code in room_page.text

    async def one_frame() -> tuple[dict, dict]:
        ws_url = served.replace("http", "ws") + f"/api/sessions/{sid}/ws"
        async with websockets.connect(ws_url, origin=served, open_timeout=WAIT, compression=None) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"type": "auth", "token": token}))
            hello = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            await ws.send(json.dumps({"type": "play"}))
            while True:
                message = await asyncio.wait_for(ws.recv(), WAIT)
                if isinstance(message, bytes):
                    header, arrays = read_frame(message)
                    return hello, {"header": header, "arrays": arrays}

    hello, frame = asyncio.run(one_frame())
    assert hello["type"] == "hello"
    assert frame["header"]["type"] == "frame"
    assert frame["header"]["step"] >= 20
    assert frame["arrays"], "a frame carries the network's arrays"
