"""The session store: every live session by id, its limits, its expiry, and its checkpoints.

Layer: sessions; nothing here knows HTTP (refusals are ``app.sessions.errors``, which the API layer maps to
statuses). Engine work that can take long runs in a worker thread in time-boxed slices so that the event
loop keeps answering and concurrent sessions interleave fairly.

Three rules keep one client from hurting the others:

- **Memory and disk are budgeted** (``app.sessions.budget``): a session's footprint is reserved before it is
  built, and released when it is deleted or expires.
- **Reads never wait for engine work** (``Session.snapshot``).
- **A change is saved before it is announced.** ``SessionStore.apply`` runs the change, saves the session
  through its ``Storage`` (``app.sessions.storage``; SQLite by default) and only then wakes its watchers; a
  failed save (``StorageError``) puts the session back exactly as it was (``Trainer.memento``) and is refused
  with ``StorageUnavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from app.engine import Dataset, Trainer
from app.schemas import SessionConfig
from app.sessions.budget import COLLECT_AFTER_BYTES, MB, Budget, Charge, give_memory_back
from app.sessions.build import EXPORT_FORMAT, EXPORT_VERSION, build_trainer, trainer_from_export, without_data
from app.sessions.errors import NotFound, NoToken, OverLimit, SessionError, StorageUnavailable, WrongToken
from app.sessions.session import Session
from app.sessions.storage import SessionRow, Storage, StorageError, hash_token
from app.settings import Settings

T = TypeVar("T")
log = logging.getLogger("backprop_playground")


class SessionStore:
    """Every live session, by id: creation limits, budgets, idle expiry and checkpoints to the database."""

    def __init__(self, settings: Settings, db: Storage | None = None) -> None:
        self.settings = settings
        self.db = db
        self.sessions: dict[str, Session] = {}
        # One small pool runs all engine work, first come first served: playing sessions and REST train calls
        # queue their time-boxed slices here, so they take turns fairly and the event loop never waits.
        self.executor = ThreadPoolExecutor(max_workers=settings.engine_threads, thread_name_prefix="engine")
        # Reads that need a trainer (exports) and database-free chores run here, never behind engine work.
        self.reader = ThreadPoolExecutor(max_workers=2, thread_name_prefix="read")
        # Long engine calls made in one piece (a gradient check, a big trace: up to BPP_MAX_CALL_SECONDS) run
        # here, so that however many clients make them at once, the engine pool's threads stay free for the play
        # slices, steps and frames (two clients' gradient checks filled it and stopped every playing session's
        # frames; tests/test_live.py). Builds stay on the engine pool: short, and a class joining must not wait
        # behind gradient checks.
        self.one_offs = ThreadPoolExecutor(max_workers=settings.engine_threads, thread_name_prefix="one-off")
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
        """``OverLimit`` when the server, the client's address or the client holds its maximum of sessions.

        ``client`` is ``address/id`` (or a bare address for a client without the server's cookie): the per-address
        cap bounds whatever cookies one address collects, the per-client cap one browser or script."""
        s = self.settings
        if self.shared is not None:  # in a cluster: checked by ``create`` off the event loop, then taken atomically
            return
        if len(self.sessions) >= s.max_sessions:
            raise OverLimit(f"the server holds its maximum of {s.max_sessions} sessions; try again later")
        address = client.split("/", 1)[0]
        mine = ours = 0
        for x in self.sessions.values():
            if x.client.split("/", 1)[0] == address:
                ours += 1
                mine += x.client == client
        if ours >= s.max_sessions_per_address:
            raise OverLimit(f"at most {s.max_sessions_per_address} sessions per address; delete some first")
        if mine >= s.max_sessions_per_client:
            raise OverLimit(f"at most {s.max_sessions_per_client} sessions per client; delete one first")

    @contextlib.asynccontextmanager
    async def heavy(self, client: str) -> AsyncIterator[None]:
        """One heavy call (train, gradcheck, backprop, import) at a time per client: ``OverLimit`` for a
        second."""
        if client in self._heavy:
            raise OverLimit(
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
            trainer, charge = await self.build(build_trainer, config, self.settings, client=client, address=address)
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
            room=room,
            name=name,
        )
        try:
            self.check_capacity(client)  # limits may have filled while the trainer was built
            if self.shared is not None:  # in a cluster: counted server-wide, atomically (refused if another took it)
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
        """The session if ``token`` opens it: ``NotFound``, ``NoToken`` or ``WrongToken`` otherwise."""
        session = self.sessions.get(session_id)
        if session is None:
            raise NotFound(f"no session {session_id!r} (it may have expired)")
        if not token:
            raise NoToken("this call needs the session's token: Authorization: Bearer <token>")
        if not secrets.compare_digest(hash_token(token).encode(), session.token_hash.encode()):
            raise WrongToken("that token does not open this session")
        session.touch()
        return session

    async def apply(self, session: Session, fn: Callable[[], T], config: bool = True) -> T:
        """Make a change: ``fn`` (engine work, lock held) applies it, the database saves it, and only then are
        the watchers told. A refused change (EngineError, SessionError) or a failed save (``StorageUnavailable``)
        leaves the session exactly as it was."""
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

        async with session.saved.lock, session.lock:
            memento, out, saved = await loop.run_in_executor(self.executor, work)
            if saved is not None:
                await self._save(session, saved, memento)
        session.live.mark_changed(config)
        if saved is not None:
            session.saved.version = session.live.version
        return out

    async def _save(
        self, session: Session, saved: tuple[SessionRow, Dataset], memento: tuple[Any, ...] | None = None
    ) -> None:
        """Write a checkpoint (save lock held); on failure put the session back to ``memento`` (session lock
        held) and refuse with ``StorageUnavailable``."""
        assert self.db is not None
        row, dataset = saved
        try:
            await self.db.save_session(row)
        except StorageError as err:
            if memento is not None:
                await asyncio.get_running_loop().run_in_executor(self.executor, session.rollback, memento)
                session.live.mark_changed(config=True)
            raise StorageUnavailable.because(err) from None
        session.saved.dataset = dataset

    async def commit(self, session: Session, memento: tuple[Any, ...] | None = None) -> None:
        """Save the session now (a no-op without a database or when nothing changed since the last save).
        A failed save is ``StorageUnavailable``; with ``memento`` the session first goes back to it."""
        if self.db is None:
            return
        async with session.saved.lock:  # concurrent commits (every watcher of a pause) coalesce into one write
            if session.saved.version == session.live.version or self.sessions.get(session.id) is not session:
                return
            version = session.live.version
            async with session.lock:
                saved = await asyncio.get_running_loop().run_in_executor(self.executor, session.checkpoint)
                await self._save(session, saved, memento)
            session.saved.version = max(session.saved.version, version)

    async def checkpoint_all(self) -> None:
        """Save every session that changed since its last save (the periodic checkpoint, and shutdown)."""
        for session in list(self.sessions.values()):
            with contextlib.suppress(SessionError):  # the database logs the failure, once; health reports it
                await self.commit(session)

    def _forget(self, session: Session) -> None:
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
            if self.shared is not None:
                self.shared.give(session.client, session.room)
        session.live.forget()
        self._freed += session.charge.amounts[0]
        session.charge.clear()

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
        async with session.saved.lock:
            with contextlib.suppress(StorageError):
                await self.db.delete_session(session.id)
        await self.give_back()

    async def remove(self, session_id: str) -> None:
        """Delete a session: its row first (``StorageUnavailable`` if the database cannot delete it, and then
        nothing changes), then its memory."""
        session = self.sessions.get(session_id)
        if session is None:
            return
        if self.db is not None:
            async with session.saved.lock, session.lock:
                try:
                    await self.db.delete_session(session.id)
                except StorageError as err:
                    raise StorageUnavailable.because(err) from None
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
        gone = [sid for sid, s in self.sessions.items() if now - s.touched > ttl and not s.live.owners]
        for sid in gone:
            self.sessions[sid].live.ended = "expired"
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
            except SessionError as err:  # over this server's budget now: the row stays for a roomier start
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
            row.id,
            row.token,
            row.client,
            config,
            trainer,
            self.executor,
            charge,
            self.reader,
            created=row.created,
            room=row.room,
            name=row.name,
        )
        session.live.steps_per_frame = row.meta.get("steps_per_frame")
        session.live.probe = min(int(row.meta.get("probe") or 0), trainer.n_train - 1)
        await session.run(session.publish)
        session.saved.version = session.live.version
        session.saved.dataset = trainer.dataset
        return session
