"""What a training run records: a step (StepRecord), the metrics of an epoch (Metrics), a divergence."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .network import Trace

Array = np.ndarray


class StepRecord:
    """What one training step did: its batch (training-set indices), the trace before the update, the update
    ΔΘ and the gradient norms. ΔΘ is kept flat and shaped like Θ only when read. (δ is the error term of a
    unit, in the trace; ΔΘ, the change of the weights, is called the update here and on the wire.)"""

    def __init__(
        self,
        step: int,
        epoch: int,
        indices: Array,
        trace: Trace,
        update_flat: Array,
        slices: list[tuple[int, int, tuple[int, int]]],
        grad_sq: Array,
    ) -> None:
        self.step, self.epoch, self.indices, self.trace = step, epoch, indices, trace
        self._update_flat, self._slices, self._grad_sq = update_flat, slices, grad_sq

    @functools.cached_property
    def update(self) -> list[Array]:
        """ΔΘ^(1..L−1) (``update[l - 1]`` is ΔΘ^(l)): the change the step made to each weight matrix."""
        return [self._update_flat[a:b].reshape(shape) for a, b, shape in self._slices]

    @property
    def grad_norms(self) -> Array:
        """‖D^(l)‖ per weight matrix (index l − 1 for Θ^(l))."""
        return np.sqrt(self._grad_sq)


@dataclass
class Divergence:
    """Why and when a run stopped."""

    step: int
    reason: str


@dataclass(slots=True)
class Metrics:
    """J's data term over each set, the regularization term, and accuracy where it applies."""

    step: int
    epoch: int
    train_loss: float
    test_loss: float | None
    regularization: float
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    grad_norms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (a flat copy: ``dataclasses.asdict`` deep-copies field by field, 15x slower, and every
        checkpoint of a playing session converts its whole history)."""
        out = {name: getattr(self, name) for name in self.__slots__}
        out["grad_norms"] = list(self.grad_norms)
        return out
