"""The settings of a training run (everything but its data), checked field by field."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .datasets import Dataset, validate_features
from .errors import EngineError
from .functions import HIDDEN_ACTIVATIONS, REGULARIZATIONS
from .network import INITS
from .optimizers import make_optimizer

DEFAULT_OUTPUT = {
    "regression": ("linear", "mse"),
    "classification": ("sigmoid", "cross_entropy"),
    "multiclass": ("softmax", "cross_entropy"),
}
# Hyperparameters that change without touching the weights; any other field rebuilds the network.
LIVE_FIELDS = frozenset(
    {
        "learning_rate",
        "batch_size",
        "optimizer",
        "momentum",
        "regularization",
        "reg_rate",
        "activation",
        "output_activation",
        "loss",
        "init",
        "init_scale",
    }
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything about a run except its data. ``None`` outputs/loss/features take the task's defaults."""

    hidden: tuple[int, ...] = (4, 2)
    activation: str | tuple[str, ...] = "tanh"
    output_activation: str | None = None
    loss: str | None = None
    learning_rate: float = 0.03
    batch_size: int = 10
    optimizer: str = "sgd"
    momentum: float = 0.9
    regularization: str = "none"
    reg_rate: float = 0.0
    init: str = "xavier"
    init_scale: float = 0.12
    seed: int = 0
    features: tuple[str, ...] | None = None

    def resolved(self, dataset: Dataset) -> TrainConfig:
        """Fill the task's default output activation, loss and features, and check every field."""
        out, loss = DEFAULT_OUTPUT[dataset.task]
        features = self.features
        if features is None:
            features = ("x1", "x2")[: dataset.inputs] if dataset.inputs <= 2 else ()
        acts = self.activation
        if isinstance(acts, str):
            acts = (acts,) * len(self.hidden)
        cfg = replace(
            self,
            output_activation=self.output_activation or out,
            loss=self.loss or loss,
            features=validate_features(tuple(features), dataset.inputs),
            activation=tuple(acts),
        )
        cfg.check()
        return cfg

    def check(self) -> None:
        """Raise EngineError for the first field out of range."""
        acts = self.activation
        if any(not isinstance(h, int) or h < 1 for h in self.hidden):
            raise EngineError("hidden", "every hidden layer needs a whole number of units ≥ 1")
        if not isinstance(acts, str) and len(acts) != len(self.hidden):
            raise EngineError("activation", f"give one activation, or one per hidden layer ({len(self.hidden)})")
        for name in (acts,) if isinstance(acts, str) else acts:
            if name not in HIDDEN_ACTIVATIONS:
                raise EngineError(
                    "activation", f"unknown activation {name!r}; choose one of {', '.join(HIDDEN_ACTIVATIONS)}"
                )
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise EngineError("learning_rate", "must be a finite number > 0")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise EngineError("batch_size", "must be a whole number ≥ 1")
        if self.regularization not in REGULARIZATIONS:
            raise EngineError("regularization", f"choose one of {', '.join(REGULARIZATIONS)}")
        if not (math.isfinite(self.reg_rate) and self.reg_rate >= 0):
            raise EngineError("reg_rate", "must be a finite number ≥ 0")
        if not (math.isfinite(self.init_scale) and self.init_scale >= 0):
            raise EngineError("init_scale", "must be a finite number ≥ 0")
        if self.init not in INITS:
            raise EngineError("init", f"unknown initialization {self.init!r}; choose one of {', '.join(INITS)}")
        make_optimizer(self.optimizer, 0, self.momentum)
