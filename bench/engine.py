"""Steps per second of the engine's training loop on both paths (NumPy reference, compiled kernels): plain,
recorded (full trace) and, in the same run, PyTorch (when torch imports) and TF Playground's engine (--tfp).

    python bench/engine.py                               # ~1 s per measurement, best of 3
    python bench/engine.py --quick                       # ~0.2 s per measurement, for a smoke run
    python bench/engine.py --tfp ../shared/anchors       # with TF Playground's nn.js (a benchmark-only copy)

Targets (from the issues): ours ≥ 8× PyTorch CPU; a recorded step (full trace) ≤ 1.5× a plain step on every
path; the compiled path ≥ 3× TF Playground on its networks. PyTorch and TF Playground are never dependencies:
without them the comparison is skipped. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
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

from app.engine import TrainConfig, Trainer, make_dataset, paths
from app.engine.trainer import epoch_order

try:
    import torch
except ImportError:
    torch = None

ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
TARGET_TORCH_RATIO = 8.0
TARGET_TRACE_RATIO = 1.5
TARGET_TFP_RATIO = 3.0
AGREEMENT_STEPS = 200
AGREEMENT_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Bench:
    """One standard network: a built-in dataset (500 samples, all training data) and a config."""

    name: str
    dataset: str
    config: TrainConfig
    tfp: bool = False  # TF Playground's own configuration: tanh units, tanh output, squared error

    def trainer(self, engine: str = "auto") -> Trainer:
        return Trainer(make_dataset(self.dataset, samples=500, train_fraction=1.0, seed=0), self.config, engine)

    @property
    def shape(self) -> str:
        return ",".join(map(str, (2, *self.config.hidden, 1)))


def tfp_bench(hidden: tuple[int, ...]) -> Bench:
    name = "-".join(map(str, (2, *hidden, 1))) + " tanh/tanh/mse"
    cfg = TrainConfig(hidden=hidden, activation="tanh", output_activation="tanh", loss="mse", batch_size=10)
    return Bench(name, "circle", cfg, tfp=True)


BENCHES = [
    tfp_bench((4, 2)),
    tfp_bench((8, 8, 8)),
    tfp_bench((16, 16)),
    Bench("2-8-8-8-1 tanh/sigmoid/CE", "circle", TrainConfig(hidden=(8, 8, 8), activation="tanh", batch_size=10)),
    Bench("2-4-2-1 relu/sigmoid/CE", "circle", TrainConfig(hidden=(4, 2), activation="relu", batch_size=10)),
    Bench("2-16-16-1 relu/sigmoid/CE", "circle", TrainConfig(hidden=(16, 16), activation="relu", batch_size=10)),
    Bench("2-16-3 tanh/softmax/CE", "blobs", TrainConfig(hidden=(16,), activation="tanh", batch_size=10)),
    Bench("1-16-1 tanh/linear/mse", "sine", TrainConfig(hidden=(16,), activation="tanh", batch_size=10)),
    Bench("2-64×8-1 (largest) tanh", "circle", TrainConfig(hidden=(64,) * 8, activation="tanh", batch_size=10)),
]
PATHS = ("numpy", "numba")


# -- timing -------------------------------------------------------------------------------------------


def calibrated(run: Callable[[int], None], seconds: float) -> int:
    """The n for which ``run(n)`` takes about ``seconds`` (after a warm-up: workspaces, caches, the first epoch's
    permutation)."""
    run(20)
    n, elapsed = 20, 0.0
    while elapsed < 0.05:
        n *= 2
        t0 = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - t0
    return max(20, int(n * seconds / elapsed))


def timed(run: Callable[[int], None], n: int) -> float:
    """Seconds per step of one ``run(n)``."""
    t0 = time.perf_counter()
    run(n)
    return (time.perf_counter() - t0) / n


def steps_per_second(run: Callable[[int], None], seconds: float, repeats: int) -> float:
    """Best of ``repeats`` timings of ``run(n)``, n calibrated so that one repeat takes about ``seconds``."""
    n = calibrated(run, seconds)
    return 1.0 / min(timed(run, n) for _ in range(repeats))


def paired(
    plain: Callable[[int], None], recorded: Callable[[int], None], seconds: float, repeats: int
) -> tuple[float, float, float]:
    """Steps per second of ``plain`` and ``recorded`` (best of their repeats) and the recorded/plain time ratio,
    the median over repeats that time one right after the other: a shared machine's speed drifts between two
    measurements taken seconds apart, so the ratio is taken within each pair (at least 5 pairs)."""
    n_plain, n_rec = calibrated(plain, seconds / 2), calibrated(recorded, seconds / 2)
    pairs = [(timed(plain, n_plain), timed(recorded, n_rec)) for _ in range(max(repeats, 5))]
    ratio = statistics.median(rec / pl for pl, rec in pairs)
    return 1.0 / min(p for p, _ in pairs), 1.0 / min(r for _, r in pairs), ratio


def ours_plain(bench: Bench, engine: str) -> Callable[[int], None]:
    """``Trainer.run(steps=n)``: the loop a train call and a playing session run (one kernel call per stretch of
    steps on the compiled path)."""
    trainer = bench.trainer(engine)

    def run(n: int) -> None:
        trainer.run(steps=n)

    return run


def ours_single(bench: Bench, engine: str, record: bool) -> Callable[[int], None]:
    """``Trainer.step(record=...)`` n times: one step per call, with or without its full trace."""
    trainer = bench.trainer(engine)

    def run(n: int) -> None:
        step = trainer.step
        for _ in range(n):
            step(record=record)

    return run


# -- TF Playground ------------------------------------------------------------------------------------


def tfp_rate(anchors: Path, shape: str, seconds: float, repeats: int = 1) -> float:
    """TF Playground's steps per second (its nn.js in Node, timed by the anchors' tfp_speed.js; batch 10): the
    best of ``repeats`` runs of ``seconds``, as our own figures are bests of repeats."""
    cmd = ["node", str(anchors / "tfp_speed.js"), str(anchors / "tfp_nn.js"), shape, "10", f"{max(seconds, 1.0):g}"]
    rates = []
    for _ in range(repeats):
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120)
        rates.append(float(json.loads(out.stdout)["steps_per_s"]))
    return max(rates)


# -- PyTorch ------------------------------------------------------------------------------------------


class TorchTwin:
    """The same network in PyTorch (float64, one thread): weights copied from a Trainer, the same batches."""

    def __init__(self, trainer: Trainer) -> None:
        assert torch is not None
        cfg = trainer.config
        self.trainer = trainer
        acts = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}
        self.out = torch.tanh if cfg.output_activation == "tanh" else (lambda z: z)
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
        """J's data term from z^(L): (1/m) Σ_i ℓ_i, as in docs/maths.md."""
        F = torch.nn.functional
        if (output, loss) == ("sigmoid", "cross_entropy"):
            return lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="sum") / len(z)
        if (output, loss) == ("softmax", "cross_entropy"):
            return lambda z, y: F.cross_entropy(z, y, reduction="sum") / len(z)
        if (output, loss) in (("linear", "mse"), ("tanh", "mse")):  # z is tanh(z) for a tanh output (see run)
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
            loss_fn(self.out(model(xb)), yb).backward()
            optimizer.step()
            self.offset = stop
            if stop >= self.n:
                self.epoch, self.offset = self.epoch + 1, 0
                self._shuffle()

    def weights(self) -> list[np.ndarray]:
        """Θ^(l) in the engine's layout: bias column first."""
        linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        return [np.column_stack([m.bias.detach().numpy(), m.weight.detach().numpy()]) for m in linears]


def torch_agreement(bench: Bench, steps: int, engine: str) -> float:
    """Largest |Θ_ours − Θ_torch| after ``steps`` identical SGD steps from identical weights."""
    trainer = bench.trainer(engine)
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
    parser.add_argument("--tfp", type=Path, help="folder with TF Playground's tfp_nn.js and tfp_speed.js (needs node)")
    parser.add_argument("--only", help="run only the networks whose name contains this")
    args = parser.parse_args(argv)
    seconds, repeats = (0.2, 3) if args.quick else (1.0, 3)
    anchors = args.tfp.parent if args.tfp and args.tfp.is_file() else args.tfp

    started = time.perf_counter()
    if paths.load() is None:
        print(f"the compiled path is not available: {paths.status()['error']}")
        return 1
    print("\n".join(environment()))
    print(f"numba kernels loaded in {time.perf_counter() - started:.2f} s (compiled on first use, then from disk)")
    print(f"load average at start: {_load()}")
    print(f"batch 10, 500 training samples, sgd lr 0.03; best of {repeats} repeats of ~{seconds:g} s; steps/s")
    print("plain = Trainer.run(steps=n); step/rec = Trainer.step() / Trainer.step(record=True), one call per step;")
    print(
        "trace/plain = a recorded step's time over a plain one's (numpy: run; numba: step), the median over 5 pairs "
        "timed back to back; auto = the path chosen\n"
    )
    header = (
        f"{'network':<27} {'params':>6} {'np plain':>9} {'np rec':>8} {'tr/pl':>5} "
        f"{'nb plain':>9} {'nb step':>8} {'nb rec':>8} {'tr/pl':>5} {'auto':>5} {'auto/np':>7}"
    )
    if torch is not None:
        header += f" {'torch':>8} {'/torch':>7} {'|ΔΘ| torch':>10}"
    if anchors is not None:
        header += f" {'TFP':>8} {'auto/TFP':>8}"
    print(header)
    print("-" * len(header))
    torch_ratios, trace_ratios, agreements, tfp_ratios = [], [], [], []
    for bench in BENCHES:
        if args.only and args.only not in bench.name:
            continue
        rate = {"numba": steps_per_second(ours_plain(bench, "numba"), seconds, repeats)}
        rate["numpy"], recorded, np_ratio = paired(
            ours_plain(bench, "numpy"), ours_single(bench, "numpy", True), seconds, repeats
        )
        nb_step, nb_rec, nb_ratio = paired(
            ours_single(bench, "numba", False), ours_single(bench, "numba", True), seconds, repeats
        )
        ratios = (np_ratio, nb_ratio)
        trace_ratios += ratios
        auto = bench.trainer().engine_path
        ours = rate[auto]
        params = bench.trainer().network.theta_flat.size
        row = (
            f"{bench.name:<27} {params:>6} {rate['numpy']:>9.0f} {recorded:>8.0f} {ratios[0]:>4.2f}× "
            f"{rate['numba']:>9.0f} {nb_step:>8.0f} {nb_rec:>8.0f} {ratios[1]:>4.2f}× {auto:>5} "
            f"{ours / rate['numpy']:>6.2f}×"
        )
        if torch is not None:
            twin = TorchTwin(bench.trainer())
            theirs = steps_per_second(twin.run, seconds, repeats)
            agreement = max(torch_agreement(bench, AGREEMENT_STEPS, engine) for engine in PATHS)
            torch_ratios.append(ours / theirs)
            agreements.append(agreement)
            row += f" {theirs:>8.0f} {ours / theirs:>6.1f}× {agreement:>10.1e}"
        if anchors is not None and bench.tfp:
            tfp = tfp_rate(anchors, bench.shape, seconds, repeats)
            tfp_ratios.append((bench.name, ours / tfp))
            row += f" {tfp:>8.0f} {ours / tfp:>7.2f}×"
        print(row, flush=True)

    print(f"\nload average at the end: {_load()}")
    trace_ok = max(trace_ratios) <= TARGET_TRACE_RATIO
    print(
        f"target: full trace ≤ {TARGET_TRACE_RATIO}× a plain step on every path: "
        f"worst {max(trace_ratios):.2f}× {_verdict(trace_ok)}"
    )
    if tfp_ratios:
        worst = min(tfp_ratios, key=lambda item: item[1])
        ok = worst[1] >= TARGET_TFP_RATIO
        print(
            f"target: ≥ {TARGET_TFP_RATIO:g}× TF Playground's engine: worst {worst[1]:.2f}× ({worst[0]}) {_verdict(ok)}"
        )
    if torch is None:
        print(f"target: ours ≥ {TARGET_TORCH_RATIO:g}× PyTorch CPU: skipped (torch not importable)")
        return 0
    torch_ok = min(torch_ratios) >= TARGET_TORCH_RATIO
    agree_ok = max(agreements) <= AGREEMENT_TOLERANCE
    print(f"target: ours ≥ {TARGET_TORCH_RATIO:g}× PyTorch CPU: worst {min(torch_ratios):.2f}× {_verdict(torch_ok)}")
    print(
        f"correctness: after {AGREEMENT_STEPS} identical SGD steps ours (both paths) and torch weights agree to "
        f"{max(agreements):.1e} (tolerance {AGREEMENT_TOLERANCE:g}) {_verdict(agree_ok)}"
    )
    return 0 if agree_ok else 1


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3]) + f" on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


def _verdict(ok: bool) -> str:
    return "(met)" if ok else "(NOT met)"


if __name__ == "__main__":
    sys.exit(main())
