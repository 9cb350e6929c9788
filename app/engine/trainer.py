"""A training run: data, network, optimizer and the mini-batch schedule of docs/maths.md ("Steps, epochs and
determinism", "Divergence").

One *step* is one mini-batch update. The order of epoch e is a permutation drawn from a generator
seeded with (seed, e) alone, so any step can be replayed and a run resumes mid-epoch exactly where it
stopped. A step that makes the weights non-finite puts the run in the ``diverged`` state: the weights
go back to the last finite ones and nothing trains until the weights or hyperparameters change.

Steps run on the network's path (paths.py): the NumPy path one step per call, or the compiled kernels,
which ``run`` calls once for as many steps as fit before the epoch's end, the step limit or the deadline.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from types import ModuleType
from typing import Any

import numpy as np

from . import compiled, paths
from .config import DEFAULT_OUTPUT, LIVE_FIELDS, TrainConfig
from .datasets import Dataset, feature_transform
from .errors import EngineError
from .functions import regularization_cost
from .network import Network, Trace, Workspace, augment
from .optimizers import SGD, make_optimizer
from .records import Divergence, Metrics, StepRecord

__all__ = [
    "DEFAULT_OUTPUT",
    "LIVE_FIELDS",
    "MAX_HISTORY",
    "Divergence",
    "Metrics",
    "StepRecord",
    "TrainConfig",
    "Trainer",
]
Array = np.ndarray
MAX_HISTORY = 500  # entries per run; beyond, the history is thinned to every other entry (memory stays bounded)


def epoch_order(seed: int, epoch: int, n: int) -> Array:
    """The permutation of the n training samples for epoch ``epoch``, from a generator seeded with (seed, epoch)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


class Trainer:
    """Trains a Network on a Dataset with a TrainConfig, step by step, recording what it did. ``engine``
    chooses the path of the steps (paths.py: "auto", "numpy" or "numba")."""

    def __init__(self, dataset: Dataset, config: TrainConfig, engine: str = "auto") -> None:
        self.dataset = dataset
        self.config = config.resolved(dataset)
        self.engine = paths.check_engine(engine)
        self._build()

    # -- construction --------------------------------------------------------------------------------

    def _build(self) -> None:
        cfg, ds = self.config, self.dataset
        self.x_train = self._features(ds.x_train)
        self.x_test = self._features(ds.x_test)
        # The engine works on columns of samples: [1; x] blocks for the sets, and per epoch a shuffled copy
        # whose batches are plain slices, so a step copies no data.
        self._x_aug = augment(self.x_train)
        self._y = np.ascontiguousarray(ds.y_train.T)
        self._x_test_aug = augment(self.x_test)
        self._y_test = np.ascontiguousarray(ds.y_test.T)
        sizes = (self.x_train.shape[1], *cfg.hidden, ds.outputs)
        self.network = Network(sizes, cfg.activation, cfg.output_activation, cfg.loss, self.engine)  # type: ignore[arg-type]
        self._check_targets(ds.y_train, "dataset.y")
        self.reset()

    def _features(self, x: Array) -> Array:
        feats = self.config.features or ()
        return feature_transform(x, feats) if feats else np.ascontiguousarray(x, dtype=np.float64)

    def _check_targets(self, y: Array, name: str, cfg: TrainConfig | None = None) -> None:
        cfg = cfg or self.config
        if cfg.loss != "cross_entropy":
            return
        if ((y < 0) | (y > 1)).any():
            raise EngineError(name, "cross-entropy targets must lie in [0, 1]")
        if cfg.output_activation == "softmax" and not np.allclose(y.sum(axis=1), 1.0):
            raise EngineError(name, "softmax cross-entropy targets must be one-hot or probability rows")

    def reset(self, seed: int | None = None) -> None:
        """New weights from the seed (the config's, or ``seed``, which becomes the config's); counters to 0."""
        if seed is not None:
            self.config = replace(self.config, seed=int(seed))
        self.network.initialize(self.config.init, self.config.init_scale, np.random.default_rng(self.config.seed))
        self.step_count = 0
        self.epoch = 0
        self.offset = 0
        self.history: list[Metrics] = []
        self._order: Array | None = None
        self._step_seconds = 0.0  # a compiled step's time in the last time-boxed run (compiled.run); 0: unknown
        self._restart_optimizer()

    def _restart_optimizer(self) -> None:
        size = self.network.theta_flat.size
        self.optimizer: SGD = make_optimizer(self.config.optimizer, size, self.config.momentum)
        self._safe = self.network.theta_flat.copy()  # finite weights to fall back on (refreshed each epoch)
        self._g2 = np.zeros(size)
        self._grad_sq = np.zeros(len(self.network.shapes))
        self._cost = np.zeros(1)  # the compiled step's data cost, when it records
        self._metrics_out = np.zeros(2)  # the compiled metrics: Σℓ and the accuracy over a set
        self._setup: tuple[TrainConfig, Array, Array, Array] | None = None  # the compiled steps' codes (compiled.py)
        self.divergence: Divergence | None = None

    @property
    def diverged(self) -> bool:
        """True once a step made the weights non-finite (until weights or hyperparameters change)."""
        return self.divergence is not None

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return len(self.x_train)

    def reconfigure(self, **changes: Any) -> bool:
        """Apply new settings. Live hyperparameters keep the weights; anything structural rebuilds and
        re-initializes the network from the seed. Returns True when the weights were kept.
        Everything is checked before anything changes."""
        unknown = set(changes) - set(TrainConfig.__dataclass_fields__)
        if unknown:
            raise EngineError(sorted(unknown)[0], "is not a training setting")
        if "hidden" in changes and "activation" not in changes and len(set(self.config.activation)) <= 1:
            changes["activation"] = self.config.activation[0] if self.config.activation else "tanh"
        new = replace(self.config, **changes).resolved(self.dataset)
        if not (set(changes) <= LIVE_FIELDS and new.hidden == self.config.hidden):
            self.__dict__.update(Trainer(self.dataset, new, self.engine).__dict__)
            return False
        network = Network(self.network.sizes, new.activation, new.output_activation, new.loss, self.engine)  # type: ignore[arg-type]
        self._check_targets(self.dataset.y_train, "loss", new)
        network.theta_flat[:] = self.network.theta_flat
        self._step_seconds = 0.0  # a new batch size or activation: the last speed no longer says much
        old, self.config, self.network = self.config, new, network
        if (new.optimizer, new.momentum) != (old.optimizer, old.momentum) or self.diverged:
            self._restart_optimizer()
        return True

    # -- training -----------------------------------------------------------------------------------

    def _shuffle(self, kernels: ModuleType | None = None) -> Array:
        """The epoch's order (the compiled path reads the data in it; ``_epoch_columns`` copies it for NumPy),
        drawn by the kernels' copy of NumPy's generator when given (the same numbers, without ~20 µs of Python)."""
        if kernels is None:
            order = epoch_order(self.config.seed, self.epoch, self.n_train)
        else:
            order = np.empty(self.n_train, dtype=np.int64)
            kernels.permutation(self._seed_words(kernels), self.epoch, order)
        self._order = order
        self._epoch_data: tuple[Array, Array] | None = None
        return order

    def _seed_words(self, kernels: ModuleType) -> Array:
        """The seed's 32-bit words, as NumPy's SeedSequence reads it (cached per seed)."""
        cached = self.__dict__.get("_seed_cache")
        if cached is None or cached[0] != self.config.seed:
            cached = self._seed_cache = (self.config.seed, kernels.entropy_words(self.config.seed))
        return cached[1]

    def _epoch_columns(self) -> tuple[Array, Array]:
        """([1; x], y) of the training set in the epoch's order, so that a NumPy step's batch is a plain slice."""
        if self._epoch_data is None:
            order = self._order
            self._epoch_data = (self._x_aug[:, order], self._y[:, order])
        return self._epoch_data

    def batch_indices(self) -> Array:
        """The training-set indices of the next step's batch."""
        order = self._shuffle() if self._order is None else self._order
        return order[self.offset : self.offset + self.config.batch_size]

    def step(self, record: bool = False, batch_size: int | None = None) -> StepRecord | None:
        """One mini-batch update from the schedule (``batch_size`` overrides the config's for this step);
        with ``record`` the batch, its trace and ΔΘ. None when diverged."""
        with np.errstate(all="ignore"):  # overflow is a state to report (diverged), not a warning
            return self._step(record, batch_size)

    def _step(self, record: bool = False, batch_size: int | None = None) -> StepRecord | None:
        if self.divergence is not None:
            return None
        order = self._shuffle() if self._order is None else self._order
        start = self.offset
        stop = min(start + (batch_size or self.config.batch_size), self.n_train)
        ws = self.network.workspace(stop - start)
        x, y = self._epoch_columns()
        ws.feed(x[:, start:stop], y[:, start:stop])
        out = self._train_on(ws, order[start:stop], record)
        if self.divergence is None:
            self._advance(stop)
        return out

    def _advance(self, stop: int) -> None:
        """The schedule moves to column ``stop`` of the epoch; at its end, the epoch's metrics are logged."""
        self.offset = stop
        if stop >= self.n_train:
            self.offset = 0
            self.epoch += 1
            self._order = None
            self._log_epoch()
            if self.divergence is None:
                np.copyto(self._safe, self.network.theta_flat)

    def step_on(self, indices: Sequence[int], record: bool = True) -> StepRecord | None:
        """One update on chosen training samples, outside the epoch schedule (it counts as a step)."""
        if self.divergence is not None:
            return None
        idx = self._indices(indices)
        ws = self.network.workspace(len(idx))
        ws.feed(self._x_aug[:, idx], self._y[:, idx])
        with np.errstate(all="ignore"):
            return self._train_on(ws, idx, record)

    def _train_on(self, ws: Workspace, indices: Array, record: bool) -> StepRecord | None:
        """Forward, backward and the optimizer's update on the batch fed to ``ws``."""
        net, cfg = self.network, self.config
        kernels = net.kernels(ws.m)
        if kernels is not None:
            return compiled.step(self, kernels, ws, indices, record)
        net.forward(ws)
        grad = net.gradient(ws, cfg.regularization, cfg.reg_rate)
        trace = net.snapshot(ws, cfg.regularization, cfg.reg_rate) if record else None
        np.multiply(grad, grad, out=self._g2)
        self._grad_sq = sq = np.add.reduceat(self._g2, net.offsets[:-1])  # sq[l - 1] = ‖D^(l)‖², l = 1..L−1
        # A finite ‖D‖² (|D| < 1e154) keeps the update finite, so checking D before the update is enough to
        # stop with the last finite weights; the rare overflow that slips through is caught by _diverge.
        if not math.isfinite(sum(sq.tolist())):
            self._diverge("the gradient became too large or non-finite (∞ or NaN): try a smaller learning rate")
            return None
        update = self.optimizer.update(net.theta_flat, grad, cfg.learning_rate)  # ΔΘ
        self.step_count += 1
        if trace is None:
            return None
        return StepRecord(self.step_count, self.epoch, indices, trace, update.copy(), net._slices, sq)

    @property
    def engine_path(self) -> str:
        """The path the training steps run on now: "numba" (compiled kernels) or "numpy" (the NumPy path)."""
        return self.network.path(min(self.config.batch_size, self.n_train))

    @property
    def grad_norms(self) -> Array:
        """‖D^(l)‖ of the latest step, per weight matrix."""
        return np.sqrt(self._grad_sq)

    def _diverge(self, reason: str) -> None:
        theta = self.network.theta_flat
        if not np.isfinite(theta).all():  # weights overflowed earlier: back to the last epoch's start
            np.copyto(theta, self._safe)
        step = self.step_count + 1
        self._restart_optimizer()
        self.divergence = Divergence(step, reason)

    def _log_epoch(self) -> None:
        # the epoch's entry is computed on the path the steps ran on (kernel calls on the compiled path, as
        # compiled.run's do)
        with np.errstate(all="ignore"):
            metrics = self._evaluate(self.network.kernels(min(self.config.batch_size, self.n_train)))
        if self.divergence is None:
            self._record_epoch(metrics)

    def _record_epoch(self, metrics: Metrics) -> None:
        """Append an epoch's metrics to the history, thinned to every other entry beyond MAX_HISTORY."""
        self.history.append(metrics)
        if len(self.history) > MAX_HISTORY:  # keep the whole span at half the resolution
            kept = self.history[::2]
            if kept[-1] is not metrics:
                kept.append(metrics)
            self.history = kept

    def run(
        self,
        steps: int | None = None,
        epochs: int | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> int:
        """Train for ``steps`` steps or ``epochs`` whole epochs (from here), stopping early when diverged
        or when ``clock()`` passes ``deadline`` (wall time by default; a time slice of a shared server passes
        ``time.thread_time``, the CPU time of this thread, which waiting for the GIL does not use up). Returns
        the number of steps done."""
        if (steps is None) == (epochs is None):
            raise EngineError("steps", "give either steps or epochs")
        if epochs is not None:
            target_epoch = self.epoch + epochs
            limit = None
        else:
            target_epoch = None
            limit = self.step_count + int(steps)  # type: ignore[arg-type]
        start = self.step_count
        kernels = self.network.kernels(min(self.config.batch_size, self.n_train))
        if kernels is not None:
            compiled.run(self, kernels, limit, target_epoch, deadline, clock)
            return self.step_count - start
        step = self._step
        with np.errstate(all="ignore"):
            while not self.diverged:
                if (limit is not None and self.step_count >= limit) or (
                    target_epoch is not None and self.epoch >= target_epoch
                ):
                    break
                step()
                if deadline is not None and clock() > deadline:  # every step: one step may be long
                    break
        return self.step_count - start

    # -- reading ------------------------------------------------------------------------------------

    def evaluate(self) -> Metrics:
        """Metrics over the whole training and test sets at the current weights, on the NumPy path (whether or
        not the kernels are loaded yet: a restarted server shows the very same numbers)."""
        with np.errstate(all="ignore"):
            return self._evaluate()

    def _evaluate(self, kernels: ModuleType | None = None) -> Metrics:
        net, cfg = self.network, self.config
        train_loss, train_acc = self._loss_and_accuracy(self._x_aug, self._y, kernels)
        test_loss, test_acc = (
            (None, None) if len(self.x_test) == 0 else self._loss_and_accuracy(self._x_test_aug, self._y_test, kernels)
        )
        if kernels is None:
            reg = regularization_cost(cfg.regularization, cfg.reg_rate, self.n_train, net.theta_flat, net.reg_mask)
        else:
            kind = paths.REGULARIZATION_CODES[cfg.regularization]
            reg = kernels.regularization_cost(net.theta_flat, net.layer_table, kind, cfg.reg_rate, self.n_train)
        if self.divergence is None and not (math.isfinite(train_loss) and math.isfinite(reg)):
            self.divergence = Divergence(
                self.step_count, "the cost became non-finite (∞ or NaN): try a smaller learning rate"
            )
        return Metrics(
            self.step_count, self.epoch, train_loss, test_loss, reg, train_acc, test_acc, self.grad_norms.tolist()
        )

    def _loss_and_accuracy(
        self, x_aug: Array, y: Array, kernels: ModuleType | None = None
    ) -> tuple[float, float | None]:
        """J's data term and the accuracy over a whole set given as columns ([1; x], y), on the kernels if given."""
        net = self.network
        ws = net.workspace(x_aug.shape[1])
        if kernels is not None:  # one call: the forward pass, Σℓ and the accuracy
            out = self._metrics_out
            task = paths.TASK_CODES[self.dataset.task]
            table, codes, theta = net.layer_table, net.activation_codes, net.theta_flat
            kernel = kernels.metrics_released if net.work * ws.m > paths.RELEASE_WORK else kernels.metrics
            kernel(theta, table, codes, net.loss_code, task, ws.buffer, x_aug, y, ws.columns, ws.m, out)
            return float(out[0]) / ws.m, (None if math.isnan(out[1]) else float(out[1]))
        ws.feed(x_aug, y)
        net.forward(ws, compiled=False)
        loss = net.data_cost(ws)
        a = ws.a[-1]
        if self.dataset.task == "classification":
            return loss, float(np.mean((a >= 0.5) == (y >= 0.5)))
        if self.dataset.task == "multiclass":
            return loss, float(np.mean(a.argmax(axis=0) == y.argmax(axis=0)))
        return loss, None

    def history_with_latest(self) -> list[Metrics]:
        """One entry per epoch, plus the current state when it is not an epoch boundary."""
        if self.history and self.history[-1].step == self.step_count:
            return list(self.history)
        return [*self.history, self.evaluate()]

    def trace(self, x: Array, y: Array) -> Trace:
        """The full pass over raw inputs ``x`` (the dataset's columns) and targets ``y``, no update."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        ds = self.dataset
        if x.ndim != 2 or x.shape[1] != ds.inputs or len(x) == 0 or not np.isfinite(x).all():
            raise EngineError("x", f"must be non-empty rows of {ds.inputs} finite numbers")
        if y.shape != (len(x), ds.outputs) or not np.isfinite(y).all():
            raise EngineError("y", f"must be {len(x)} rows of {ds.outputs} finite numbers, one per row of x")
        self._check_targets(y, "y")
        return self.network.trace(
            self._features(np.asarray(x, dtype=np.float64)),
            np.asarray(y, dtype=np.float64),
            self.config.regularization,
            self.config.reg_rate,
        )

    def _indices(self, indices: Sequence[int]) -> Array:
        try:
            idx = np.asarray(indices, dtype=np.intp)
        except (OverflowError, ValueError, TypeError):
            raise EngineError("samples", f"training-set indices must lie in [0, {self.n_train - 1}]") from None
        if idx.ndim != 1 or len(idx) == 0 or idx.min() < 0 or idx.max() >= self.n_train:
            raise EngineError("samples", f"training-set indices must lie in [0, {self.n_train - 1}]")
        return idx

    def trace_samples(self, indices: Sequence[int]) -> Trace:
        """The full pass over training samples by index, no update."""
        idx = self._indices(indices)
        return self.network.trace(
            self.x_train[idx], self.dataset.y_train[idx], self.config.regularization, self.config.reg_rate
        )

    # -- weights and state --------------------------------------------------------------------------

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Replace Θ (shapes checked); resets the optimizer state, keeps the counters."""
        self.network.set_weights(weights)
        self._restart_optimizer()

    def set_weight(self, layer: int, row: int, column: int, value: float) -> None:
        """Θ^(layer)_{row,column} = value; resets the optimizer state, keeps the counters."""
        if not 1 <= layer <= len(self.network.theta):
            raise EngineError("layer", f"must lie in [1, {len(self.network.theta)}]")
        theta = self.network.theta[layer - 1]
        if not 0 <= row < theta.shape[0]:
            raise EngineError("row", f"must lie in [0, {theta.shape[0] - 1}] for Θ^({layer})")
        if not 0 <= column < theta.shape[1]:
            raise EngineError("column", f"must lie in [0, {theta.shape[1] - 1}] for Θ^({layer})")
        if not math.isfinite(value):
            raise EngineError("value", "must be a finite number")
        theta[row, column] = value
        self._restart_optimizer()

    def weights(self) -> list[Array]:
        """Copies of Θ^(1..L−1)."""
        return [t.copy() for t in self.network.theta]

    def state(self) -> dict[str, Any]:
        """Counters, weights, optimizer state and history: with the config and data, a whole run."""
        return {
            "step": self.step_count,
            "epoch": self.epoch,
            "offset": self.offset,
            "weights": [t.tolist() for t in self.network.theta],
            "optimizer_state": self.optimizer.state(),
            "history": [m.as_dict() for m in self.history],
            "divergence": None if self.divergence is None else asdict(self.divergence),
            "grad_norms": self.grad_norms.tolist(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what ``state`` returned, so that training continues bit for bit."""
        step, epoch, offset = state.get("step", 0), state.get("epoch", 0), state.get("offset", 0)
        for name, value, top in (("step", step, None), ("epoch", epoch, None), ("offset", offset, self.n_train)):
            if not isinstance(value, int) or value < 0 or (top is not None and value >= top):
                raise EngineError(f"state.{name}", "must be a whole number in range")
        try:
            history = [Metrics(**m) for m in state.get("history", [])]
            div = state.get("divergence")
            divergence = None if div is None else Divergence(**div)
        except TypeError:
            raise EngineError("state.history", "must be a list of metrics as exported") from None
        trial = make_optimizer(self.config.optimizer, self.network.theta_flat.size, self.config.momentum)
        trial.load_state(state.get("optimizer_state") or {})
        self.set_weights(state["weights"])  # checked before anything changes
        self.optimizer = trial
        self.step_count, self.epoch, self.offset = step, epoch, offset
        self._order = None
        self.history = history
        self.divergence = divergence
        norms = state.get("grad_norms")
        if norms is not None and len(norms) == len(self._grad_sq):
            self._grad_sq = np.square(np.asarray(norms, dtype=np.float64))

    # -- undo ---------------------------------------------------------------------------------------

    def memento(self) -> tuple[dict[str, Any], Array, Array, SGD]:
        """What ``restore`` needs to undo every change made after this call (settings, weights, optimizer
        state, counters, history, even a rebuilt network): O(weights), not O(data)."""
        fields = dict(self.__dict__)
        fields["history"] = list(self.history)
        return fields, self.network.theta_flat.copy(), self._safe.copy(), copy.deepcopy(self.optimizer)

    def restore(self, memento: tuple[dict[str, Any], Array, Array, SGD]) -> None:
        """Go back to the moment ``memento`` was taken."""
        fields, theta, safe, optimizer = memento
        self.__dict__.clear()
        self.__dict__.update(fields)
        self.history = list(fields["history"])
        np.copyto(self.network.theta_flat, theta)
        np.copyto(self._safe, safe)
        self.optimizer = copy.deepcopy(optimizer)
