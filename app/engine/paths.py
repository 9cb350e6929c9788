"""Which path runs a network's passes and steps: the compiled kernels (kernels.py, Numba) or NumPy (network.py).

Both paths compute the same float64 maths from the same arrays; they differ only in the order in which the
sums of the matrix products are added and in the last bits of tanh (kernels.tanh, within 2 ulp of NumPy's), so
they agree to ~1e-15 relative per step (the tests hold them to 1e-12), and each is bit for bit reproducible on
its own. A Network (and its Trainer) has an ``engine``:

- ``"numpy"``: always the NumPy path: BLAS matrix products, about forty NumPy calls a step.
- ``"numba"``: always the kernels, loaded (or compiled) on first use, synchronously: for tests and benches.
- ``"auto"`` (the default): the kernels once the background warm-up (``warm_up``, started with the server)
  has loaded them, for passes small enough that plain loops beat BLAS and NumPy's vectorized tanh (at most
  ``COMPILED_MAX_WORK`` multiply-adds in one pass over m samples: m·Σ_l S_l·(1 + S_{l−1})); otherwise the
  NumPy path. A training run takes its path from its batch size; the metrics over a whole set are always the
  NumPy path's, so they never depend on when the kernels were loaded (a restarted server shows the same ones).
  Until the warm-up is done, "auto" runs NumPy, so no student's step ever waits for a compiler.
  ``set_policy("numpy")`` (the server's ``BPP_ENGINE=numpy``) makes "auto" mean NumPy for the whole process.

When Numba cannot be imported (an unsupported platform, a broken install), "auto" stays on NumPy and
``status()`` says why; "numba" raises EngineError.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from .errors import EngineError

NUMPY, NUMBA = "numpy", "numba"
ENGINES = ("auto", NUMPY, NUMBA)
POLICIES = ("auto", NUMPY)
# Above this many multiply-adds in one pass (m·Σ_l S_l·(1 + S_{l−1})), NumPy (BLAS, SIMD tanh) beats the kernels'
# loops on the bench machine (Trainer.run, CPU time, one BLAS thread): compiled/NumPy was 5.0× for 2-16-16-1 at
# batch 10 (3,370), 2.0× for 2-32-32-1 (11,850), 3.1× for 2-4-2-1 at batch 500 (12,500), 1.6× for 2-16-16-1 at
# batch 100 (33,700), 1.3× for 2-48-48-1 (25,450), 0.78× for 2-64-64-1 (44,170), 0.58× for 8 layers of 64
# (293,770), all at batch 10 unless said.
COMPILED_MAX_WORK = 30_000
# A kernel call of more multiply-adds than this (about a millisecond here) releases the GIL while it runs (the
# ``…_released`` kernels); shorter calls keep it, as taking it back costs more than they run (kernels.compiled).
RELEASE_WORK = 1_000_000

ACTIVATION_CODES = {"linear": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "softmax": 5}
LOSS_CODES = {"mse": 0, "cross_entropy": 1}
REGULARIZATION_CODES = {"none": 0, "l1": 1, "l2": 2}
OPTIMIZER_CODES = {"sgd": 0, "momentum": 1, "adam": 2}
TASK_CODES = {"regression": 0, "classification": 1, "multiclass": 2}

_lock = threading.Lock()
_kernels: ModuleType | None = None
_error: str | None = None
_load_seconds: float | None = None
_thread: threading.Thread | None = None
_policy = "auto"


def load() -> ModuleType | None:
    """Import the kernels now (Numba compiles them, or loads its on-disk cache); None when Numba is unusable.
    Runs once per process: later calls return at once."""
    global _kernels, _error, _load_seconds
    with _lock:
        if _kernels is None and _error is None:
            start = time.perf_counter()
            try:
                from . import kernels
            except Exception as err:  # ImportError, or Numba failing on this platform: NumPy carries on
                _error = f"{type(err).__name__}: {err}"
            else:
                _kernels = kernels
            _load_seconds = time.perf_counter() - start
    return _kernels


def warm_up() -> threading.Thread:
    """Load the kernels in a background thread (once per process); "auto" networks switch over when done."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=load, name="engine-warm-up", daemon=True)
            _thread.start()
        return _thread


def ready() -> bool:
    """True once the kernels are loaded."""
    return _kernels is not None


def set_policy(policy: str) -> None:
    """What "auto" means in this process: "auto" (kernels when ready and faster) or "numpy" (never kernels)."""
    global _policy
    if policy not in POLICIES:
        raise EngineError("engine", f"choose one of {', '.join(POLICIES)}")
    _policy = policy


def status() -> dict[str, Any]:
    """The accelerator's state: policy, loaded or not, how long loading took, why it failed."""
    return {"policy": _policy, "ready": ready(), "load_seconds": _load_seconds, "error": _error}


def check_engine(engine: str) -> str:
    """``engine`` if it names a path choice, else EngineError."""
    if engine not in ENGINES:
        raise EngineError("engine", f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine


def kernels_for(engine: str, work: int) -> ModuleType | None:
    """The kernels module when ``engine`` runs a pass of ``work`` multiply-adds on them, else None (NumPy)."""
    if engine == "auto":
        if _kernels is None or _policy == NUMPY or work > COMPILED_MAX_WORK:
            return None
        return _kernels
    if engine == NUMPY:
        return None
    found = load()
    if found is None:
        raise EngineError("engine", f"the compiled engine is not available here ({_error})")
    return found


def tables(sizes: Sequence[int], activations: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The ``layers`` table that the kernels read and the activation codes, both indexed by the course's layer
    l = 1..L (row 0 unused; ``activations[l]`` names layer l's g). Row l holds S_l, the offset of Θ^(l) in the flat
    Θ vector (l < L), and the rows of a^(l), z^(l) and δ^(l) in a Workspace buffer (z and δ for l ≥ 2; a^(1) is
    the last block), laid out as network.Workspace lays it."""
    L = len(sizes)
    layers = np.zeros((L + 1, 5), dtype=np.int64)
    row, theta = 0, 0
    for l in range(1, L + 1):
        s = sizes[l - 1]
        layers[l, 0] = s
        if l < L:  # Θ^(l): S_{l+1} × (1 + S_l)
            layers[l, 1] = theta
            theta += sizes[l] * (1 + s)
        if l == 1:
            continue
        bias = 0 if l == L else 1  # hidden layers store [1; a]: a starts one row below the block
        layers[l, 2] = row + bias
        row += bias + s
        layers[l, 3] = row
        layers[l, 4] = row + s
        row += 2 * s
    layers[1, 2] = row  # a^(1), the batch's inputs, which only the kernels copy there, after everything else
    return layers, np.array([ACTIVATION_CODES[name] for name in activations], dtype=np.int64)


def work(sizes: Sequence[int]) -> int:
    """Multiply-adds per sample in one forward pass: Σ_l S_l·(1 + S_{l−1})."""
    return sum(s * (1 + p) for p, s in itertools.pairwise(sizes))
