"""Playing sessions and what the live channel sends: the play loop, frames and step traces.

Layer: sessions; nothing here knows websockets (``app.api.live`` serves the channel, docs/protocol.md). The
hub owns each session's ``LiveState``. Where a frame is made: ``LiveHub._build_frame`` takes the step (the
session's last ``StepRecord``, its weights and its probe sample) and asks ``app.wire.frame_arrays`` for the
arrays and ``app.wire.frame`` to encode them with the header; ``LiveHub.frame`` builds each version once and
shares it with every viewer; ``app.api.live.Connection.sender`` sends it to each socket that has credit.

How training shares the CPU (measured with bench/stream.py, figures in the README): every piece of engine
work — a batch of play slices, a REST train call's slice, a frame, a step — runs on the store's small worker
pool (``BPP_ENGINE_THREADS`` threads, default 2), which serves its queue first come, first served (long
one-piece calls — gradient checks, big traces — have a pool of their own, ``store.one_offs``). The engine's
calls on networks this small hold the GIL (NumPy's, and the compiled kernels' short calls: kernels.compiled
says why), so all engine work together gets about one core whatever the pool size; the pool's job is order,
not parallelism. Each playing session runs at most one slice per frame period, time-boxed to its share of
that one core in the CPU time of the thread that runs it (``0.8 × period / playing sessions``, between 0.5 ms
and ``BPP_TRAIN_SLICE_MS``; the other 20 % builds frames and runs the event loop): a time box in wall time
was used up by waiting for the GIL, and left busy servers training a fraction of what they could. So a lone
session trains for most of each frame period, and thirty get a thirtieth each, none waiting behind a long
run. The slice builds its frame too, in the same visit to the worker, when anyone watches.

Play slices reach the pool in batches (``SliceBatches``): a busy server hands a worker many slices per visit,
not one, as every visit costs thread switches and a wake-up of the event loop (120 sessions: 6–9 frames a
second each before, 9–13 after). At most ``engine_threads`` batches are in the pool at once, each of at most
8 ms of time boxes, so a step, a trace or a frame waits behind a batch or two, not behind every playing
session: step→trace p95 is 30–50 ms with 120 sessions playing, 3–13 ms with one. The event loop only awaits;
it never trains. A pool of 40 threads (anyio's default) gave the same frame rates but step→trace p95 of 52–68
ms against 6–15 ms: the GIL turns many threads into a lottery.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from app import wire
from app.engine import EngineError, StepRecord, Trace
from app.sessions.errors import SessionError
from app.settings import Settings

if TYPE_CHECKING:
    from app.sessions.session import Session
    from app.sessions.store import SessionStore

T = TypeVar("T")
log = logging.getLogger("backprop_playground")
# A frame, and what it shows: (step, config version, diverged, whether its metrics are of that step).
Frame = tuple[bytes, tuple[int, int, bool, bool]]
UNWATCHED_PAUSE_S = 10.0  # a playing session nobody watches pauses after this long (a reload reconnects sooner)
MIN_SLICE_S = 0.0005
BATCH_S = 0.008  # a batch of play slices holds at most this much of their time boxes (SliceBatches)
ENGINE_SHARE = 0.8  # of one core (the GIL's), for training slices; the rest builds frames and serves sockets


@dataclass(eq=False)
class LiveState:
    """What the live hub keeps of one session: whether it plays, at what speed and on which probe sample, the
    versions its watchers wait on, the last step's record, the shared frame and step trace.

    ``version`` counts every change, ``config_version`` the changes of config or weights that are not
    training; watchers (live sockets, rooms) wait on events that ``mark_changed`` sets."""

    playing: bool = False
    steps_per_frame: int | None = None  # None: one epoch per frame
    probe: int = 0  # the training sample whose values frames carry
    version: int = 0
    config_version: int = 0
    watchers: set[asyncio.Event] = field(default_factory=set)
    owners: int = 0  # live sockets opened with the token (a room's viewers do not count)
    ended: str = "deleted"  # why the session left the store, for its watchers: deleted, or expired
    last_record: StepRecord | None = None
    frame_cache: tuple[int, Frame] | None = None  # (version, frame)
    trace_seq: int = 0  # counts the step traces; watchers send each new one
    last_trace: str | None = None

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

    def forget(self) -> None:
        """The session left the store: stop, wake the watchers (they close), drop what frames were made of."""
        self.playing = False
        self.mark_changed(config=True)
        self.last_record, self.frame_cache, self.last_trace = None, None, None


class LiveHub:
    """Runs the play loops of playing sessions and builds their frames (one build serves every viewer)."""

    def __init__(self, store: SessionStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.loops: dict[str, asyncio.Task[None]] = {}
        self._announcing: set[asyncio.Task[None]] = set()
        self._building: dict[str, tuple[int, asyncio.Future[Frame]]] = {}  # session id → (version, frame build)
        self._batches = SliceBatches(store.executor, settings.engine_threads)

    # -- play / pause --------------------------------------------------------------------------------------

    def play(self, session: Session) -> None:
        """Start training continuously (no-op when already playing or diverged)."""
        if session.trainer.diverged:
            return
        session.live.playing = True
        if session.id not in self.loops:
            self.loops[session.id] = asyncio.create_task(self._loop(session), name=f"play-{session.id}")
        session.live.mark_changed()

    def pause(self, session: Session) -> None:
        """Stop training; the current slice finishes first, and only then is the pause announced (so that
        no frame of a later step follows the ``paused`` status)."""
        if session.live.playing:
            session.live.playing = False
            if not session.run_lock.locked():
                session.live.mark_changed()
            else:  # a slice is in flight: its end announces the pause (its holder marks the change)
                task = asyncio.create_task(self._announce(session, session.live.version))
                self._announcing.add(task)
                task.add_done_callback(self._announcing.discard)

    async def _announce(self, session: Session, version: int) -> None:
        async with session.run_lock:
            pass
        if session.live.version == version:  # the holder of the lock did not mark a change after the pause
            session.live.mark_changed()

    async def close(self) -> None:
        """Cancel every play loop (shutdown), and wait for the slices already running (a checkpoint that follows
        must not read a session halfway through one)."""
        for task in list(self.loops.values()):
            task.cancel()
        await asyncio.gather(*self.loops.values(), return_exceptions=True)
        await self._batches.idle()

    def steps_per_frame(self, session: Session) -> int:
        """Training steps per frame: the session's speed, or one epoch (as TensorFlow Playground plays)."""
        tr = session.trainer
        return session.live.steps_per_frame or max(1, math.ceil(tr.n_train / tr.config.batch_size))

    async def _loop(self, session: Session) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.settings.fps
        next_at = loop.time()
        unwatched_since: float | None = None
        try:
            while session.live.playing and self.store.sessions.get(session.id) is session:
                now = loop.time()
                if session.live.watchers:
                    unwatched_since = None
                elif unwatched_since is None:
                    unwatched_since = now
                elif now - unwatched_since > UNWATCHED_PAUSE_S:
                    self.pause(session)
                    break
                share = ENGINE_SHARE * period / max(1, len(self.loops))
                budget = min(max(share, MIN_SLICE_S), self.settings.train_slice_ms / 1000.0)
                size = max(1, int(BATCH_S / budget))
                # The session's run and lock first (a REST train call may hold the run for a minute, a gradient
                # check the lock for seconds: waiting for them must hold up no one else), then a place among the
                # next batches, at most a batch or two away.
                async with session.run_lock, session.lock, self._batches.place(size):
                    if not session.live.playing:  # paused while this loop waited
                        break
                    version = session.live.version
                    try:
                        frame = await self._batches.run(functools.partial(self._chunk, session, budget), size)
                    except Exception:  # a bug, not a state to show: the run stops, the server goes on
                        log.exception("play slice of session %s failed; the run is paused", session.id)
                        session.live.playing = False
                        frame = None
                if session.trainer.diverged:
                    session.live.playing = False
                session.live.mark_changed()
                if frame is not None and session.live.playing and session.live.version == version + 1:
                    session.live.frame_cache = (session.live.version, frame)  # nothing else changed meanwhile
                if not session.live.playing:  # paused or diverged during the slice
                    break
                next_at += period
                delay = next_at - loop.time()
                if delay < 0:
                    next_at, delay = loop.time(), 0.0
                await asyncio.sleep(delay)
            snap = session.snapshot
            if self.store.sessions.get(session.id) is session and snap and snap.metrics.step != snap.step:
                await session.run(session.publish)  # metrics lagged while it played: a stopped run reads exact ones
        finally:
            self.loops.pop(session.id, None)
            for event in session.live.watchers:  # the run has stopped: senders may say so now
                event.set()
        with contextlib.suppress(SessionError):  # storage down: logged once, reported by /api/health
            await self.store.commit(session)  # a run that stopped is saved at once

    def _chunk(self, session: Session, budget: float) -> Frame | None:
        """One frame's training: steps_per_frame steps (time-boxed), the last one recorded; then, when anyone
        watches, the frame of that step, built in the same visit to the worker (one hand-off per frame)."""
        tr = session.trainer
        n = self.steps_per_frame(session)
        if n > 1:
            tr.run(steps=n - 1, deadline=time.thread_time() + budget, clock=time.thread_time)  # CPU, not waits
        record = tr.step(record=True)
        if record is not None:
            session.live.last_record = record
        if tr.history and tr.history[-1].step == tr.step_count:  # an epoch ended here: its metrics are fresh
            session.remember_metrics(tr.history[-1])
        session.publish(exact=False)
        return self._build_frame(session) if session.live.watchers else None

    # -- steps ------------------------------------------------------------------------------------------------

    async def step(self, session: Session, unit: str, sample: int | None) -> bool:
        """One step of ``unit`` (``step_message``), its trace shared with every watcher of the session (the
        stepping client, a room's viewers), whose senders send it. False when the run has diverged."""
        limit = self.settings.max_trace_samples

        def step() -> str | None:
            shown = step_samples(session, unit)
            if shown > limit:  # the same cap as REST backprop, checked before the step
                raise EngineError(
                    "unit",
                    f"this step's trace would show {shown} samples, more than the limit of {limit}: "
                    "step by sample, or lower batch_size",
                )
            out = step_message(session, unit, sample)
            session.publish(exact=not session.live.playing)  # lagged only while it plays (Session.metrics_now)
            return None if out is None else wire.dumps(out).decode()  # built here, off the event loop

        async with session.run_lock:
            text = await session.run(step)
        if text is not None:
            session.live.last_trace = text
            session.live.trace_seq += 1
        session.live.mark_changed()
        return text is not None

    # -- frames --------------------------------------------------------------------------------------------

    async def frame(self, session: Session) -> Frame:
        """The binary frame of the session's current version (built once, shared by every viewer), and what
        it shows (``Frame``)."""
        cached = session.live.frame_cache
        if cached is not None and cached[0] == session.live.version:
            return cached[1]
        building = self._building.get(session.id)
        if building is None or building[0] != session.live.version:
            # The first sender to want this version builds it; the others await that same build (N viewers woken
            # by one change must not queue N builds on the session lock, ahead of the session's own training).
            version = session.live.version
            task = asyncio.ensure_future(session.run(lambda: self._build_frame(session)))
            building = self._building[session.id] = (version, task)
            task.add_done_callback(functools.partial(self._built, session.id))
        data = await asyncio.shield(building[1])
        if session.live.frame_cache is None or session.live.frame_cache[0] < building[0]:
            session.live.frame_cache = (building[0], data)
        return data

    def _built(self, session_id: str, task: asyncio.Future[Frame]) -> None:
        current = self._building.get(session_id)
        if current is not None and current[1] is task:
            del self._building[session_id]

    def _build_frame(self, session: Session) -> Frame:
        """The frame of the session's current step (docs/protocol.md, "frame"): the header here, the arrays
        from ``wire.frame_arrays``, encoded by ``wire.frame``. Lock held."""
        tr = session.trainer
        live = session.live
        record = live.last_record
        probe = tr.trace_samples([live.probe])
        metrics = wire.metrics(session.metrics_now(exact=not live.playing))  # a stopped run: always fresh
        header = {
            "type": "frame",
            "step": tr.step_count,
            "epoch": tr.epoch,
            "status": session.status,
            "metrics": metrics,
            "batch": None if record is None else {"step": record.step, "m": record.trace.m},
            "probe": {
                "sample": live.probe,
                "y": tr.dataset.y_train[live.probe].tolist(),
                "cost": wire.finite(probe.cost_total),
            },
            "steps_per_frame": self.steps_per_frame(session),
        }
        shows = (tr.step_count, live.config_version, tr.diverged, metrics["step"] == tr.step_count)
        return wire.frame(header, wire.frame_arrays(tr.network.theta, record, probe)), shows


class SliceBatches:
    """Play slices go to the engine pool in batches: each waits in a list until one of at most ``in_flight``
    batches (the pool's size) is free, then runs with the slices queued behind it in one visit to a worker
    thread. Every visit costs two thread switches, a wake-up of the event loop and the GIL's hand-over; one per
    slice made those the server's bottleneck (bench/stream.py, 120 sessions: 6–9 frames a second each against
    9–13 batched). A batch holds at most ``size`` slices (``BATCH_S`` of their time boxes), and a play loop
    takes one of ``in_flight × size`` places (``place``) once it holds its session's run and lock: a loop waiting
    for its own session (a long REST train call, a gradient check) holds no place, the session's lock is held
    for a batch or two, and a step, a trace or a frame, queued on the same FIFO pool, waits behind at most
    ``in_flight`` batches."""

    def __init__(self, executor: Executor, in_flight: int) -> None:
        self.executor = executor
        self.in_flight = in_flight
        self.pending: list[Slice] = []
        self.running = 0
        self.size = 1  # the bound of the next batch (the latest slice's)
        self.placed = 0
        self.waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._idle: asyncio.Event | None = None

    @contextlib.asynccontextmanager
    async def place(self, size: int) -> AsyncIterator[None]:
        """Hold one of the ``in_flight × size`` places of the next batches (first come, first served)."""
        self.size = size
        if self.placed < self.in_flight * size and not self.waiting:
            self.placed += 1
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiting.append(turn)
            try:
                await turn  # ``_leave`` counted this place for us before it set the result
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._leave()  # given a place while being cancelled: hand it on
                else:
                    self.waiting.remove(turn)
                raise
        try:
            yield
        finally:
            self._leave()

    def _leave(self) -> None:
        self.placed -= 1
        while self.waiting and self.placed < self.in_flight * self.size:
            turn = self.waiting.popleft()
            if not turn.done():
                self.placed += 1
                turn.set_result(None)

    def run(self, fn: Callable[[], T], size: int) -> asyncio.Future[T]:
        """``fn``'s result, once a batch of at most ``size`` slices that holds it has run."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.pending.append((fn, future))
        self.size = size
        if self.running < self.in_flight:
            self._send()
        return future

    async def idle(self) -> None:
        """Return once no batch is running."""
        while self.running:
            self._idle = self._idle or asyncio.Event()
            await self._idle.wait()

    def _send(self) -> None:
        batch, self.pending = self.pending[: self.size], self.pending[self.size :]
        try:
            done = asyncio.get_running_loop().run_in_executor(self.executor, _run_all, batch)
        except RuntimeError as err:  # the pool is shut down (the server stops): every waiting slice fails
            batch, self.pending = batch + self.pending, []
            _settle(batch, [_Failed(err)] * len(batch))
            return
        self.running += 1
        done.add_done_callback(functools.partial(self._done, batch))

    def _done(self, batch: list[Slice], done: asyncio.Future[list[Any]]) -> None:
        self.running -= 1
        error = RuntimeError("the engine pool stopped") if done.cancelled() else done.exception()
        _settle(batch, done.result() if error is None else [_Failed(error)] * len(batch))
        if self.pending and self.running < self.in_flight:
            self._send()
        if not self.running and self._idle is not None:
            self._idle.set()
            self._idle = None


Slice = tuple[Callable[[], Any], "asyncio.Future[Any]"]  # a play slice's work, and where its result goes


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def _run_all(batch: list[Slice]) -> list[Any]:
    """Run a batch's slices in order (in a worker thread), each one's result or error in its place; a slice
    whose loop was cancelled while it waited is skipped."""
    out: list[Any] = []
    for fn, future in batch:
        if future.cancelled():
            out.append(None)
            continue
        try:
            out.append(fn())
        except Exception as err:  # handed to the slice's own loop, which raises it
            out.append(_Failed(err))
    return out


def _settle(batch: list[Slice], outcomes: list[Any]) -> None:
    """Hand each slice of a batch its result or error (on the event loop)."""
    for (_, future), outcome in zip(batch, outcomes, strict=True):
        if future.done():  # its loop was cancelled meanwhile (shutdown)
            continue
        if isinstance(outcome, _Failed):
            future.set_exception(outcome.error)
        else:
            future.set_result(outcome)


def step_samples(session: Session, unit: str) -> int:
    """How many samples the trace of a step of this unit would show (its last update's batch)."""
    tr = session.trainer
    if unit == "sample":
        return 1
    b, rest = tr.config.batch_size, tr.n_train - tr.offset
    if unit == "epoch":  # the epoch's last batch
        return rest - b * max(0, -(-rest // b) - 1)
    return min(b, rest)


def step_message(session: Session, unit: str, sample: int | None) -> dict[str, Any] | None:
    """Do one step (``sample``: one update on one sample; ``batch``: the next mini-batch; ``epoch``: up to the
    end of the epoch) and describe its last update phase by phase. Lock held. None when diverged."""
    tr = session.trainer
    record: StepRecord | None
    if unit == "epoch":
        epoch = tr.epoch
        while tr.epoch == epoch and not tr.diverged:
            nxt = tr.batch_indices()
            if tr.offset + len(nxt) >= tr.n_train:
                break
            tr.step()
    before = tr.weights()
    if unit == "sample":
        record = tr.step_on([sample]) if sample is not None else tr.step(record=True, batch_size=1)
    else:
        record = tr.step(record=True)
    if record is None:
        return None
    session.live.last_record = record
    return {
        "type": "trace",
        "kind": "step",
        "unit": unit,
        "step": record.step,
        "epoch": tr.epoch,
        "indices": record.indices,
        "learning_rate": tr.config.learning_rate,
        "optimizer": tr.config.optimizer,
        "phases": wire.phases(record.trace, tr.dataset.y_train[record.indices], before, record.update),
    }


def probe_message(session: Session, sample: int) -> dict[str, Any]:
    """The forward and backward pass of one training sample at the current weights, no update. Lock held."""
    tr = session.trainer
    trace: Trace = tr.trace_samples([sample])
    return {
        "type": "trace",
        "kind": "probe",
        "unit": "sample",
        "step": tr.step_count,
        "epoch": tr.epoch,
        "indices": [sample],
        "learning_rate": tr.config.learning_rate,
        "optimizer": tr.config.optimizer,
        "weights": wire.weights(tr.network.theta),
        "phases": wire.phases(trace, tr.dataset.y_train[[sample]], tr.weights(), None),
    }
