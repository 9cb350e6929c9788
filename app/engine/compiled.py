"""A Trainer's steps on the compiled path: one kernel call (kernels.py) for one step or for many.

Trainer (trainer.py) calls these when paths.py puts its steps on the kernels; they keep its schedule,
counters, optimizer state and divergence exactly as its NumPy steps do, so both paths run the same run.
"""

from __future__ import annotations

import math
import time
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from . import paths
from .functions import regularization_cost
from .network import Workspace
from .optimizers import Adam, Momentum
from .records import StepRecord

if TYPE_CHECKING:
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
    net, cfg, opt = trainer.network, trainer.config, trainer.optimizer
    s1 = s2 = opt.update_buf  # sgd keeps no state
    if isinstance(opt, Momentum):
        s1 = opt.v
    elif isinstance(opt, Adam):
        s1, s2 = opt.m, opt.v
    t = opt.t if isinstance(opt, Adam) else 0
    setup = trainer._setup
    if setup is None or setup[0] is not cfg:
        codes = (paths.LOSS_CODES[cfg.loss], paths.REGULARIZATION_CODES[cfg.regularization])  # type: ignore[index]
        mu = opt.mu if isinstance(opt, Momentum) else 0.0
        setup = trainer._setup = (
            cfg,
            np.array([*codes, paths.OPTIMIZER_CODES[cfg.optimizer]], dtype=np.int64),
            np.array([cfg.learning_rate, cfg.reg_rate, mu]),
        )
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


def run(
    trainer: Trainer, kernels: ModuleType, limit: int | None, target_epoch: int | None, deadline: float | None
) -> None:
    """Trainer.run on the compiled path: one kernel call per stretch of steps up to the epoch's end, the step
    limit or, with a deadline, as many steps as the last call's speed says fit before it. A time-boxed run makes
    at least FIRST_CHUNK steps (or all it was asked for) before it looks at the clock: these networks' steps take
    microseconds, and a play slice that always moves on keeps a frame's steps whole even past an epoch's end."""
    batch, chunk, clock = trainer.config.batch_size, FIRST_CHUNK, time.perf_counter
    start = trainer.step_count
    ws = trainer.network.workspace(min(batch, trainer.n_train))
    while not trainer.diverged:
        if (limit is not None and trainer.step_count >= limit) or (
            target_epoch is not None and trainer.epoch >= target_epoch
        ):
            return
        order = trainer._shuffle(kernels) if trainer._order is None else trainer._order
        count = math.ceil((trainer.n_train - trainer.offset) / batch)
        if limit is not None:
            count = min(count, limit - trainer.step_count)
        if deadline is not None:
            count = min(count, chunk)
        began = clock()
        done = train(trainer, kernels, ws, trainer._x_aug, trainer._y, order, trainer.offset, batch, count)
        trainer._advance(min(trainer.offset + done * batch, trainer.n_train))
        if done < count:  # diverged: the steps before it count, the schedule stops at its batch
            return
        if deadline is not None:
            now = clock()
            if now > deadline and trainer.step_count - start >= FIRST_CHUNK:
                return
            per_step = max((now - began) / done, 1e-7)
            least = FIRST_CHUNK - (trainer.step_count - start)
            chunk = max(1, least, min(int((deadline - now) / per_step), 100_000))
