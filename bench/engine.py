"""Steps per second of the engine's training loop: plain, recorded (full trace) and, when torch imports, PyTorch.

    python bench/engine.py            # ~1 s per measurement, best of 3
    python bench/engine.py --quick    # ~0.2 s per measurement, for a smoke run

Targets (from the issue): ours ≥ 8× PyTorch CPU; a recorded step (full trace) ≤ 1.5× a plain step.
PyTorch is never a dependency: without it the comparison is skipped. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import app.engine  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engine import TrainConfig, Trainer, make_dataset
from app.engine.trainer import epoch_order

try:
    import torch
except ImportError:
    torch = None

ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
TARGET_TORCH_RATIO = 8.0
TARGET_TRACE_RATIO = 1.5
AGREEMENT_STEPS = 200
AGREEMENT_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Bench:
    """One standard network: a built-in dataset (500 samples, all training data) and a config."""

    name: str
    dataset: str
    config: TrainConfig

    def trainer(self) -> Trainer:
        return Trainer(make_dataset(self.dataset, samples=500, train_fraction=1.0, seed=0), self.config)


BENCHES = [
    Bench("2-8-8-8-1 tanh/sigmoid/CE", "circle", TrainConfig(hidden=(8, 8, 8), activation="tanh", batch_size=10)),
    Bench("2-4-2-1 relu/sigmoid/CE", "circle", TrainConfig(hidden=(4, 2), activation="relu", batch_size=10)),
    Bench("2-16-16-1 relu/sigmoid/CE", "circle", TrainConfig(hidden=(16, 16), activation="relu", batch_size=10)),
    Bench("2-16-3 tanh/softmax/CE", "blobs", TrainConfig(hidden=(16,), activation="tanh", batch_size=10)),
    Bench("1-16-1 tanh/linear/mse", "sine", TrainConfig(hidden=(16,), activation="tanh", batch_size=10)),
]


# -- timing -------------------------------------------------------------------------------------------


def steps_per_second(run: Callable[[int], None], seconds: float, repeats: int) -> float:
    """Best of ``repeats`` timings of ``run(n)``, n calibrated so that one repeat takes about ``seconds``."""
    run(20)  # warm up: workspaces, caches, the first epoch's permutation
    n, elapsed = 20, 0.0
    while elapsed < 0.05:
        n *= 2
        t0 = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - t0
    n = max(20, int(n * seconds / elapsed))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(n)
        best = min(best, time.perf_counter() - t0)
    return n / best


def ours_plain(bench: Bench) -> Callable[[int], None]:
    trainer = bench.trainer()

    def run(n: int) -> None:
        trainer.run(steps=n)

    return run


def ours_recorded(bench: Bench) -> Callable[[int], None]:
    trainer = bench.trainer()

    def run(n: int) -> None:
        step = trainer.step
        for _ in range(n):
            step(record=True)

    return run


# -- PyTorch ------------------------------------------------------------------------------------------


class TorchTwin:
    """The same network in PyTorch (float64, one thread): weights copied from a Trainer, the same batches."""

    def __init__(self, trainer: Trainer) -> None:
        assert torch is not None
        cfg = trainer.config
        self.trainer = trainer
        acts = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}
        layers: list[torch.nn.Module] = []
        for i, theta in enumerate(trainer.network.theta):
            linear = torch.nn.Linear(theta.shape[1] - 1, theta.shape[0], dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(theta[:, 1:].copy()))
                linear.bias.copy_(torch.from_numpy(theta[:, 0].copy()))
            layers.append(linear)
            if i < len(trainer.network.theta) - 1:
                layers.append(acts[cfg.activation[i]]())
        self.model = torch.nn.Sequential(*layers)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=cfg.learning_rate)
        self.loss = self._loss(cfg.output_activation, cfg.loss)
        self.x = torch.from_numpy(np.array(trainer.x_train))  # writable copies: the dataset's arrays are read-only
        self.y = torch.from_numpy(np.array(trainer.dataset.y_train))
        self.n, self.batch_size, self.seed = len(self.x), cfg.batch_size, cfg.seed
        self.epoch, self.offset = 0, 0
        self._shuffle()

    @staticmethod
    def _loss(output: str | None, loss: str | None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """J's data term from z^(L): (1/m) Σ_i ℓ_i, as in SPEC §2."""
        F = torch.nn.functional
        if (output, loss) == ("sigmoid", "cross_entropy"):
            return lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="sum") / len(z)
        if (output, loss) == ("softmax", "cross_entropy"):
            return lambda z, y: F.cross_entropy(z, y, reduction="sum") / len(z)
        if (output, loss) == ("linear", "mse"):
            return lambda z, y: 0.5 * ((z - y) ** 2).sum() / len(z)
        raise ValueError(f"no PyTorch twin for {output} + {loss}")

    def _shuffle(self) -> None:
        order = torch.from_numpy(epoch_order(self.seed, self.epoch, self.n))
        self.x_epoch, self.y_epoch = self.x[order], self.y[order]

    def run(self, steps: int) -> None:
        """``steps`` mini-batch SGD updates on the engine's schedule (same permutations, short last batch)."""
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss
        for _ in range(steps):
            stop = min(self.offset + self.batch_size, self.n)
            xb, yb = self.x_epoch[self.offset : stop], self.y_epoch[self.offset : stop]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            optimizer.step()
            self.offset = stop
            if stop >= self.n:
                self.epoch, self.offset = self.epoch + 1, 0
                self._shuffle()

    def weights(self) -> list[np.ndarray]:
        """Θ^(l) in the engine's layout: bias column first."""
        linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        return [np.column_stack([m.bias.detach().numpy(), m.weight.detach().numpy()]) for m in linears]


def torch_agreement(bench: Bench, steps: int) -> float:
    """Largest |Θ_ours − Θ_torch| after ``steps`` identical SGD steps from identical weights."""
    trainer = bench.trainer()
    twin = TorchTwin(trainer)
    trainer.run(steps=steps)
    twin.run(steps)
    return max(float(np.abs(a - b).max()) for a, b in zip(trainer.weights(), twin.weights(), strict=True))


# -- report -------------------------------------------------------------------------------------------


def environment() -> list[str]:
    lines = [f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, {_cpu_model()}"]
    for name in ENV_VARS:
        value = os.environ.get(name)
        lines.append(f"  {name}={value}" if value is not None else f"  {name} not set")
    if torch is None:
        lines.append("torch: not importable, the PyTorch comparison is skipped (pip install torch==2.13.0 to compare)")
    else:
        torch.set_num_threads(1)
        lines.append(f"torch {torch.__version__}, float64, torch.set_num_threads(1), torch.optim.SGD")
    return lines


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short measurements (~0.2 s each) for a smoke run")
    args = parser.parse_args(argv)
    seconds, repeats = (0.2, 3) if args.quick else (1.0, 3)

    print("\n".join(environment()))
    print(f"batch 10, 500 training samples, sgd lr 0.03; best of {repeats} repeats of ~{seconds:g} s; steps/s\n")
    header = f"{'network':<27} {'params':>6} {'plain':>9} {'recorded':>9} {'trace/plain':>11}"
    if torch is not None:
        header += f" {'torch':>9} {'ours/torch':>10} {'max |ΔΘ| vs torch':>18}"
    print(header)
    print("-" * len(header))
    torch_ratios, trace_ratios, agreements = [], [], []
    for bench in BENCHES:
        plain = steps_per_second(ours_plain(bench), seconds, repeats)
        recorded = steps_per_second(ours_recorded(bench), seconds, repeats)
        trace_ratio = plain / recorded
        trace_ratios.append(trace_ratio)
        params = bench.trainer().network.theta_flat.size
        row = f"{bench.name:<27} {params:>6} {plain:>9.0f} {recorded:>9.0f} {trace_ratio:>10.2f}×"
        if torch is not None:
            twin = TorchTwin(bench.trainer())
            theirs = steps_per_second(twin.run, seconds, repeats)
            agreement = torch_agreement(bench, AGREEMENT_STEPS)
            torch_ratios.append(plain / theirs)
            agreements.append(agreement)
            row += f" {theirs:>9.0f} {plain / theirs:>9.1f}× {agreement:>18.1e}"
        print(row, flush=True)

    print()
    trace_ok = max(trace_ratios) <= TARGET_TRACE_RATIO
    summary = f"full trace ≤ {TARGET_TRACE_RATIO}× a plain step: worst {max(trace_ratios):.2f}× {_verdict(trace_ok)}"
    if torch is None:
        print(f"targets: ours ≥ {TARGET_TORCH_RATIO:g}× PyTorch CPU: skipped (torch not importable); {summary}")
        return 0
    torch_ok = min(torch_ratios) >= TARGET_TORCH_RATIO
    agree_ok = max(agreements) <= AGREEMENT_TOLERANCE
    print(
        f"targets: ours ≥ {TARGET_TORCH_RATIO:g}× PyTorch CPU: worst {min(torch_ratios):.2f}× {_verdict(torch_ok)}; "
        f"{summary}"
    )
    print(
        f"correctness: after {AGREEMENT_STEPS} identical SGD steps ours and torch weights agree to "
        f"{max(agreements):.1e} (tolerance {AGREEMENT_TOLERANCE:g}) {_verdict(agree_ok)}"
    )
    return 0 if agree_ok else 1


def _verdict(ok: bool) -> str:
    return "(met)" if ok else "(NOT met)"


if __name__ == "__main__":
    sys.exit(main())
