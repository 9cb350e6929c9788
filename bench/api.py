"""Training throughput through ``POST /api/sessions/{id}/train``, against the engine's own and, in the same run,
against a server on the NumPy path (``BPP_ENGINE=numpy``, the engine before the compiled path) and TF
Playground's engine (``--tfp``).

    .venv/bin/python bench/api.py                                  # every network, best of 3
    .venv/bin/python bench/api.py --tfp ../shared/anchors          # with TF Playground's nn.js (needs node)

Starts two real uvicorn servers on loopback (``auto`` and ``numpy``; each waits until its engine warm-up is
over), trains each network (batch 10, 500 ``circle`` samples, all training data, sgd lr 0.03) with one long
``POST /train`` call per repeat, and prints steps per second. Targets: the HTTP layer costs under 10% for long
runs (REST/engine ≥ 0.9); ``POST /train`` ≥ 3× TF Playground's engine on 2-4-2-1, 2-8-8-8-1 and 2-16-16-1
(tanh units, tanh output, squared error, as TF Playground trains); and not slower than the NumPy path on
the largest network a server allows (8 hidden layers of 64 units).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import LiveServer

from app.engine import TrainConfig, Trainer, make_dataset, paths
from bench.engine import _load, tfp_rate

TARGET_HTTP, TARGET_TFP, TARGET_LARGEST = 0.9, 3.0, 0.95  # the last: "not slower", within 5% of noise


@dataclass(frozen=True)
class Net:
    hidden: tuple[int, ...]
    steps: int
    tfp: bool = True

    @property
    def name(self) -> str:
        return "-".join(map(str, (2, *self.hidden, 1)))

    def config(self) -> dict[str, object]:
        return {
            "dataset": {"name": "circle", "samples": 500, "train_fraction": 1.0},
            "hidden": list(self.hidden),
            "activation": "tanh",
            "output_activation": "tanh",
            "loss": "mse",
            "batch_size": 10,
            "learning_rate": 0.03,
        }


NETS = [Net((4, 2), 100_000), Net((8, 8, 8), 100_000), Net((16, 16), 100_000), Net((64,) * 8, 3_000, tfp=False)]


def engine_rate(net: Net, steps: int) -> float:
    """Steps per second of Trainer.run in this process (the path "numba" when loaded, as the server's auto)."""
    cfg = TrainConfig(hidden=net.hidden, activation="tanh", output_activation="tanh", loss="mse")
    trainer = Trainer(make_dataset("circle", 500, 0.0, 1.0, 0), cfg)
    trainer.run(steps=min(steps, 1000))
    start = time.perf_counter()
    trainer.run(steps=steps)
    return steps / (time.perf_counter() - start)


def rest_rate(url: str, net: Net) -> tuple[float, str]:
    """Steps per second of one POST /train call (wall clock, including HTTP and JSON), and the session's path.
    One client for the calls, as a script keeps one: a new ``httpx`` client per call spends ~25 ms building its
    TLS context before it sends a byte, a fifth of a 100,000-step call on 2-4-2-1."""
    with httpx.Client(base_url=url, timeout=300) as client:
        created = client.post("/api/sessions", json=net.config()).json()
        headers = {"Authorization": f"Bearer {created['token']}"}
        train = f"/api/sessions/{created['id']}/train"
        client.post(train, json={"steps": min(net.steps, 1000)}, headers=headers)
        start = time.perf_counter()
        r = client.post(train, json={"steps": net.steps}, headers=headers)
        elapsed = time.perf_counter() - start
        r.raise_for_status()
        assert r.json()["steps_done"] == net.steps, r.json()["steps_done"]
        client.delete(f"/api/sessions/{created['id']}", headers=headers)
    return net.steps / elapsed, r.json()["engine_path"]


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tfp", type=Path, help="folder with TF Playground's tfp_nn.js and tfp_speed.js")
    args = parser.parse_args()
    anchors = args.tfp.parent if args.tfp and args.tfp.is_file() else args.tfp
    paths.load()  # this process's engine runs warm too, as the servers' do
    env = {"BPP_MAX_STEPS_PER_CALL": str(max(n.steps for n in NETS))}
    servers = {"auto": LiveServer(env=env).start(), "numpy": LiveServer(env={**env, "BPP_ENGINE": "numpy"}).start()}
    print(f"load average at start: {_load()}")
    head = (
        f"{'network':<14} {'path':>5} {'engine':>9} {'REST auto':>9} {'REST/eng':>8} {'REST numpy':>10} {'auto/np':>7}"
    )
    print(head + (f" {'TFP':>8} {'auto/TFP':>8}" if anchors else ""))
    verdicts = []
    try:
        for net in NETS:
            # the repeats interleave every side, so that a busy spell on a shared machine hits them alike
            engine, auto, numpy, tfp, path = 0.0, 0.0, 0.0, 0.0, ""
            for _ in range(args.repeats):
                engine = max(engine, engine_rate(net, net.steps))
                rate, path = rest_rate(servers["auto"].url, net)
                auto = max(auto, rate)
                numpy = max(numpy, rest_rate(servers["numpy"].url, net)[0])
                if anchors and net.tfp:
                    tfp = max(tfp, tfp_rate(anchors, ",".join(map(str, (2, *net.hidden, 1))), 1.0))
            row = (
                f"{net.name:<14} {path:>5} {engine:>9.0f} {auto:>9.0f} {auto / engine:>7.2f}× {numpy:>10.0f} "
                f"{auto / numpy:>6.2f}×"
            )
            verdicts.append((f"REST/engine on {net.name}", auto / engine, TARGET_HTTP))
            if not net.tfp:
                verdicts.append((f"auto/numpy on {net.name} (largest)", auto / numpy, TARGET_LARGEST))
            if anchors and net.tfp:
                row += f" {tfp:>8.0f} {auto / tfp:>7.2f}×"
                verdicts.append((f"POST /train / TFP on {net.name}", auto / tfp, TARGET_TFP))
            print(row, flush=True)
    finally:
        for server in servers.values():
            server.stop()
    print(f"load average at the end: {_load()}")
    for what, value, target in verdicts:
        print(f"target {what} ≥ {target:g}: {value:.2f} ({'met' if value >= target else 'NOT met'})")


if __name__ == "__main__":
    main()
