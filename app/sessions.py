"""Sessions: a Trainer with its id, token, owner and lock, and the store that holds, limits and expires them.

Nothing here knows HTTP: routes and the live channel call these methods and map ``ApiError`` to a status.
Engine work that can take long runs in a worker thread in time-boxed slices (``run_slice``) so that the
event loop keeps answering and concurrent sessions interleave fairly.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from pydantic import ValidationError

from app.engine import Dataset, EngineError, StepRecord, TrainConfig, Trainer, custom_dataset, make_dataset
from app.persist import Database, SessionRow
from app.schemas import DatasetConfig, SessionConfig, with_custom_data
from app.settings import Settings

T = TypeVar("T")
EXPORT_FORMAT = "backprop-playground/run"
EXPORT_VERSION = 1


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


def build_trainer(cfg: SessionConfig, settings: Settings) -> Trainer:
    """A fresh Trainer for a session config (EngineError for anything refused)."""
    return Trainer(build_dataset(cfg.dataset, settings), train_config(cfg, settings))


@dataclass(eq=False)
class Session:
    """One run and who may drive it.

    ``lock`` guards every use of ``trainer`` (engine work runs in the store's worker threads while it is
    held); ``run_lock`` keeps two long runs (a REST train call, the play loop) from interleaving their
    updates. ``version`` counts every change, ``config_version`` the changes of config or weights that are
    not training; watchers (live sockets, rooms) wait on events that ``mark_changed`` sets.
    """

    id: str
    token: str
    client: str
    config: SessionConfig
    trainer: Trainer
    executor: ThreadPoolExecutor
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

    @property
    def status(self) -> str:
        """``diverged``, ``playing`` or ``paused``."""
        if self.trainer.diverged:
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

    def apply_changes(self, changes: dict[str, Any], settings: Settings) -> bool:
        """Apply new settings (PATCH, the live channel's ``set``): hyperparameters keep the weights; ``hidden``,
        ``features``, ``dataset`` or ``seed`` rebuild the network from the seed. Returns True when the weights
        were kept. Call with the lock held; nothing changes on error (EngineError)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        try:
            new_config = SessionConfig.model_validate({**self.config.model_dump(), **changes})
        except ValidationError as err:
            first = err.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or "config"
            raise EngineError(loc, str(first.get("msg"))) from None
        kept = True
        if "dataset" in changes:
            self.trainer = build_trainer(new_config, settings)
            kept = False
        elif changes:
            full = train_config(new_config, settings)
            kept = self.trainer.reconfigure(**{k: getattr(full, k) for k in changes})
        self.config = new_config
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
        out = self.config.model_dump(mode="json", exclude={"dataset": {"x", "y", "x_test", "y_test"}})
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

    def checkpoint(self) -> SessionRow:
        """What the database keeps of this session (the data only when it changed since the last one). Lock held."""
        dataset = self.trainer.dataset
        data = None if dataset is self.saved_dataset else self.data_doc()
        self.saved_dataset = dataset
        meta = {"steps_per_frame": self.steps_per_frame, "probe": self.probe}
        wall = time.time() - (time.monotonic() - self.touched)
        return SessionRow(
            self.id,
            self.token,
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


def trainer_from_export(doc: dict[str, Any], settings: Settings) -> tuple[SessionConfig, Trainer]:
    """Rebuild a run from an export document so that it continues bit for bit."""
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
        trainer = Trainer(dataset, train_config(config, settings))
        trainer.load_state(state)
    except (KeyError, TypeError, AttributeError) as err:
        raise EngineError("import", f"incomplete or malformed document ({type(err).__name__}: {err})") from None
    except ValueError as err:  # pydantic's ValidationError and EngineError are both ValueErrors
        if isinstance(err, EngineError):
            raise EngineError(f"import.{err.field}", err.message) from None
        raise EngineError("import.config", str(err).splitlines()[0]) from None
    return config, trainer


class SessionStore:
    """Every live session, by id: creation limits, idle expiry and checkpoints to the database."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db
        self.sessions: dict[str, Session] = {}
        # One small pool runs all engine work, first come first served: playing sessions and REST train calls
        # queue their time-boxed slices here, so they take turns fairly and the event loop never waits.
        self.executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="engine")
        self._pending: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self.sessions)

    def check_capacity(self, client: str) -> None:
        """429 when the server, the client's address or the client holds its maximum of sessions.

        ``client`` is ``address/id`` (or a bare address for a client without the server's cookie): the per-address
        cap bounds whatever cookies one address collects, the per-client cap one browser or script."""
        s = self.settings
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

    async def create(
        self,
        config: SessionConfig,
        client: str,
        trainer: Trainer | None = None,
        room: str | None = None,
        name: str | None = None,
    ) -> Session:
        """A new session from a config (or an already built trainer), within the limits, saved before it
        is returned (a fork, ``room``, also counts against its room's limits, which ``RoomStore`` checks)."""
        self.check_capacity(client)
        if trainer is None:
            try:
                loop = asyncio.get_running_loop()
                trainer = await loop.run_in_executor(self.executor, build_trainer, config, self.settings)
            except EngineError as err:
                raise ApiError.from_engine(err) from None
        self.check_capacity(client)  # limits may have filled while the trainer was built
        session = Session(secrets.token_urlsafe(12), secrets.token_urlsafe(24), client, config, trainer, self.executor)
        session.room, session.name = room, name
        self.sessions[session.id] = session
        await self.commit(session)
        return session

    def get(self, session_id: str, token: str | None) -> Session:
        """The session if ``token`` opens it: 404 unknown, 401 no token, 403 wrong token."""
        session = self.sessions.get(session_id)
        if session is None:
            raise ApiError(404, f"no session {session_id!r} (it may have expired)")
        if not token:
            raise ApiError(401, "this call needs the session's token: Authorization: Bearer <token>")
        if not secrets.compare_digest(token.encode(), session.token.encode()):
            raise ApiError(403, "that token does not open this session")
        session.touch()
        return session

    async def commit(self, session: Session) -> None:
        """Save the session now (a no-op without a database or when nothing changed since the last save)."""
        if self.db is None:
            return
        async with session.save_lock:  # concurrent commits (every watcher of a pause) coalesce into one write
            if session.saved_version == session.version or self.sessions.get(session.id) is not session:
                return
            version = session.version
            row = await session.run(session.checkpoint)
            await self.db.save_session(row)
            session.saved_version = max(session.saved_version, version)

    async def changed(self, session: Session, config: bool = False) -> None:
        """A call changed the session: wake its watchers and save it before the call answers."""
        session.mark_changed(config)
        await self.commit(session)

    async def checkpoint_all(self) -> None:
        """Save every session that changed since its last save (the periodic checkpoint, and shutdown)."""
        for session in list(self.sessions.values()):
            await self.commit(session)

    def delete(self, session_id: str) -> None:
        """Forget a session (its row is deleted in the background; ``remove`` waits for it)."""
        session = self.sessions.pop(session_id, None)
        if session is not None:
            session.playing = False
            session.mark_changed(config=True)
            if self.db is not None:
                task = asyncio.get_running_loop().create_task(self.db.delete_session(session_id))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    async def remove(self, session_id: str) -> None:
        """Forget a session and wait until the database has forgotten it too."""
        self.delete(session_id)
        await self.flush()

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
        return gone

    async def load(self) -> int:
        """Bring back every saved session that has not expired (at start-up). Returns how many."""
        if self.db is None:
            return 0
        rows, _ = await self.db.load()
        loop = asyncio.get_running_loop()
        count = 0
        # Idle time counts from the newest use the database saw, so downtime does not expire anyone; and
        # every restored session gets its TTL afresh (a session watched without changes saves no "use").
        newest = max((row.touched for row in rows), default=time.time())
        for row in rows:
            if newest - row.touched > self.settings.session_ttl or row.data is None:
                await self.db.delete_session(row.id)
                continue
            doc = {
                "format": EXPORT_FORMAT,
                "version": EXPORT_VERSION,
                "config": row.config,
                "data": row.data,
                "state": row.state,
            }
            try:
                config, trainer = await loop.run_in_executor(self.executor, trainer_from_export, doc, self.settings)
            except EngineError:
                continue  # a row this server's limits refuse stays on disk untouched
            session = Session(row.id, row.token, row.client, config, trainer, self.executor, created=row.created)
            session.room, session.name = row.room, row.name
            session.steps_per_frame = row.meta.get("steps_per_frame")
            session.probe = min(int(row.meta.get("probe") or 0), trainer.n_train - 1)
            session.saved_version = session.version
            session.saved_dataset = trainer.dataset
            self.sessions[session.id] = session
            count += 1
        return count


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
