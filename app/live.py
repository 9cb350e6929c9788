"""Playing sessions and what the live channel sends: the play loop, frames and step traces.

How training shares the CPU (measured with bench/stream.py, figures in the README): every piece of engine
work — a play loop's slice, a REST train call's slice, a frame, a step — runs on the store's small worker
pool (``BPP_ENGINE_THREADS`` threads, default 2), which serves its queue first come, first served. The engine's
NumPy calls on matrices this small do not release the GIL, so all engine work together gets about one core
whatever the pool size; the pool's job is order, not parallelism. (The compiled path's kernels do release
it while they run, so on that path two engine threads' training can overlap; frames and sockets still share one.)
Each playing session queues at most one slice per frame period, time-boxed to its share of that one core
(``0.8 × period / playing sessions``, between 0.5 ms and ``BPP_TRAIN_SLICE_MS``; the other 20 % builds frames
and runs the event loop). So a lone
session trains for most of each frame period, and thirty get a thirtieth each, none waiting behind a long
run. At most ``engine_threads`` play slices wait in the pool's queue at once (the playing sessions take turns for
those places), so a step, a trace or a frame waits behind a slice or two, not behind thirty: with 30
sessions playing, step→trace p95 fell from about 80 ms to about 10 ms. The event loop only awaits; it never
trains. A pool of 40 threads (anyio's default) gave the same frame rates but step→trace p95 of 52–68 ms
against 6–15 ms: the GIL turns many threads into a lottery.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import time
from typing import Any

import numpy as np

from app import wire
from app.engine import StepRecord, Trace
from app.sessions import ApiError, Session, SessionStore
from app.settings import Settings

# A frame, and what it shows: (step, config version, diverged, whether its metrics are of that step).
Frame = tuple[bytes, tuple[int, int, bool, bool]]
UNWATCHED_PAUSE_S = 10.0  # a playing session nobody watches pauses after this long (a reload reconnects sooner)
MIN_SLICE_S = 0.0005
ENGINE_SHARE = 0.8  # of one core (the GIL's), for training slices; the rest builds frames and serves sockets


class LiveHub:
    """Runs the play loops of playing sessions and builds their frames (one build serves every viewer)."""

    def __init__(self, store: SessionStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.loops: dict[str, asyncio.Task[None]] = {}
        self._announcing: set[asyncio.Task[None]] = set()
        self._building: dict[str, tuple[int, asyncio.Future[Frame]]] = {}  # session id → (version, frame build)
        # At most one play slice per worker waits in the pool's queue, so that a step, a trace or a frame
        # (queued on the same FIFO pool) waits for a slice or two, not for every playing session's.
        self._slots = asyncio.Semaphore(settings.engine_threads)

    # -- play / pause --------------------------------------------------------------------------------------

    def play(self, session: Session) -> None:
        """Start training continuously (no-op when already playing or diverged)."""
        if session.trainer.diverged:
            return
        session.playing = True
        if session.id not in self.loops:
            self.loops[session.id] = asyncio.create_task(self._loop(session), name=f"play-{session.id}")
        session.mark_changed()

    def pause(self, session: Session) -> None:
        """Stop training; the current slice finishes first, and only then is the pause announced (so that
        no frame of a later step follows the ``paused`` status)."""
        if session.playing:
            session.playing = False
            if not session.run_lock.locked():
                session.mark_changed()
            else:  # a slice is in flight: its end announces the pause (its holder marks the change)
                task = asyncio.create_task(self._announce(session, session.version))
                self._announcing.add(task)
                task.add_done_callback(self._announcing.discard)

    async def _announce(self, session: Session, version: int) -> None:
        async with session.run_lock:
            pass
        if session.version == version:  # the holder of the lock did not mark a change after the pause
            session.mark_changed()

    async def close(self) -> None:
        """Cancel every play loop (shutdown)."""
        for task in list(self.loops.values()):
            task.cancel()
        await asyncio.gather(*self.loops.values(), return_exceptions=True)

    def steps_per_frame(self, session: Session) -> int:
        """Training steps per frame: the session's speed, or one epoch (as TensorFlow Playground plays)."""
        tr = session.trainer
        return session.steps_per_frame or max(1, math.ceil(tr.n_train / tr.config.batch_size))

    async def _loop(self, session: Session) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.settings.fps
        next_at = loop.time()
        unwatched_since: float | None = None
        try:
            while session.playing and self.store.sessions.get(session.id) is session:
                now = loop.time()
                if session.watchers:
                    unwatched_since = None
                elif unwatched_since is None:
                    unwatched_since = now
                elif now - unwatched_since > UNWATCHED_PAUSE_S:
                    self.pause(session)
                    break
                share = ENGINE_SHARE * period / max(1, len(self.loops))
                budget = min(max(share, MIN_SLICE_S), self.settings.train_slice_ms / 1000.0)
                async with self._slots, session.run_lock:
                    if not session.playing:  # paused while this loop waited for the lock
                        break
                    await session.run(functools.partial(self._chunk, session, budget))
                if session.trainer.diverged:
                    session.playing = False
                session.mark_changed()
                if not session.playing:  # paused or diverged during the slice
                    break
                next_at += period
                delay = next_at - loop.time()
                if delay < 0:
                    next_at, delay = loop.time(), 0.0
                await asyncio.sleep(delay)
        finally:
            self.loops.pop(session.id, None)
            for event in session.watchers:  # the run has stopped: senders may say so now
                event.set()
        with contextlib.suppress(ApiError):  # storage down: logged once, reported by /api/health
            await self.store.commit(session)  # a run that stopped is saved at once

    def _chunk(self, session: Session, budget: float) -> None:
        """One frame's training: steps_per_frame steps (time-boxed), the last one recorded."""
        tr = session.trainer
        n = self.steps_per_frame(session)
        if n > 1:
            tr.run(steps=n - 1, deadline=time.perf_counter() + budget)
        record = tr.step(record=True)
        if record is not None:
            session.last_record = record
        if tr.history and tr.history[-1].step == tr.step_count:  # an epoch ended here: its metrics are fresh
            session.remember_metrics(tr.history[-1])
        session.publish(exact=False)

    # -- frames --------------------------------------------------------------------------------------------

    async def frame(self, session: Session) -> Frame:
        """The binary frame of the session's current version (built once, shared by every viewer), and what
        it shows (``Frame``)."""
        cached = session.frame_cache
        if cached is not None and cached[0] == session.version:
            return cached[1]
        building = self._building.get(session.id)
        if building is None or building[0] != session.version:
            # The first sender to want this version builds it; the others await that same build (N viewers woken
            # by one change must not queue N builds on the session lock, ahead of the session's own training).
            version = session.version
            task = asyncio.ensure_future(session.run(lambda: self._build_frame(session)))
            building = self._building[session.id] = (version, task)
            task.add_done_callback(functools.partial(self._built, session.id))
        data = await asyncio.shield(building[1])
        if session.frame_cache is None or session.frame_cache[0] < building[0]:
            session.frame_cache = (building[0], data)
        return data

    def _built(self, session_id: str, task: asyncio.Future[Frame]) -> None:
        current = self._building.get(session_id)
        if current is not None and current[1] is task:
            del self._building[session_id]

    def _build_frame(self, session: Session) -> Frame:
        tr = session.trainer
        arrays: list[tuple[str, np.ndarray]] = []
        for i, theta in enumerate(tr.network.theta, start=1):
            arrays.append((f"W{i}", theta))
        record = session.last_record
        batch: dict[str, Any] | None = None
        if record is not None:
            batch = {"step": record.step, "m": record.trace.m}
            for i, (d, u) in enumerate(zip(record.trace.grads, record.delta_theta, strict=True), start=1):
                arrays += [(f"D{i}", d), (f"U{i}", u)]
            # means over the batch: np.add.reduce / m is what ndarray.mean computes, without its overhead
            m = record.trace.m
            for i, a in enumerate(record.trace.a, start=1):
                arrays.append((f"A{i}", np.add.reduce(a, axis=0) / m))
            for i, e in enumerate(record.trace.delta[1:], start=2):
                arrays.append((f"E{i}", np.add.reduce(e, axis=0) / m))  # type: ignore[arg-type]
            arrays.append(("N", np.asarray(record.grad_norms)))
        probe = tr.trace_samples([session.probe])
        for i in range(len(probe.a)):
            arrays.append((f"PA{i + 1}", probe.a[i][0]))
            if i:
                arrays += [(f"PZ{i + 1}", probe.z[i][0]), (f"PE{i + 1}", probe.delta[i][0])]  # type: ignore[index]
        metrics = wire.metrics(session.metrics_now(exact=not session.playing))  # a stopped run: always fresh
        header = {
            "type": "frame",
            "step": tr.step_count,
            "epoch": tr.epoch,
            "status": session.status,
            "metrics": metrics,
            "batch": batch,
            "probe": {
                "sample": session.probe,
                "y": tr.dataset.y_train[session.probe].tolist(),
                "cost": wire.finite(probe.cost_total),
            },
            "steps_per_frame": self.steps_per_frame(session),
        }
        shows = (tr.step_count, session.config_version, tr.diverged, metrics["step"] == tr.step_count)
        return wire.frame(header, arrays), shows


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
    session.last_record = record
    return {
        "type": "trace",
        "kind": "step",
        "unit": unit,
        "step": record.step,
        "epoch": tr.epoch,
        "indices": record.indices,
        "learning_rate": tr.config.learning_rate,
        "optimizer": tr.config.optimizer,
        "phases": wire.phases(record.trace, tr.dataset.y_train[record.indices], before, record.delta_theta),
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
