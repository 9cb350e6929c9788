"""The update rules of docs/maths.md ("The update"), applied in place to the flat weight vector.

Each ``update(theta, grad, lr)`` changes ``theta`` and returns the update ΔΘ (the change it made) in
``update_buf``, a buffer the optimizer owns. State starts at zero and is dropped whenever the weights are replaced.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import EngineError

Array = np.ndarray
OPTIMIZERS = ("sgd", "momentum", "adam")
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8


class SGD:
    """Θ ← Θ − αD."""

    name = "sgd"

    def __init__(self, size: int) -> None:
        self.update_buf = np.zeros(size)

    def update(self, theta: Array, grad: Array, lr: float) -> Array:
        """Apply one step; returns ΔΘ = −αD."""
        np.multiply(grad, -lr, out=self.update_buf)
        np.add(theta, self.update_buf, out=theta)
        return self.update_buf

    def state(self) -> dict[str, Any]:
        """The optimizer state as plain data (for export)."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what ``state`` returned."""


class Momentum(SGD):
    """v ← μv − αD, Θ ← Θ + v."""

    name = "momentum"

    def __init__(self, size: int, mu: float = 0.9) -> None:
        super().__init__(size)
        self.mu = mu
        self.v = np.zeros(size)

    def update(self, theta: Array, grad: Array, lr: float) -> Array:
        """Apply one step; returns ΔΘ = v."""
        np.multiply(self.v, self.mu, out=self.v)
        np.multiply(grad, lr, out=self.update_buf)
        np.subtract(self.v, self.update_buf, out=self.v)
        np.add(theta, self.v, out=theta)
        np.copyto(self.update_buf, self.v)
        return self.update_buf

    def state(self) -> dict[str, Any]:
        """The velocity v."""
        return {"v": self.v.tolist()}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore v."""
        self.v[:] = _vector(state, "v", self.v.size)


class Adam(SGD):
    """m ← β1m + (1−β1)D, v ← β2v + (1−β2)D², Θ ← Θ − α·m̂/(√v̂ + ε) with m̂, v̂ bias-corrected."""

    name = "adam"

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.m = np.zeros(size)
        self.v = np.zeros(size)
        self.t = 0
        self._tmp = np.zeros(size)

    def update(self, theta: Array, grad: Array, lr: float) -> Array:
        """Apply one step; returns ΔΘ = −α·m̂/(√v̂ + ε)."""
        self.t += 1
        m, v, tmp, step = self.m, self.v, self._tmp, self.update_buf  # step: ΔΘ
        np.multiply(m, ADAM_BETA1, out=m)
        np.multiply(grad, 1.0 - ADAM_BETA1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(v, ADAM_BETA2, out=v)
        np.multiply(grad, grad, out=tmp)
        np.multiply(tmp, 1.0 - ADAM_BETA2, out=tmp)
        np.add(v, tmp, out=v)
        np.divide(v, 1.0 - ADAM_BETA2**self.t, out=tmp)  # v̂
        np.sqrt(tmp, out=tmp)
        np.add(tmp, ADAM_EPS, out=tmp)
        np.divide(m, 1.0 - ADAM_BETA1**self.t, out=step)  # m̂
        np.divide(step, tmp, out=step)
        np.multiply(step, -lr, out=step)
        np.add(theta, step, out=theta)
        return step

    def state(self) -> dict[str, Any]:
        """The moments m, v and the update count t."""
        return {"m": self.m.tolist(), "v": self.v.tolist(), "t": self.t}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore m, v and t."""
        self.m[:] = _vector(state, "m", self.m.size)
        self.v[:] = _vector(state, "v", self.v.size)
        t = state.get("t", 0)
        if not isinstance(t, int) or t < 0:
            raise EngineError("optimizer_state.t", "must be a non-negative integer")
        self.t = t


def _vector(state: dict[str, Any], key: str, size: int) -> Array:
    try:
        arr = np.asarray(state[key], dtype=np.float64)
    except (KeyError, ValueError, TypeError):
        raise EngineError(f"optimizer_state.{key}", f"must be a list of {size} numbers") from None
    if arr.shape != (size,) or not np.isfinite(arr).all():
        raise EngineError(f"optimizer_state.{key}", f"must be a list of {size} finite numbers")
    return arr


def make_optimizer(name: str, size: int, momentum: float = 0.9) -> SGD:
    """A fresh optimizer (state at zero) for ``size`` weights."""
    if name == "sgd":
        return SGD(size)
    if name == "momentum":
        if not (0.0 <= momentum < 1.0 and math.isfinite(momentum)):
            raise EngineError("momentum", "must lie in [0, 1)")
        return Momentum(size, momentum)
    if name == "adam":
        return Adam(size)
    raise EngineError("optimizer", f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
