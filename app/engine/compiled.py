"""A Trainer's steps on the compiled path: one kernel call (kernels.py) for one step or for many.

Trainer (trainer.py) calls these when paths.py puts its steps on the kernels; they keep its schedule,
counters, optimizer state and divergence exactly as its NumPy steps do, so both paths run the same run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from . import paths
from .functions import regularization_cost
from .network import Workspace
from .optimizers import SGD, Adam, Momentum
from .records import Divergence, Metrics, StepRecord

if TYPE_CHECKING:
    from .config import TrainConfig
    from .trainer import Trainer

Array = np.ndarray
FIRST_CHUNK = 8  # steps before a time-boxed run looks at its deadline (a few µs each), and its first call


def step(trainer: Trainer, kernels: ModuleType, ws: Workspace, indices: Array, record: bool) -> StepRecord | None:
    """Trainer._train_on on the compiled path: one step on the batch fed to ``ws``, in one kernel call that also
    takes the batch's data cost before the update when it records."""
    net, cfg = trainer.network, trainer.config
    cost_regularization = 0.0
    if record:
        args = (cfg.regularization, cfg.reg_rate, ws.m, net.theta_flat, net.reg_mask)
        cost_regularization = regularization_cost(*args)
    if not train(trainer, kernels, ws, ws.a_aug[1], ws.y, ws.columns, 0, ws.m, 1, record):
        return None
    if not record:
        return None
    trace = net.snapshot_with(ws, float(trainer._cost[0]), cost_regularization)
    update = trainer.optimizer.update_buf.copy()  # ΔΘ
    return StepRecord(trainer.step_count, trainer.epoch, indices, trace, update, net._slices, trainer._grad_sq)


def _setup(trainer: Trainer) -> tuple[TrainConfig, Array, Array, Array]:
    """The kernels' codes (loss, regularization, optimizer), (α, λ, μ) and the codes with the task and the batch
    size appended (kernels.run), cached per config."""
    cfg, opt, setup = trainer.config, trainer.optimizer, trainer._setup
    if setup is None or setup[0] is not cfg:
        codes = [paths.LOSS_CODES[cfg.loss], paths.REGULARIZATION_CODES[cfg.regularization]]  # type: ignore[index]
        codes.append(paths.OPTIMIZER_CODES[cfg.optimizer])
        mu = opt.mu if isinstance(opt, Momentum) else 0.0
        run_codes = [*codes, paths.TASK_CODES[trainer.dataset.task], min(cfg.batch_size, trainer.n_train)]
        setup = trainer._setup = (
            cfg,
            np.array(codes, dtype=np.int64),
            np.array([cfg.learning_rate, cfg.reg_rate, mu]),
            np.array(run_codes, dtype=np.int64),
        )
    return setup


def train(
    trainer: Trainer,
    kernels: ModuleType,
    ws: Workspace,
    x: Array,
    y: Array,
    order: Array,
    start: int,
    batch: int,
    count: int,
    record: bool = False,
) -> int:
    """Up to ``count`` steps in one kernel call on consecutive batches of ``batch`` samples of (x, y), taken in
    ``order`` from ``start``, ``ws`` holding the passes; the counters and optimizer follow. Returns the steps
    done: fewer than ``count`` when the run diverged (then it is in the diverged state, Θ as before that step)."""
    net, opt = trainer.network, trainer.optimizer
    s1, s2, t = _optimizer_state(opt)
    setup = _setup(trainer)
    trainer._grad_sq = np.empty(len(net.shapes))  # a fresh array: a StepRecord may hold the last one
    done = kernels.train(
        net.theta_flat, net.grad_flat, opt.update_buf, s1, s2, trainer._grad_sq, ws.buffer, x, y, order,
        net.layer_table, net.activation_codes, setup[1], setup[2], t, batch, start, count, record, trainer._cost,
    )  # fmt: skip
    if isinstance(opt, Adam):
        opt.t += done
    trainer.step_count += done
    if done < count:
        trainer._diverge("the gradient became too large or non-finite (∞ or NaN): try a smaller learning rate")
    return int(done)


def _optimizer_state(opt: SGD) -> tuple[Array, Array, int]:
    """The kernels' view of the optimizer: its two state vectors (momentum's v; adam's m and v) and adam's t."""
    if isinstance(opt, Adam):
        return opt.m, opt.v, opt.t
    if isinstance(opt, Momentum):
        return opt.v, opt.update_buf, 0
    return opt.update_buf, opt.update_buf, 0  # sgd keeps no state


def run(
    trainer: Trainer,
    kernels: ModuleType,
    limit: int | None,
    target_epoch: int | None,
    deadline: float | None,
    clock: Callable[[], float] = time.perf_counter,
) -> None:
    """Trainer.run on the compiled path: one kernel call (kernels.run) for the whole of it, across epochs with
    their orders and metrics, or, with a deadline, one call per stretch of as many steps as the last call's speed
    says fit before it (the first call sized by the previous time-boxed run's speed, when there was one: a play
    slice is then mostly a single call). A time-boxed run makes at least FIRST_CHUNK steps (or all it was asked
    for) before it looks at the clock: these networks' steps take microseconds, and a play slice that always
    moves on keeps a frame's steps whole even past an epoch's end."""
    chunk = FIRST_CHUNK
    if deadline is not None and trainer._step_seconds > 0:
        chunk = max(FIRST_CHUNK, min(int((deadline - clock()) / trainer._step_seconds), 100_000))
    start = trainer.step_count
    while not trainer.diverged:
        steps = 1 << 62 if limit is None else limit - trainer.step_count
        ends = -1 if target_epoch is None else target_epoch - trainer.epoch
        if steps <= 0 or ends == 0:
            return
        if deadline is not None:
            steps = min(steps, chunk)
        began = clock()
        done = _run_once(trainer, kernels, steps, ends)
        if trainer.diverged or deadline is None:
            continue  # a whole run is one call (unless an epoch bound stops it first: then this loop ends)
        now = clock()
        per_step = trainer._step_seconds = max((now - began) / max(done, 1), 1e-7)  # kept up, overshoot or not
        if now > deadline and trainer.step_count - start >= FIRST_CHUNK:
            return
        least = FIRST_CHUNK - (trainer.step_count - start)
        chunk = max(1, least, min(int((deadline - now) / per_step), 100_000))


def _run_once(trainer: Trainer, kernels: ModuleType, steps: int, ends: int) -> int:
    """One kernels.run call of at most ``steps`` steps and ``ends`` epoch ends (−1: any); the trainer's counters,
    order, optimizer, history and divergence follow. Returns the steps done."""
    net, cfg, opt, n = trainer.network, trainer.config, trainer.optimizer, trainer.n_train
    batch = min(cfg.batch_size, n)
    setup = _setup(trainer)
    s1, s2, t = _optimizer_state(opt)
    order = np.empty(n, dtype=np.int64)  # a new array: StepRecords keep views of the last one
    current = trainer._order
    drawn = current is not None
    if current is not None:
        order[:] = current
    most_ends = math.ceil((trainer.offset + min(steps, 1 << 40) * batch) / n) + 1
    if ends >= 0:
        most_ends = min(most_ends, ends)
    history = np.empty((max(most_ends, 1), 6 + len(net.shapes)))
    state = np.array([trainer.epoch, trainer.offset, steps, ends, t, int(drawn), 0], dtype=np.int64)
    ws, train_ws, test_ws = net.workspace(batch), net.workspace(n), net.workspace(len(trainer.x_test))
    trainer._grad_sq = np.empty(len(net.shapes))  # a fresh array: a StepRecord may hold the last one
    # forward, backward and update (about 3 passes a step), and each epoch end's passes over both whole sets
    work = (min(steps, 1 << 40) * batch * 3 + most_ends * (n + len(trainer.x_test))) * net.work
    long = work > paths.RELEASE_WORK
    (kernels.run_released if long else kernels.run)(
        net.theta_flat, net.grad_flat, opt.update_buf, s1, s2, trainer._grad_sq, trainer._safe, ws.buffer,
        train_ws.buffer, test_ws.buffer, trainer._x_aug, trainer._y, trainer._x_test_aug, trainer._y_test, order,
        train_ws.columns, test_ws.columns, trainer._seed_words(kernels), net.layer_table, net.activation_codes,
        setup[3], setup[2], state, history,
    )  # fmt: skip
    epoch0, step0 = trainer.epoch, trainer.step_count
    epoch, offset, done, logged, t, reason, drawn_now = (int(v) for v in state)
    if isinstance(opt, Adam):
        opt.t = t
    trainer.step_count += done
    trainer.epoch, trainer.offset = epoch, offset
    trainer._order, trainer._epoch_data = (order if drawn_now else None), None
    task, has_test = trainer.dataset.task, len(trainer.x_test) > 0
    for r in range(logged):
        row = history[r]
        if reason == 2 and r == logged - 1:  # the cost became non-finite at this epoch's end: not logged
            trainer.divergence = Divergence(
                step0 + int(row[0]), "the cost became non-finite (∞ or NaN): try a smaller learning rate"
            )
            break
        accuracy = task != "regression"
        trainer._record_epoch(
            Metrics(
                step0 + int(row[0]), epoch0 + r + 1, float(row[1]), float(row[2]) if has_test else None,
                float(row[3]), float(row[4]) if accuracy else None, float(row[5]) if accuracy and has_test else None,
                np.sqrt(row[6:]).tolist(),
            )
        )  # fmt: skip
    if reason == 1:
        trainer._diverge("the gradient became too large or non-finite (∞ or NaN): try a smaller learning rate")
    return done
