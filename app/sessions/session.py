"""A session: one run (its config, trainer and snapshot) and who may drive it (its id, token and owner).

Layer: sessions; nothing here knows HTTP. A ``Session`` holds its identity and auth (``id``, ``token_hash``,
``client``, the room it was forked from), its run (``config``, ``trainer``, the ``lock`` that guards every use
of the trainer, the ``snapshot`` reads serve) and two parts owned by others: ``live``, the live state the live
hub keeps (``app.sessions.live.LiveState``: playing, versions, watchers, the frame cache), and ``saved``, the
checkpoint bookkeeping the store keeps (``app.sessions.storage.Saved``).

**Reads never wait for engine work.** Every engine call ends by publishing a ``Snapshot`` (counters, a copy of
the weights, metrics, config), and ``GET`` answers from it on the event loop, taking no lock and no worker
thread; reads that need the data (export) use their own threads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from pydantic import ValidationError

from app import wire
from app.engine import Dataset, EngineError, Metrics, Trainer, gradient_check
from app.schemas import SessionConfig, first_refusal
from app.sessions.budget import Charge
from app.sessions.build import EXPORT_FORMAT, EXPORT_VERSION, build_trainer, train_config, without_data
from app.sessions.errors import SessionError
from app.sessions.live import LiveState
from app.sessions.storage import Saved, SessionRow
from app.settings import Settings

T = TypeVar("T")
GRADCHECK_DEFAULT_SAMPLES = 32  # docs/api.md and docs/protocol.md: "default the first 32"
# While a run plays, its metrics are re-evaluated at most this often (docs/protocol.md, "frame"): each evaluation
# is a pass over both whole sets, and every frame of every playing session asked for one.
METRICS_REFRESH_S = 0.25


@dataclass(frozen=True)
class Snapshot:
    """A session's state as its last engine call left it: what reads serve without waiting for anything."""

    config: dict[str, Any]
    task: str
    layer_sizes: list[int]
    n_train: int
    n_test: int
    step: int
    epoch: int
    divergence: dict[str, Any] | None
    metrics: Metrics
    weights: list[np.ndarray]  # copies


@dataclass(eq=False)
class Session:
    """One run and who may drive it.

    ``lock`` guards every use of ``trainer`` (engine work runs in the store's worker threads while it is
    held); ``run_lock`` keeps two long runs (a REST train call, the play loop) from interleaving their
    updates. ``snapshot`` is published at the end of every engine call; reads serve it. ``token_hash`` is all
    the server keeps of the token.
    """

    # identity and auth
    id: str
    token_hash: str
    client: str
    # the run
    config: SessionConfig
    trainer: Trainer
    executor: ThreadPoolExecutor
    charge: Charge
    reader: ThreadPoolExecutor | None = None
    created: float = field(default_factory=time.time)
    touched: float = field(default_factory=time.monotonic)
    room: str | None = None  # the room this session was forked from
    name: str | None = None  # the student's name in that room's class view
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    run_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    snapshot: Snapshot | None = None
    # owned by others: the live hub's state of this session, and the store's checkpoint bookkeeping
    live: LiveState = field(default_factory=LiveState)
    saved: Saved = field(default_factory=Saved)
    # (step, when, cost in s, metrics) of the latest evaluation, reused while training for METRICS_REFRESH_S, or
    # longer where that keeps evaluating under a tenth of the time (big sets are slow to evaluate)
    _metrics: tuple[int, float, float, Metrics] | None = None

    @property
    def worker(self) -> str | None:
        """The tag of the worker that owns this session in a cluster (its id starts ``tag.``), else None."""
        tag, dot, _ = self.id.partition(".")
        return tag if dot else None

    @property
    def status(self) -> str:
        """``diverged``, ``playing`` or ``paused`` (as of the latest snapshot)."""
        snap = self.snapshot
        if (snap.divergence is not None) if snap is not None else self.trainer.diverged:
            return "diverged"
        return "playing" if self.live.playing else "paused"

    def touch(self) -> None:
        """Mark the session as used now (for expiry)."""
        self.touched = time.monotonic()

    async def run(self, fn: Callable[[], T], pool: Executor | None = None) -> T:
        """Run ``fn`` (engine work) in a worker thread while holding the session lock (this is not a use:
        viewers, the play loop and the class view run engine work too; ``touch`` is for the token holder), on
        the engine pool, or on ``pool`` (the store's ``one_offs``, for a long call in one piece)."""
        async with self.lock:
            return await asyncio.get_running_loop().run_in_executor(pool or self.executor, fn)

    async def read(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (a read that needs the trainer, e.g. an export) under the session lock on the read
        threads, so that it never queues behind other sessions' engine work."""
        async with self.lock:
            return await asyncio.get_running_loop().run_in_executor(self.reader or self.executor, fn)

    # -- snapshots -----------------------------------------------------------------------------------

    def metrics_now(self, exact: bool = True) -> Metrics:
        """The metrics at the current weights; unless ``exact``, the latest ones (an epoch's end, an earlier
        evaluation) while they are younger than METRICS_REFRESH_S, or while re-evaluating would cost more than a
        tenth of the time. Lock held."""
        tr = self.trainer
        now = time.perf_counter()
        cached = self._metrics
        if (
            cached is not None
            and not exact
            and (cached[0] == tr.step_count or now - cached[1] < max(METRICS_REFRESH_S, 10 * cached[2]))
        ):
            return cached[3]
        metrics = tr.evaluate()
        self._metrics = (tr.step_count, now, time.perf_counter() - now, metrics)
        return metrics

    def remember_metrics(self, metrics: Metrics) -> None:
        """Metrics the trainer just computed anyway (an epoch's end)."""
        cost = self._metrics[2] if self._metrics is not None else 0.0
        self._metrics = (metrics.step, time.perf_counter(), cost, metrics)

    def publish(self, exact: bool = True) -> None:
        """Publish what reads serve, after engine work (lock held, in the worker)."""
        tr = self.trainer
        metrics = self.metrics_now(exact)  # first: evaluating may find the run diverged
        div = tr.divergence
        self.snapshot = Snapshot(
            self.full_config(),
            tr.dataset.task,
            list(tr.network.sizes),
            tr.n_train,
            len(tr.x_test),
            tr.step_count,
            tr.epoch,
            wire.divergence(div),
            metrics,
            [t.copy() for t in tr.network.theta],
        )

    def view(self) -> dict[str, Any]:
        """The session as GET returns it, from the latest snapshot: no lock, no engine work."""
        snap = self.snapshot
        assert snap is not None, "a session is published before it is handed out"
        return {
            "id": self.id,
            "config": snap.config,
            "task": snap.task,
            "layer_sizes": snap.layer_sizes,
            "n_train": snap.n_train,
            "n_test": snap.n_test,
            "step": snap.step,
            "epoch": snap.epoch,
            "status": self.status,
            "engine_path": self.trainer.engine_path,  # cheap: which path the next steps take, no engine work
            "divergence": snap.divergence,
            "worker": self.worker,
            "steps_per_frame": self.live.steps_per_frame,
            "probe": self.live.probe,
            "metrics": wire.metrics(snap.metrics),
            "weights": wire.weights(snap.weights),
        }

    # -- one-off engine calls ------------------------------------------------------------------------

    def one_off(self, fn: Callable[[], T]) -> T:
        """Run a pass on an unusual number of samples (a trace, a gradient check), then free the arrays it
        needed: the session keeps only the workspaces its footprint counts. Lock held."""
        try:
            return fn()
        finally:
            tr = self.trainer
            b = min(tr.config.batch_size, tr.n_train)
            tr.network.drop_workspaces((b, tr.n_train % b or b, tr.n_train, len(tr.x_test), 1))

    def gradcheck(self, samples: list[int] | None, epsilon: float, settings: Settings) -> dict[str, Any]:
        """The gradient check on training samples (default: the first 32), its work bounded before it starts
        (at most BPP_GRADCHECK_MAX_WORK multiply-adds and BPP_MAX_GRADCHECK_WEIGHTS weights, spread over every
        layer) and its time by BPP_MAX_CALL_SECONDS. Lock held."""
        tr = self.trainer
        idx = samples if samples is not None else list(range(min(tr.n_train, GRADCHECK_DEFAULT_SAMPLES)))
        if min(idx) < 0 or max(idx) >= tr.n_train:
            raise EngineError("samples", f"training-set indices must lie in [0, {tr.n_train - 1}]")
        rows = np.asarray(idx, dtype=np.intp)
        params = tr.network.theta_flat.size
        affordable = int(settings.gradcheck_max_work // (2 * len(rows) * params))
        weights = min(params, settings.max_gradcheck_weights, max(1, affordable))
        cfg = tr.config
        deadline = time.perf_counter() + settings.max_call_seconds
        check = self.one_off(
            lambda: gradient_check(
                tr.network,
                tr.x_train[rows],
                tr.dataset.y_train[rows],
                cfg.regularization,
                cfg.reg_rate,
                epsilon,
                max_weights=weights,
                deadline=deadline,
            )
        )
        return wire.gradcheck(check)

    # -- changes -------------------------------------------------------------------------------------

    def memento(self) -> tuple[Any, ...]:
        """What ``rollback`` needs to undo any change made after this call. Lock held."""
        return (
            self.config,
            self.trainer,
            self.trainer.memento(),
            self.live.probe,
            self.live.steps_per_frame,
            self.charge.amounts,
        )

    def rollback(self, memento: tuple[Any, ...]) -> None:
        """Go back to the moment of ``memento`` (a change that could not be saved). Lock held."""
        config, trainer, inner, probe, steps_per_frame, amounts = memento
        self.config, self.trainer, self.live.probe, self.live.steps_per_frame = config, trainer, probe, steps_per_frame
        trainer.restore(inner)
        self.charge.restore(amounts)
        self.live.last_record = None
        self._metrics = None
        self.publish()

    def apply_changes(self, changes: dict[str, Any], settings: Settings) -> bool:
        """Apply new settings (PATCH, the live channel's ``set``): hyperparameters keep the weights; ``hidden``,
        ``features``, ``dataset`` or ``seed`` rebuild the network from the seed. Returns True when the weights
        were kept. A new dataset or network is charged against the budgets before it is built. Call with the
        lock held; nothing changes on error (EngineError, SessionError)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        old = self.config.model_dump(exclude={"dataset"})
        try:
            if "dataset" in changes:
                new_config = SessionConfig.model_validate({**old, **changes})
            else:  # the data stay as they are (the config no longer holds custom data inline)
                new_config = SessionConfig.model_validate({**old, **changes}).model_copy(
                    update={"dataset": self.config.dataset}
                )
        except ValidationError as err:
            field, message = first_refusal(err)
            raise EngineError(field or "config", message) from None
        kept = True
        amounts = self.charge.amounts
        try:
            if "dataset" in changes:
                self.trainer = build_trainer(new_config, settings, self.charge)
                kept = False
            elif changes:
                full = train_config(new_config, settings)
                if changes.keys() & {"hidden", "features", "batch_size"}:
                    self.charge.set(self.trainer.dataset, full, settings)
                kept = self.trainer.reconfigure(**{k: getattr(full, k) for k in changes})
        except (EngineError, SessionError):
            self.charge.restore(amounts)
            raise
        self.config = without_data(new_config)
        self.live.probe = min(self.live.probe, self.trainer.n_train - 1)
        return kept

    def reset(self, seed: int | None) -> None:
        """New weights from the config's seed, or from ``seed`` (which becomes the config's). Lock held."""
        self.trainer.reset(seed)
        if seed is not None:
            self.config = self.config.model_copy(update={"seed": seed})

    def full_config(self) -> dict[str, Any]:
        """The session config with the engine's resolved defaults (activation, output, loss, features)."""
        cfg = self.trainer.config
        out = self.config_doc()
        activation: Any = list(cfg.activation)
        if isinstance(self.config.activation, str):
            activation = self.config.activation
        out.update(
            hidden=list(cfg.hidden),
            activation=activation,
            output_activation=cfg.output_activation,
            loss=cfg.loss,
            features=list(cfg.features or ()),
        )
        return out

    def data_doc(self) -> dict[str, Any]:
        """The session's data as plain lists (the exact float64 values)."""
        ds = self.trainer.dataset
        return {
            "task": ds.task,
            "x": ds.x_train.tolist(),
            "y": ds.y_train.tolist(),
            "x_test": ds.x_test.tolist(),
            "y_test": ds.y_test.tolist(),
        }

    def config_doc(self) -> dict[str, Any]:
        """The config as plain data, without custom data (``data_doc`` carries it, once)."""
        return self.config.model_dump(mode="json", exclude={"dataset": {"x", "y", "x_test", "y_test"}})

    def export(self) -> dict[str, Any]:
        """One JSON-able document (config, data, weights, optimizer state, counters, history). Lock held."""
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "config": self.config_doc(),
            "data": self.data_doc(),
            "state": self.trainer.state(),
        }

    def checkpoint(self) -> tuple[SessionRow, Dataset]:
        """What the database keeps of this session (the data only when they changed since the last save), and
        the dataset it is of. Lock held."""
        dataset = self.trainer.dataset
        data = None if dataset is self.saved.dataset else self.data_doc()
        meta = {"steps_per_frame": self.live.steps_per_frame, "probe": self.live.probe}
        wall = time.time() - (time.monotonic() - self.touched)
        row = SessionRow(
            self.id,
            self.token_hash,
            self.client,
            self.created,
            wall,
            self.config_doc(),
            data,
            self.trainer.state(),
            meta,
            self.room,
            self.name,
        )
        return row, dataset
