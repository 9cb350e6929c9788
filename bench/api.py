"""Engine throughput through ``POST /api/sessions/{id}/train`` against the engine's own, in the same run.

    .venv/bin/python bench/api.py [--steps 100000]

Starts a real uvicorn server on loopback, trains the 2-8-8-8-1 network of bench/engine.py (tanh hidden,
sigmoid output, cross-entropy, batch 10, 500 samples) over REST and in-process, and prints both rates and
their ratio. Target: the HTTP layer costs under 10% for long runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.engine import TrainConfig, Trainer, make_dataset
from tests.conftest import LiveServer

CONFIG = {
    "dataset": {"name": "circle", "samples": 500, "train_fraction": 1.0},
    "hidden": [8, 8, 8],
    "activation": "tanh",
    "batch_size": 10,
    "learning_rate": 0.03,
}


def engine_rate(steps: int) -> float:
    """Steps per second of Trainer.run in this process."""
    trainer = Trainer(make_dataset("circle", 500, 0.0, 1.0, 0), TrainConfig(hidden=(8, 8, 8), activation="tanh"))
    trainer.run(steps=1000)
    start = time.perf_counter()
    trainer.run(steps=steps)
    return steps / (time.perf_counter() - start)


def rest_rate(url: str, steps: int) -> float:
    """Steps per second of one POST /train call (wall clock, including HTTP and JSON)."""
    created = httpx.post(f"{url}/api/sessions", json=CONFIG).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    httpx.post(f"{url}/api/sessions/{created['id']}/train", json={"steps": 1000}, headers=headers, timeout=120)
    start = time.perf_counter()
    r = httpx.post(f"{url}/api/sessions/{created['id']}/train", json={"steps": steps}, headers=headers, timeout=300)
    elapsed = time.perf_counter() - start
    r.raise_for_status()
    assert r.json()["steps_done"] == steps, r.json()["steps_done"]
    return steps / elapsed


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    server = LiveServer(env={"BPP_MAX_STEPS_PER_CALL": str(args.steps)}).start()
    try:
        engine = max(engine_rate(args.steps) for _ in range(args.repeats))
        rest = max(rest_rate(server.url, args.steps) for _ in range(args.repeats))
    finally:
        server.stop()
    ratio = rest / engine
    print(f"engine in-process : {engine:9.0f} steps/s  (best of {args.repeats} × {args.steps} steps)")
    print(f"POST /train       : {rest:9.0f} steps/s")
    verdict = "met" if ratio >= 0.9 else "NOT met"
    print(f"REST/engine       : {ratio:9.2f}  (target ≥ 0.90: within 10% of the engine's own: {verdict})")


if __name__ == "__main__":
    main()
