"""What a training run records: a step (StepRecord), the metrics of an epoch (Metrics), a divergence."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .network import Trace

Array = np.ndarray


class StepRecord:
    """What one training step did: its batch (training-set indices), the trace before the update, ΔΘ and
    the gradient norms. ΔΘ is kept flat and shaped like Θ only when read."""

    def __init__(
        self,
        step: int,
        epoch: int,
        indices: Array,
        trace: Trace,
        delta_flat: Array,
        slices: list[tuple[int, int, tuple[int, int]]],
        grad_sq: Array,
    ) -> None:
        self.step, self.epoch, self.indices, self.trace = step, epoch, indices, trace
        self._delta_flat, self._slices, self._grad_sq = delta_flat, slices, grad_sq

    @functools.cached_property
    def delta_theta(self) -> list[Array]:
        """ΔΘ^(1..L−1): the change the update made to each weight matrix."""
        return [self._delta_flat[a:b].reshape(shape) for a, b, shape in self._slices]

    @property
    def grad_norms(self) -> Array:
        """‖D^(l)‖ per weight matrix."""
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
