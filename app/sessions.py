"""Sessions: a Trainer with its id, token, owner and lock, and the store that holds, limits and expires them.

Nothing here knows HTTP: routes and the live channel call these methods and map ``ApiError`` to a status.
Engine work that can take long runs in a worker thread in time-boxed slices so that the event loop keeps
answering and concurrent sessions interleave fairly.

Three rules keep one client from hurting the others:

- **Memory and disk are budgeted.** What a session will hold (data, the engine's column copies, weights,
  optimizer state, cached workspaces, the last step's trace, history) and what its checkpoint will take on
  disk are computed from the data's shape and the config *before* anything is allocated (``footprint``),
  and reserved against the server's budget (``BPP_MAX_MEMORY_MB``, 503 "the server is full") and against
  each client's and each address's share of it (``BPP_CLIENT_MEMORY_SHARE``, 429). Deleting or expiring
  a session releases its reservation and hands the freed heap back to the system (``malloc_trim``).
- **Reads never wait for engine work.** Every engine call ends by publishing a ``Snapshot`` (counters,
  a copy of the weights, metrics, config), and ``GET`` answers from it on the event loop, taking no lock and
  no worker thread; reads that need the data (export) use their own threads.
- **A change is saved before it is announced.** ``SessionStore.apply`` runs the change, saves the session
  and only then wakes its watchers; a failed save (``StorageError``) puts the session back exactly as it
  was (``Trainer.memento``) and answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import gc
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from pydantic import ValidationError

from app import wire
from app.engine import (
    Dataset,
    EngineError,
    Metrics,
    StepRecord,
    TrainConfig,
    Trainer,
    custom_dataset,
    gradient_check,
    make_dataset,
)
from app.engine.trainer import MAX_HISTORY
from app.persist import Database, SessionRow, StorageError, hash_token
from app.schemas import DatasetConfig, SessionConfig, with_custom_data
from app.settings import Settings

T = TypeVar("T")
EXPORT_FORMAT = "backprop-playground/run"
EXPORT_VERSION = 1
GRADCHECK_DEFAULT_SAMPLES = 32


class ApiError(Exception):
    """A refusal with its HTTP status and a human-readable detail (naming the field where there is one)."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field

    @classmethod
    def from_engine(cls, err: EngineError) -> ApiError:
        """A 422 from the engine's refusal."""
        return cls(422, str(err), err.field)

    @classmethod
    def storage(cls, err: StorageError) -> ApiError:
        """A 503: the database could not be written, so nothing changed."""
        return cls(503, f"storage unavailable: {err}; nothing was changed")


MB = 1024 * 1024
SESSION_OVERHEAD = 64 * 1024  # Python objects around the arrays: the session, its config, locks, caches
COLLECT_AFTER_BYTES = 16 * MB  # sessions this big leave cyclic garbage worth a full collection
_libc: Any = None
with contextlib.suppress(OSError, AttributeError):
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _libc.malloc_trim.argtypes = [ctypes.c_size_t]
log = logging.getLogger("backprop_playground")


def give_memory_back(collect: bool = True) -> None:
    """Hand freed memory back to the system: collect the cyclic garbage a big request leaves (its parsed
    lists of numbers wait for a full collection otherwise), then trim the heap (glibc keeps freed small blocks,
    and, once big arrays have been freed, arrays up to 32 MB, for reuse). Measured: after deleting a session
    of the largest size the process shrinks back to within a few MB of its size before (bench/abuse.py)."""
    if collect:
        gc.collect()
    if _libc is not None:
        _libc.malloc_trim(0)


def footprint(dataset: Dataset, cfg: TrainConfig, settings: Settings) -> tuple[int, int]:
    """(memory, disk) in bytes that a session of this data and config holds at most, from the shapes alone:
    the data, the engine's column copies ([1; x], y and each epoch's shuffled copy), Θ with its gradient,
    masks, fallback copy and optimizer state, the cached workspaces (both sets for the metrics, the batch,
    the last short batch, one probe), the last step's trace and its JSON, the history; and its checkpoint
    (JSON numbers take at most 25 bytes each)."""
    cfg = cfg.resolved(dataset)
    n, t = len(dataset.x_train), len(dataset.x_test)
    d, k = dataset.inputs, dataset.outputs
    f = len(cfg.features or ()) or d
    sizes = (f, *cfg.hidden, k)
    params = sum(sizes[i + 1] * (1 + sizes[i]) for i in range(len(sizes) - 1))
    per_sample = 8 * (4 * sum(sizes[1:]) + len(sizes))  # one workspace column: [1; a], z, δ and scratch
    b = min(cfg.batch_size, n)
    traced = min(b, settings.max_trace_samples)
    memory = (
        SESSION_OVERHEAD
        + 8 * (n + t) * (d + k)  # the dataset
        + 8 * ((n + t) * (2 * f + 1 + k) + n * (1 + f + k))  # features, [1; x] and y columns, the epoch's copy
        + 8 * 12 * params  # Θ, D, scratch, masks, fallback, optimizer state, ΔΘ, frame
        + per_sample * (n + t + 3 * b + 1)  # cached workspaces and the last step's record
        + 3 * per_sample * traced  # the last step trace, as JSON
        + MAX_HISTORY * (200 + 8 * len(sizes))
    )
    history = MAX_HISTORY * (150 + 25 * len(sizes))
    disk = 25 * ((n + t) * (d + k) + 3 * params) + history + 4096
    return memory, disk


class Budget:
    """Bytes reserved by sessions against a server-wide total and each client's and address's share of it.
    Thread-safe: sessions are built (and their footprint reserved) in worker threads."""

    def __init__(self, what: str, total: int, share: float, setting: str) -> None:
        self.what, self.total, self.setting = what, total, setting
        self.share = max(1, int(total * share))
        self.used = 0
        self.held: dict[str, int] = {}  # by client key and by address (keys "c:…", "a:…")
        self._lock = threading.Lock()

    def _mb(self, n: int) -> str:
        return f"{n / MB:.1f} MB"

    def reserve(self, owners: tuple[str, ...], n: int) -> None:
        """Take ``n`` bytes for ``owners`` (a client and its address), or refuse: 503 when the server is full,
        429 when the owner holds its share."""
        if n <= 0:
            self.release(owners, -n)
            return
        with self._lock:
            if self.used + n > self.total:
                raise ApiError(
                    503,
                    f"the server is full: sessions hold {self._mb(self.used)} of its {self._mb(self.total)} "
                    f"{self.what} budget ({self.setting}) and this needs {self._mb(n)} more; try again later, "
                    "or with less data or a smaller network",
                )
            for owner in owners:
                held = self.held.get(owner, 0)
                if held + n > self.share:
                    who = "this client" if owner.startswith("c:") else "this address"
                    raise ApiError(
                        429,
                        f"{who} holds {self._mb(held)} of its {self._mb(self.share)} share of the server's "
                        f"{self.what} and this needs {self._mb(n)} more; delete a session first, or use less "
                        "data or a smaller network",
                    )
            self.used += n
            for owner in owners:
                self.held[owner] = self.held.get(owner, 0) + n

    def release(self, owners: tuple[str, ...], n: int) -> None:
        """Give ``n`` bytes back."""
        with self._lock:
            self.used -= n
            for owner in owners:
                left = self.held.get(owner, 0) - n
                if left > 0:
                    self.held[owner] = left
                else:
                    self.held.pop(owner, None)


@dataclass
class Charge:
    """What one session has reserved: (memory, disk) bytes against the store's budgets, for its owners."""

    budgets: tuple[Budget, Budget]
    owners: tuple[str, ...]
    amounts: tuple[int, int] = (0, 0)

    def set(self, dataset: Dataset, cfg: TrainConfig, settings: Settings) -> None:
        """Reserve what a session of this data and config needs (in place of what it held); nothing changes
        when a budget refuses. Call before building the trainer."""
        new = footprint(dataset, cfg, settings)
        memory, disk = self.budgets
        memory.reserve(self.owners, new[0] - self.amounts[0])
        try:
            disk.reserve(self.owners, new[1] - self.amounts[1])
        except ApiError:
            memory.reserve(self.owners, self.amounts[0] - new[0])
            raise
        self.amounts = new

    def restore(self, amounts: tuple[int, int]) -> None:
        """Go back to an earlier reservation (a rolled-back change: never refused, it held this before)."""
        for budget, old, now in zip(self.budgets, amounts, self.amounts, strict=True):
            budget.release(self.owners, now - old)
        self.amounts = amounts

    def clear(self) -> None:
        """Release everything (the session is gone)."""
        self.restore((0, 0))


def build_dataset(cfg: DatasetConfig, settings: Settings) -> Dataset:
    """The dataset a config describes, within the server's limits."""
    if cfg.name == "custom":
        return custom_dataset(
            cfg.x,
            cfg.y,
            cfg.x_test,
            cfg.y_test,
            task=cfg.task,
            max_samples=settings.max_samples,
            max_inputs=settings.max_inputs,
            max_outputs=settings.max_inputs,
        )
    if cfg.samples > settings.max_samples:
        raise EngineError("dataset.samples", f"must be at most {settings.max_samples} on this server")
    return make_dataset(cfg.name, cfg.samples, cfg.noise, cfg.train_fraction, cfg.seed, cfg.classes)


def train_config(cfg: SessionConfig, settings: Settings) -> TrainConfig:
    """The engine's TrainConfig for a session config, within the server's network limits."""
    if len(cfg.hidden) > settings.max_hidden_layers:
        raise EngineError("hidden", f"at most {settings.max_hidden_layers} hidden layers on this server")
    if any(h < 1 or h > settings.max_units for h in cfg.hidden):
        raise EngineError("hidden", f"each hidden layer needs 1 to {settings.max_units} units on this server")
    act = cfg.activation if isinstance(cfg.activation, str) else tuple(cfg.activation)
    return TrainConfig(
        hidden=tuple(cfg.hidden),
        activation=act,
        output_activation=cfg.output_activation,
        loss=cfg.loss,
        learning_rate=cfg.learning_rate,
        batch_size=cfg.batch_size,
        optimizer=cfg.optimizer,
        momentum=cfg.momentum,
        regularization=cfg.regularization,
        reg_rate=cfg.reg_rate,
        init=cfg.init,
        init_scale=cfg.init_scale,
        seed=cfg.seed,
        features=None if cfg.features is None else tuple(cfg.features),
    )


def build_trainer(cfg: SessionConfig, settings: Settings, charge: Charge | None = None) -> Trainer:
    """A fresh Trainer for a session config (EngineError for anything refused); with ``charge``, its
    footprint is reserved (ApiError when a budget refuses) before the trainer is built."""
    dataset = build_dataset(cfg.dataset, settings)
    tcfg = train_config(cfg, settings)
    if charge is not None:
        charge.set(dataset, tcfg, settings)
    return Trainer(dataset, tcfg)


def without_data(config: SessionConfig) -> SessionConfig:
    """The config without its inline custom data (the trainer's arrays hold the data, once)."""
    if config.dataset.x is None:
        return config
    dataset = config.dataset.model_copy(update={"x": None, "y": None, "x_test": None, "y_test": None})
    return config.model_copy(update={"dataset": dataset})


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
    updates. ``version`` counts every change, ``config_version`` the changes of config or weights that are
    not training; watchers (live sockets, rooms) wait on events that ``mark_changed`` sets. ``snapshot`` is
    published at the end of every engine call; reads serve it. ``token_hash`` is all the server keeps of
    the token.
    """

    id: str
    token_hash: str
    client: str
    config: SessionConfig
    trainer: Trainer
    executor: ThreadPoolExecutor
    charge: Charge
    reader: ThreadPoolExecutor | None = None
    created: float = field(default_factory=time.time)
    touched: float = field(default_factory=time.monotonic)
    playing: bool = False
    version: int = 0
    config_version: int = 0
    steps_per_frame: int | None = None  # None: one epoch per frame
    probe: int = 0
    last_record: StepRecord | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    run_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    save_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    watchers: set[asyncio.Event] = field(default_factory=set)
    owners: int = 0  # live sockets opened with the token (a room's viewers do not count)
    ended: str = "deleted"  # why it left the store, for its watchers: deleted, or expired
    frame_cache: tuple[int, tuple[bytes, tuple[int, int, bool, bool]]] | None = None  # version, app.live.Frame
    room: str | None = None  # the room this session was forked from
    name: str | None = None  # the student's name in that room's class view
    trace_seq: int = 0  # counts the step traces; watchers send each new one
    last_trace: str | None = None
    saved_version: int = -1
    saved_dataset: Dataset | None = None
    snapshot: Snapshot | None = None
    # (step, when, cost in s, metrics) of the latest evaluation, reused while training as long as that keeps
    # evaluating under a tenth of the time (big sets are slow to evaluate)
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
        return "playing" if self.playing else "paused"

    def touch(self) -> None:
        """Mark the session as used now (for expiry)."""
        self.touched = time.monotonic()

    def mark_changed(self, config: bool = False) -> None:
        """Note a change (``config``: of settings or weights, not training) and wake every watcher."""
        self.version += 1
        if config:
            self.config_version += 1
            self.last_record = None
        for event in self.watchers:
            event.set()

    def watch(self) -> asyncio.Event:
        """An event set on every change, until ``unwatch``."""
        event = asyncio.Event()
        self.watchers.add(event)
        return event

    def unwatch(self, event: asyncio.Event) -> None:
        """Stop watching."""
        self.watchers.discard(event)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (engine work) in a worker thread while holding the session lock (this is not a use:
        viewers, the play loop and the class view run engine work too; ``touch`` is for the token holder)."""
        async with self.lock:
            return await asyncio.get_running_loop().run_in_executor(self.executor, fn)

    async def read(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (a read that needs the trainer, e.g. an export) under the session lock on the read
        threads, so that it never queues behind other sessions' engine work."""
        async with self.lock:
            return await asyncio.get_running_loop().run_in_executor(self.reader or self.executor, fn)

    # -- snapshots -----------------------------------------------------------------------------------

    def metrics_now(self, exact: bool = True) -> Metrics:
        """The metrics at the current weights; unless ``exact``, the latest ones while re-evaluating would
        cost more than a tenth of the time. Lock held."""
        tr = self.trainer
        now = time.perf_counter()
        cached = self._metrics
        if cached is not None and cached[0] == tr.step_count and not exact:
            return cached[3]
        if cached is not None and not exact and now - cached[1] < 10 * cached[2]:
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
            None if div is None else {"step": div.step, "reason": div.reason},
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
            "steps_per_frame": self.steps_per_frame,
            "probe": self.probe,
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
            self.probe,
            self.steps_per_frame,
            self.charge.amounts,
        )

    def rollback(self, memento: tuple[Any, ...]) -> None:
        """Go back to the moment of ``memento`` (a change that could not be saved). Lock held."""
        config, trainer, inner, probe, steps_per_frame, amounts = memento
        self.config, self.trainer, self.probe, self.steps_per_frame = config, trainer, probe, steps_per_frame
        trainer.restore(inner)
        self.charge.restore(amounts)
        self.last_record = None
        self._metrics = None
        self.publish()

    def apply_changes(self, changes: dict[str, Any], settings: Settings) -> bool:
        """Apply new settings (PATCH, the live channel's ``set``): hyperparameters keep the weights; ``hidden``,
        ``features``, ``dataset`` or ``seed`` rebuild the network from the seed. Returns True when the weights
        were kept. A new dataset or network is charged against the budgets before it is built. Call with the
        lock held; nothing changes on error (EngineError, ApiError)."""
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
            first = err.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or "config"
            raise EngineError(loc, str(first.get("msg"))) from None
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
        except (EngineError, ApiError):
            self.charge.restore(amounts)
            raise
        self.config = without_data(new_config)
        self.probe = min(self.probe, self.trainer.n_train - 1)
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
        data = None if dataset is self.saved_dataset else self.data_doc()
        meta = {"steps_per_frame": self.steps_per_frame, "probe": self.probe}
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


def trainer_from_export(
    doc: dict[str, Any], settings: Settings, charge: Charge | None = None
) -> tuple[SessionConfig, Trainer]:
    """Rebuild a run from an export document so that it continues bit for bit (its footprint reserved on
    ``charge`` before the trainer is built)."""
    if doc.get("format") != EXPORT_FORMAT or doc.get("version") != EXPORT_VERSION:
        raise EngineError("import.format", f"expected a {EXPORT_FORMAT} document of version {EXPORT_VERSION}")
    try:
        data, state = doc["data"], doc["state"]
        config = SessionConfig.model_validate(with_custom_data(doc.get("config") or {}, data))
        if not isinstance(state, dict):
            raise EngineError("state", "must be an object")
        dataset = custom_dataset(
            data["x"],
            data["y"],
            data.get("x_test") or None,
            data.get("y_test") or None,
            task=data.get("task"),
            max_samples=settings.max_samples,
            max_inputs=settings.max_inputs,
            max_outputs=settings.max_inputs,
        )
        tcfg = train_config(config, settings)
        if charge is not None:
            charge.set(dataset, tcfg, settings)
        trainer = Trainer(dataset, tcfg)
        trainer.load_state(state)
    except (KeyError, TypeError, AttributeError) as err:
        raise EngineError("import", f"incomplete or malformed document ({type(err).__name__}: {err})") from None
    except ValueError as err:  # pydantic's ValidationError and EngineError are both ValueErrors
        if isinstance(err, EngineError):
            raise EngineError(f"import.{err.field}", err.message) from None
        raise EngineError("import.config", str(err).splitlines()[0]) from None
    return without_data(config), trainer


class SessionStore:
    """Every live session, by id: creation limits, budgets, idle expiry and checkpoints to the database."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db
        self.sessions: dict[str, Session] = {}
        # One small pool runs all engine work, first come first served: playing sessions and REST train calls
        # queue their time-boxed slices here, so they take turns fairly and the event loop never waits.
        self.executor = ThreadPoolExecutor(max_workers=settings.engine_threads, thread_name_prefix="engine")
        # Reads that need a trainer (exports) and database-free chores run here, never behind engine work.
        self.reader = ThreadPoolExecutor(max_workers=2, thread_name_prefix="read")
        share = settings.client_memory_share
        self.memory = Budget("memory", int(settings.max_memory_mb * MB), share, "BPP_MAX_MEMORY_MB")
        self.disk = Budget("disk", int(settings.max_disk_mb * MB), share, "BPP_MAX_DISK_MB")
        self._heavy: set[str] = set()
        self.shared: Any = None  # app.cluster.limits.SharedLimits in a cluster: the caps counted server-wide
        self._freed = 0  # bytes of sessions forgotten since the last give_back
        self._pending: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self.sessions)

    def new_id(self) -> str:
        """A fresh session id; in a cluster it starts with this worker's tag (``w2.…``), which nginx routes by."""
        sid = secrets.token_urlsafe(12)
        return f"{self.settings.worker}.{sid}" if self.settings.worker else sid

    def charge_for(self, client: str, address: str | None = None) -> Charge:
        """An empty reservation for a new session of ``client`` (at ``address``)."""
        owners = (f"c:{client}",) if address is None else (f"c:{client}", f"a:{address}")
        return Charge((self.memory, self.disk), owners)

    def check_capacity(self, client: str) -> None:
        """429 when the server, the client's address or the client holds its maximum of sessions.

        ``client`` is ``address/id`` (or a bare address for a client without the server's cookie): the per-address
        cap bounds whatever cookies one address collects, the per-client cap one browser or script."""
        s = self.settings
        if self.shared is not None:  # in a cluster: checked by ``create`` off the event loop, then taken atomically
            return
        if len(self.sessions) >= s.max_sessions:
            raise ApiError(429, f"the server holds its maximum of {s.max_sessions} sessions; try again later")
        address = client.split("/", 1)[0]
        mine = ours = 0
        for x in self.sessions.values():
            if x.client.split("/", 1)[0] == address:
                ours += 1
                mine += x.client == client
        if ours >= s.max_sessions_per_address:
            raise ApiError(429, f"at most {s.max_sessions_per_address} sessions per address; delete some first")
        if mine >= s.max_sessions_per_client:
            raise ApiError(429, f"at most {s.max_sessions_per_client} sessions per client; delete one first")

    @contextlib.asynccontextmanager
    async def heavy(self, client: str) -> AsyncIterator[None]:
        """One heavy call (train, gradcheck, backprop, import) at a time per client: 429 for a second."""
        if client in self._heavy:
            raise ApiError(
                429,
                "this client is already running a heavy call (train, gradcheck, backprop or import); "
                "wait for it to answer before starting another",
            )
        self._heavy.add(client)
        try:
            yield
        finally:
            self._heavy.discard(client)

    async def build(
        self, fn: Callable[..., T], *args: Any, client: str, address: str | None = None
    ) -> tuple[T, Charge]:
        """Run a builder (``build_trainer``, ``trainer_from_export``) in a worker with a fresh reservation as
        its last argument; the reservation is released if the build fails."""
        charge = self.charge_for(client, address)
        try:
            job = functools.partial(fn, *args, charge)
            out: T = await asyncio.get_running_loop().run_in_executor(self.executor, job)
        except BaseException:
            charge.clear()
            raise
        return out, charge

    async def create(
        self,
        config: SessionConfig,
        client: str,
        trainer: Trainer | None = None,
        room: str | None = None,
        name: str | None = None,
        charge: Charge | None = None,
        address: str | None = None,
    ) -> tuple[Session, str]:
        """A new session from a config (or an already built trainer and its ``charge``), within the limits,
        saved before it is returned with its token (a fork, ``room``, also counts against its room's limits,
        which ``RoomStore`` checks)."""
        self.check_capacity(client)
        if self.shared is not None:  # a Redis call: never on the event loop (Redis may be slow or down)
            await asyncio.get_running_loop().run_in_executor(self.reader, self.shared.check, client)
        if trainer is None:
            try:
                trainer, charge = await self.build(build_trainer, config, self.settings, client=client, address=address)
            except EngineError as err:
                raise ApiError.from_engine(err) from None
        assert charge is not None and trainer is not None
        token = secrets.token_urlsafe(24)
        session = Session(
            self.new_id(),
            hash_token(token),
            client,
            without_data(config),
            trainer,
            self.executor,
            charge,
            self.reader,
        )
        session.room, session.name = room, name
        try:
            self.check_capacity(client)  # limits may have filled while the trainer was built
            if self.shared is not None:  # in a cluster: counted server-wide, atomically (429 if another took it)
                await asyncio.get_running_loop().run_in_executor(self.reader, self.shared.take, client, room)
            self.sessions[session.id] = session  # counted at once; nobody knows its id until it is returned
            await session.run(session.publish)
            await self.commit(session)
        except BaseException:
            if self.sessions.get(session.id) is session:
                del self.sessions[session.id]
                if self.shared is not None:
                    self.shared.give(client, room)
            charge.clear()
            raise
        return session, token

    def get(self, session_id: str, token: str | None) -> Session:
        """The session if ``token`` opens it: 404 unknown, 401 no token, 403 wrong token."""
        session = self.sessions.get(session_id)
        if session is None:
            raise ApiError(404, f"no session {session_id!r} (it may have expired)")
        if not token:
            raise ApiError(401, "this call needs the session's token: Authorization: Bearer <token>")
        if not secrets.compare_digest(hash_token(token).encode(), session.token_hash.encode()):
            raise ApiError(403, "that token does not open this session")
        session.touch()
        return session

    async def apply(self, session: Session, fn: Callable[[], T], config: bool = True) -> T:
        """Make a change: ``fn`` (engine work, lock held) applies it, the database saves it, and only then are
        the watchers told. A refused change (EngineError, ApiError) or a failed save (503) leaves the session
        exactly as it was."""
        loop = asyncio.get_running_loop()

        def work() -> tuple[tuple[Any, ...], T, tuple[SessionRow, Dataset] | None]:
            memento = session.memento()
            try:
                out = fn()
            except BaseException:
                session.rollback(memento)
                raise
            session.publish()
            return memento, out, session.checkpoint() if self.db is not None else None

        async with session.save_lock, session.lock:
            memento, out, saved = await loop.run_in_executor(self.executor, work)
            if saved is not None:
                await self._save(session, saved, memento)
        session.mark_changed(config)
        if saved is not None:
            session.saved_version = session.version
        return out

    async def _save(
        self, session: Session, saved: tuple[SessionRow, Dataset], memento: tuple[Any, ...] | None = None
    ) -> None:
        """Write a checkpoint (save lock held); on failure put the session back to ``memento`` (session lock
        held) and answer 503."""
        assert self.db is not None
        row, dataset = saved
        try:
            await self.db.save_session(row)
        except StorageError as err:
            if memento is not None:
                await asyncio.get_running_loop().run_in_executor(self.executor, session.rollback, memento)
                session.mark_changed(config=True)
            raise ApiError.storage(err) from None
        session.saved_dataset = dataset

    async def commit(self, session: Session, memento: tuple[Any, ...] | None = None) -> None:
        """Save the session now (a no-op without a database or when nothing changed since the last save).
        A failed save answers 503; with ``memento`` the session first goes back to it."""
        if self.db is None:
            return
        async with session.save_lock:  # concurrent commits (every watcher of a pause) coalesce into one write
            if session.saved_version == session.version or self.sessions.get(session.id) is not session:
                return
            version = session.version
            async with session.lock:
                saved = await asyncio.get_running_loop().run_in_executor(self.executor, session.checkpoint)
                await self._save(session, saved, memento)
            session.saved_version = max(session.saved_version, version)

    async def checkpoint_all(self) -> None:
        """Save every session that changed since its last save (the periodic checkpoint, and shutdown)."""
        for session in list(self.sessions.values()):
            with contextlib.suppress(ApiError):  # the database logs the failure, once; health reports it
                await self.commit(session)

    def _forget(self, session: Session) -> None:
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
            if self.shared is not None:
                self.shared.give(session.client, session.room)
        session.playing = False
        session.mark_changed(config=True)
        self._freed += session.charge.amounts[0]
        session.charge.clear()
        session.last_record, session.frame_cache, session.last_trace = None, None, None

    def delete(self, session_id: str) -> None:
        """Forget a session now (expiry: memory must be freed); its row is deleted in the background (a row
        that stays is dropped at the next start, being past its time)."""
        session = self.sessions.get(session_id)
        if session is None:
            return
        self._forget(session)
        if self.db is not None:
            task = asyncio.get_running_loop().create_task(self._delete_row(session))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _delete_row(self, session: Session) -> None:
        assert self.db is not None
        async with session.save_lock:
            with contextlib.suppress(StorageError):
                await self.db.delete_session(session.id)
        await self.give_back()

    async def remove(self, session_id: str) -> None:
        """Delete a session: its row first (503 if the database cannot delete it, and then nothing changes),
        then its memory."""
        session = self.sessions.get(session_id)
        if session is None:
            return
        if self.db is not None:
            async with session.save_lock, session.lock:
                try:
                    await self.db.delete_session(session.id)
                except StorageError as err:
                    raise ApiError.storage(err) from None
        self._forget(session)
        await self.give_back()

    async def give_back(self) -> None:
        """Return freed memory to the system, in a read thread; with a full garbage collection (tens of ms)
        only once big sessions have gone since the last one."""
        freed, self._freed = self._freed, 0
        collect = freed >= COLLECT_AFTER_BYTES
        await asyncio.get_running_loop().run_in_executor(self.reader, give_memory_back, collect)

    async def flush(self) -> None:
        """Wait for background deletions."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def expire(self, now: float | None = None) -> list[str]:
        """Delete sessions idle for longer than the TTL: not used with their token, over REST or a live socket
        opened with it, for that long. A room's viewers do not keep the teacher's session alive."""
        now = time.monotonic() if now is None else now
        ttl = self.settings.session_ttl
        gone = [sid for sid, s in self.sessions.items() if now - s.touched > ttl and not s.owners]
        for sid in gone:
            self.sessions[sid].ended = "expired"
            self.delete(sid)
        if gone and self.db is None:
            task = asyncio.get_running_loop().create_task(self.give_back())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return gone

    async def load(self) -> int:
        """Bring back every saved session that has not expired (at start-up). Returns how many. A row that
        cannot be restored is set aside with a log line; the others load."""
        if self.db is None:
            return 0
        rows, _ = await self.db.load()
        count = 0
        # Idle time counts from the newest use the database saw, so downtime does not expire anyone; and
        # every restored session gets its TTL afresh (a session watched without changes saves no "use").
        newest = max((row.touched for row in rows), default=time.time())
        for row in rows:
            if newest - row.touched > self.settings.session_ttl or row.data is None:
                with contextlib.suppress(StorageError):
                    await self.db.delete_session(row.id)
                continue
            try:
                session = await self._restore(row)
            except ApiError as err:  # over this server's budget now: the row stays for a roomier start
                log.error("session %s not restored: %s", row.id, err.detail)
                continue
            except Exception as err:  # one bad row must not keep the others (or the server) down
                await self.db.set_aside(row.id, f"{type(err).__name__}: {err}")
                continue
            if self.shared is not None:  # counted again (its dead predecessor's counts were given back)
                self.shared.take(session.client, session.room, enforce=False)
            self.sessions[session.id] = session
            count += 1
        return count

    async def _restore(self, row: SessionRow) -> Session:
        doc = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "config": row.config,
            "data": row.data,
            "state": row.state,
        }
        (config, trainer), charge = await self.build(trainer_from_export, doc, self.settings, client=row.client)
        session = Session(
            row.id, row.token, row.client, config, trainer, self.executor, charge, self.reader, created=row.created
        )
        session.room, session.name = row.room, row.name
        session.steps_per_frame = row.meta.get("steps_per_frame")
        session.probe = min(int(row.meta.get("probe") or 0), trainer.n_train - 1)
        await session.run(session.publish)
        session.saved_version = session.version
        session.saved_dataset = trainer.dataset
        return session


def finite_rows(rows: Any, field: str) -> np.ndarray:
    """A 2-D float64 array from JSON rows (1-D lists become one column), finite and rectangular."""
    try:
        arr = np.asarray(rows, dtype=np.float64)
    except (ValueError, TypeError):
        raise EngineError(field, "must be a rectangular list of rows of numbers") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.size == 0:
        raise EngineError(field, "must be a non-empty list of rows of numbers")
    if not np.isfinite(arr).all():
        raise EngineError(field, "must hold finite numbers only")
    return arr
